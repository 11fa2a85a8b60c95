//! Business units: every unit of the organization, read for plans and selections by unit.

use crate::dataverse_client::Dataverse;
use crate::error::DataverseError;
use crate::odata::null_default;
use serde::Deserialize;
use uuid::Uuid;

/// A business unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
pub struct BusinessUnit {
    #[serde(rename = "businessunitid")]
    pub id: Uuid,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
}

impl Dataverse {
    /// Every business unit of the organization, every page.
    pub async fn business_units(&self) -> Result<Vec<BusinessUnit>, DataverseError> {
        self.read_all("read business units", "businessunits", "businessunitid,name", None).await
    }
}
