//! Users (`systemusers`) read in bulk: by ids, by user principal names, by business units.

use crate::dataverse_client::Dataverse;
use crate::error::DataverseError;
use crate::odata::{guids, null_default, present};
use serde::Deserialize;
use uuid::Uuid;

/// The columns a [`User`] is read from.
pub const USER_COLUMNS: &str = "systemuserid,fullname,domainname,internalemailaddress,\
_businessunitid_value,isdisabled,_defaultmailbox_value,applicationid";

/// A user as plans and selections see it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    #[serde(rename = "systemuserid")]
    pub id: Uuid,
    #[serde(rename = "fullname", default, deserialize_with = "null_default")]
    pub name: String,
    /// The user principal name (`domainname`).
    #[serde(rename = "domainname", default)]
    pub upn: Option<String>,
    /// The primary email address (`internalemailaddress`).
    #[serde(rename = "internalemailaddress", default)]
    pub email: Option<String>,
    #[serde(rename = "_businessunitid_value", default)]
    pub business_unit: Option<Uuid>,
    #[serde(rename = "isdisabled", default, deserialize_with = "null_default")]
    pub disabled: bool,
    #[serde(rename = "_defaultmailbox_value", default)]
    pub default_mailbox: Option<Uuid>,
    /// An application user (it has an `applicationid`), not a person.
    #[serde(rename = "applicationid", default, deserialize_with = "present")]
    pub application: bool,
}

/// A user's id alone: a row of a navigation property to users (a team's members, a role's
/// holders).
#[derive(Deserialize)]
pub(crate) struct UserIdRow {
    pub(crate) systemuserid: Uuid,
}

impl Dataverse {
    /// The users with these ids that exist (missing ones are simply absent).
    pub async fn users_by_ids(&self, ids: &[Uuid]) -> Result<Vec<User>, DataverseError> {
        self.users_in("systemuserid", &guids(ids)).await
    }

    /// The users with these user principal names (`domainname`), compared without regard to
    /// case; names no user has are simply absent.
    pub async fn users_by_upns(&self, upns: &[String]) -> Result<Vec<User>, DataverseError> {
        self.users_in("domainname", upns).await
    }

    /// Every user of these business units (not of their child units), every page.
    pub async fn users_in_units(&self, units: &[Uuid]) -> Result<Vec<User>, DataverseError> {
        self.users_in("_businessunitid_value", &guids(units)).await
    }

    async fn users_in(&self, column: &str, values: &[String]) -> Result<Vec<User>, DataverseError> {
        self.read_in("read users", "systemusers", USER_COLUMNS, column, values).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_application_user_has_an_application_id_and_nulls_read_as_defaults() {
        let row = r#"{"systemuserid":"00000000-0000-0000-0000-000000000001","fullname":null,
            "domainname":"a@x","internalemailaddress":null,"_businessunitid_value":null,
            "isdisabled":null,"_defaultmailbox_value":null,
            "applicationid":"00000000-0000-0000-0000-000000000002"}"#;
        let u: User = serde_json::from_str(row).expect("a row with nulls reads");
        assert!(u.application && !u.disabled && u.name.is_empty());
        assert_eq!((u.upn.as_deref(), u.email, u.business_unit), (Some("a@x"), None, None));
        let person = row.replace("\"00000000-0000-0000-0000-000000000002\"", "null");
        let u: User = serde_json::from_str(&person).expect("a person reads");
        assert!(!u.application);
    }
}
