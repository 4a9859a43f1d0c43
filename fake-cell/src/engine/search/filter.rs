//! Marqo's filter language (§6): parser to an AST and evaluation against stored documents.
//!
//! Choices where Marqo is unclear: string equality is case-insensitive (Vespa's default attribute
//! matching); `IN` is accepted on every index type (a superset of open-source Marqo).

use serde_json::{Map, Value};

use crate::error::CellError;

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Eq {
        field: String,
        value: String,
    },
    Range {
        field: String,
        lo: Option<f64>,
        hi: Option<f64>,
    },
    In {
        field: String,
        values: Vec<String>,
    },
}

/// What evaluation needs to know about the index.
pub struct FilterCtx {
    pub structured: bool,
    pub max_string_len: usize,
}

struct Parser<'a> {
    src: &'a str,
    chars: Vec<char>,
    pos: usize,
}

pub fn parse(src: &str) -> Result<Filter, CellError> {
    let mut p = Parser {
        src,
        chars: src.chars().collect(),
        pos: 0,
    };
    p.skip_ws();
    if p.at_end() {
        return Err(p.err("empty filter"));
    }
    let f = p.parse_or()?;
    p.skip_ws();
    if !p.at_end() {
        return Err(p.err(if p.peek() == Some(')') {
            "unbalanced parentheses"
        } else {
            "expected AND, OR or the end of the filter"
        }));
    }
    Ok(f)
}

