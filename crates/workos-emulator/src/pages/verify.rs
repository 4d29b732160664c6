//! The verification page flow (RFC 8628 §3.3): enter the code → choose the
//! seeded user → confirm with the request's context → Approve or Deny.
//!
//! `GET /device` only shows a form; every state change is a POST carrying a
//! CSRF token bound to the browser-session cookie. Unknown, malformed,
//! expired, used and denied codes all get the same message (no oracle), and
//! wrong codes are throttled per browser, per IP and globally.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::views::{
    ChooseUserView, ConfirmView, DeniedView, EnterCodeView, MessageView, OrganizationOption,
    SignedInView, UserChoice,
};
use super::{Page, browser_session, new_browser_session};
use crate::codes;
use crate::grants::{Approval, Decision, Requester};
use crate::routes::ClientMeta;
use crate::state::{AppState, approval_for};

/// The one message for every code that cannot be used.
const INVALID_CODE: &str = "That code is not valid. It may have expired or already been used. Check the code shown in your terminal.";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/device", get(show_form).post(submit_code))
        .route("/device/user", post(choose_user))
        .route("/device/decision", post(decide))
}

#[derive(Debug, Deserialize)]
struct CodeQuery {
    user_code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PageForm {
    csrf: Option<String>,
    user_code: Option<String>,
    /// The radio choice on the user page, or the confirmed user.
    email: Option<String>,
    /// The free-text email on the user page (wins over the radio).
    other_email: Option<String>,
    /// `approve` or `deny`.
    decision: Option<String>,
    /// The organization picked for a multi-organization user ("" = let the
    /// application choose).
    organization_id: Option<String>,
}

/// What the pages need of a pending grant, copied out of the lock.
struct PendingGrant {
    code: String,
    client_id: String,
    requester: Requester,
    created: Instant,
}

/// `GET /device[?user_code=…]`: the code form, prefilled from the query.
/// Changes nothing except handing out a browser session if there is none.
async fn show_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CodeQuery>,
) -> Response {
    let (session, is_new) = match browser_session(&headers) {
        Some(s) => (s, false),
        None => (new_browser_session(), true),
    };
    let prefill: String = query
        .user_code
        .unwrap_or_default()
        .chars()
        .take(32)
        .collect();
    let page = Page::new(EnterCodeView {
        csrf: state.csrf_token(&session),
        user_code: prefill,
        error: None,
    });
    if is_new {
        page.set_session(&session)
    } else {
        page
    }
    .into_response()
}

/// `POST /device`: checks the code, then offers the seeded users.
async fn submit_code(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    Form(form): Form<PageForm>,
) -> Response {
    let session = match guard(&state, &headers, &meta, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(refused) => return refused.into_response(),
    };
    let typed = form.user_code.unwrap_or_default();
    let Some(grant) = find_pending(&state, &typed) else {
        return wrong_code(&state, &session, &meta, &typed);
    };
    choose_user_page(&state, &session, &grant, None)
}

/// `POST /device/user`: records who signs in, then shows the confirmation.
async fn choose_user(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    Form(form): Form<PageForm>,
) -> Response {
    let session = match guard(&state, &headers, &meta, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(refused) => return refused.into_response(),
    };
    let typed = form.user_code.unwrap_or_default();
    let Some(grant) = find_pending(&state, &typed) else {
        return wrong_code(&state, &session, &meta, &typed);
    };
    let email = form
        .other_email
        .filter(|e| !e.trim().is_empty())
        .or(form.email)
        .unwrap_or_default();
    let Some(user) = state.directory().by_email(&email) else {
        let error = format!(
            "No seeded user has the email {:?}.",
            email.chars().take(100).collect::<String>()
        );
        return choose_user_page(&state, &session, &grant, Some(error));
    };
    let directory = state.directory();
    let (organization, organizations) = match user.memberships.as_slice() {
        [only] => (
            directory
                .organization_name(&only.organization_id)
                .map(str::to_owned),
            Vec::new(),
        ),
        several => (
            None,
            several
                .iter()
                .map(|m| OrganizationOption {
                    name: directory
                        .organization_name(&m.organization_id)
                        .unwrap_or(&m.organization_id)
                        .to_owned(),
                    id: m.organization_id.clone(),
                })
                .collect(),
        ),
    };
    Page::new(ConfirmView {
        csrf: state.csrf_token(&session),
        user_code: grant.code,
        client_id: grant.client_id,
        requester_ip: grant
            .requester
            .ip
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()),
        requester_agent: grant
            .requester
            .user_agent
            .unwrap_or_else(|| "unknown".to_owned()),
        age: describe_age(state.now().saturating_duration_since(grant.created)),
        user_email: user.email.clone(),
        user_name: user.display_name(),
        organization,
        organizations,
    })
    .into_response()
}

