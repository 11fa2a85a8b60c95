//! A list of mailboxes as admins give it: CSV text with a header row, one mailbox per row, as
//! a mailbox id (GUID) or an email address. Every row that cannot be used is reported with
//! its line number and reason, never dropped silently; duplicates are reported and kept once.

use uuid::Uuid;

/// Header names accepted for the mailbox column (compared without case). With one column,
/// any header is accepted.
pub const COLUMN_NAMES: [&str; 6] = ["mailbox", "mailboxid", "id", "email", "emailaddress", "address"];

/// A row that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// Line in the file, 1-based (the header is line 1).
    pub line: u64,
    pub value: String,
    pub reason: String,
}

/// The mailboxes read from a list, in order, each once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxList {
    pub mailboxes: Vec<String>,
    /// The line of each mailbox in the file (beside `mailboxes`), so that a duplicate can name
    /// the line it repeats.
    pub lines: Vec<u64>,
    /// Rows that are not mailboxes (bad values); a strict reader rejects the list for these.
    pub invalid: Vec<RowProblem>,
    /// Rows naming a mailbox already listed; they are dropped, never a reason to reject.
    pub duplicates: Vec<RowProblem>,
}

/// Whether `value` is a mailbox reference: a GUID (braces allowed) or an email address.
/// Returns the reference as the store keeps it: a GUID in its plain form, an address as given.
pub fn mailbox_reference(value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("empty".into());
    }
    if let Ok(id) = Uuid::parse_str(v.trim_start_matches('{').trim_end_matches('}')) {
        return Ok(id.to_string());
    }
    if v.contains('@') {
        let (local, domain) = v.rsplit_once('@').unwrap_or(("", ""));
        let ok = !local.is_empty()
            && !local.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !v.chars().any(|c| c.is_whitespace() || c == ',' || c == ';' || c == '<' || c == '>');
        return if ok { Ok(v.to_string()) } else { Err("not a valid email address".into()) };
    }
    Err("neither a mailbox id (GUID) nor an email address".into())
}

/// Reads CSV text with a header row.
pub fn parse_csv(text: &str) -> Result<MailboxList, String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| format!("cannot read the header row: {e}"))?.clone();
    let column = if headers.len() == 1 {
        0
    } else {
        headers
            .iter()
            .position(|h| COLUMN_NAMES.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
            .ok_or_else(|| {
                format!(
                    "no mailbox column in the header row ({}): name it one of {}",
                    headers.iter().collect::<Vec<_>>().join(","),
                    COLUMN_NAMES.join(", ")
                )
            })?
    };
    if headers.len() == 1 && mailbox_reference(&headers[0]).is_ok() {
        return Err(format!(
            "the first line ('{}') is a mailbox, not a header: add a header row such as 'mailbox'",
            &headers[0]
        ));
    }
    let mut list = MailboxList::default();
    let mut seen = std::collections::HashSet::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("cannot read the CSV: {e}"))?;
        let line = record.position().map_or(0, |p| line_at(text, p.byte()));
        let raw = record.get(column).unwrap_or("").trim();
        if raw.is_empty() && record.iter().all(|f| f.trim().is_empty()) {
            continue; // a blank line
        }
        match mailbox_reference(raw) {
            Ok(reference) => {
                if seen.insert(reference.to_lowercase()) {
                    list.mailboxes.push(reference);
                    list.lines.push(line);
                } else {
                    list.duplicates.push(RowProblem {
                        line,
                        value: raw.to_string(),
                        reason: "listed before; kept once".into(),
                    });
                }
            }
            Err(reason) => list.invalid.push(RowProblem { line, value: raw.to_string(), reason }),
        }
    }
    Ok(list)
}

/// The 1-based line of the record starting at byte `at` (the reader may place a record after
/// blank lines at the first of them).
fn line_at(text: &str, at: u64) -> u64 {
    let mut at = usize::try_from(at).unwrap_or(usize::MAX).min(text.len());
    let bytes = text.as_bytes();
    while at < bytes.len() && (bytes[at] == b'\n' || bytes[at] == b'\r') {
        at += 1;
    }
    1 + bytes[..at].iter().filter(|b| **b == b'\n').count() as u64
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
        assert_eq!(list.duplicates.len(), 1);
        assert_eq!(list.duplicates[0].line, 6);
        assert_eq!(list.lines, vec![2, 3]);
    }

    #[test]
    fn a_file_without_a_header_or_column_says_how_to_fix_it() {
        let err = parse_csv("ada@contoso.com\nbob@contoso.com\n").expect_err("no header");
        assert!(err.contains("add a header row"), "{err}");
        let err = parse_csv("name,dept\nAda,IT\n").expect_err("no mailbox column");
        assert!(err.contains("name it one of"), "{err}");
    }

    #[test]
    fn one_column_files_may_name_it_anything() {
        let list = parse_csv("Who\nada@contoso.com\n").expect("readable");
        assert_eq!(list.mailboxes, vec!["ada@contoso.com"]);
    }
}
