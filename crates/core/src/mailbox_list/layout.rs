//! Where the header row starts and what separates the fields: a comma, a semicolon (Excel
//! in many European locales) or a tab (Excel's "Unicode text"), whichever splits the header
//! row into most fields. Lines before the header that exporters write are skipped: Excel's
//! `sep=;` (which also names the separator) and PowerShell's `#TYPE ...` of `Export-Csv`.

/// Separators tried, in order of preference when they split the header alike.
const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];

/// How a list's text is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Byte where the header row starts.
    pub start: usize,
    pub delimiter: u8,
}

pub(crate) fn layout(text: &str) -> Layout {
    let mut start = 0;
    let mut named = None;
    // At most one `sep=` and one `#TYPE` line, in either order.
    for _ in 0..2 {
        let rest = &text[start..];
        let line = &rest[..rest.find(['\r', '\n']).unwrap_or(rest.len())];
        let end = line.len() + if rest[line.len()..].starts_with("\r\n") { 2 } else { 1 };
        if let Some(sep) = line.strip_prefix("sep=").filter(|s| s.len() == 1 && named.is_none()) {
            named = sep.bytes().next();
        } else if !line.starts_with("#TYPE") {
            break;
        }
        start = (start + end).min(text.len());
    }
    let delimiter = named.unwrap_or_else(|| {
        let mut best = (DELIMITERS[0], 0);
        for d in DELIMITERS {
            let fields = header_fields(&text[start..], d);
            if fields > best.1 {
                best = (d, fields);
            }
        }
        best.0
    });
    Layout { start, delimiter }
}

/// How many fields the first row has when split by `delimiter` (quotes respected).
fn header_fields(text: &str, delimiter: u8) -> usize {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => record.len(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delimiter(text: &str) -> char {
        char::from(layout(text).delimiter)
    }

    #[test]
    fn the_separator_splitting_the_header_into_most_fields_wins() {
        assert_eq!(delimiter("Navn;E-mail;Afdeling\r\nA;a@contoso.dk;IT\r\n"), ';');
        assert_eq!(delimiter("Name\tEmail Address\tDepartment\n"), '\t');
        assert_eq!(delimiter("email,name\n"), ',');
        assert_eq!(delimiter("email\n"), ',');
        assert_eq!(delimiter(""), ',');
        // Quoted separators do not count.
        assert_eq!(delimiter("\"Name, full\";\"Dept, main\";Email\n"), ';');
        assert_eq!(delimiter("\"a;b;c;d\",email\n"), ',');
    }

    #[test]
    fn exporter_lines_before_the_header_are_skipped() {
        assert_eq!(layout("sep=|\r\nname|email\r\n"), Layout { start: 7, delimiter: b'|' });
        let text = "#TYPE Selected.Microsoft.Exchange.Data.Directory.Management.Mailbox\n\"Name\",\"Id\"\n";
        assert_eq!(layout(text), Layout { start: 68, delimiter: b',' });
        assert_eq!(layout("email\n#TYPE\n").start, 0);
        assert_eq!(layout("#TYPE x\rName;Email\r").start, 8);
        assert_eq!(layout("#TYPE x").start, 7);
    }
}
