//! OData `$filter` for the simulated Web API: parses the expressions Dataverse accepts
//! (comparisons, `and`/`or`/`not`, `contains`/`startswith`/`endswith`, and the query functions
//! `Microsoft.Dynamics.CRM.In`/`NotIn`), type-checks them against a table's columns with
//! Dataverse's error messages, and evaluates them against rows held as JSON objects.
//!
//! Deliberate readings: `ne`, `not` and `NotIn` use two-valued logic, so a null cell is "not equal"
//! to any non-null literal; ordering (`gt`, `ge`, `lt`, `le`) involving null is false. Ordering is
//! allowed on every type, as ODataLib allows it: booleans order `false < true`, GUIDs in SQL
//! Server's `uniqueidentifier` order, strings case-insensitively.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime};
use uuid::Uuid;

use crate::schema::{ColType, Table};

/// A parsed, type-checked `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// Malformed expression; message in Dataverse's style, e.g. "Syntax error at position 14 in 'name eq'."
    #[error("{0}")]
    Syntax(String),
    #[error("Could not find a property named '{property}' on type 'Microsoft.Dynamics.CRM.{entity}'.")]
    UnknownProperty { property: String, entity: String },
    #[error(
        "A binary operator with incompatible types was detected. Found operand types '{left}' and '{right}' for operator kind '{operator}'."
    )]
    IncompatibleTypes { left: String, right: String, operator: String },
    /// A literal that cannot be read as the column's type (bad GUID in In(), bad date...).
    #[error("{0}")]
    BadLiteral(String),
}

/// Parses and type-checks `text` (already percent-decoded) against `table`'s columns.
pub fn parse(text: &str, table: &Table) -> Result<Filter, FilterError> {
    let mut p = Parser { text, table, toks: lex(text)?, at: 0, depth: 0 };
    let expr = p.or()?;
    if *p.peek() != Tok::End {
        return Err(p.err("Syntax error", p.pos()));
    }
    Ok(Filter { expr })
}

impl Filter {
    /// Whether a row (column name -> JSON value) satisfies the filter. Missing columns are null.
    pub fn matches(&self, row: &Map<String, Value>) -> bool {
        self.expr.eval(row)
    }

    /// When the filter can only match rows whose `key_column` is in a finite set (key eq guid,
    /// Microsoft.Dynamics.CRM.In on the key, `or` of such, `and` where at least one side is such),
    /// the candidate keys as lowercase hyphenated GUID strings (deduplicated); otherwise None.
    /// The caller still applies `matches` to each candidate row.
    pub fn key_candidates(&self, key_column: &str) -> Option<Vec<String>> {
        let keys = self.expr.keys(key_column)?;
        Some(keys.iter().map(|k| k.hyphenated().to_string()).collect())
    }
}

/// Nesting deeper than this is refused so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 100;
const KEYWORDS: [&str; 9] = ["and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le"];

const GUID: &str = "Edm.Guid";
const STRING: &str = "Edm.String";
const INT: &str = "Edm.Int32";
const BOOL: &str = "Edm.Boolean";
const DTO: &str = "Edm.DateTimeOffset";
const NULL: &str = "null";
/// What .NET's `Guid.Parse` says, which is what Dataverse relays for a bad GUID in a query function.
const GUID_FORMAT: &str =
    "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).";

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Const(bool),
    Cmp(Operand, Op, Operand),
    /// `needle` is lowercased once here rather than on every row.
    Text {
        func: TextFn,
        col: String,
        needle: String,
    },
    In {
        col: String,
        ty: ColType,
        values: Vec<Val>,
        negate: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Col {
        name: String,
        ty: ColType,
    },
    /// A literal and its Edm type name; `None` is `null`.
    Lit(Option<Val>, &'static str),
}

/// A comparable value. Strings are lowercased because Dataverse's SQL collation ignores case.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    Guid(Uuid),
    Time(OffsetDateTime),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextFn {
    Contains,
    StartsWith,
    EndsWith,
}

/// Each operator's word and its kind as ODataLib names it in type errors.
const OPS: [(&str, Op, &str); 6] = [
    ("eq", Op::Eq, "Equal"),
    ("ne", Op::Ne, "NotEqual"),
    ("gt", Op::Gt, "GreaterThan"),
    ("ge", Op::Ge, "GreaterThanOrEqual"),
    ("lt", Op::Lt, "LessThan"),
    ("le", Op::Le, "LessThanOrEqual"),
];

impl Op {
    fn from_word(w: &str) -> Option<Op> {
        OPS.iter().find(|o| o.0 == w).map(|o| o.1)
    }

    fn kind(self) -> &'static str {
        OPS.iter().find(|o| o.1 == self).map_or("", |o| o.2)
    }

    fn holds(self, o: Ordering) -> bool {
        match self {
            Op::Eq => o.is_eq(),
            Op::Ne => o.is_ne(),
            Op::Gt => o.is_gt(),
            Op::Ge => o.is_ge(),
            Op::Lt => o.is_lt(),
            Op::Le => o.is_le(),
        }
    }
}

