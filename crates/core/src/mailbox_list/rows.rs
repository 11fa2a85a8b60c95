//! The rows under the header: each row's mailbox reference from the chosen column, with the
//! row's line in the file (1-based, counting the lines of quoted fields that span several);
//! rows that cannot be used and repeated mailboxes are kept aside with their lines.

use super::columns::choose_column;
use super::error::ListError;
use super::layout::Layout;
use super::{Duplicate, MailboxList, RowProblem};
use std::collections::HashMap;

/// Line ends in `bytes`: LF, CRLF, or a CR alone.
pub(crate) fn lines_before(bytes: &[u8]) -> u64 {
    let mut n = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' || (*b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            n += 1;
        }
    }
    n
}

/// Line numbers of byte offsets met in increasing order, counted once through the text.
struct LineCounter<'a> {
    text: &'a [u8],
    at: usize,
    line: u64,
}

impl LineCounter<'_> {
    /// The line of the record starting at `offset` (the reader may place a record at the
    /// blank lines before it).
    fn line_at(&mut self, offset: usize) -> u64 {
        let mut offset = offset.min(self.text.len());
        while matches!(self.text.get(offset), Some(b'\n' | b'\r')) {
            offset += 1;
        }
        if offset > self.at {
            self.line += lines_before(&self.text[self.at..offset]);
            self.at = offset;
        }
        self.line
    }
}

/// Reads the list laid out as `layout` says.
pub(crate) fn read_rows(text: &str, layout: Layout) -> Result<MailboxList, ListError> {
    let body = &text[layout.start..];
    if body.trim().is_empty() {
        return Err(ListError::Empty);
    }
    let mut lines = LineCounter { text: text.as_bytes(), at: 0, line: 1 };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(layout.delimiter)
        .from_reader(body.as_bytes());
    let csv_error = |lines: &mut LineCounter, e: csv::Error| {
        let at = e.position().map_or(0, |p| p.byte());
        ListError::Csv {
            line: lines.line_at(layout.start + usize::try_from(at).unwrap_or(usize::MAX)),
            message: e.to_string(),
        }
    };
    let headers = reader.headers().map_err(|e| csv_error(&mut lines, e))?.clone();
    let (index, column) = choose_column(headers.iter())?;
    let mut list = MailboxList {
        column,
        mailboxes: Vec::new(),
        lines: Vec::new(),
        invalid: Vec::new(),
        duplicates: Vec::new(),
    };
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(|e| csv_error(&mut lines, e))? {
        let at = record.position().map_or(0, |p| p.byte());
        let line = lines.line_at(layout.start + usize::try_from(at).unwrap_or(usize::MAX));
        if record.iter().all(|f| f.trim().is_empty()) {
            continue; // a blank row
        }
        let raw = record.get(index).unwrap_or("").trim();
        if raw.is_empty() {
            let reason = format!("no value in column '{}'", list.column.header);
            list.invalid.push(RowProblem { line, value: String::new(), reason });
            continue;
        }
        match list.column.kind.read(raw) {
            Ok(reference) => match first_line.get(&reference.key()) {
                Some(&first) => list.duplicates.push(Duplicate { line, value: raw.to_string(), first }),
                None => {
                    first_line.insert(reference.key(), line);
                    list.mailboxes.push(reference.to_string());
                    list.lines.push(line);
                }
            },
            Err(reason) => list.invalid.push(RowProblem { line, value: raw.to_string(), reason }),
        }
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::super::read_list;
    use super::*;

    #[test]
    fn line_ends_are_lf_crlf_or_a_lone_cr() {
        assert_eq!(lines_before(b"a\nb\r\nc\rd"), 3);
        assert_eq!(lines_before(b"a\r"), 1);
        assert_eq!(lines_before(b""), 0);
    }

    #[test]
    fn rows_keep_their_lines_across_blank_lines_and_quoted_line_breaks() {
        let text = "Name,Email\r\n\"Lovelace,\r\nAda\",ada@contoso.com\r\n\r\nBob,bob@\r\n,\r\nCy,\r\nDi,DI@contoso.com\r\nAda,Ada@Contoso.com";
        let list = read_list(text.as_bytes()).expect("readable");
        assert_eq!(list.mailboxes, vec!["ada@contoso.com", "DI@contoso.com"]);
        assert_eq!(list.lines, vec![2, 8]);
        let invalid: Vec<(u64, &str, &str)> =
            list.invalid.iter().map(|p| (p.line, p.value.as_str(), p.reason.as_str())).collect();
        assert_eq!(
            invalid,
            vec![(5, "bob@", "not a valid email address"), (7, "", "no value in column 'Email'")]
        );
        assert_eq!(list.duplicates, vec![Duplicate { line: 9, value: "Ada@Contoso.com".into(), first: 2 }]);
    }

    #[test]
    fn lines_count_from_the_top_of_the_file_past_exporter_lines() {
        let text = "#TYPE System.Management.Automation.PSCustomObject\n\"Name\",\"PrimarySmtpAddress\"\n\"Ada\",\"ada@\"\n";
        let list = read_list(text.as_bytes()).expect("readable");
        assert_eq!((list.invalid[0].line, list.column.header.as_str()), (3, "PrimarySmtpAddress"));
    }

    #[test]
    fn a_header_alone_is_a_list_without_mailboxes_and_nothing_at_all_is_an_error() {
        let list = read_list(b"email\r\n\r\n").expect("a header");
        assert!(list.mailboxes.is_empty() && list.invalid.is_empty());
        assert_eq!(read_list(b"\xEF\xBB\xBF\r\n  \r\n"), Err(ListError::Empty));
        assert_eq!(read_list(b""), Err(ListError::Empty));
    }
}
