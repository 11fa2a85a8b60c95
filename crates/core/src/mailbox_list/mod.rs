//! A list of mailboxes as admins export it from Excel, Entra ID or Exchange: CSV with a
//! header row, one mailbox per row, as a mailbox id, an email address, a user principal name
//! or a systemuser id. UTF-8 (with or without a byte order mark) or UTF-16 with one; LF or
//! CRLF; comma, semicolon or tab. Every row that cannot be used is reported with its line
//! number and reason, never dropped silently; duplicates are reported and kept once.

mod columns;
mod decode;
mod error;
mod layout;
mod reference;
mod rows;

pub use columns::{COLUMN_NAMES, ColumnKind, UsedColumn, column_kind, normalize_header};
pub use error::ListError;
pub use reference::{MailboxRef, mailbox_reference};

/// A row that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// Line in the file, 1-based (the first line is 1).
    pub line: u64,
    pub value: String,
    pub reason: String,
}

/// A row naming a mailbox listed before; it is kept once, where it was first listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// Line in the file, 1-based.
    pub line: u64,
    pub value: String,
    /// Line where the mailbox was first listed.
    pub first: u64,
}

/// The mailboxes read from a list, in order, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxList {
    /// The column the mailboxes were read from.
    pub column: UsedColumn,
    /// References as the store keeps them ([`MailboxRef`] strings).
    pub mailboxes: Vec<String>,
    /// The line of each mailbox in the file (beside `mailboxes`).
    pub lines: Vec<u64>,
    /// Rows that are not mailboxes (bad values); a strict reader rejects the list for these.
    pub invalid: Vec<RowProblem>,
    /// Rows naming a mailbox already listed; they are dropped, never a reason to reject.
    pub duplicates: Vec<Duplicate>,
}

/// Reads a list from the bytes of its file. Fails only when the file as a whole cannot be
/// read (not text, no header, no mailbox column); bad rows are in the list.
pub fn read_list(bytes: &[u8]) -> Result<MailboxList, ListError> {
    let text = decode::decode(bytes)?;
    rows::read_rows(&text, layout::layout(&text))
}

/// Reads a list from text; [`read_list`] on its bytes.
pub fn parse_csv(text: &str) -> Result<MailboxList, String> {
    read_list(text.as_bytes()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_addresses_are_taken_with_their_line_numbers_for_problems() {
        let text = "email,name\nada@contoso.com,Ada\n{6F9619FF-8B86-D011-B42D-00CF4FC964FF},x\nnot-an-address,y\n\nADA@contoso.com,again\nbob@contoso,z\n";
        let list = parse_csv(text).expect("readable");
        assert_eq!(list.mailboxes, vec!["ada@contoso.com", "6f9619ff-8b86-d011-b42d-00cf4fc964ff"]);
        let invalid: Vec<(u64, &str)> = list.invalid.iter().map(|p| (p.line, p.value.as_str())).collect();
        assert_eq!(invalid, vec![(4, "not-an-address"), (7, "bob@contoso")]);
        assert_eq!(list.duplicates, vec![Duplicate { line: 6, value: "ADA@contoso.com".into(), first: 2 }]);
        assert_eq!(list.lines, vec![2, 3]);
        assert_eq!(
            list.column,
            UsedColumn { header: "email".into(), kind: ColumnKind::Email, others: vec![] }
        );
    }

    #[test]
    fn a_file_without_a_header_or_column_says_how_to_fix_it() {
        let err = parse_csv("ada@contoso.com\nbob@contoso.com\n").expect_err("no header");
        assert!(err.contains("add a header row"), "{err}");
        let err = parse_csv("name,dept\nAda,IT\n").expect_err("no mailbox column");
        assert!(err.contains("name the column holding the mailboxes"), "{err}");
    }

    #[test]
    fn one_column_files_may_name_it_anything() {
        let list = parse_csv("Who\nada@contoso.com\n").expect("readable");
        assert_eq!(list.mailboxes, vec!["ada@contoso.com"]);
        assert_eq!(list.column.kind, ColumnKind::MailboxIdOrEmail);
    }

    #[test]
    fn user_principal_names_and_systemuser_ids_get_their_prefixes() {
        let list =
            read_list(b"Display name;User principal name\nAda;Ada@contoso.com\nBob;bob\n").expect("ok");
        assert_eq!(list.mailboxes, vec!["upn:Ada@contoso.com"]);
        assert_eq!(list.invalid[0].reason, "not a user principal name (name@domain)");
        let list = read_list(b"systemuserid\n{6F9619FF-8B86-D011-B42D-00CF4FC964FF}\n").expect("ok");
        assert_eq!(list.mailboxes, vec!["systemuser:6f9619ff-8b86-d011-b42d-00cf4fc964ff"]);
    }
}
