//! The lexer of `$filter`: tokens with their character positions, and how literals are read
//! (GUIDs, numbers, booleans, dates and instants) and converted to a column's type.

use super::*;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    LParen,
    RParen,
    Comma,
    Equals,
    LBracket,
    RBracket,
    Str(String),
    /// A run of identifier/literal characters: names, keywords, numbers, GUIDs and dates, which
    /// are told apart by where they appear.
    Word(String),
    End,
}

/// Splits `text` into tokens with their character positions (ODataLib counts characters).
pub(super) fn lex(text: &str) -> Result<Vec<(Tok, usize)>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let start = i;
        i += 1;
        let tok = match c {
            c if c.is_whitespace() => continue,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            '=' => Tok::Equals,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            '\'' => {
                let mut s = String::new();
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(FilterError::Syntax(format!(
                                "Unterminated string literal at position {} in '{text}'.",
                                chars.len()
                            )));
                        }
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&c) => {
                            s.push(c);
                            i += 1;
                        }
                    }
                }
                Tok::Str(s)
            }
            c if c.is_ascii_alphanumeric()
                || c == '_'
                || (c == '-' && chars.get(i).is_some_and(char::is_ascii_digit)) =>
            {
                while chars.get(i).is_some_and(|&c| c.is_ascii_alphanumeric() || "_.:+-".contains(c)) {
                    i += 1;
                }
                Tok::Word(chars[start..i].iter().collect())
            }
            c => {
                return Err(FilterError::Syntax(format!(
                    "Syntax error: character '{c}' is not valid at position {start} in '{text}'."
                )));
            }
        };
        toks.push((tok, start));
    }
    toks.push((Tok::End, chars.len()));
    Ok(toks)
}

pub(super) fn is_ident(w: &str) -> bool {
    let mut cs = w.chars();
    cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn is_guid(w: &str) -> bool {
    w.len() == 36
        && w.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Reads a bare word as a literal with its Edm type name, or `None` if it is not one.
pub(super) fn literal(w: &str) -> Option<(Option<Val>, &'static str)> {
    Some(match w {
        "null" => (None, NULL),
        "true" | "false" => (Some(Val::Bool(w == "true")), BOOL),
        _ if is_guid(w) => (Some(Val::Guid(Uuid::parse_str(w).ok()?)), GUID),
        _ if w.strip_prefix('-').unwrap_or(w).bytes().all(|b| b.is_ascii_digit()) => {
            let n: i64 = w.parse().ok()?;
            (Some(Val::Int(n)), if i32::try_from(n).is_ok() { INT } else { "Edm.Int64" })
        }
        _ => match parse_date(w) {
            Some(d) => (Some(Val::Time(d)), "Edm.Date"),
            None => (Some(Val::Time(parse_instant(w)?)), DTO),
        },
    })
}

pub(super) fn parse_instant(s: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    // OData lets the seconds be left out (`2024-01-31T10:00Z`); RFC 3339 does not.
    let (date, time) = s.split_once('T')?;
    if time.as_bytes().get(5) == Some(&b':') {
        return None;
    }
    let with_seconds = format!("{date}T{}:00{}", time.get(..5)?, time.get(5..)?);
    OffsetDateTime::parse(&with_seconds, &Rfc3339).ok()
}

/// A date-only literal means midnight UTC of that day.
pub(super) fn parse_date(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    if !shape {
        return None;
    }
    let month = Month::try_from(s.get(5..7)?.parse::<u8>().ok()?).ok()?;
    let date = Date::from_calendar_date(s.get(..4)?.parse().ok()?, month, s.get(8..)?.parse().ok()?);
    Some(date.ok()?.midnight().assume_utc())
}

/// Reads a `PropertyValues` item as the column's type.
pub(super) fn convert(raw: &str, ty: ColType) -> Result<Val, FilterError> {
    let v = match ty {
        ColType::Guid => {
            return Uuid::parse_str(raw.trim())
                .map(Val::Guid)
                .map_err(|_| FilterError::BadLiteral(GUID_FORMAT.into()));
        }
        ColType::String => Some(Val::Str(raw.to_lowercase())),
        ColType::Int => raw.trim().parse().ok().map(Val::Int),
        ColType::Bool => raw.trim().to_ascii_lowercase().parse().ok().map(Val::Bool),
        ColType::DateTime => parse_instant(raw.trim()).or_else(|| parse_date(raw.trim())).map(Val::Time),
    };
    v.ok_or_else(|| FilterError::BadLiteral(format!("The value '{raw}' is not a valid {}.", edm(ty))))
}