impl Parser<'_> {
    fn err(&self, what: &str) -> CellError {
        CellError::InvalidArgument(format!(
            "Error parsing filter string '{}': {what} at position {}",
            self.src, self.pos
        ))
    }
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }
    /// Is the upcoming token exactly `word` (followed by whitespace, `(` or the end)?
    fn at_word(&self, word: &str, case_insensitive: bool) -> bool {
        let n = word.chars().count();
        if self.pos + n > self.chars.len() {
            return false;
        }
        let s: String = self.chars[self.pos..self.pos + n].iter().collect();
        let same = if case_insensitive {
            s.eq_ignore_ascii_case(word)
        } else {
            s == word
        };
        same && self
            .chars
            .get(self.pos + n)
            .is_none_or(|c| c.is_whitespace() || *c == '(')
    }
    fn parse_or(&mut self) -> Result<Filter, CellError> {
        let mut left = self.parse_and()?;
        loop {
            self.skip_ws();
            if self.at_word("OR", false) {
                self.pos += 2;
                let right = self.parse_and()?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }
    fn parse_and(&mut self) -> Result<Filter, CellError> {
        let mut left = self.parse_unary()?;
        loop {
            self.skip_ws();
            if self.at_word("AND", false) {
                self.pos += 3;
                let right = self.parse_unary()?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else if self.at_end() || self.peek() == Some(')') || self.at_word("OR", false) {
                return Ok(left);
            } else {
                return Err(self.err("two terms without an operator between them"));
            }
        }
    }
    fn parse_unary(&mut self) -> Result<Filter, CellError> {
        self.skip_ws();
        if self.at_end() {
            return Err(self.err("dangling operator"));
        }
        if self.at_word("NOT", false) {
            self.pos += 3;
            return Ok(Filter::Not(Box::new(self.parse_unary()?)));
        }
        if self.peek() == Some('(') {
            self.pos += 1;
            let inner = self.parse_or()?;
            self.skip_ws();
            if self.peek() != Some(')') {
                return Err(self.err("unbalanced parentheses"));
            }
            self.pos += 1;
            return Ok(inner);
        }
        self.parse_term()
    }
    fn parse_term(&mut self) -> Result<Filter, CellError> {
        let mut field = String::new();
        loop {
            match self.peek() {
                None => return Err(self.err("a term needs field:value")),
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) => {
                            field.push(c);
                            self.pos += 1;
                        }
                        None => return Err(self.err("dangling escape")),
                    }
                }
                Some(':') => break,
                Some(c) if c.is_whitespace() => {
                    self.skip_ws();
                    if self.at_word("IN", true) && !field.is_empty() {
                        self.pos += 2;
                        return self.parse_in(field);
                    }
                    return Err(self.err("a term needs field:value"));
                }
                Some('(') | Some(')') => return Err(self.err("a term needs field:value")),
                Some(c) => {
                    field.push(c);
                    self.pos += 1;
                }
            }
        }
        if field.is_empty() {
            return Err(self.err("empty field name"));
        }
        self.pos += 1; // ':'
        match self.peek() {
            Some('[') => {
                self.pos += 1;
                let start = self.pos;
                while self.peek().is_some_and(|c| c != ']') {
                    self.pos += 1;
                }
                if self.at_end() {
                    return Err(self.err("unterminated range"));
                }
                let inner: String = self.chars[start..self.pos].iter().collect();
                self.pos += 1;
                let parts: Vec<&str> = inner.split_whitespace().collect();
                if parts.len() != 3 || !parts[1].eq_ignore_ascii_case("TO") {
                    return Err(self.err("a range must look like [low TO high]"));
                }
                let bound = |s: &str| -> Result<Option<f64>, CellError> {
                    if s == "*" {
                        Ok(None)
                    } else {
                        s.parse::<f64>()
                            .map(Some)
                            .map_err(|_| self.err("range bounds must be numbers or *"))
                    }
                };
                let (lo, hi) = (bound(parts[0])?, bound(parts[2])?);
                if lo.is_none() && hi.is_none() {
                    return Err(self.err("a range needs at least one bound"));
                }
                Ok(Filter::Range { field, lo, hi })
            }
            Some('(') => {
                self.pos += 1;
                let value = self.read_until_close()?;
                Ok(Filter::Eq { field, value })
            }
            _ => {
                let value = self.read_value(&[])?;
                if value.is_empty() {
                    return Err(self.err("empty value"));
                }
                Ok(Filter::Eq { field, value })
            }
        }
    }
    /// Read a grouped value up to the closing `)` (already past the opening one).
    fn read_until_close(&mut self) -> Result<String, CellError> {
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.err("unbalanced parentheses")),
                Some('\\') => {
                    self.pos += 1;
                    if let Some(c) = self.peek() {
                        out.push(c);
                        self.pos += 1;
                    }
                }
                Some(')') => {
                    self.pos += 1;
                    return Ok(out.trim().to_string());
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }
    /// Read a bare value up to unescaped whitespace, `)` or one of `stops`.
    fn read_value(&mut self, stops: &[char]) -> Result<String, CellError> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if c == '\\' {
                self.pos += 1;
                match self.peek() {
                    Some(n) => {
                        out.push(n);
                        self.pos += 1;
                    }
                    None => return Err(self.err("dangling escape")),
                }
            } else if c.is_whitespace() || c == ')' || stops.contains(&c) {
                break;
            } else {
                out.push(c);
                self.pos += 1;
            }
        }
        Ok(out)
    }
    fn parse_in(&mut self, field: String) -> Result<Filter, CellError> {
        self.skip_ws();
        if self.peek() != Some('(') {
            return Err(self.err("IN needs a parenthesised list"));
        }
        self.pos += 1;
        let mut values = Vec::new();
        loop {
            self.skip_ws();
            let v = if self.peek() == Some('(') {
                self.pos += 1;
                self.read_until_close()?
            } else {
                let mut v = String::new();
                // Values may contain spaces; stop at an unescaped comma or `)`.
                while let Some(c) = self.peek() {
                    if c == '\\' {
                        self.pos += 1;
                        if let Some(n) = self.peek() {
                            v.push(n);
                            self.pos += 1;
                        }
                    } else if c == ',' || c == ')' {
                        break;
                    } else {
                        v.push(c);
                        self.pos += 1;
                    }
                }
                v.trim().to_string()
            };
            if v.is_empty() {
                return Err(self.err("empty value in IN list"));
            }
            values.push(v);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    return Ok(Filter::In { field, values });
                }
                _ => return Err(self.err("unterminated IN list")),
            }
        }
    }
}

