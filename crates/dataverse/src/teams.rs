//! Teams: found by name, and their members (`teammembership_association`).

use crate::dataverse_client::Dataverse;
use crate::error::DataverseError;
use crate::odata::literal;
use crate::users::UserIdRow;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Deserialize)]
struct TeamRow {
    teamid: Uuid,
}

impl Dataverse {
    /// Every team named `name` (as given; Dataverse compares without case). Names need not be
    /// unique across business units.
    pub async fn teams_named(&self, name: &str) -> Result<Vec<Uuid>, DataverseError> {
        let filter = format!("name eq {}", literal(name));
        let rows: Vec<TeamRow> = self.read_all("read teams", "teams", "teamid", Some(&filter)).await?;
        Ok(rows.into_iter().map(|r| r.teamid).collect())
    }

    /// The users that belong to the team, every page.
    pub async fn team_members(&self, team: Uuid) -> Result<Vec<Uuid>, DataverseError> {
        let path = format!("teams({team})/teammembership_association");
        let rows: Vec<UserIdRow> = self.read_all("read team members", &path, "systemuserid", None).await?;
        Ok(rows.into_iter().map(|r| r.systemuserid).collect())
    }
}
