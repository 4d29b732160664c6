//! The client-side fault suite: the real `workos-cli-auth` binary (and, where the
//! protocol's numbers would make a run take minutes, the real `cli-auth` client and
//! transport under injected time) against a scripted hostile HTTP server on
//! `127.0.0.1:0`.
//!
//! Every binary run goes through `harness::Cli`, which runs at the most verbose level
//! and passes all captured output through the secret canary (`hostile/canary.rs`) and
//! the terminal-safety check. `docs/robustness.md` lists every scenario with the
//! threat-model row it covers.

#[path = "hostile/canary.rs"]
mod canary;
#[path = "hostile/harness.rs"]
mod harness;
#[path = "hostile/server.rs"]
mod server;

#[path = "hostile/scenarios/device.rs"]
mod device;
#[path = "hostile/scenarios/output.rs"]
mod output;
#[path = "hostile/scenarios/polling.rs"]
mod polling;
#[path = "hostile/scenarios/store.rs"]
mod store;
#[path = "hostile/scenarios/transport.rs"]
mod transport;