impl Filter {
    /// Every field the filter names.
    pub fn fields(&self, out: &mut Vec<String>) {
        match self {
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.fields(out);
                b.fields(out);
            }
            Filter::Not(a) => a.fields(out),
            Filter::Eq { field, .. } | Filter::Range { field, .. } | Filter::In { field, .. } => {
                out.push(field.clone())
            }
        }
    }

    pub fn matches(&self, id: &str, doc: &Map<String, Value>, ctx: &FilterCtx) -> bool {
        match self {
            Filter::And(a, b) => a.matches(id, doc, ctx) && b.matches(id, doc, ctx),
            Filter::Or(a, b) => a.matches(id, doc, ctx) || b.matches(id, doc, ctx),
            Filter::Not(a) => !a.matches(id, doc, ctx),
            Filter::Eq { field, value } => eq_field(field, value, id, doc, ctx),
            Filter::In { field, values } => values.iter().any(|v| eq_field(field, v, id, doc, ctx)),
            Filter::Range { field, lo, hi } => {
                let in_range = |v: &Value| {
                    v.as_f64()
                        .is_some_and(|x| lo.is_none_or(|l| x >= l) && hi.is_none_or(|h| x <= h))
                };
                match doc.get(field) {
                    Some(Value::Array(a)) => a.iter().any(in_range),
                    Some(v) => in_range(v),
                    None => false,
                }
            }
        }
    }
}

fn eq_field(field: &str, value: &str, id: &str, doc: &Map<String, Value>, ctx: &FilterCtx) -> bool {
    if field == "_id" {
        return id == value;
    }
    // A custom vector is filtered by its content, the text Marqo stores in its filter field.
    match doc.get(field).map(crate::engine::store::shown_value) {
        Some(Value::Array(a)) => a.iter().any(|v| eq_value(v, value, ctx)),
        Some(v) => eq_value(v, value, ctx),
        None => false,
    }
}

fn eq_value(v: &Value, want: &str, ctx: &FilterCtx) -> bool {
    match v {
        Value::String(s) => {
            (ctx.structured || s.chars().count() <= ctx.max_string_len)
                && s.to_lowercase() == want.to_lowercase()
        }
        Value::Number(n) => match (n.as_f64(), want.parse::<f64>()) {
            (Some(a), Ok(b)) => a == b,
            _ => false,
        },
        Value::Bool(b) => want.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eq(f: &str, v: &str) -> Filter {
        Filter::Eq {
            field: f.into(),
            value: v.into(),
        }
    }

    #[test]
    fn precedence_and_forms() {
        let f = parse("a:1 OR b:2 AND NOT c:3").unwrap();
        assert_eq!(
            f,
            Filter::Or(
                Box::new(eq("a", "1")),
                Box::new(Filter::And(
                    Box::new(eq("b", "2")),
                    Box::new(Filter::Not(Box::new(eq("c", "3"))))
                ))
            )
        );
        assert_eq!(
            parse("brand:(Green Valley)").unwrap(),
            eq("brand", "Green Valley")
        );
        assert_eq!(parse(r"city:New\ York").unwrap(), eq("city", "New York"));
        assert_eq!(
            parse("price:[10 TO *]").unwrap(),
            Filter::Range {
                field: "price".into(),
                lo: Some(10.0),
                hi: None
            }
        );
        assert_eq!(
            parse("colour IN (red, blue, (light green))").unwrap(),
            Filter::In {
                field: "colour".into(),
                values: vec!["red".into(), "blue".into(), "light green".into()]
            }
        );
    }

    #[test]
    fn errors() {
        for bad in [
            "",
            "a:1 AND",
            "(a:1",
            "a:1)",
            "a",
            "a:1 b:2",
            "p:[* TO *]",
            "p:[1 TO x]",
            "NOT",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn evaluation() {
        let doc = json!({"cat": "Dairy", "price": 12.5, "ok": true, "tags": ["a", "b"]});
        let doc = doc.as_object().unwrap();
        let ctx = FilterCtx {
            structured: false,
            max_string_len: 50,
        };
        let m = |f: &str| parse(f).unwrap().matches("d1", doc, &ctx);
        assert!(m("cat:dairy AND price:[10 TO 20] AND ok:true"));
        assert!(m("tags:b AND _id:d1"));
        assert!(!m("NOT tags:a"));
        assert!(m("cat IN (meat, dairy)"));
        assert!(!m("price:[* TO 12]"));
    }
}
