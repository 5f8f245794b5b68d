//! The STIX patterning language (STIX 2.1 part 5, "STIX Patterning"; 2.0 is a subset).
//!
//! A real parser rather than regular expressions over the pattern text, because indicators are
//! combinations: `[a = 'x' OR b = 'y']` means either value, `[a = 'x' AND b = 'y']` means both on
//! one object, `[a] AND [b]` two correlated observations. Pulling every quoted string out of a
//! pattern would turn each of those into "match x, match y", which is wrong for two of three.
//!
//! Grammar (precedence from loosest to tightest; keywords are upper-case):
//!
//! ```text
//! pattern      := obs_fby EOF
//! obs_fby      := obs_or ("FOLLOWEDBY" obs_or)*
//! obs_or       := obs_and ("OR" obs_and)*
//! obs_and      := obs_qual ("AND" obs_qual)*
//! obs_qual     := obs_primary qualifier*
//! qualifier    := "WITHIN" number "SECONDS" | "START" ts "STOP" ts | "REPEATS" int "TIMES"
//! obs_primary  := "[" cmp_or "]" | "(" obs_fby ")"
//! cmp_or       := cmp_and ("OR" cmp_and)*
//! cmp_and      := test ("AND" test)*
//! test         := "(" cmp_or ")" | "EXISTS" path | path "NOT"? op literal
//! op           := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "IN" | "LIKE" | "MATCHES"
//!               | "ISSUBSET" | "ISSUPERSET"
//! path         := type ":" (ident | string) ("." (ident | string) | "[" (int | "*") "]")*
//! literal      := string | int | float | "true" | "false" | t'…' | b'…' | h'…' | "(" literals ")"
//! ```
//!
//! Strings are single-quoted with `\'` and `\\` as the only escapes. Bounds: patterns longer
//! than [`MAX_PATTERN_BYTES`], nested deeper than [`MAX_DEPTH`] or with more than
//! [`MAX_TERMS`] comparisons and list elements are errors, so hostile input costs bounded time,
//! memory and stack.

// Untrusted input: no panics on any path (STYLE §2.6).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

use std::fmt;

use crate::formats::rfc3339;

/// Longest pattern parsed, in bytes. Real patterns are short, but some feeds pack thousands of
/// addresses into one `OR` chain; a megabyte leaves room for that.
pub const MAX_PATTERN_BYTES: usize = 1024 * 1024;

/// Deepest nesting of brackets and parentheses.
pub const MAX_DEPTH: usize = 32;

/// Most comparisons plus list elements in one pattern.
pub const MAX_TERMS: usize = 100_000;

/// Most components in one object path (`a:b.c[0].d`…).
const MAX_PATH_STEPS: usize = 64;

/// A parsed pattern: a tree of observation expressions.
#[derive(Clone, Debug, PartialEq)]
pub enum ObservationExpr {
    /// `[ … ]`: one observed object must satisfy the comparison.
    Observation(ComparisonExpr),
    /// Every operand must be observed (not necessarily by the same object).
    And(Vec<ObservationExpr>),
    /// Any operand.
    Or(Vec<ObservationExpr>),
    /// The operands, in this order in time.
    FollowedBy(Vec<ObservationExpr>),
    /// An expression with a qualifier.
    Qualified(Box<ObservationExpr>, Qualifier),
}

/// Observation qualifiers.
#[derive(Clone, Debug, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`.
    Within(f64),
    /// `START t'…' STOP t'…'`, as Unix seconds.
    StartStop(i64, i64),
    /// `REPEATS n TIMES`.
    Repeats(u64),
}

/// A comparison expression inside `[ ]`.
#[derive(Clone, Debug, PartialEq)]
pub enum ComparisonExpr {
    /// A single property test.
    Test(PropTest),
    /// All operands hold for the same object.
    And(Vec<ComparisonExpr>),
    /// Any operand holds.
    Or(Vec<ComparisonExpr>),
}

