//! The recursive-descent parser of `$filter`: builds the expression tree and type-checks it
//! against the table's columns, with Dataverse's error messages.

use super::lex::{Tok, convert, is_ident, lex, literal};
use super::*;

/// Parses and type-checks `text` into an expression.
pub(super) fn parse_expr(text: &str, table: &Table) -> Result<Expr, FilterError> {
    let mut p = Parser { text, table, toks: lex(text)?, at: 0, depth: 0 };
    let expr = p.or()?;
    if *p.peek() != Tok::End {
        return Err(p.err("Syntax error", p.pos()));
    }
    Ok(expr)
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