/// `POST /device/decision`: Approve or Deny. Only a pending code can be
/// decided, so a decided code is never approved again.
async fn decide(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    Form(form): Form<PageForm>,
) -> Response {
    let session = match guard(&state, &headers, &meta, form.csrf.as_deref()) {
        Ok(s) => s,
        Err(refused) => return refused.into_response(),
    };
    let typed = form.user_code.unwrap_or_default();
    let decision = match form.decision.as_deref() {
        Some("approve") => {
            let email = form.email.unwrap_or_default();
            let Some(user) = state.directory().by_email(&email) else {
                return message(
                    StatusCode::BAD_REQUEST,
                    "Unknown user",
                    "Choose one of the seeded users and try again.",
                );
            };
            match form.organization_id.filter(|o| !o.is_empty()) {
                None => Decision::Approve(approval_for(user)),
                Some(org) if user.membership(&org).is_some() => Decision::Approve(Approval {
                    user_id: user.id.clone(),
                    organization_id: Some(org),
                }),
                Some(_) => {
                    return message(
                        StatusCode::BAD_REQUEST,
                        "Unknown organization",
                        "Choose one of the user's organizations and try again.",
                    );
                }
            }
        }
        Some("deny") => Decision::Deny,
        _ => {
            return message(
                StatusCode::BAD_REQUEST,
                "Choose Approve or Deny",
                "The form did not say whether to approve or deny.",
            );
        }
    };
    let approved = matches!(decision, Decision::Approve(_));
    let decided = codes::normalize_user_code(&typed)
        .is_some_and(|code| state.decide(&code, decision).is_ok());
    if !decided {
        return wrong_code(&state, &session, &meta, &typed);
    }
    tracing::info!(
        approved,
        "device authorization decided on the verification page"
    );
    if approved {
        Page::new(SignedInView).into_response()
    } else {
        Page::new(DeniedView).into_response()
    }
}

/// Why `guard` turned a form submission away.
enum Refused {
    /// Missing or wrong CSRF token, or no browser session: 400, no change.
    BadForm,
    /// Too many wrong codes: 429 with `Retry-After`.
    Throttled(Duration),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Self::BadForm => message(
                StatusCode::BAD_REQUEST,
                "This form has expired",
                "The page was open too long or did not come from this server. Go back, reload the page and try again.",
            ),
            Self::Throttled(retry_after) => Page::new(MessageView {
                title: "Too many attempts".into(),
                message: "Too many incorrect codes were entered. Wait a minute, then try again."
                    .into(),
            })
            .status(StatusCode::TOO_MANY_REQUESTS)
            .retry_after(retry_after)
            .into_response(),
        }
    }
}

/// CSRF check, then the brute-force budget. Returns the browser session.
fn guard(
    state: &AppState,
    headers: &HeaderMap,
    meta: &ClientMeta,
    csrf: Option<&str>,
) -> Result<String, Refused> {
    let session = browser_session(headers)
        .filter(|s| csrf.is_some_and(|token| state.csrf_valid(s, token)))
        .ok_or(Refused::BadForm)?;
    let now = state.now();
    let registry = state.registry();
    let blocked = registry
        .wrong_by_browser
        .check(&session, now)
        .and(registry.wrong_by_ip.check(&meta.ip, now))
        .and(registry.wrong_global.check(&(), now));
    drop(registry);
    if let Err(retry_after) = blocked {
        tracing::warn!("verification page throttled after too many wrong codes");
        return Err(Refused::Throttled(retry_after));
    }
    Ok(session)
}

fn find_pending(state: &AppState, typed: &str) -> Option<PendingGrant> {
    let code = codes::normalize_user_code(typed)?;
    let now = state.now();
    let registry = state.registry();
    let grant = registry.grants.pending(&code, now)?;
    Some(PendingGrant {
        client_id: grant.client_id.clone(),
        requester: grant.requester.clone(),
        created: grant.created,
        code,
    })
}

/// Counts a wrong code against every budget and shows the code form again.
fn wrong_code(state: &AppState, session: &str, meta: &ClientMeta, typed: &str) -> Response {
    let now = state.now();
    {
        let mut registry = state.registry();
        registry.wrong_by_browser.record(session.to_owned(), now);
        registry.wrong_by_ip.record(meta.ip, now);
        registry.wrong_global.record((), now);
    }
    Page::new(EnterCodeView {
        csrf: state.csrf_token(session),
        user_code: typed.chars().take(32).collect(),
        error: Some(INVALID_CODE.to_owned()),
    })
    .status(StatusCode::BAD_REQUEST)
    .into_response()
}

fn choose_user_page(
    state: &AppState,
    session: &str,
    grant: &PendingGrant,
    error: Option<String>,
) -> Response {
    let directory = state.directory();
    let users = directory
        .users()
        .iter()
        .map(|u| UserChoice {
            email: u.email.clone(),
            name: u.display_name(),
            organization: match u.memberships.as_slice() {
                [] => None,
                [only] => directory
                    .organization_name(&only.organization_id)
                    .map(str::to_owned),
                several => Some(format!("{} organizations", several.len())),
            },
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Page::new(ChooseUserView {
        csrf: state.csrf_token(session),
        user_code: grant.code.clone(),
        client_id: grant.client_id.clone(),
        users,
        error,
    })
    .status(status)
    .into_response()
}

fn message(status: StatusCode, title: &str, text: &str) -> Response {
    Page::new(MessageView {
        title: title.to_owned(),
        message: text.to_owned(),
    })
    .status(status)
    .into_response()
}

/// "just now", "42 seconds ago", "3 minutes ago".
fn describe_age(age: Duration) -> String {
    match age.as_secs() {
        0..=4 => "just now".to_owned(),
        s @ 5..=119 => format!("{s} seconds ago"),
        s => format!("{} minutes ago", s / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        assert_eq!(describe_age(Duration::from_secs(2)), "just now");
        assert_eq!(describe_age(Duration::from_secs(42)), "42 seconds ago");
        assert_eq!(describe_age(Duration::from_secs(190)), "3 minutes ago");
    }
}
