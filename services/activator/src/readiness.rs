//! The API's readiness check of Dataverse: every configured environment gives its application
//! users a token and answers WhoAmI. Its own clients (no write batching), so checking never
//! waits behind the rollout's requests.

use anyhow::Result;
use api::Readiness;
use dataverse::{Dataverse, DataverseOptions, EnvironmentConfig};
use futures_util::future::BoxFuture;

#[derive(Debug)]
pub struct DataverseReady {
    clients: Vec<(String, Dataverse)>,
}

impl DataverseReady {
    pub fn new(environments: &[EnvironmentConfig]) -> Result<DataverseReady> {
        let mut clients = Vec::new();
        for env in environments {
            let options = DataverseOptions { batching: None, ..DataverseOptions::default() };
            clients.push((env.name.clone(), Dataverse::new(&env.url, env.credentials.clone(), options)?));
        }
        Ok(DataverseReady { clients })
    }
}

impl Readiness for DataverseReady {
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            for (name, client) in &self.clients {
                client.connect().await.map_err(|e| {
                    format!("environment {name} at {}: {e}; `activator doctor` tells more", client.org_url())
                })?;
            }
            Ok(())
        })
    }
}