impl Val {
    fn compare(&self, other: &Val) -> Option<Ordering> {
        match (self, other) {
            (Val::Str(a), Val::Str(b)) => Some(a.cmp(b)),
            (Val::Int(a), Val::Int(b)) => Some(a.cmp(b)),
            (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
            (Val::Guid(a), Val::Guid(b)) => Some(sql_order(a).cmp(&sql_order(b))),
            (Val::Time(a), Val::Time(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// SQL Server sorts `uniqueidentifier` by its last byte group first (the order .NET's `SqlGuid`
/// uses), so key-ordered paging in the simulator sees rows in the order Dataverse returns them.
fn sql_order(g: &Uuid) -> [u8; 16] {
    let b = g.to_bytes_le();
    [10, 11, 12, 13, 14, 15, 8, 9, 6, 7, 4, 5, 0, 1, 2, 3].map(|i| b[i])
}

impl Operand {
    fn resolve<'a>(&'a self, row: &Map<String, Value>) -> Option<Cow<'a, Val>> {
        match self {
            Operand::Col { name, ty } => cell(row, name, *ty).map(Cow::Owned),
            Operand::Lit(v, _) => v.as_ref().map(Cow::Borrowed),
        }
    }

    fn edm(&self) -> &'static str {
        match self {
            Operand::Col { ty, .. } => edm(*ty),
            Operand::Lit(_, e) => e,
        }
    }
}

fn edm(ty: ColType) -> &'static str {
    match ty {
        ColType::Guid => GUID,
        ColType::String => STRING,
        ColType::Int => INT,
        ColType::Bool => BOOL,
        ColType::DateTime => DTO,
    }
}

/// ODataLib promotes these to one another, so they are not a type error.
fn family(edm: &str) -> &str {
    match edm {
        "Edm.Date" => DTO,
        "Edm.Int64" => INT,
        e => e,
    }
}

/// Reads a cell as `ty`. Null, missing and unreadable cells are all `None` (the simulator writes
/// the rows itself, so unreadable ones do not occur in practice).
fn cell(row: &Map<String, Value>, name: &str, ty: ColType) -> Option<Val> {
    let v = row.get(name)?;
    match ty {
        ColType::Guid => v.as_str().and_then(|s| Uuid::parse_str(s).ok()).map(Val::Guid),
        ColType::String => v.as_str().map(|s| Val::Str(s.to_lowercase())),
        ColType::Int => v.as_i64().map(Val::Int),
        ColType::Bool => v.as_bool().map(Val::Bool),
        ColType::DateTime => v.as_str().and_then(parse_instant).map(Val::Time),
    }
}

impl Expr {
    fn eval(&self, row: &Map<String, Value>) -> bool {
        match self {
            Expr::And(parts) => parts.iter().all(|p| p.eval(row)),
            Expr::Or(parts) => parts.iter().any(|p| p.eval(row)),
            Expr::Not(e) => !e.eval(row),
            Expr::Const(b) => *b,
            Expr::Cmp(l, op, r) => match (l.resolve(row), r.resolve(row)) {
                (Some(a), Some(b)) => a.compare(&b).map_or(*op == Op::Ne, |o| op.holds(o)),
                (None, None) => *op == Op::Eq,
                _ => *op == Op::Ne,
            },
            Expr::Text { func, col, needle } => row.get(col).and_then(Value::as_str).is_some_and(|s| {
                let s = s.to_lowercase();
                match func {
                    TextFn::Contains => s.contains(needle.as_str()),
                    TextFn::StartsWith => s.starts_with(needle.as_str()),
                    TextFn::EndsWith => s.ends_with(needle.as_str()),
                }
            }),
            Expr::In { col, ty, values, negate } => {
                let found = cell(row, col, *ty)
                    .is_some_and(|v| values.iter().any(|x| v.compare(x) == Some(Ordering::Equal)));
                found != *negate
            }
        }
    }

    fn keys(&self, key: &str) -> Option<Vec<Uuid>> {
        match self {
            Expr::Cmp(Operand::Col { name, .. }, Op::Eq, Operand::Lit(Some(Val::Guid(g)), _))
            | Expr::Cmp(Operand::Lit(Some(Val::Guid(g)), _), Op::Eq, Operand::Col { name, .. })
                if name == key =>
            {
                Some(vec![*g])
            }
            Expr::In { col, values, negate: false, .. } if col == key => values
                .iter()
                .map(|v| match v {
                    Val::Guid(g) => Some(*g),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(dedup),
            Expr::Or(parts) => {
                let mut all = Vec::new();
                for p in parts {
                    all.extend(p.keys(key)?);
                }
                Some(dedup(all))
            }
            // Every conjunct must hold, so the candidates are what all constrained conjuncts allow.
            Expr::And(parts) => parts.iter().filter_map(|p| p.keys(key)).reduce(|a, b| {
                let b: HashSet<Uuid> = b.into_iter().collect();
                a.into_iter().filter(|k| b.contains(k)).collect()
            }),
            Expr::Const(false) => Some(Vec::new()),
            _ => None,
        }
    }
}

fn dedup(keys: Vec<Uuid>) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    keys.into_iter().filter(|k| seen.insert(*k)).collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
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
fn lex(text: &str) -> Result<Vec<(Tok, usize)>, FilterError> {
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

fn is_ident(w: &str) -> bool {
    let mut cs = w.chars();
    cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_guid(w: &str) -> bool {
    w.len() == 36
        && w.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Reads a bare word as a literal with its Edm type name, or `None` if it is not one.
fn literal(w: &str) -> Option<(Option<Val>, &'static str)> {
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

fn parse_instant(s: &str) -> Option<OffsetDateTime> {
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
fn parse_date(s: &str) -> Option<OffsetDateTime> {
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
fn convert(raw: &str, ty: ColType) -> Result<Val, FilterError> {
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

struct Parser<'a> {
    text: &'a str,
    table: &'a Table,
    /// Always ends with `Tok::End`, which `bump` never moves past.
    toks: Vec<(Tok, usize)>,
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str, pos: usize) -> FilterError {
        FilterError::Syntax(format!("{what} at position {pos} in '{}'.", self.text))
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.at].0
    }

    fn pos(&self) -> usize {
        self.toks[self.at].1
    }

    fn bump(&mut self) {
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
    }

    fn word(&self) -> Option<&str> {
        match self.peek() {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        let found = self.word() == Some(w);
        if found {
            self.bump();
        }
        found
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<(), FilterError> {
        if self.peek() != tok {
            return Err(self.err(what, self.pos()));
        }
        self.bump();
        Ok(())
    }

    fn column(&self, name: &str) -> Result<ColType, FilterError> {
        self.table.col_type(name).ok_or_else(|| FilterError::UnknownProperty {
            property: name.into(),
            entity: self.table.logical.into(),
        })
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        self.chain("or", Self::and, Expr::Or)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        self.chain("and", Self::unary, Expr::And)
    }

    /// `operand (word operand)*`, kept flat so evaluation depth does not grow with its length.
    fn chain(
        &mut self,
        word: &str,
        operand: fn(&mut Self) -> Result<Expr, FilterError>,
        join: fn(Vec<Expr>) -> Expr,
    ) -> Result<Expr, FilterError> {
        let mut parts = vec![operand(self)?];
        while self.eat_word(word) {
            parts.push(operand(self)?);
        }
        Ok(if parts.len() == 1 { parts.swap_remove(0) } else { join(parts) })
    }

    /// Every level of nesting (parentheses, `not`) passes through here, so the depth check does too.
    fn unary(&mut self) -> Result<Expr, FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError::Syntax("Recursion depth exceeded allowed limit.".into()));
        }
        let e =
            if self.eat_word("not") { self.unary().map(|e| Expr::Not(Box::new(e))) } else { self.primary() };
        self.depth -= 1;
        e
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        if *self.peek() == Tok::LParen {
            self.bump();
            let e = self.or()?;
            self.expect(&Tok::RParen, "')' or operator expected")?;
            return Ok(e);
        }
        let next = self.toks.get(self.at + 1).map(|t| &t.0);
        if let Some(name) = self.word()
            && next == Some(&Tok::LParen)
        {
            let name = name.to_owned();
            self.bump();
            self.bump();
            return self.call(&name);
        }
        let left = self.operand()?;
        let Some(op) = self.word().and_then(Op::from_word) else {
            return match left {
                // A Boolean property or literal is a predicate on its own (`$filter=isdisabled`).
                Operand::Col { ty: ColType::Bool, .. } => {
                    Ok(Expr::Cmp(left, Op::Eq, Operand::Lit(Some(Val::Bool(true)), BOOL)))
                }
                Operand::Lit(Some(Val::Bool(b)), _) => Ok(Expr::Const(b)),
                _ if matches!(self.peek(), Tok::End | Tok::RParen)
                    || matches!(self.word(), Some("and" | "or")) =>
                {
                    Err(FilterError::Syntax(
                        "The $filter expression must evaluate to a single boolean value.".into(),
                    ))
                }
                _ => Err(self.err("Syntax error", self.pos())),
            };
        };
        self.bump();
        let right = self.operand()?;
        let (l, r) = (left.edm(), right.edm());
        if l != NULL && r != NULL && family(l) != family(r) {
            return Err(FilterError::IncompatibleTypes {
                left: l.into(),
                right: r.into(),
                operator: op.kind().into(),
            });
        }
        Ok(Expr::Cmp(left, op, right))
    }

    fn operand(&mut self) -> Result<Operand, FilterError> {
        let pos = self.pos();
        let found = match self.peek() {
            Tok::Str(s) => Operand::Lit(Some(Val::Str(s.to_lowercase())), STRING),
            Tok::Word(w) if !KEYWORDS.contains(&w.as_str()) => match literal(w) {
                Some((v, edm)) => Operand::Lit(v, edm),
                None if is_ident(w) => Operand::Col { ty: self.column(w)?, name: w.clone() },
                None => return Err(self.err("Syntax error", pos)),
            },
            _ => return Err(self.err("Expression expected", pos)),
        };
        self.bump();
        Ok(found)
    }

    /// Parses a call's arguments; the name and `(` are already consumed.
    fn call(&mut self, name: &str) -> Result<Expr, FilterError> {
        let func = match name {
            "contains" => TextFn::Contains,
            "startswith" => TextFn::StartsWith,
            "endswith" => TextFn::EndsWith,
            "Microsoft.Dynamics.CRM.In" => return self.in_call(name, false),
            "Microsoft.Dynamics.CRM.NotIn" => return self.in_call(name, true),
            _ => {
                return Err(FilterError::Syntax(format!(
                    "An unknown function with name '{name}' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed."
                )));
            }
        };
        let subject = self.operand()?;
        self.expect(&Tok::Comma, "')' or ',' expected")?;
        let needle = self.operand()?;
        self.expect(&Tok::RParen, "')' or ',' expected")?;
        match (subject, needle) {
            (Operand::Col { name: col, ty: ColType::String }, Operand::Lit(Some(Val::Str(needle)), _)) => {
                Ok(Expr::Text { func, col, needle })
            }
            _ => Err(FilterError::Syntax(format!(
                "No function signature for the function with name '{name}' matches the specified arguments. The function signatures considered are: {name}(Edm.String Nullable=true, Edm.String Nullable=true)."
            ))),
        }
    }

    /// `Microsoft.Dynamics.CRM.In(PropertyName='col',PropertyValues=['a','b'])`, parameters in
    /// either order as OData names them.
    fn in_call(&mut self, name: &str, negate: bool) -> Result<Expr, FilterError> {
        let (mut property, mut raw) = (None, None);
        loop {
            let param = self.word().map(str::to_owned);
            let Some(param) = param else {
                return Err(self.err("Expression expected", self.pos()));
            };
            self.bump();
            self.expect(&Tok::Equals, "'=' expected")?;
            match (param.as_str(), self.peek()) {
                ("PropertyName", Tok::Str(s)) => {
                    property = Some(s.clone());
                    self.bump();
                }
                ("PropertyValues", _) => raw = Some(self.list()?),
                ("PropertyName", _) => return Err(self.err("Syntax error", self.pos())),
                _ => {
                    return Err(FilterError::Syntax(format!(
                        "The function '{name}' has no parameter named '{param}'."
                    )));
                }
            }
            if *self.peek() != Tok::Comma {
                self.expect(&Tok::RParen, "')' or ',' expected")?;
                break;
            }
            self.bump();
        }
        let (Some(property), Some(raw)) = (property, raw) else {
            return Err(FilterError::Syntax(format!(
                "The function '{name}' requires the parameters 'PropertyName' and 'PropertyValues'."
            )));
        };
        // Query functions name lookups by attribute (`ownerid`); the Web API column is `_ownerid_value`.
        let lookup = format!("_{property}_value");
        let col = if self.table.column(&property).is_none() && self.table.column(&lookup).is_some() {
            lookup
        } else {
            property
        };
        let ty = self.column(&col)?;
        let values = raw.iter().map(|v| convert(v, ty)).collect::<Result<_, _>>()?;
        Ok(Expr::In { col, ty, values, negate })
    }

    /// `['a','b',3]`: quoted strings, or bare words such as numbers.
    fn list(&mut self) -> Result<Vec<String>, FilterError> {
        self.expect(&Tok::LBracket, "'[' expected")?;
        let mut items = Vec::new();
        if *self.peek() == Tok::RBracket {
            self.bump();
            return Ok(items);
        }
        loop {
            match self.peek() {
                Tok::Str(s) | Tok::Word(s) => items.push(s.clone()),
                _ => return Err(self.err("Expression expected", self.pos())),
            }
            self.bump();
            if *self.peek() != Tok::Comma {
                self.expect(&Tok::RBracket, "']' or ',' expected")?;
                return Ok(items);
            }
            self.bump();
        }
    }
}

#[cfg(test)]
mod tests;
