//! Shared test code: spawning emulators, the two JSON endpoints, and a tiny
//! cookie-keeping form "browser" that reads hidden inputs by string search.

#![allow(dead_code)] // each test binary uses a different subset

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use workos_emulator::{Emulator, EmulatorBuilder, ManualClock, RunningEmulator};

pub const CLIENT: &str = "client_01TEST";
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// An emulator on 127.0.0.1:0 driven by a manual clock.
pub async fn spawn_with_clock(
    customise: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder,
) -> (RunningEmulator, ManualClock) {
    let clock = ManualClock::new();
    let builder = Emulator::builder().clock(Arc::new(clock.clone()));
    let emulator = customise(builder).spawn().await.expect("emulator starts");
    (emulator, clock)
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A JSON response: status, headers and body.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("<none>")
    }
}

pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        headers,
        body,
    }
}

pub async fn post_json(emulator: &RunningEmulator, path: &str, body: Value) -> Reply {
    let response = http()
        .post(format!("{}{path}", emulator.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    reply(response).await
}

pub async fn post_form(emulator: &RunningEmulator, path: &str, fields: &[(&str, &str)]) -> Reply {
    let response = http()
        .post(format!("{}{path}", emulator.url()))
        .form(fields)
        .send()
        .await
        .unwrap();
    reply(response).await
}

/// Starts a device authorization (JSON) and returns the 200 body.
pub async fn start(emulator: &RunningEmulator) -> Value {
    let r = post_json(
        emulator,
        "/user_management/authorize/device",
        json!({"client_id": CLIENT}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// One device-code poll (JSON, with the explicit nulls the Rust SDK sends).
pub async fn poll(emulator: &RunningEmulator, device_code: &str) -> Reply {
    post_json(
        emulator,
        "/user_management/authenticate",
        json!({
            "grant_type": DEVICE_GRANT,
            "device_code": device_code,
            "client_id": CLIENT,
            "ip_address": null,
            "device_id": null,
            "user_agent": null,
        }),
    )
    .await
}

/// Starts, approves as the demo user, waits one interval and polls: tokens.
pub async fn sign_in(emulator: &RunningEmulator, clock: &ManualClock) -> Value {
    let start = start(emulator).await;
    emulator
        .approve(
            start["user_code"].as_str().unwrap(),
            workos_emulator::DEMO_USER_EMAIL,
        )
        .unwrap();
    clock.advance(Duration::from_secs(5));
    let r = poll(emulator, start["device_code"].as_str().unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// One device-code poll against a base URL, for spawned tasks.
pub async fn poll_at(url: String, device_code: String) -> StatusCode {
    http()
        .post(format!("{url}/user_management/authenticate"))
        .form(&[
            ("grant_type", DEVICE_GRANT),
            ("device_code", &device_code),
            ("client_id", CLIENT),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

pub async fn refresh(emulator: &RunningEmulator, refresh_token: &str, extra: Value) -> Reply {
    let mut body =
        json!({"grant_type": "refresh_token", "client_id": CLIENT, "refresh_token": refresh_token});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    post_json(emulator, "/user_management/authenticate", body).await
}

/// The value of `<input … name="NAME" value="…">`, by plain string search.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// A page fetched by [`Browser`].
pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub html: String,
}

impl Page {
    pub fn csrf(&self) -> String {
        hidden_input(&self.html, "csrf").expect("page has a csrf field")
    }
}

/// A minimal browser: keeps the session cookie, submits forms.
pub struct Browser {
    base: String,
    client: reqwest::Client,
    pub cookie: Option<String>,
}

impl Browser {
    pub fn new(emulator: &RunningEmulator) -> Self {
        Self {
            base: emulator.url().to_owned(),
            client: http(),
            cookie: None,
        }
    }

    async fn finish(&mut self, response: reqwest::Response) -> Page {
        if let Some(set) = response.headers().get("set-cookie") {
            let set = set.to_str().unwrap();
            self.cookie = Some(set.split(';').next().unwrap().to_owned());
        }
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            html: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path_and_query: &str) -> Page {
        let mut request = self.client.get(format!("{}{path_and_query}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        self.finish(response).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        self.finish(response).await
    }

    /// GET /device, then submit `typed` as the code.
    pub async fn enter_code(&mut self, typed: &str) -> Page {
        let form = self.get("/device").await;
        let csrf = form.csrf();
        self.post("/device", &[("csrf", &csrf), ("user_code", typed)])
            .await
    }
}
