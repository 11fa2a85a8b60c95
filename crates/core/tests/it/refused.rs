//! Files that are not lists are refused as a whole, saying what to do.

use crate::fixture;
use activator_core::mailbox_list::{ListError, read_list};

#[test]
fn an_excel_workbook_is_not_a_text_file() {
    let bytes = fixture("workbook.xlsx");
    assert!(bytes.starts_with(b"PK\x03\x04"));
    let err = read_list(&bytes).expect_err("a workbook");
    assert!(matches!(err, ListError::NotText { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.starts_with("the list is not a text file (it is an .xlsx workbook"), "{message}");
    assert!(message.contains("save it as CSV UTF-8 from Excel"), "{message}");
}

#[test]
fn a_csv_in_a_windows_code_page_names_the_line_and_how_to_save_it() {
    let err = read_list(b"Navn;E-mail\r\nS\xF8ren;soren@contoso.dk\r\n").expect_err("not UTF-8");
    let message = err.to_string();
    assert!(message.contains("line 2 is not UTF-8"), "{message}");
    assert!(message.contains("save it as CSV UTF-8 from Excel"), "{message}");
}

#[test]
fn utf16_without_its_bom_is_refused() {
    let bytes: Vec<u8> = "email\r\nada@contoso.com\r\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let err = read_list(&bytes).expect_err("NUL bytes");
    assert!(err.to_string().contains("byte order mark"), "{err}");
}
