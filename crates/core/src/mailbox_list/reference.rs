//! A reference to one mailbox as the store keeps it: a mailbox id (plain GUID), an email
//! address (as given), a user principal name (`upn:<name>`) or a systemuser id
//! (`systemuser:<guid>`). The prefixed forms are resolved to mailboxes through Dataverse.

use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// Prefix of a user principal name reference.
const UPN: &str = "upn:";
/// Prefix of a systemuser id reference.
const SYSTEMUSER: &str = "systemuser:";

/// One mailbox, named one of four ways. `Display` gives the string the store keeps and
/// [`MailboxRef::parse`] reads it back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MailboxRef {
    /// A Dataverse mailbox id: `6f9619ff-8b86-d011-b42d-00cf4fc964ff`.
    MailboxId(Uuid),
    /// The mailbox's email address, as given: `ada@contoso.com`.
    Email(String),
    /// The user principal name of the mailbox's user: `upn:ada@contoso.com`.
    UserPrincipalName(String),
    /// The Dataverse systemuser id of the mailbox's user: `systemuser:<guid>`.
    SystemUserId(Uuid),
}

impl MailboxRef {
    /// Reads a reference as [`Display`](fmt::Display) writes it: `upn:<name>`,
    /// `systemuser:<guid>`, a GUID (braces allowed) or an email address; surrounding spaces
    /// are ignored.
    pub fn parse(text: &str) -> Result<Self, String> {
        let v = text.trim();
        if let Some(name) = strip_prefix_ignore_case(v, UPN) {
            return user_principal_name(name);
        }
        if let Some(id) = strip_prefix_ignore_case(v, SYSTEMUSER) {
            return systemuser_id(id);
        }
        mailbox_id_or_email(v)
    }

    /// The form two references are compared in to find duplicates: addresses and names
    /// without regard to case.
    pub fn key(&self) -> String {
        self.to_string().to_lowercase()
    }
}

impl fmt::Display for MailboxRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MailboxId(id) => write!(f, "{id}"),
            Self::Email(address) => f.write_str(address),
            Self::UserPrincipalName(name) => write!(f, "{UPN}{name}"),
            Self::SystemUserId(id) => write!(f, "{SYSTEMUSER}{id}"),
        }
    }
}

impl FromStr for MailboxRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

/// Whether `value` is a mailbox reference: a GUID (braces allowed) or an email address.
/// Returns the reference as the store keeps it: a GUID in its plain form, an address as given.
pub fn mailbox_reference(value: &str) -> Result<String, String> {
    mailbox_id_or_email(value.trim()).map(|r| r.to_string())
}

/// A GUID as a mailbox id, or an email address.
pub(crate) fn mailbox_id_or_email(value: &str) -> Result<MailboxRef, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("empty".into());
    }
    if let Some(id) = guid(v) {
        return Ok(MailboxRef::MailboxId(id));
    }
    if v.contains('@') {
        return if is_address(v) {
            Ok(MailboxRef::Email(v.to_string()))
        } else {
            Err("not a valid email address".into())
        };
    }
    Err("neither a mailbox id (GUID) nor an email address".into())
}

/// A user principal name: it looks like an email address.
pub(crate) fn user_principal_name(value: &str) -> Result<MailboxRef, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("empty".into());
    }
    if is_address(v) {
        Ok(MailboxRef::UserPrincipalName(v.to_string()))
    } else {
        Err("not a user principal name (name@domain)".into())
    }
}

/// A systemuser id: a GUID (braces allowed).
pub(crate) fn systemuser_id(value: &str) -> Result<MailboxRef, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("empty".into());
    }
    guid(v).map(MailboxRef::SystemUserId).ok_or_else(|| "not a systemuser id (GUID)".into())
}

fn guid(v: &str) -> Option<Uuid> {
    Uuid::parse_str(v.trim_start_matches('{').trim_end_matches('}')).ok()
}

/// `local@domain.tld` with no spaces or separators; a colon is refused too, so that an
/// address never reads as a prefixed reference.
fn is_address(v: &str) -> bool {
    let Some((local, domain)) = v.rsplit_once('@') else { return false };
    !local.is_empty()
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !v.chars().any(|c| c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>' | ':'))
}

fn strip_prefix_ignore_case<'a>(v: &'a str, prefix: &str) -> Option<&'a str> {
    let head = v.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &v[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "6f9619ff-8b86-d011-b42d-00cf4fc964ff";

    #[test]
    fn every_kind_round_trips_through_its_string() {
        for text in [ID, "Ada@Contoso.com", "upn:ada@contoso.com", &format!("systemuser:{ID}")] {
            let r = MailboxRef::parse(text).expect(text);
            assert_eq!(r.to_string(), text);
            assert_eq!(text.parse::<MailboxRef>(), Ok(r));
        }
    }

    #[test]
    fn guids_are_kept_plain_and_prefixes_read_without_case() {
        let braced = "{6F9619FF-8B86-D011-B42D-00CF4FC964FF}";
        assert_eq!(MailboxRef::parse(braced).map(|r| r.to_string()), Ok(ID.to_string()));
        assert_eq!(
            MailboxRef::parse(&format!(" SystemUser:{braced} ")),
            Ok(MailboxRef::SystemUserId(Uuid::parse_str(ID).expect("guid")))
        );
        assert_eq!(
            MailboxRef::parse("UPN:ada@contoso.com").map(|r| r.to_string()),
            Ok("upn:ada@contoso.com".to_string())
        );
    }

    #[test]
    fn bad_values_say_what_they_are_not() {
        assert!(MailboxRef::parse("upn:ada").is_err());
        assert!(MailboxRef::parse("systemuser:ada@contoso.com").is_err());
        assert_eq!(mailbox_reference("bob@contoso"), Err("not a valid email address".into()));
        assert_eq!(mailbox_reference("a:b@contoso.com"), Err("not a valid email address".into()));
        assert_eq!(mailbox_reference(" "), Err("empty".into()));
        assert_eq!(
            mailbox_reference("Ada Lovelace"),
            Err("neither a mailbox id (GUID) nor an email address".into())
        );
    }

    #[test]
    fn duplicates_compare_addresses_without_case() {
        let a = MailboxRef::parse("upn:Ada@Contoso.com").expect("upn");
        let b = MailboxRef::parse("upn:ada@contoso.com").expect("upn");
        assert_eq!(a.key(), b.key());
        assert_ne!(a.key(), MailboxRef::parse("ada@contoso.com").expect("email").key());
    }
}
