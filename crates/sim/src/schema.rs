//! The tables the simulator serves and their columns: names, types, and which ones a PATCH may set.

/// The type of a column, as the Web API exposes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// `Edm.Guid`: a primary key or a lookup (`_x_value`); values are lowercase hyphenated strings.
    Guid,
    /// `Edm.String`.
    String,
    /// `Edm.Int32`, including option sets (choices); `allowed` lists valid values when it is a choice.
    Int,
    /// `Edm.Boolean`.
    Bool,
    /// `Edm.DateTimeOffset`, serialised as RFC 3339 UTC (`2026-01-01T00:00:00Z`).
    DateTime,
}

/// One column of a table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColType,
    /// Whether a PATCH may change it. Read-only columns sent in a PATCH are ignored, as Dataverse
    /// ignores attributes that are not valid for update (simulator's reading; see the README).
    pub writable: bool,
    /// For choice columns: the values Dataverse accepts.
    pub allowed: Option<&'static [i64]>,
}

/// A table (entity) the simulator serves.
#[derive(Debug)]
pub struct Table {
    /// Entity set name used in URLs (`mailboxes`).
    pub set: &'static str,
    /// Logical name (`mailbox`), used in messages and `@odata.context`.
    pub logical: &'static str,
    /// Primary key column (`mailboxid`).
    pub key: &'static str,
    pub columns: &'static [Column],
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn col_type(&self, name: &str) -> Option<ColType> {
        self.column(name).map(|c| c.ty)
    }
}

const fn col(name: &'static str, ty: ColType, writable: bool) -> Column {
    Column { name, ty, writable, allowed: None }
}

const fn choice(name: &'static str, writable: bool, allowed: &'static [i64]) -> Column {
    Column { name, ty: ColType::Int, writable, allowed: Some(allowed) }
}

use ColType::{Bool, DateTime, Guid, Int, String};

pub static MAILBOXES: Table = Table {
    set: "mailboxes",
    logical: "mailbox",
    key: "mailboxid",
    columns: &[
        col("mailboxid", Guid, false),
        col("name", String, true),
        col("emailaddress", String, true),
        col("_regardingobjectid_value", Guid, false),
        col("_ownerid_value", Guid, false),
        col("_owningbusinessunit_value", Guid, false),
        choice("emailrouteraccessapproval", true, &[0, 1, 2, 3]),
        col("isemailaddressapprovedbyo365admin", Bool, false),
        choice("incomingemaildeliverymethod", true, &[0, 1, 2, 3]),
        choice("outgoingemaildeliverymethod", true, &[0, 1, 2]),
        choice("actdeliverymethod", true, &[0, 1, 2]),
        choice("incomingemailstatus", false, &[0, 1, 2]),
        choice("outgoingemailstatus", false, &[0, 1, 2]),
        choice("actstatus", false, &[0, 1, 2]),
        choice("mailboxstatus", false, &[0, 1, 2]),
        col("testemailconfigurationscheduled", Bool, true),
        col("testmailboxaccesscompletedon", DateTime, false),
        col("testandenablelastattemptedon", DateTime, false),
        col("enabledforincomingemail", Bool, true),
        col("enabledforoutgoingemail", Bool, true),
        col("enabledforact", Bool, true),
        col("orgmarkedasprimaryforexchangesync", Bool, true),
        col("isactsyncorgflagset", Bool, false),
        col("officeappsdeploymentscheduled", Bool, true),
        choice("officeappsdeploymentstatus", false, &[0, 1, 2, 3, 4]),
        col("officeappsdeploymentcompleteon", DateTime, false),
        col("officeappsdeploymenterror", String, false),
        choice("statecode", true, &[0, 1]),
        choice("statuscode", true, &[1, 2]),
        col("modifiedon", DateTime, false),
        col("versionnumber", Int, false),
    ],
};

pub static SYSTEMUSERS: Table = Table {
    set: "systemusers",
    logical: "systemuser",
    key: "systemuserid",
    columns: &[
        col("systemuserid", Guid, false),
        col("fullname", String, false),
        col("firstname", String, true),
        col("lastname", String, true),
        col("internalemailaddress", String, true),
        col("domainname", String, true),
        col("applicationid", Guid, false),
        col("_businessunitid_value", Guid, false),
        col("_defaultmailbox_value", Guid, false),
        col("isdisabled", Bool, false),
        choice("accessmode", false, &[0, 1, 2, 3, 4, 5]),
        choice("emailrouteraccessapproval", true, &[0, 1, 2, 3]),
        col("isemailaddressapprovedbyo365admin", Bool, false),
        col("modifiedon", DateTime, false),
        col("versionnumber", Int, false),
    ],
};

pub static BUSINESSUNITS: Table = Table {
    set: "businessunits",
    logical: "businessunit",
    key: "businessunitid",
    columns: &[
        col("businessunitid", Guid, false),
        col("name", String, true),
        col("_parentbusinessunitid_value", Guid, false),
        col("isdisabled", Bool, false),
        col("modifiedon", DateTime, false),
        col("versionnumber", Int, false),
    ],
};

pub static ROLES: Table = Table {
    set: "roles",
    logical: "role",
    key: "roleid",
    columns: &[
        col("roleid", Guid, false),
        col("name", String, true),
        col("_businessunitid_value", Guid, false),
        col("_parentrootroleid_value", Guid, false),
        col("modifiedon", DateTime, false),
        col("versionnumber", Int, false),
    ],
};

/// Teams: `teamtype` 0 Owner, 1 Access, 2 Microsoft Entra security group, 3 Microsoft 365 group.
pub static TEAMS: Table = Table {
    set: "teams",
    logical: "team",
    key: "teamid",
    columns: &[
        col("teamid", Guid, false),
        col("name", String, true),
        col("_businessunitid_value", Guid, false),
        choice("teamtype", false, &[0, 1, 2, 3]),
        col("modifiedon", DateTime, false),
        col("versionnumber", Int, false),
    ],
};

pub static ORGANIZATIONS: Table = Table {
    set: "organizations",
    logical: "organization",
    key: "organizationid",
    columns: &[
        col("organizationid", Guid, false),
        col("name", String, false),
        choice("emailconnectionchannel", true, &[0, 1]),
        col("requireapprovalforuseremail", Bool, true),
        col("requireapprovalforqueueemail", Bool, true),
        col("_defaultemailserverprofileid_value", Guid, false),
        col("modifiedon", DateTime, false),
        col("versionnumber", Int, false),
    ],
};

/// Every table, in the order of the service document.
pub static TABLES: [&Table; 6] = [&BUSINESSUNITS, &MAILBOXES, &ORGANIZATIONS, &ROLES, &SYSTEMUSERS, &TEAMS];

pub fn table_by_set(set: &str) -> Option<&'static Table> {
    TABLES.iter().copied().find(|t| t.set == set)
}

/// Tables are singletons: the entity set name identifies one.
impl PartialEq for Table {
    fn eq(&self, other: &Self) -> bool {
        self.set == other.set
    }
}

impl Eq for Table {}
