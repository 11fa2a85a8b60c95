//! The bytes of a list as text: UTF-8 with or without a byte order mark, or UTF-16 (little
//! or big endian) with one, as Excel's "Unicode text" is. Workbooks and other files that are
//! not text are refused, saying what they look like.

use super::error::ListError;
use super::rows::lines_before;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
const UTF16_LE_BOM: &[u8] = b"\xFF\xFE";
const UTF16_BE_BOM: &[u8] = b"\xFE\xFF";
/// What an .xlsx (a zip archive) starts with.
const ZIP: &[u8] = b"PK\x03\x04";
/// What an .xls (an OLE compound file) starts with.
const OLE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// The text of `bytes`, without its byte order mark.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, ListError> {
    let not_text = |why: &str| ListError::NotText { why: why.to_string() };
    if bytes.starts_with(ZIP) {
        return Err(not_text("it is an .xlsx workbook or another zip archive"));
    }
    if bytes.starts_with(OLE) {
        return Err(not_text("it is an Excel 97-2003 .xls workbook or another Office file"));
    }
    let text = if let Some(rest) = bytes.strip_prefix(UTF16_LE_BOM) {
        utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(UTF16_BE_BOM) {
        utf16(rest, u16::from_be_bytes)?
    } else {
        let rest = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
        if rest.contains(&0) {
            return Err(not_text("it holds NUL bytes; UTF-16 text needs its byte order mark"));
        }
        match std::str::from_utf8(rest) {
            Ok(text) => text.to_string(),
            Err(e) => {
                let line = 1 + lines_before(&rest[..e.valid_up_to()]);
                return Err(ListError::NotText {
                    why: format!(
                        "line {line} is not UTF-8, as in a CSV saved in a Windows code page such as \
                         'CSV (Comma delimited)'"
                    ),
                });
            }
        }
    };
    if text.contains('\0') {
        return Err(not_text("it holds NUL characters"));
    }
    Ok(text)
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, ListError> {
    let not_text = |why: &str| ListError::NotText { why: why.to_string() };
    if !bytes.len().is_multiple_of(2) {
        return Err(not_text("its UTF-16 text ends in half a character"));
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| not_text("it holds characters that are not UTF-16"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16_bytes(text: &str, big_endian: bool) -> Vec<u8> {
        let mut out = if big_endian { UTF16_BE_BOM.to_vec() } else { UTF16_LE_BOM.to_vec() };
        for unit in text.encode_utf16() {
            out.extend(if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() });
        }
        out
    }

    #[test]
    fn utf8_with_or_without_a_bom_and_utf16_both_ways_read_the_same() {
        let text = "Navn\tE-mail\r\nSøren\tsoren@contoso.dk\r\n";
        assert_eq!(decode(text.as_bytes()), Ok(text.to_string()));
        assert_eq!(decode(&[UTF8_BOM, text.as_bytes()].concat()), Ok(text.to_string()));
        assert_eq!(decode(&utf16_bytes(text, false)), Ok(text.to_string()));
        assert_eq!(decode(&utf16_bytes(text, true)), Ok(text.to_string()));
    }

    #[test]
    fn files_that_are_not_text_are_refused_saying_what_they_look_like() {
        let why = |bytes: &[u8]| match decode(bytes) {
            Err(ListError::NotText { why }) => why,
            other => panic!("{other:?}"),
        };
        assert!(why(b"PK\x03\x04\x14\x00").contains(".xlsx"));
        assert!(why(OLE).contains(".xls"));
        assert!(why(b"e\0m\0a\0i\0l\0").contains("byte order mark"));
        assert_eq!(why(b"email\nada@contoso.com\nS\xF8ren@contoso.dk\n").split(' ').nth(1), Some("3"));
        assert!(why(b"\xFF\xFEe\0m").contains("half a character"));
        assert!(why(b"\xFF\xFE\x00\xD8a\0").contains("not UTF-16"), "a lone surrogate");
        let message = ListError::NotText { why: why(b"PK\x03\x04") }.to_string();
        assert!(message.starts_with("the list is not a text file"), "{message}");
        assert!(
            message
                .ends_with("save it as CSV UTF-8 from Excel (File > Save As > CSV UTF-8) and use that file")
        );
    }
}
