//! Plain-text tables and durations for the client's output: columns padded to their widest
//! cell, numbers right-aligned, control characters of the API's text made harmless.

use std::fmt::Write;

#[derive(Debug, Default)]
pub struct TextTable {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

impl TextTable {
    /// Columns named in `header`; a name starting with `>` is right-aligned (without the `>`).
    pub fn new(header: &[&str]) -> TextTable {
        TextTable {
            header: header.iter().map(|h| h.trim_start_matches('>').to_string()).collect(),
            right: header.iter().map(|h| h.starts_with('>')).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<I: IntoIterator<Item = String>>(&mut self, cells: I) {
        self.rows.push(cells.into_iter().map(|c| one_line(&c)).collect());
    }

    pub fn render(&self) -> String {
        let width = |i: usize| {
            std::iter::once(&self.header)
                .chain(&self.rows)
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.header.len()).map(width).collect();
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let w = widths.get(i).copied().unwrap_or(0);
                let last = i + 1 == row.len();
                let _ = match (self.right.get(i).copied().unwrap_or(false), last) {
                    (true, _) => write!(line, "{cell:>w$}  "),
                    (false, true) => write!(line, "{cell}"),
                    (false, false) => write!(line, "{cell:<w$}  "),
                };
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Text from the API on one line: line breaks and other control characters become spaces.
pub fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// `45s`, `2m 05s`, `3h 07m`, `2d 04h`.
pub fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "?".into();
    }
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m {:02}s", s / 60, s % 60),
        3_600..86_400 => format!("{}h {:02}m", s / 3_600, s % 3_600 / 60),
        _ => format!("{}d {:02}h", s / 86_400, s % 86_400 / 3_600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_and_numbers_right_aligned() {
        let mut t = TextTable::new(&["name", ">n", "note"]);
        t.row(["approve".to_string(), "5".into(), "two\nlines".into()]);
        t.row(["x".to_string(), "1234".into(), String::new()]);
        assert_eq!(t.render(), "name        n  note\napprove     5  two lines\nx        1234\n");
    }

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration(44.6), "45s");
        assert_eq!(duration(125.0), "2m 05s");
        assert_eq!(duration(3.0 * 3_600.0 + 7.0 * 60.0), "3h 07m");
        assert_eq!(duration(2.0 * 86_400.0 + 4.0 * 3_600.0), "2d 04h");
        assert_eq!(duration(f64::NAN), "?");
    }
}
