//! One askama template struct per page. Every field is escaped by askama's
//! HTML escaper; nothing that a client or a person typed is marked safe.

use askama::Template;

/// One user offered on the "who is signing in" page.
#[derive(Debug, Clone)]
pub(crate) struct UserChoice {
    pub email: String,
    pub name: String,
    pub organization: Option<String>,
}

/// One organization offered on the confirmation page.
#[derive(Debug, Clone)]
pub(crate) struct OrganizationOption {
    pub id: String,
    pub name: String,
}

/// Step 1: enter (or check the prefilled) user code.
#[derive(Template)]
#[template(path = "enter_code.html")]
pub(crate) struct EnterCodeView {
    pub csrf: String,
    pub user_code: String,
    pub error: Option<String>,
}

/// Step 2: choose which seeded user signs in.
#[derive(Template)]
#[template(path = "choose_user.html")]
pub(crate) struct ChooseUserView {
    pub csrf: String,
    pub user_code: String,
    pub client_id: String,
    pub users: Vec<UserChoice>,
    pub error: Option<String>,
}

/// Step 3: restate the request and ask for Approve or Deny (RFC 8628 §5.4).
#[derive(Template)]
#[template(path = "confirm.html")]
pub(crate) struct ConfirmView {
    pub csrf: String,
    pub user_code: String,
    pub client_id: String,
    pub requester_ip: String,
    pub requester_agent: String,
    pub age: String,
    pub user_email: String,
    pub user_name: String,
    /// The one organization a single-membership user signs in to.
    pub organization: Option<String>,
    /// For a user in several organizations: the picker (empty otherwise).
    pub organizations: Vec<OrganizationOption>,
}

/// Approved: back to the terminal.
#[derive(Template)]
#[template(path = "signed_in.html")]
pub(crate) struct SignedInView;

/// Denied.
#[derive(Template)]
#[template(path = "denied.html")]
pub(crate) struct DeniedView;

/// Signed out (logout endpoint).
#[derive(Template)]
#[template(path = "signed_out.html")]
pub(crate) struct SignedOutView;

/// A message page: bad form, too many attempts, and the like.
#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessageView {
    pub title: String,
    pub message: String,
}
