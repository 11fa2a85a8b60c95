//! Lists as exporters write them: the column used, its kind, the other candidates, and the
//! references read.

use crate::{fixture, invalid, read_fixture};
use activator_core::mailbox_list::{ColumnKind, MailboxRef, UsedColumn};

fn column(header: &str, kind: ColumnKind, others: &[&str]) -> UsedColumn {
    UsedColumn { header: header.into(), kind, others: others.iter().map(|o| o.to_string()).collect() }
}

#[test]
fn a_danish_excel_export_is_read_by_its_e_mail_column() {
    let bytes = fixture("danish_excel_semicolon.csv");
    assert!(bytes.starts_with(b"\xEF\xBB\xBFNavn;E-mail;Afdeling\r\n"), "the fixture keeps its BOM and CRLF");
    let list = read_fixture("danish_excel_semicolon.csv");
    assert_eq!(list.column, column("E-mail", ColumnKind::Email, &[]));
    assert_eq!(list.mailboxes, vec!["soren@contoso.dk", "ib.hansen@contoso.dk", "aase@contoso.dk"]);
    assert_eq!(list.lines, vec![2, 3, 4]);
    assert!(list.invalid.is_empty() && list.duplicates.is_empty(), "{list:?}");
}

#[test]
fn an_excel_unicode_text_export_is_utf16_with_tabs() {
    let bytes = fixture("excel_unicode_text.txt");
    assert!(bytes.starts_with(b"\xFF\xFEN\0a\0m\0e\0\t\0"), "the fixture is UTF-16 LE with its BOM");
    let list = read_fixture("excel_unicode_text.txt");
    assert_eq!(list.column, column("Email Address", ColumnKind::Email, &[]));
    assert_eq!(list.mailboxes, vec!["ada@contoso.com", "grace@contoso.com", "zoe@contoso.de"]);
    assert_eq!(list.lines, vec![2, 3, 4]);
}

#[test]
fn a_user_principal_name_column_gives_upn_references() {
    let list = read_fixture("m365_users_upn.csv");
    assert_eq!(list.column, column("User principal name", ColumnKind::UserPrincipalName, &[]));
    assert_eq!(list.mailboxes, vec!["upn:ada@contoso.onmicrosoft.com", "upn:Grace.Hopper@contoso.com"]);
    assert_eq!(
        MailboxRef::parse(&list.mailboxes[1]),
        Ok(MailboxRef::UserPrincipalName("Grace.Hopper@contoso.com".into()))
    );
    assert_eq!(invalid(&list), vec![(4, "room1")]);
}

#[test]
fn a_mailbox_id_column_wins_over_an_email_column() {
    let list = read_fixture("mailbox_id_and_email.csv");
    assert_eq!(list.column, column("Mailbox Id", ColumnKind::MailboxId, &["Email"]));
    assert_eq!(
        list.mailboxes,
        vec!["0b5e1c5a-7c3e-4b0e-9a59-1f6f1e4c2d01", "0b5e1c5a-7c3e-4b0e-9a59-1f6f1e4c2d02"]
    );
}

#[test]
fn an_entra_id_export_uses_mail_not_its_object_id() {
    let list = read_fixture("entra_id_users.csv");
    assert_eq!(list.column, column("mail", ColumnKind::Email, &["id", "userPrincipalName"]));
    assert_eq!(list.mailboxes, vec!["ada.lovelace@contoso.com"]);
    assert_eq!(invalid(&list), vec![(3, "")]);
    assert_eq!(list.invalid[0].reason, "no value in column 'mail'");
}

#[test]
fn an_exchange_export_skips_its_type_line_and_uses_the_primary_smtp_address() {
    let list = read_fixture("exchange_get_mailbox.csv");
    assert_eq!(list.column, column("PrimarySmtpAddress", ColumnKind::Email, &["Id", "UserPrincipalName"]));
    assert_eq!(list.mailboxes, vec!["ada@contoso.com", "room1@contoso.com"]);
    assert_eq!(list.lines, vec![3, 4]);
}
