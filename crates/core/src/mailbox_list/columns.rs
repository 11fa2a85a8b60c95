//! Which column of the header row holds the mailboxes. Header names are compared without
//! regard to case, spaces and punctuation (`E-mail`, `Email Address`, `email_address`);
//! when several columns qualify, ids win over names: mailbox id, then systemuser id, then
//! email address, then user principal name. A bare `id` comes last: Entra ID and Exchange
//! exports have an `Id` column that is no Dataverse mailbox id.

use super::error::ListError;
use super::reference::{MailboxRef, mailbox_id_or_email, systemuser_id, user_principal_name};
use std::fmt;

/// What the mailbox column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// Dataverse mailbox ids (an email address in it is taken too).
    MailboxId,
    /// Dataverse systemuser ids, the mailboxes' users.
    SystemUserId,
    /// Email addresses (a mailbox id in it is taken too).
    Email,
    /// User principal names of the mailboxes' users.
    UserPrincipalName,
    /// The only column, under a header that names none of the above: mailbox ids or email
    /// addresses.
    MailboxIdOrEmail,
}

impl ColumnKind {
    /// What the column holds, in words: "email addresses".
    pub fn describe(self) -> &'static str {
        match self {
            Self::MailboxId => "mailbox ids",
            Self::SystemUserId => "systemuser ids",
            Self::Email => "email addresses",
            Self::UserPrincipalName => "user principal names",
            Self::MailboxIdOrEmail => "mailbox ids or email addresses",
        }
    }

    /// The reference in one cell of the column, or why there is none.
    pub fn read(self, value: &str) -> Result<MailboxRef, String> {
        match self {
            Self::MailboxId | Self::Email | Self::MailboxIdOrEmail => mailbox_id_or_email(value),
            Self::UserPrincipalName => user_principal_name(value),
            Self::SystemUserId => systemuser_id(value),
        }
    }
}

impl fmt::Display for ColumnKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The column a list was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedColumn {
    /// Its header, as written (without surrounding spaces).
    pub header: String,
    pub kind: ColumnKind,
    /// The headers of the other columns that could have been used, in file order.
    pub others: Vec<String>,
}

/// Header names recognised, as compared (lower case letters and digits only), and what the
/// column holds.
pub const COLUMN_NAMES: &[(&str, ColumnKind)] = &[
    ("mailboxid", ColumnKind::MailboxId),
    ("donotmodifymailbox", ColumnKind::MailboxId), // Dataverse's Excel export of mailboxes
    ("id", ColumnKind::MailboxId),                 // ranked last of all, see `rank`
    ("systemuserid", ColumnKind::SystemUserId),
    ("userid", ColumnKind::SystemUserId),
    ("donotmodifyuser", ColumnKind::SystemUserId), // Dataverse's Excel export of users
    ("email", ColumnKind::Email),
    ("mail", ColumnKind::Email),
    ("emailaddress", ColumnKind::Email),
    ("emailadresse", ColumnKind::Email),
    ("primaryemail", ColumnKind::Email),
    ("primaryemailaddress", ColumnKind::Email),
    ("primarysmtpaddress", ColumnKind::Email),
    ("internalemailaddress", ColumnKind::Email),
    ("windowsemailaddress", ColumnKind::Email),
    ("address", ColumnKind::Email),
    ("mailbox", ColumnKind::Email),
    ("userprincipalname", ColumnKind::UserPrincipalName),
    ("upn", ColumnKind::UserPrincipalName),
    ("signinname", ColumnKind::UserPrincipalName),
];

