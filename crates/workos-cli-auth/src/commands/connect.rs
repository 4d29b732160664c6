//! How a stored credential reaches its server when a refresh is needed: WorkOS (or any
//! base URL) directly, or the embedded emulator, which this process starts on demand
//! over its persisted state and keeps running until the command ends.

use std::path::PathBuf;

use cli_auth::store::StoredCredential;
use cli_auth::{Client, Error};
use tokio::sync::Mutex;
use workos_emulator::RunningEmulator;

use crate::local;

/// Builds the [`Client`] for a credential, starting the embedded emulator if needed.
pub struct Connect {
    store_root: PathBuf,
    embedded: Mutex<Option<RunningEmulator>>,
}

impl Connect {
    /// A connector for credentials kept under `store_root`.
    pub fn new(store_root: PathBuf) -> Self {
        Self {
            store_root,
            embedded: Mutex::new(None),
        }
    }

    /// The base URL to talk to for `cred`: its own, or the embedded emulator's.
    pub async fn base_url(&self, cred: &StoredCredential) -> Result<String, Error> {
        if !local::is_embedded(&cred.api_base_url) {
            return Ok(cred.api_base_url.clone());
        }
        let mut slot = self.embedded.lock().await;
        if slot.is_none() {
            let emulator = local::start(&self.store_root)
                .await
                .map_err(|e| Error::Setup {
                    message: format!("{e:#}"),
                })?;
            *slot = Some(emulator);
        }
        Ok(slot
            .as_ref()
            .map(|e| e.url().to_owned())
            .unwrap_or_default())
    }

    /// Stops the embedded emulator, if one was started.
    pub async fn shutdown(&self) {
        if let Some(emulator) = self.embedded.lock().await.take() {
            emulator.shutdown().await;
        }
    }
}

impl cli_auth::session::Connector for Connect {
    async fn client_for(&self, cred: &StoredCredential) -> Result<Client, Error> {
        let base_url = self.base_url(cred).await?;
        Client::builder()
            .client_id(cred.client_id.clone())
            .base_url(base_url)
            .try_build()
    }
}
