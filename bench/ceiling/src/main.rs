//! A trivial axum server answering like the emulator's hot paths with fixed bodies:
//! `POST /user_management/authenticate` → 400 `authorization_pending`, and
//! `POST /user_management/authorize/device` → 200 with a fixed device authorization.
//! Prints its URL on stdout, like `workos-cli-auth emulator --port 0`.

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;

const PENDING: &str = r#"{"error":"authorization_pending","error_description":"The request failed due to: authorization_pending. The user has not finished signing in yet."}"#;
const DEVICE: &str = r#"{"device_code":"CEILINGceilingCEILINGceilingCEILINGceilingCEILINGceilingCEILINGce","user_code":"BCDF-GHJK","verification_uri":"http://127.0.0.1/device","verification_uri_complete":"http://127.0.0.1/device?user_code=BCDF-GHJK","expires_in":300,"interval":5}"#;

async fn pending(body: Bytes) -> impl IntoResponse {
    let _ = body.len();
    (
        StatusCode::BAD_REQUEST,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        PENDING,
    )
}

async fn device(body: Bytes) -> impl IntoResponse {
    let _ = body.len();
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        DEVICE,
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = Router::new()
        .route("/user_management/authenticate", post(pending))
        .route("/user_management/authorize/device", post(device));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
