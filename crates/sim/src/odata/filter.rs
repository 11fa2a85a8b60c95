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

mod lex;
mod parser;

use lex::parse_instant;

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
    Ok(Filter { expr: parser::parse_expr(text, table)? })
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

#[cfg(test)]
mod tests;
