//! The WorkOS CLI Auth tutorial program, unchanged, on top of this crate under the name
//! `workos` (`workos = { package = "cli-auth", … }`; built by `crates/tutorial`). Run it
//! against the local emulator with `WORKOS_API_BASE_URL=http://127.0.0.1:<port>`;
//! `crates/tutorial/tests/tutorial.rs` does exactly that.
//!
//! Note: it prints the access token because the tutorial does. A real CLI stores it.

use workos::{AuthenticationResponse, Client, DeviceAuthorizationResponse};

async fn poll(
    client: &Client,
    device_code: &str,
    expires_in: u64,
    interval: u64,
) -> anyhow::Result<AuthenticationResponse> {
    Ok(client
        .user_management()
        .authenticate_with_device_code(device_code, expires_in, interval)
        .await?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let client = Client::builder()
        .api_key(std::env::var("WORKOS_API_KEY").unwrap())
        .client_id(std::env::var("WORKOS_CLIENT_ID").unwrap())
        .build();

    let data: DeviceAuthorizationResponse = client.user_management().authorize_device().await?;
    println!("{}", data.verification_uri);
    println!("{}", data.user_code);
    println!("{}", data.verification_uri_complete);
    let _ = webbrowser::open(&data.verification_uri_complete);

    let resp = poll(&client, &data.device_code, data.expires_in, data.interval).await?;
    println!("{}", resp.access_token.expose());
    Ok(())
}
