//! Good and bad rows in one list: what is taken, what is reported, and on which line.

use crate::{fixture, invalid, read_fixture};
use activator_core::mailbox_list::Duplicate;

#[test]
fn bad_rows_and_duplicates_are_reported_on_their_lines() {
    assert!(!fixture("mixed_rows.csv").ends_with(b"\n"), "the last line has no end");
    let list = read_fixture("mixed_rows.csv");
    assert_eq!(
        list.mailboxes,
        vec!["ada@contoso.com", "6f9619ff-8b86-d011-b42d-00cf4fc964ff", "cy@contoso.com", "fay@contoso.com"]
    );
    // Cy's note spans lines 6 and 7: the rows after it keep their lines in the file.
    assert_eq!(list.lines, vec![2, 5, 6, 12]);
    assert_eq!(invalid(&list), vec![(3, "bob@contoso"), (8, "not-an-address"), (10, "")]);
    assert_eq!(list.invalid[0].reason, "not a valid email address");
    assert_eq!(list.invalid[1].reason, "neither a mailbox id (GUID) nor an email address");
    assert_eq!(
        list.duplicates,
        vec![
            Duplicate { line: 9, value: "ADA@CONTOSO.COM".into(), first: 2 },
            Duplicate { line: 11, value: "{6f9619ff-8b86-d011-b42d-00cf4fc964ff}".into(), first: 5 },
        ]
    );
}
