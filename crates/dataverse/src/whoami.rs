//! `WhoAmI`: who the application user is, in which business unit and organization, and the
//! degree of parallelism Dataverse recommends (`x-ms-dop-hint`).

use crate::connection::Connection;
use crate::error::DataverseError;
use reqwest::Method;
use serde::Deserialize;
use uuid::Uuid;

/// The answer of `WhoAmI`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WhoAmI {
    #[serde(rename = "UserId")]
    pub user_id: Uuid,
    #[serde(rename = "BusinessUnitId")]
    pub business_unit_id: Uuid,
    #[serde(rename = "OrganizationId")]
    pub organization_id: Uuid,
    /// Recommended degree of parallelism, when Dataverse sent one.
    #[serde(skip)]
    pub dop_hint: Option<u32>,
}

impl Connection {
    pub async fn who_am_i(&self) -> Result<WhoAmI, DataverseError> {
        let answer = self.send(Method::GET, "WhoAmI", |r| r).await?;
        let mut who: WhoAmI = answer.json()?;
        who.dop_hint = answer.header("x-ms-dop-hint").and_then(|v| v.trim().parse().ok());
        Ok(who)
    }
}
