//! Where the API is and how to authenticate to it, for the CLI's client commands.

use api_client::{ApiClient, ApiClientError};

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "API")]
pub struct ApiClientArgs {
    /// Base URL of `activator api` or `activator serve`.
    #[arg(long = "api", env = "ACTIVATOR_API", default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub url: String,
    /// Bearer token (a viewer token reads, an operator token may also write).
    #[arg(long, env = "ACTIVATOR_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
}

impl ApiClientArgs {
    pub fn client(&self) -> Result<ApiClient, ApiClientError> {
        ApiClient::new(&self.url, self.token.as_deref())
    }
}