/// A header as compared: lower case letters and digits only.
pub fn normalize_header(header: &str) -> String {
    header.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// What a column under `header` holds, if the header names one.
pub fn column_kind(header: &str) -> Option<ColumnKind> {
    let name = normalize_header(header);
    COLUMN_NAMES.iter().find(|(n, _)| *n == name).map(|(_, kind)| *kind)
}

/// Lower wins: ids over names, and a bare `id` after everything.
fn rank(header: &str, kind: ColumnKind) -> u8 {
    if normalize_header(header) == "id" {
        return 9;
    }
    match kind {
        ColumnKind::MailboxId => 0,
        ColumnKind::SystemUserId => 1,
        ColumnKind::Email => 2,
        ColumnKind::UserPrincipalName => 3,
        ColumnKind::MailboxIdOrEmail => 4,
    }
}

/// The column of `headers` to read, and its index.
pub(crate) fn choose_column<'a>(
    headers: impl IntoIterator<Item = &'a str>,
) -> Result<(usize, UsedColumn), ListError> {
    let headers: Vec<&str> = headers.into_iter().map(str::trim).collect();
    let looks_like_a_mailbox = |h: &str| MailboxRef::parse(h).is_ok();
    if let [only] = headers[..] {
        if looks_like_a_mailbox(only) {
            return Err(ListError::HeaderIsMailbox { value: only.to_string() });
        }
        let kind = column_kind(only).unwrap_or(ColumnKind::MailboxIdOrEmail);
        return Ok((0, UsedColumn { header: only.to_string(), kind, others: Vec::new() }));
    }
    let candidates: Vec<(usize, ColumnKind)> =
        headers.iter().enumerate().filter_map(|(i, h)| column_kind(h).map(|k| (i, k))).collect();
    let Some(&(index, kind)) = candidates.iter().min_by_key(|(i, k)| rank(headers[*i], *k)) else {
        if let Some(value) = headers.iter().find(|h| looks_like_a_mailbox(h)) {
            return Err(ListError::HeaderIsMailbox { value: value.to_string() });
        }
        return Err(ListError::NoColumn { headers: headers.iter().map(|h| h.to_string()).collect() });
    };
    let others =
        candidates.iter().filter(|(i, _)| *i != index).map(|(i, _)| headers[*i].to_string()).collect();
    Ok((index, UsedColumn { header: headers[index].to_string(), kind, others }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(headers: &[&str]) -> (String, ColumnKind, Vec<String>) {
        let (_, c) = choose_column(headers.iter().copied()).expect("a column");
        (c.header, c.kind, c.others)
    }

    #[test]
    fn header_names_match_without_case_spaces_or_punctuation() {
        for h in ["E-mail", "Email Address", "email_address", "EMAIL", " Primary SMTP Address ", "mail"] {
            assert_eq!(column_kind(h), Some(ColumnKind::Email), "{h}");
        }
        for h in ["User Principal Name", "userPrincipalName", "UPN", "Sign-in name"] {
            assert_eq!(column_kind(h), Some(ColumnKind::UserPrincipalName), "{h}");
        }
        for h in ["Mailbox Id", "MailboxID", "(Do Not Modify) Mailbox", "id"] {
            assert_eq!(column_kind(h), Some(ColumnKind::MailboxId), "{h}");
        }
        for h in ["SystemUser Id", "systemuserid", "User ID"] {
            assert_eq!(column_kind(h), Some(ColumnKind::SystemUserId), "{h}");
        }
        assert_eq!(column_kind("Navn"), None);
    }

    #[test]
    fn ids_win_over_names_and_a_bare_id_comes_last() {
        let upn = ColumnKind::UserPrincipalName;
        assert_eq!(
            chosen(&["UPN", "Name", "E-mail"]),
            ("E-mail".into(), ColumnKind::Email, vec!["UPN".into()])
        );
        assert_eq!(chosen(&["Email", "User Id"]).1, ColumnKind::SystemUserId);
        assert_eq!(chosen(&["User Id", "Mailbox Id"]).1, ColumnKind::MailboxId);
        assert_eq!(chosen(&["id", "userPrincipalName", "mail"]).0, "mail");
        assert_eq!(
            chosen(&["id", "userPrincipalName"]),
            ("userPrincipalName".into(), upn, vec!["id".into()])
        );
        assert_eq!(chosen(&["id", "Name"]).1, ColumnKind::MailboxId);
    }

    #[test]
    fn one_column_may_have_any_header_but_not_a_mailbox() {
        assert_eq!(chosen(&["Who"]), ("Who".into(), ColumnKind::MailboxIdOrEmail, vec![]));
        assert_eq!(chosen(&["upn"]).1, ColumnKind::UserPrincipalName);
        let err = choose_column(["ada@contoso.com"]).expect_err("a mailbox");
        assert!(err.to_string().contains("add a header row"), "{err}");
        let err = choose_column(["ada@contoso.com", "Ada"]).expect_err("a mailbox");
        assert!(matches!(err, ListError::HeaderIsMailbox { .. }), "{err}");
        let err = choose_column(["Navn", "Afdeling"]).expect_err("no column");
        assert!(err.to_string().contains("'Navn', 'Afdeling'"), "{err}");
        assert!(err.to_string().contains("name the column holding the mailboxes"), "{err}");
    }

    #[test]
    fn each_kind_reads_its_own_values() {
        assert!(ColumnKind::SystemUserId.read("ada@contoso.com").is_err());
        assert!(ColumnKind::UserPrincipalName.read("6f9619ff-8b86-d011-b42d-00cf4fc964ff").is_err());
        assert_eq!(
            ColumnKind::UserPrincipalName.read("ada@contoso.com").map(|r| r.to_string()),
            Ok("upn:ada@contoso.com".into())
        );
        assert!(matches!(
            ColumnKind::Email.read("{6F9619FF-8B86-D011-B42D-00CF4FC964FF}"),
            Ok(MailboxRef::MailboxId(_))
        ));
    }
}
