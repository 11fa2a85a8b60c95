//! Reading mailbox lists as Excel, Entra ID and Exchange export them, from the byte-exact
//! files in `tests/fixtures/`.
#![allow(clippy::unwrap_used)]

mod exports;
mod refused;
mod rows;

use activator_core::mailbox_list::{MailboxList, read_list};

/// The bytes of `tests/fixtures/<name>`.
fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The list in `tests/fixtures/<name>`, which must be readable.
fn read_fixture(name: &str) -> MailboxList {
    read_list(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// (line, value) of each row not taken.
fn invalid(list: &MailboxList) -> Vec<(u64, &str)> {
    list.invalid.iter().map(|p| (p.line, p.value.as_str())).collect()
}
