//! The official WorkOS Rust SDK (`workos` 3.x from crates.io, unmodified) against the
//! emulator: start a device authorization, poll (pending) until someone approves on the
//! verification page, verify the access token against the JWKS (typed `get_jwks` and the
//! SDK's own session verifier), refresh, and replay the old refresh token (`invalid_grant`).
//!
//! Input: `INTEROP_BASE_URL`, `INTEROP_CLIENT_ID`. Output: one checkpoint per line on
//! stdout (`user_code …`, `pending`, `tokens …`, `jwks …`, `verified …`, `refreshed`,
//! `replay invalid_grant`, `ok`); exit 0 only when every step held. The driving test
//! (crates/workos-cli-auth/tests/interop.rs) approves the code after it sees `pending`.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use workos::Client;
use workos::transport::{
    HttpRequest, HttpResponse, HttpTransport, ReqwestTransport, TransportError,
};
use workos::user_management::AuthenticateWithRefreshTokenParams;

/// A 64-hex-digit password for the SDK's sealed sessions (local, throwaway).
const COOKIE_PASSWORD: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

fn checkpoint(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn fail(what: &str) -> ! {
    eprintln!("interop-rust: FAILED: {what}");
    std::process::exit(1);
}

/// The SDK's own reqwest transport, observed: announces the first `authorization_pending`
/// answer so the driver knows a poll happened before approval. Requests and responses
/// pass through untouched (the SDK's public transport extension point).
struct Observed {
    inner: ReqwestTransport,
    saw_pending: AtomicBool,
}

#[async_trait]
impl HttpTransport for Observed {
    async fn execute(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        let response = self.inner.execute(req).await?;
        if response.status.as_u16() == 400
            && serde_json::from_slice::<serde_json::Value>(&response.body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .as_deref()
                == Some("authorization_pending")
            && !self.saw_pending.swap(true, Ordering::SeqCst)
        {
            checkpoint("pending");
        }
        Ok(response)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let base_url = std::env::var("INTEROP_BASE_URL").unwrap_or_else(|_| fail("INTEROP_BASE_URL"));
    let client_id =
        std::env::var("INTEROP_CLIENT_ID").unwrap_or_else(|_| fail("INTEROP_CLIENT_ID"));
    let transport = Arc::new(Observed {
        inner: ReqwestTransport::with_timeout(Duration::from_secs(10)),
        saw_pending: AtomicBool::new(false),
    });
    let client = Client::builder()
        .client_id(&client_id)
        .base_url(&base_url)
        .transport(transport)
        .build();

    // 1. Start.
    let device = client
        .authkit()
        .start_device_authorization()
        .await
        .unwrap_or_else(|e| fail(&format!("start_device_authorization: {e}")));
    checkpoint(&format!("user_code {}", device.user_code.expose()));
    let interval = device.interval.unwrap_or(5.0).max(1.0);

    // 2. Poll until approved (the SDK's own loop; pending is announced by the transport).
    let tokens = client
        .authkit()
        .poll_device_code(
            device.device_code.expose(),
            Duration::from_secs_f64(interval),
        )
        .await
        .unwrap_or_else(|e| fail(&format!("poll_device_code: {e}")));
    checkpoint(&format!("tokens {}", tokens.user.email));

    // 3. The JWKS, typed: all eight members parse, and the token's kid is in it.
    let jwks = client
        .user_management()
        .get_jwks(&client_id)
        .await
        .unwrap_or_else(|e| fail(&format!("get_jwks: {e}")));
    let kid = token_kid(tokens.access_token.expose());
    let Some(key) = jwks.keys.iter().find(|k| k.kid == kid) else {
        fail(&format!("no JWKS key with the token's kid {kid}"))
    };
    if key.alg != "RS256" || key.kty != "RSA" || key.x_5_c.is_empty() {
        fail("JWKS key is not an RS256 RSA key with a certificate");
    }
    checkpoint(&format!("jwks {} key(s), kid matches", jwks.keys.len()));

    // 4. The SDK's own verifier: seal a session and authenticate it (RS256 signature
    //    against the JWKS, exp, sub).
    let sealed = workos::helpers::session::seal_session_from_auth_response(
        tokens.access_token.expose(),
        tokens.refresh_token.expose(),
        Some(tokens.user.clone()),
        None,
        COOKIE_PASSWORD,
    )
    .unwrap_or_else(|e| fail(&format!("seal_session_from_auth_response: {e}")));
    let state = client.session(sealed, COOKIE_PASSWORD).authenticate().await;
    if !state.authenticated {
        fail(&format!(
            "SessionManager::authenticate rejected the token: {}",
            state.reason
        ));
    }
    checkpoint(&format!("verified sid={}", state.session_id));

    // 5. Refresh: a new pair.
    let old_refresh = tokens.refresh_token.expose().to_owned();
    let refreshed = client
        .user_management()
        .authenticate_with_refresh_token(AuthenticateWithRefreshTokenParams::new(
            old_refresh.clone(),
        ))
        .await
        .unwrap_or_else(|e| fail(&format!("authenticate_with_refresh_token: {e}")));
    if refreshed.refresh_token.expose() == old_refresh
        || refreshed.access_token.expose() == tokens.access_token.expose()
    {
        fail("refresh did not rotate the tokens");
    }
    checkpoint(&format!("refreshed {}", refreshed.user.email));

    // 6. Replay the old refresh token: invalid_grant.
    match client
        .user_management()
        .authenticate_with_refresh_token(AuthenticateWithRefreshTokenParams::new(old_refresh))
        .await
    {
        Ok(_) => fail("the rotated-out refresh token was accepted"),
        Err(e) => match e.api().and_then(|a| a.code.as_deref()) {
            Some("invalid_grant") => checkpoint("replay invalid_grant"),
            other => fail(&format!("replay answered {other:?}: {e}")),
        },
    }
    checkpoint("ok");
}

/// The `kid` of a JWT's header (decoded by hand: the header is not secret).
fn token_kid(jwt: &str) -> String {
    use base64::Engine;
    let header = jwt.split('.').next().unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap_or_else(|_| fail("token header is not base64url"));
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| fail("token header is not JSON"));
    value["kid"]
        .as_str()
        .unwrap_or_else(|| fail("token header has no kid"))
        .to_owned()
}
