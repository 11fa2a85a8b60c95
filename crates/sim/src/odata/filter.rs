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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::schema::MAILBOXES;
    use serde_json::json;

    const A: &str = "aaaaaaaa-0000-0000-0000-000000000001";
    const B: &str = "bbbbbbbb-0000-0000-0000-000000000002";
    const C: &str = "cccccccc-0000-0000-0000-000000000003";

    fn f(text: &str) -> Filter {
        parse(text, &MAILBOXES).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> FilterError {
        parse(text, &MAILBOXES).unwrap_err()
    }

    fn row(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn m(text: &str, r: Value) -> bool {
        f(text).matches(&row(r))
    }

    fn keys(text: &str) -> Option<Vec<String>> {
        f(text).key_candidates("mailboxid")
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let r = json!({"name": "a", "versionnumber": 2});
        assert!(m("name eq 'a' or name eq 'b' and versionnumber eq 1", r.clone()));
        assert!(!m("(name eq 'a' or name eq 'b') and versionnumber eq 1", r.clone()));
        assert!(m("versionnumber eq 1 and name eq 'b' or name eq 'a'", r));
    }

    #[test]
    fn not_binds_tighter_than_and() {
        let r = json!({"name": "b", "versionnumber": 2});
        assert!(!m("not name eq 'a' and versionnumber eq 1", r.clone()));
        assert!(m("not (name eq 'a' and versionnumber eq 1)", r.clone()));
        assert!(m("not(name eq 'a')", r.clone()));
        assert!(!m("not not name eq 'a'", r));
    }

    #[test]
    fn whitespace_is_free() {
        let r = json!({"name": "a", "versionnumber": 1});
        assert!(m("  (  name   eq\t'a'  )and(versionnumber eq 1)  ", r));
    }

    #[test]
    fn string_literal_with_escaped_quote() {
        assert!(m("name eq 'O''Brien'", json!({"name": "o'brien"})));
        assert!(!m("name eq 'O''Brien'", json!({"name": "OBrien"})));
        assert!(m("name eq ''", json!({"name": ""})));
    }

    #[test]
    fn integer_literals_including_negative() {
        let r = json!({"versionnumber": -5});
        assert!(m("versionnumber eq -5", r.clone()));
        assert!(m("versionnumber lt 0", r.clone()));
        assert!(m("versionnumber ge -5", r.clone()));
        assert!(!m("versionnumber gt -5", r.clone()));
        assert!(m("versionnumber le -5", r.clone()));
        assert!(m("versionnumber ne 5", r));
        assert!(m("versionnumber gt 9999999999", json!({"versionnumber": 10_000_000_000_i64})));
    }

    #[test]
    fn boolean_literals_and_bare_boolean_property() {
        let r = json!({"enabledforact": true, "enabledforincomingemail": false});
        assert!(m("enabledforact eq true", r.clone()));
        assert!(m("enabledforincomingemail eq false", r.clone()));
        assert!(m("enabledforact", r.clone()));
        assert!(!m("not enabledforact", r.clone()));
        assert!(m("enabledforact gt enabledforincomingemail", r.clone()));
        assert!(m("true", r.clone()));
        assert!(!m("false", r));
    }

    #[test]
    fn null_literal_semantics() {
        let null = json!({"name": null});
        let missing = json!({});
        let set = json!({"name": "x"});
        assert!(m("name eq null", null.clone()));
        assert!(m("name eq null", missing.clone()));
        assert!(!m("name eq null", set.clone()));
        assert!(m("name ne null", set.clone()));
        assert!(!m("name ne null", missing.clone()));
        assert!(!m("name eq 'x'", missing.clone()));
        assert!(m("name ne 'x'", missing.clone()));
        assert!(!m("name gt 'a'", missing.clone()));
        assert!(!m("name lt 'z'", null));
        assert!(!m("name gt null", set));
        assert!(m("null eq _ownerid_value", missing));
    }

    #[test]
    fn bare_guid_literal_any_case() {
        let r = json!({"mailboxid": A});
        assert!(m(&format!("mailboxid eq {}", A.to_uppercase()), r.clone()));
        assert!(m(&format!("{A} eq mailboxid"), r.clone()));
        assert!(m(&format!("mailboxid ne {B}"), r.clone()));
        assert!(m(&format!("mailboxid eq {A}"), json!({"mailboxid": A.to_uppercase()})));
    }

    #[test]
    fn guid_ordering_follows_sql_server() {
        // SQL Server weighs the last group most, so the first-group difference loses.
        let low_last = "ffffffff-ffff-ffff-ffff-000000000000";
        let high_last = "00000000-0000-0000-0000-000000000001";
        assert!(m(&format!("mailboxid lt {high_last}"), json!({"mailboxid": low_last})));
        assert!(m(&format!("mailboxid gt {low_last}"), json!({"mailboxid": high_last})));
    }

    #[test]
    fn datetime_literals_compare_instants() {
        let r = json!({"modifiedon": "2024-01-31T10:00:00Z"});
        assert!(m("modifiedon eq 2024-01-31T10:00:00Z", r.clone()));
        assert!(m("modifiedon eq 2024-01-31T10:00:00.000Z", r.clone()));
        assert!(m("modifiedon eq 2024-01-31T11:00:00+01:00", r.clone()));
        assert!(m("modifiedon eq 2024-01-31T10:00Z", r.clone()));
        assert!(m("modifiedon gt 2024-01-31T10:59:59+01:00", r.clone()));
        assert!(!m("modifiedon gt 2024-01-31T11:00:00.5+01:00", r.clone()));
        assert!(m("modifiedon lt 2024-01-31T10:00:00.001Z", r.clone()));
        assert!(m("modifiedon ge 2024-01-31", r.clone()));
        assert!(m("modifiedon lt 2024-02-01", r.clone()));
        assert!(!m("modifiedon eq 2024-01-31", r));
        assert!(m("modifiedon eq 2024-01-31", json!({"modifiedon": "2024-01-31T00:00:00Z"})));
        assert!(!m("modifiedon gt 2024-01-31", json!({"modifiedon": null})));
    }

    #[test]
    fn bad_datetime_is_a_syntax_error() {
        assert!(matches!(err("modifiedon eq 2024-13-01"), FilterError::Syntax(_)));
        assert!(matches!(err("modifiedon eq 2024-01-31T25:00:00Z"), FilterError::Syntax(_)));
    }

    #[test]
    fn in_on_key() {
        let text = format!(
            "Microsoft.Dynamics.CRM.In(PropertyName='mailboxid',PropertyValues=['{A}','{}'])",
            B.to_uppercase()
        );
        assert!(m(&text, json!({"mailboxid": A})));
        assert!(m(&text, json!({"mailboxid": B})));
        assert!(!m(&text, json!({"mailboxid": C})));
        assert!(!m(&text, json!({})));
    }

    #[test]
    fn not_in_on_key() {
        let text = format!(
            "Microsoft.Dynamics.CRM.NotIn( PropertyName = 'mailboxid' , PropertyValues = [ '{A}' , '{B}' ] )"
        );
        assert!(!m(&text, json!({"mailboxid": A})));
        assert!(m(&text, json!({"mailboxid": C})));
    }

    #[test]
    fn in_and_not_in_on_int_column() {
        let quoted = "Microsoft.Dynamics.CRM.In(PropertyName='statecode',PropertyValues=['0','2'])";
        let bare = "Microsoft.Dynamics.CRM.In(PropertyValues=[0,2],PropertyName='statecode')";
        let not_in = "Microsoft.Dynamics.CRM.NotIn(PropertyName='statecode',PropertyValues=['0','2'])";
        for (v, inside) in [(0, true), (1, false), (2, true)] {
            let r = json!({"statecode": v});
            assert_eq!(m(quoted, r.clone()), inside);
            assert_eq!(m(bare, r.clone()), inside);
            assert_eq!(m(not_in, r), !inside);
        }
        assert_eq!(
            err("Microsoft.Dynamics.CRM.In(PropertyName='statecode',PropertyValues=['x'])"),
            FilterError::BadLiteral("The value 'x' is not a valid Edm.Int32.".into())
        );
    }

    #[test]
    fn in_on_string_column_ignores_case() {
        let text = "Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=['Alpha','beta'])";
        assert!(m(text, json!({"name": "ALPHA"})));
        assert!(!m(text, json!({"name": "gamma"})));
        assert!(!m("Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=[])", json!({})));
    }

    #[test]
    fn in_with_bad_guid_is_bad_literal() {
        let e = err("Microsoft.Dynamics.CRM.In(PropertyName='mailboxid',PropertyValues=['nope'])");
        assert_eq!(e, FilterError::BadLiteral(GUID_FORMAT.into()));
    }

    #[test]
    fn in_accepts_lookup_attribute_name() {
        let text =
            format!("Microsoft.Dynamics.CRM.In(PropertyName='regardingobjectid',PropertyValues=['{A}'])");
        assert!(m(&text, json!({"_regardingobjectid_value": A})));
    }

    #[test]
    fn in_errors() {
        assert_eq!(
            err("Microsoft.Dynamics.CRM.In(PropertyName='foo',PropertyValues=['1'])").to_string(),
            "Could not find a property named 'foo' on type 'Microsoft.Dynamics.CRM.mailbox'."
        );
        assert!(matches!(
            err("Microsoft.Dynamics.CRM.In(PropertyName='name')"),
            FilterError::Syntax(s) if s.contains("requires the parameters")
        ));
        assert!(matches!(
            err("Microsoft.Dynamics.CRM.In(Foo='name')"),
            FilterError::Syntax(s) if s.contains("no parameter named 'Foo'")
        ));
        assert!(matches!(
            err("Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=['a'"),
            FilterError::Syntax(_)
        ));
    }

    #[test]
    fn quoted_guid_is_incompatible() {
        let e = err(&format!("mailboxid eq '{A}'"));
        assert_eq!(
            e.to_string(),
            "A binary operator with incompatible types was detected. Found operand types 'Edm.Guid' and 'Edm.String' for operator kind 'Equal'."
        );
        let ops = [
            ("ne", "NotEqual"),
            ("gt", "GreaterThan"),
            ("ge", "GreaterThanOrEqual"),
            ("lt", "LessThan"),
            ("le", "LessThanOrEqual"),
        ];
        for (op, kind) in ops {
            assert_eq!(
                err(&format!("_ownerid_value {op} '{A}'")),
                FilterError::IncompatibleTypes {
                    left: "Edm.Guid".into(),
                    right: "Edm.String".into(),
                    operator: kind.into()
                }
            );
        }
    }

    #[test]
    fn other_type_mismatches() {
        let mismatch = |text: &str, l: &str, r: &str| {
            assert_eq!(
                err(text),
                FilterError::IncompatibleTypes { left: l.into(), right: r.into(), operator: "Equal".into() },
                "{text}"
            );
        };
        mismatch("statecode eq '0'", "Edm.Int32", "Edm.String");
        mismatch("name eq 1", "Edm.String", "Edm.Int32");
        mismatch("enabledforact eq 1", "Edm.Boolean", "Edm.Int32");
        mismatch("modifiedon eq 'yesterday'", "Edm.DateTimeOffset", "Edm.String");
        mismatch(&format!("name eq {A}"), "Edm.String", "Edm.Guid");
        mismatch("name eq enabledforact", "Edm.String", "Edm.Boolean");
        mismatch("'x' eq versionnumber", "Edm.String", "Edm.Int32");
        for ok in ["statecode eq null", "modifiedon ne null", "enabledforact eq null", "mailboxid eq null"] {
            f(ok);
        }
    }

    #[test]
    fn unknown_column_message() {
        assert_eq!(
            err("foo eq 1").to_string(),
            "Could not find a property named 'foo' on type 'Microsoft.Dynamics.CRM.mailbox'."
        );
        assert_eq!(
            err("contains(foo,'x')"),
            FilterError::UnknownProperty { property: "foo".into(), entity: "mailbox".into() }
        );
        // Property names are case-sensitive, as in Dataverse.
        assert!(matches!(err("Name eq 'x'"), FilterError::UnknownProperty { .. }));
    }

    #[test]
    fn syntax_error_messages() {
        assert_eq!(err("name eq").to_string(), "Expression expected at position 7 in 'name eq'.");
        assert_eq!(
            err("name eq 'x' and").to_string(),
            "Expression expected at position 15 in 'name eq 'x' and'."
        );
        assert_eq!(
            err("name eq 'x").to_string(),
            "Unterminated string literal at position 10 in 'name eq 'x'."
        );
        assert_eq!(
            err("(name eq 'x'").to_string(),
            "')' or operator expected at position 12 in '(name eq 'x''."
        );
        assert_eq!(err("name eq 'x' foo").to_string(), "Syntax error at position 12 in 'name eq 'x' foo'.");
        assert_eq!(err("name eq 'x')").to_string(), "Syntax error at position 11 in 'name eq 'x')'.");
        assert_eq!(
            err("name eq 'x' & 1").to_string(),
            "Syntax error: character '&' is not valid at position 12 in 'name eq 'x' & 1'."
        );
        assert_eq!(err("").to_string(), "Expression expected at position 0 in ''.");
        assert!(matches!(err("name EQ 'x'"), FilterError::Syntax(s) if s.contains("position 5")));
        assert!(matches!(err("name"), FilterError::Syntax(s) if s.contains("single boolean value")));
        assert!(matches!(err("versionnumber eq 1.5"), FilterError::Syntax(_)));
        assert!(matches!(err("versionnumber eq 99999999999999999999"), FilterError::Syntax(_)));
    }

    #[test]
    fn unknown_function_is_named() {
        let e = err("tolower(name) eq 'x'").to_string();
        assert!(e.starts_with("An unknown function with name 'tolower' was found."), "{e}");
        let e = err("Microsoft.Dynamics.CRM.LastXDays(PropertyName='modifiedon',PropertyValue=3)");
        assert!(e.to_string().contains("'Microsoft.Dynamics.CRM.LastXDays'"));
    }

    #[test]
    fn string_functions_ignore_case() {
        let r = json!({"name": "Shared Mailbox", "emailaddress": "Ops@Contoso.com"});
        assert!(m("contains(name,'MAILBOX')", r.clone()));
        assert!(m("startswith(name, 'shared')", r.clone()));
        assert!(m("endswith(emailaddress,'@contoso.COM')", r.clone()));
        assert!(!m("startswith(name,'mailbox')", r.clone()));
        assert!(!m("contains(officeappsdeploymenterror,'x')", r.clone()));
        assert!(m("name eq 'shared MAILBOX'", r.clone()));
        assert!(!m("name ne 'SHARED mailbox'", r.clone()));
        assert!(m("name gt 'SHARED'", r));
    }

    #[test]
    fn string_functions_need_string_column_and_literal() {
        for text in ["contains(versionnumber,'1')", "contains(name,1)", "endswith('x',name)"] {
            assert!(
                matches!(err(text), FilterError::Syntax(s) if s.starts_with("No function signature")),
                "{text}"
            );
        }
    }

    #[test]
    fn column_to_column_comparison() {
        assert!(m("name eq emailaddress", json!({"name": "X", "emailaddress": "x"})));
        assert!(!m("name eq emailaddress", json!({"name": "X", "emailaddress": "y"})));
    }

    #[test]
    fn regarding_lookup() {
        let f = f(&format!("_regardingobjectid_value eq {}", A.to_uppercase()));
        assert!(f.matches(&row(json!({"_regardingobjectid_value": A}))));
        assert!(!f.matches(&row(json!({"_regardingobjectid_value": B}))));
        assert!(!f.matches(&row(json!({"_regardingobjectid_value": null}))));
        assert_eq!(f.key_candidates("mailboxid"), None);
        assert_eq!(f.key_candidates("_regardingobjectid_value"), Some(vec![A.to_string()]));
    }

    #[test]
    fn key_candidates_for_eq_and_in() {
        assert_eq!(keys(&format!("mailboxid eq {}", A.to_uppercase())), Some(vec![A.into()]));
        assert_eq!(keys(&format!("{A} eq mailboxid")), Some(vec![A.into()]));
        let text = format!(
            "Microsoft.Dynamics.CRM.In(PropertyName='mailboxid',PropertyValues=['{A}','{B}','{}'])",
            A.to_uppercase()
        );
        assert_eq!(keys(&text), Some(vec![A.into(), B.into()]));
        assert_eq!(keys("false"), Some(vec![]));
    }

    #[test]
    fn key_candidates_for_or_and_and() {
        assert_eq!(
            keys(&format!("mailboxid eq {A} or mailboxid eq {B} or mailboxid eq {A}")),
            Some(vec![A.into(), B.into()])
        );
        assert_eq!(
            keys(&format!("(mailboxid eq {A} or mailboxid eq {B}) and statecode eq 0")),
            Some(vec![A.into(), B.into()])
        );
        assert_eq!(keys(&format!("name eq 'x' and mailboxid eq {B}")), Some(vec![B.into()]));
        assert_eq!(
            keys(&format!(
                "Microsoft.Dynamics.CRM.In(PropertyName='mailboxid',PropertyValues=['{A}','{B}']) and mailboxid eq {B}"
            )),
            Some(vec![B.into()])
        );
        assert_eq!(keys(&format!("mailboxid eq {A} and mailboxid eq {B}")), Some(vec![]));
    }

    #[test]
    fn key_candidates_none_when_unbounded() {
        for text in [
            "name eq 'x'".to_string(),
            format!("mailboxid ne {A}"),
            format!("mailboxid gt {A}"),
            format!("not mailboxid eq {A}"),
            format!("mailboxid eq {A} or name eq 'x'"),
            format!("_ownerid_value eq {A}"),
            "mailboxid eq null".to_string(),
            format!("Microsoft.Dynamics.CRM.NotIn(PropertyName='mailboxid',PropertyValues=['{A}'])"),
            "Microsoft.Dynamics.CRM.In(PropertyName='statecode',PropertyValues=['0'])".to_string(),
        ] {
            assert_eq!(keys(&text), None, "{text}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let deep = format!("{}name eq 'x'{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(matches!(err(&deep), FilterError::Syntax(_)));
        let nots = format!("{}enabledforact", "not ".repeat(10_000));
        assert!(matches!(err(&nots), FilterError::Syntax(_)));
        let shallow = format!("{}name eq 'x'{}", "(".repeat(50), ")".repeat(50));
        assert!(m(&shallow, json!({"name": "X"})));
    }

    #[test]
    fn prefixes_of_valid_filters_never_panic() {
        let valid = [
            format!(
                "(name eq 'a''b' or not startswith(emailaddress,'x')) and mailboxid ne {A} and modifiedon ge 2024-01-31T10:00:00.5+01:00"
            ),
            format!(
                "Microsoft.Dynamics.CRM.In(PropertyName='mailboxid',PropertyValues=['{A}','{B}']) or Microsoft.Dynamics.CRM.NotIn(PropertyName='statecode',PropertyValues=['0',1])"
            ),
        ];
        let r = row(json!({"name": "a'b", "mailboxid": B, "statecode": 1}));
        for text in &valid {
            assert!(parse(text, &MAILBOXES).is_ok(), "{text}");
            for (cut, _) in text.char_indices() {
                if let Ok(f) = parse(&text[..cut], &MAILBOXES) {
                    f.matches(&r);
                    f.key_candidates("mailboxid");
                }
            }
        }
    }

    /// A deterministic pseudo-random stream (an LCG), so the property tests need no extra crates.
    fn lcg(mut seed: u64) -> impl FnMut() -> usize {
        move || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize
        }
    }

    #[test]
    fn random_input_never_panics() {
        const PIECES: [&str; 32] = [
            "name",
            "mailboxid",
            "statecode",
            "modifiedon",
            "enabledforact",
            " eq ",
            " ne ",
            " gt ",
            " and ",
            " or ",
            "not ",
            "(",
            ")",
            "'",
            "''",
            ",",
            "=",
            "[",
            "]",
            "null",
            "true",
            "-",
            "7",
            "2024-01-31",
            "T10:00:00Z",
            A,
            "contains(",
            "Microsoft.Dynamics.CRM.In(",
            "PropertyName=",
            "PropertyValues=",
            "é",
            " ",
        ];
        let mut next = lcg(0x2545_f491_4f6c_dd1d);
        let r = row(json!({"name": "x", "statecode": 0, "mailboxid": A, "enabledforact": true}));
        for _ in 0..600 {
            let mut text = String::new();
            for _ in 0..next() % 12 {
                if next().is_multiple_of(5) {
                    text.push(char::from(b' ' + (next() % 95) as u8));
                } else {
                    text.push_str(PIECES[next() % PIECES.len()]);
                }
            }
            match parse(&text, &MAILBOXES) {
                Ok(f) => {
                    f.matches(&r);
                    f.key_candidates("mailboxid");
                }
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
    }

    fn random_filter(next: &mut impl FnMut() -> usize, depth: usize) -> String {
        const ATOMS: [&str; 8] = [
            "name eq 'x'",
            "statecode ne 1",
            "contains(name,'X')",
            "modifiedon lt 2024-01-31T10:00:00+01:00",
            "enabledforact",
            "_ownerid_value eq null",
            "mailboxid eq aaaaaaaa-0000-0000-0000-000000000001",
            "Microsoft.Dynamics.CRM.In(PropertyName='statecode',PropertyValues=['0',2])",
        ];
        match if depth == 0 { 0 } else { next() % 4 } {
            0 => ATOMS[next() % ATOMS.len()].to_string(),
            1 => format!("not ({})", random_filter(next, depth - 1)),
            2 => format!("({}) and {}", random_filter(next, depth - 1), random_filter(next, depth - 1)),
            _ => format!("{} or ({})", random_filter(next, depth - 1), random_filter(next, depth - 1)),
        }
    }

    #[test]
    fn generated_filters_parse_and_their_mutants_never_panic() {
        let mut next = lcg(42);
        let r = row(json!({"name": "x", "statecode": 2, "mailboxid": A, "enabledforact": false}));
        for _ in 0..300 {
            let text = random_filter(&mut next, 4);
            let f = parse(&text, &MAILBOXES).unwrap_or_else(|e| panic!("{text}: {e}"));
            f.matches(&r);
            f.key_candidates("mailboxid");
            let mut chars: Vec<char> = text.chars().collect();
            let at = next() % chars.len();
            match next() % 3 {
                0 => drop(chars.remove(at)),
                1 => chars.insert(at, char::from(b' ' + (next() % 95) as u8)),
                _ => chars.truncate(at),
            }
            let mutant: String = chars.into_iter().collect();
            if let Ok(f) = parse(&mutant, &MAILBOXES) {
                f.matches(&r);
            }
        }
    }
}