/// One property test.
#[derive(Clone, Debug, PartialEq)]
pub struct PropTest {
    /// The object path tested.
    pub path: ObjectPath,
    /// Whether `NOT` precedes the operator.
    pub negated: bool,
    /// The operator.
    pub op: Op,
    /// The right-hand side (`Literal::Bool(true)` for `EXISTS`).
    pub value: Literal,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=` or `==`.
    Eq,
    /// `!=` or `<>`.
    Neq,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `IN (…)`.
    In,
    /// `LIKE` (SQL wildcards).
    Like,
    /// `MATCHES` (PCRE).
    Matches,
    /// `ISSUBSET` (address in network).
    IsSubset,
    /// `ISSUPERSET` (network contains address).
    IsSuperset,
    /// `EXISTS path`.
    Exists,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Eq => "=",
            Op::Neq => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "IN",
            Op::Like => "LIKE",
            Op::Matches => "MATCHES",
            Op::IsSubset => "ISSUBSET",
            Op::IsSuperset => "ISSUPERSET",
            Op::Exists => "EXISTS",
        })
    }
}

/// An object path: `type:step.step[…]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectPath {
    /// The STIX Cyber-observable type (`ipv4-addr`, `network-traffic`…).
    pub object_type: String,
    /// The property steps.
    pub steps: Vec<PathStep>,
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Property(p) if i == 0 => f.write_str(p)?,
                PathStep::Property(p) => write!(f, ".{p}")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::Any => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

/// One step of an object path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    /// A property name (quoted names already unquoted).
    Property(String),
    /// A list index.
    Index(i64),
    /// `[*]`: any list element.
    Any,
}

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// A string, escapes resolved.
    String(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `t'…'`, as Unix seconds.
    Timestamp(i64),
    /// `b'…'` base64, kept as written.
    Binary(String),
    /// `h'…'` hex, kept as written (lower-case).
    Hex(String),
    /// `( … )` for `IN`.
    List(Vec<Literal>),
}

/// Why a pattern does not parse: the byte offset and what was wrong there.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at byte {offset}: {reason}")]
pub struct PatternError {
    /// Byte offset into the pattern.
    pub offset: usize,
    /// What was expected or found.
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    LBracket,
    RBracket,
    LParen,
    RParen,
    Comma,
    Colon,
    Dot,
    Star,
    Op(Op),
    Word(String),
    Str(String),
    Int(i64),
    Float(f64),
    Timestamp(i64),
    Binary(String),
    Hex(String),
}

fn err(offset: usize, reason: impl Into<String>) -> PatternError {
    PatternError {
        offset,
        reason: reason.into(),
    }
}

/// Splits a pattern into tokens with their byte offsets.
fn lex(src: &str) -> Result<Vec<(usize, Tok)>, PatternError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let start = i;
        let tok = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'[' => Tok::LBracket,
            b']' => Tok::RBracket,
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b',' => Tok::Comma,
            b':' => Tok::Colon,
            b'.' if !b.get(i + 1).is_some_and(u8::is_ascii_digit) => Tok::Dot,
            b'*' => Tok::Star,
            b'=' => {
                if b.get(i + 1) == Some(&b'=') {
                    i += 1;
                }
                Tok::Op(Op::Eq)
            }
            b'!' if b.get(i + 1) == Some(&b'=') => {
                i += 1;
                Tok::Op(Op::Neq)
            }
            b'<' => match b.get(i + 1) {
                Some(b'=') => {
                    i += 1;
                    Tok::Op(Op::Le)
                }
                Some(b'>') => {
                    i += 1;
                    Tok::Op(Op::Neq)
                }
                _ => Tok::Op(Op::Lt),
            },
            b'>' => {
                if b.get(i + 1) == Some(&b'=') {
                    i += 1;
                    Tok::Op(Op::Ge)
                } else {
                    Tok::Op(Op::Gt)
                }
            }
            b'\'' => {
                let (s, end) = string(src, i)?;
                out.push((start, Tok::Str(s)));
                i = end;
                continue;
            }
            b't' | b'b' | b'h' if b.get(i + 1) == Some(&b'\'') => {
                let (s, end) = string(src, i + 1)?;
                let tok = match c {
                    b't' => Tok::Timestamp(
                        rfc3339::parse(&s)
                            .filter(|_| s.ends_with('Z'))
                            .ok_or_else(|| err(start, format!("bad timestamp t'{s}'")))?,
                    ),
                    b'b' => {
                        if !s
                            .bytes()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
                        {
                            return Err(err(start, "bad base64 in b'…'"));
                        }
                        Tok::Binary(s)
                    }
                    _ => {
                        if s.len() % 2 != 0 || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
                            return Err(err(start, "bad hex in h'…'"));
                        }
                        Tok::Hex(s.to_ascii_lowercase())
                    }
                };
                out.push((start, tok));
                i = end;
                continue;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut end = i + 1;
                while b
                    .get(end)
                    .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
                {
                    end += 1;
                }
                out.push((start, Tok::Word(src.get(i..end).unwrap_or("").to_owned())));
                i = end;
                continue;
            }
            c if c.is_ascii_digit() || c == b'-' || c == b'+' || c == b'.' => {
                let mut end = i + 1;
                while b.get(end).is_some_and(|&c| c.is_ascii_digit() || c == b'.') {
                    end += 1;
                }
                let text = src.get(i..end).unwrap_or("");
                let tok = if text.contains('.') {
                    text.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .map(Tok::Float)
                } else {
                    text.parse::<i64>().ok().map(Tok::Int)
                };
                out.push((
                    start,
                    tok.ok_or_else(|| err(start, format!("bad number {text:?}")))?,
                ));
                i = end;
                continue;
            }
            other => {
                let ch = src.get(i..).and_then(|s| s.chars().next()).unwrap_or('?');
                let _ = other;
                return Err(err(start, format!("unexpected character {ch:?}")));
            }
        };
        out.push((start, tok));
        i += 1;
    }
    Ok(out)
}

/// A quoted string starting at the quote at `open`; returns the unescaped text and the offset
/// after the closing quote.
fn string(src: &str, open: usize) -> Result<(String, usize), PatternError> {
    let mut out = String::new();
    let rest = src.get(open + 1..).ok_or_else(|| err(open, "bad string"))?;
    let mut chars = rest.char_indices();
    while let Some((j, c)) = chars.next() {
        match c {
            '\'' => return Ok((out, open + 1 + j + 1)),
            '\\' => match chars.next() {
                Some((_, e @ ('\'' | '\\'))) => out.push(e),
                _ => {
                    return Err(err(
                        open + 1 + j,
                        "only \\' and \\\\ are escapes in STIX strings",
                    ));
                }
            },
            c => out.push(c),
        }
    }
    Err(err(open, "unterminated string"))
}

/// Parses a STIX pattern (see the module doc for the grammar and bounds).
pub fn parse_pattern(src: &str) -> Result<ObservationExpr, PatternError> {
    if src.len() > MAX_PATTERN_BYTES {
        return Err(err(
            0,
            format!("pattern longer than {MAX_PATTERN_BYTES} bytes"),
        ));
    }
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        terms: 0,
        end: src.len(),
    };
    let expr = p.obs_fby()?;
    if let Some((offset, tok)) = p.toks.get(p.pos) {
        return Err(err(
            *offset,
            format!("unexpected {tok:?} after the pattern"),
        ));
    }
    Ok(expr)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    depth: usize,
    terms: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(o, _)| *o)
    }

    fn next(&mut self) -> Option<Tok> {
        let tok = self.toks.get(self.pos).map(|(_, t)| t.clone());
        if tok.is_some() {
            self.pos += 1;
        }
        tok
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w == word)
    }

    fn expect_word(&mut self, word: &str) -> Result<(), PatternError> {
        if self.is_word(word) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(word))
        }
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), PatternError> {
        if self.peek() == Some(&tok) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(what))
        }
    }

    fn unexpected(&self, expected: &str) -> PatternError {
        match self.peek() {
            Some(tok) => err(self.offset(), format!("expected {expected}, found {tok:?}")),
            None => err(self.end, format!("expected {expected}, found the end")),
        }
    }

    fn enter(&mut self) -> Result<(), PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(
                self.offset(),
                format!("nested deeper than {MAX_DEPTH}"),
            ));
        }
        Ok(())
    }

    fn term(&mut self) -> Result<(), PatternError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(err(
                self.offset(),
                format!("more than {MAX_TERMS} comparisons"),
            ));
        }
        Ok(())
    }

    /// Parses `operand (word operand)*` into one node (or the operand alone).
    fn chain<T>(
        &mut self,
        word: &str,
        mut operand: impl FnMut(&mut Self) -> Result<T, PatternError>,
        wrap: impl FnOnce(Vec<T>) -> T,
    ) -> Result<T, PatternError> {
        let mut items = vec![operand(self)?];
        while self.is_word(word) {
            self.pos += 1;
            items.push(operand(self)?);
        }
        Ok(if items.len() == 1 {
            items
                .pop()
                .ok_or_else(|| err(self.offset(), "empty chain"))?
        } else {
            wrap(items)
        })
    }

    fn obs_fby(&mut self) -> Result<ObservationExpr, PatternError> {
        self.chain("FOLLOWEDBY", Self::obs_or, ObservationExpr::FollowedBy)
    }

    fn obs_or(&mut self) -> Result<ObservationExpr, PatternError> {
        self.chain("OR", Self::obs_and, ObservationExpr::Or)
    }

    fn obs_and(&mut self) -> Result<ObservationExpr, PatternError> {
        self.chain("AND", Self::obs_qual, ObservationExpr::And)
    }

    fn obs_qual(&mut self) -> Result<ObservationExpr, PatternError> {
        let mut expr = self.obs_primary()?;
        loop {
            let qualifier = if self.is_word("WITHIN") {
                self.pos += 1;
                let offset = self.offset();
                let seconds = match self.next() {
                    Some(Tok::Int(n)) if n > 0 => n as f64,
                    Some(Tok::Float(f)) if f > 0.0 => f,
                    _ => return Err(err(offset, "WITHIN needs a positive number")),
                };
                self.expect_word("SECONDS")?;
                Qualifier::Within(seconds)
            } else if self.is_word("START") {
                self.pos += 1;
                let start = self.timestamp()?;
                self.expect_word("STOP")?;
                let stop = self.timestamp()?;
                Qualifier::StartStop(start, stop)
            } else if self.is_word("REPEATS") {
                self.pos += 1;
                let offset = self.offset();
                let times = match self.next() {
                    Some(Tok::Int(n)) if n > 0 => n as u64,
                    _ => return Err(err(offset, "REPEATS needs a positive integer")),
                };
                self.expect_word("TIMES")?;
                Qualifier::Repeats(times)
            } else {
                return Ok(expr);
            };
            expr = ObservationExpr::Qualified(Box::new(expr), qualifier);
        }
    }

    /// A `t'…'` literal (STIX 2.1) or a plain string holding a timestamp (STIX 2.0).
    fn timestamp(&mut self) -> Result<i64, PatternError> {
        let offset = self.offset();
        match self.next() {
            Some(Tok::Timestamp(t)) => Ok(t),
            Some(Tok::Str(s)) => {
                rfc3339::parse(&s).ok_or_else(|| err(offset, format!("bad timestamp {s:?}")))
            }
            _ => Err(err(offset, "expected a timestamp")),
        }
    }

    fn obs_primary(&mut self) -> Result<ObservationExpr, PatternError> {
        match self.peek() {
            Some(Tok::LBracket) => {
                self.pos += 1;
                self.enter()?;
                let cmp = self.cmp_or()?;
                self.expect(Tok::RBracket, "']'")?;
                self.depth -= 1;
                Ok(ObservationExpr::Observation(cmp))
            }
            Some(Tok::LParen) => {
                self.pos += 1;
                self.enter()?;
                let expr = self.obs_fby()?;
                self.expect(Tok::RParen, "')'")?;
                self.depth -= 1;
                Ok(expr)
            }
            _ => Err(self.unexpected("'[' or '('")),
        }
    }

    fn cmp_or(&mut self) -> Result<ComparisonExpr, PatternError> {
        self.chain("OR", Self::cmp_and, ComparisonExpr::Or)
    }

    fn cmp_and(&mut self) -> Result<ComparisonExpr, PatternError> {
        self.chain("AND", Self::test, ComparisonExpr::And)
    }

    fn test(&mut self) -> Result<ComparisonExpr, PatternError> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            self.enter()?;
            let inner = self.cmp_or()?;
            self.expect(Tok::RParen, "')'")?;
            self.depth -= 1;
            return Ok(inner);
        }
        self.term()?;
        if self.is_word("EXISTS") {
            self.pos += 1;
            let path = self.path()?;
            return Ok(ComparisonExpr::Test(PropTest {
                path,
                negated: false,
                op: Op::Exists,
                value: Literal::Bool(true),
            }));
        }
        let path = self.path()?;
        let negated = self.is_word("NOT");
        if negated {
            self.pos += 1;
        }
        let offset = self.offset();
        let op = match self.next() {
            Some(Tok::Op(op)) => op,
            Some(Tok::Word(w)) => match w.as_str() {
                "IN" => Op::In,
                "LIKE" => Op::Like,
                "MATCHES" => Op::Matches,
                "ISSUBSET" => Op::IsSubset,
                "ISSUPERSET" => Op::IsSuperset,
                other => return Err(err(offset, format!("unknown operator {other:?}"))),
            },
            _ => return Err(err(offset, "expected a comparison operator")),
        };
        let offset = self.offset();
        let value = match op {
            Op::In => self.list()?,
            Op::Like | Op::Matches | Op::IsSubset | Op::IsSuperset => match self.next() {
                Some(Tok::Str(s)) => Literal::String(s),
                _ => return Err(err(offset, format!("{op} needs a string"))),
            },
            Op::Lt | Op::Le | Op::Gt | Op::Ge => match self.literal()? {
                Literal::Bool(_) => {
                    return Err(err(offset, format!("{op} needs an orderable value")));
                }
                v => v,
            },
            Op::Eq | Op::Neq | Op::Exists => self.literal()?,
        };
        Ok(ComparisonExpr::Test(PropTest {
            path,
            negated,
            op,
            value,
        }))
    }

    fn list(&mut self) -> Result<Literal, PatternError> {
        self.expect(Tok::LParen, "'(' opening an IN list")?;
        let mut items = Vec::new();
        if self.peek() == Some(&Tok::RParen) {
            self.pos += 1;
            return Ok(Literal::List(items));
        }
        loop {
            self.term()?;
            items.push(self.literal()?);
            match self.next() {
                Some(Tok::Comma) => {}
                Some(Tok::RParen) => return Ok(Literal::List(items)),
                _ => {
                    self.pos = self.pos.saturating_sub(1);
                    return Err(self.unexpected("',' or ')'"));
                }
            }
        }
    }

    fn literal(&mut self) -> Result<Literal, PatternError> {
        let offset = self.offset();
        Ok(match self.next() {
            Some(Tok::Str(s)) => Literal::String(s),
            Some(Tok::Int(n)) => Literal::Int(n),
            Some(Tok::Float(f)) => Literal::Float(f),
            Some(Tok::Timestamp(t)) => Literal::Timestamp(t),
            Some(Tok::Binary(s)) => Literal::Binary(s),
            Some(Tok::Hex(s)) => Literal::Hex(s),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
            _ => return Err(err(offset, "expected a literal value")),
        })
    }

    fn path(&mut self) -> Result<ObjectPath, PatternError> {
        let offset = self.offset();
        let object_type = match self.next() {
            Some(Tok::Word(w)) if !is_keyword(&w) => w,
            _ => return Err(err(offset, "expected an object type")),
        };
        self.expect(Tok::Colon, "':' after the object type")?;
        let mut steps = vec![self.property()?];
        loop {
            match self.peek() {
                Some(Tok::Dot) => {
                    self.pos += 1;
                    steps.push(self.property()?);
                }
                Some(Tok::LBracket) => {
                    self.pos += 1;
                    let offset = self.offset();
                    steps.push(match self.next() {
                        Some(Tok::Int(n)) if n >= 0 => PathStep::Index(n),
                        Some(Tok::Star) => PathStep::Any,
                        _ => return Err(err(offset, "expected a list index or '*'")),
                    });
                    self.expect(Tok::RBracket, "']' closing a list index")?;
                }
                _ => break,
            }
            if steps.len() > MAX_PATH_STEPS {
                return Err(err(
                    self.offset(),
                    format!("object path longer than {MAX_PATH_STEPS} steps"),
                ));
            }
        }
        Ok(ObjectPath { object_type, steps })
    }

    fn property(&mut self) -> Result<PathStep, PatternError> {
        let offset = self.offset();
        match self.next() {
            Some(Tok::Word(w)) if !is_keyword(&w) => Ok(PathStep::Property(w)),
            Some(Tok::Str(s)) => Ok(PathStep::Property(s)),
            _ => Err(err(offset, "expected a property name")),
        }
    }
}

/// Whether a word is a reserved keyword (which cannot name a type or property unquoted).
fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "AND"
            | "OR"
            | "NOT"
            | "FOLLOWEDBY"
            | "LIKE"
            | "MATCHES"
            | "ISSUPERSET"
            | "ISSUBSET"
            | "EXISTS"
            | "IN"
            | "START"
            | "STOP"
            | "SECONDS"
            | "WITHIN"
            | "REPEATS"
            | "TIMES"
    )
}
