//! The query language subset the emulator understands (reference § 2):
//! `SELECT * | count(*) FROM Entity [WHERE cond [AND cond]…] [ORDERBY field [ASC|DESC]]
//! [STARTPOSITION n] [MAXRESULTS n]`, where a condition is `Field op value` with `=`, `!=`,
//! `<`, `<=`, `>`, `>=`, `LIKE` (`%` wildcards) or `IN (v, …)`. Field names may be dotted
//! (`MetaData.LastUpdatedTime`, `CustomerRef`). String values are single-quoted; an apostrophe
//! inside is written `''` or `\'` (Intuit's documented escape is **[UNCONFIRMED]**, both are
//! accepted).

use serde_json::Value;

use super::clock;
use super::fault::Fail;

/// MAXRESULTS when none is given, and its ceiling (**[UNCONFIRMED]**, widely assumed).
pub const DEFAULT_MAX: usize = 100;
/// The largest page a query returns.
pub const MAX_RESULTS: usize = 1000;

/// A parsed query.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// `count(*)` rather than rows.
    pub count: bool,
    /// Entity name as written (matched case-insensitively).
    pub entity: String,
    /// Conditions, all of which must hold.
    pub conditions: Vec<Condition>,
    /// ORDERBY field and whether descending.
    pub order: Option<(String, bool)>,
    /// 1-based start.
    pub start: usize,
    /// Page size.
    pub max: usize,
}

/// `Field op value(s)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// Dotted field path.
    pub field: String,
    /// Operator.
    pub op: Op,
    /// One value, or several for IN.
    pub values: Vec<String>,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `LIKE`
    Like,
    /// `IN`
    In,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Sym(String),
}

fn lex(src: &str) -> Result<Vec<Tok>, Fail> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(Fail::query_parse(format!(
                            "unterminated string at column {}",
                            i + 1
                        )))
                    }
                    Some('\\') if chars.get(i + 1) == Some(&'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(c) => {
                        s.push(*c);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(s));
        } else if ch.is_alphanumeric() || ch == '_' || ch == '.' || ch == '-' || ch == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.' | '-' | ':'))
            {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        } else if matches!(ch, '<' | '>' | '!') && chars.get(i + 1) == Some(&'=') {
            out.push(Tok::Sym(format!("{ch}=")));
            i += 2;
        } else if matches!(ch, '=' | '<' | '>' | '(' | ')' | ',' | '*') {
            out.push(Tok::Sym(ch.to_string()));
            i += 1;
        } else {
            return Err(Fail::query_parse(format!(
                "Encountered \"{ch}\" at line 1, column {}.",
                i + 1
            )));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_keyword(&mut self, kw: &str) -> Result<(), Fail> {
        if self.keyword(kw) {
            Ok(())
        } else {
            Err(Fail::query_parse(format!(
                "Was expecting {kw}, found {:?}",
                self.peek()
            )))
        }
    }

    fn symbol(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(x)) if x == s) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn word(&mut self, what: &str) -> Result<String, Fail> {
        match self.next() {
            Some(Tok::Word(w)) => Ok(w),
            other => Err(Fail::query_parse(format!(
                "Was expecting {what}, found {other:?}"
            ))),
        }
    }

    fn value(&mut self) -> Result<String, Fail> {
        match self.next() {
            Some(Tok::Str(s)) | Some(Tok::Word(s)) => Ok(s),
            other => Err(Fail::query_parse(format!(
                "Was expecting a value, found {other:?}"
            ))),
        }
    }

    fn number(&mut self, what: &str) -> Result<usize, Fail> {
        let w = self.word(what)?;
        w.parse()
            .map_err(|_| Fail::query_parse(format!("{what} must be a whole number, found {w}")))
    }
}

/// Parses a query statement.
pub fn parse(src: &str) -> Result<Query, Fail> {
    let mut p = Parser {
        toks: lex(src)?,
        at: 0,
    };
    p.expect_keyword("select")?;
    let count = if p.symbol("*") {
        false
    } else if p.keyword("count") {
        if !(p.symbol("(") && p.symbol("*") && p.symbol(")")) {
            return Err(Fail::query_parse("Was expecting count(*)"));
        }
        true
    } else {
        // Intuit allows a field list; the emulator returns whole entities either way.
        loop {
            p.word("a field name")?;
            if !p.symbol(",") {
                break;
            }
        }
        false
    };
    p.expect_keyword("from")?;
    let entity = p.word("an entity name")?;
    let mut q = Query {
        count,
        entity,
        conditions: Vec::new(),
        order: None,
        start: 1,
        max: DEFAULT_MAX,
    };
    if p.keyword("where") {
        loop {
            let field = p.word("a field name")?;
            let op = match p.next() {
                Some(Tok::Sym(s)) => match s.as_str() {
                    "=" => Op::Eq,
                    "!=" => Op::Ne,
                    "<" => Op::Lt,
                    "<=" => Op::Le,
                    ">" => Op::Gt,
                    ">=" => Op::Ge,
                    other => return Err(Fail::query_parse(format!("Unexpected operator {other}"))),
                },
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("like") => Op::Like,
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => Op::In,
                other => {
                    return Err(Fail::query_parse(format!(
                        "Was expecting an operator, found {other:?}"
                    )))
                }
            };
            let values = if op == Op::In {
                if !p.symbol("(") {
                    return Err(Fail::query_parse("Was expecting ( after IN"));
                }
                let mut vs = vec![p.value()?];
                while p.symbol(",") {
                    vs.push(p.value()?);
                }
                if !p.symbol(")") {
                    return Err(Fail::query_parse("Was expecting ) to close IN"));
                }
                vs
            } else {
                vec![p.value()?]
            };
            q.conditions.push(Condition { field, op, values });
            if !p.keyword("and") {
                break;
            }
        }
    }
    if p.keyword("orderby") || (p.keyword("order") && p.keyword("by")) {
        let field = p.word("a field name")?;
        let desc = if p.keyword("desc") {
            true
        } else {
            p.keyword("asc");
            false
        };
        q.order = Some((field, desc));
    }
    if p.keyword("startposition") {
        q.start = p.number("STARTPOSITION")?.max(1);
    }
    if p.keyword("maxresults") {
        let max = p.number("MAXRESULTS")?;
        if max > MAX_RESULTS {
            return Err(Fail::invalid_query(format!(
                "MAXRESULTS cannot exceed {MAX_RESULTS}."
            )));
        }
        q.max = max;
    }
    if let Some(t) = p.peek() {
        return Err(Fail::query_parse(format!("Encountered unexpected {t:?}")));
    }
    Ok(q)
}

/// The value at a dotted path; a reference object compares by its `value`.
fn lookup<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let mut v = doc;
    for part in path.split('.') {
        v = v.get(part).or_else(|| {
            v.as_object().and_then(|m| {
                m.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(part))
                    .map(|(_, x)| x)
            })
        })?;
    }
    if let Some(inner) = v.get("value") {
        return Some(inner);
    }
    Some(v)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn compare(actual: &Value, wanted: &str) -> Option<std::cmp::Ordering> {
    let a = text(actual);
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), wanted.parse::<f64>()) {
        return x.partial_cmp(&y);
    }
    if let (Some(x), Some(y)) = (clock::parse(&a), clock::parse(wanted)) {
        return Some(x.cmp(&y));
    }
    Some(a.to_lowercase().cmp(&wanted.to_lowercase()))
}

fn like(actual: &str, pattern: &str) -> bool {
    let a = actual.to_lowercase();
    let parts: Vec<String> = pattern
        .to_lowercase()
        .split('%')
        .map(str::to_string)
        .collect();
    if parts.len() == 1 {
        return a == parts[0];
    }
    let mut rest = a.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !rest.starts_with(part.as_str()) {
                return false;
            }
            rest = &rest[part.len()..];
        } else if i == parts.len() - 1 {
            return rest.ends_with(part.as_str());
        } else if let Some(pos) = rest.find(part.as_str()) {
            rest = &rest[pos + part.len()..];
        } else {
            return false;
        }
    }
    true
}

impl Condition {
    /// Whether `doc` satisfies the condition.
    pub fn holds(&self, doc: &Value) -> bool {
        use std::cmp::Ordering::*;
        let Some(actual) = lookup(doc, &self.field) else {
            return self.op == Op::Ne;
        };
        let first = self.values.first().map(String::as_str).unwrap_or_default();
        match self.op {
            Op::Eq => compare(actual, first) == Some(Equal),
            Op::Ne => compare(actual, first) != Some(Equal),
            Op::Lt => compare(actual, first) == Some(Less),
            Op::Le => matches!(compare(actual, first), Some(Less | Equal)),
            Op::Gt => compare(actual, first) == Some(Greater),
            Op::Ge => matches!(compare(actual, first), Some(Greater | Equal)),
            Op::Like => like(&text(actual), first),
            Op::In => self
                .values
                .iter()
                .any(|v| compare(actual, v) == Some(Equal)),
        }
    }
}

impl Query {
    /// Filters, orders and pages `docs` (all entities of the queried kind).
    pub fn apply(&self, docs: Vec<Value>) -> (usize, Vec<Value>) {
        let mut hits: Vec<Value> = docs
            .into_iter()
            .filter(|d| self.conditions.iter().all(|c| c.holds(d)))
            .collect();
        if let Some((field, desc)) = &self.order {
            hits.sort_by(|a, b| {
                let o = match (lookup(a, field), lookup(b, field)) {
                    (Some(x), Some(y)) => compare(x, &text(y)).unwrap_or(std::cmp::Ordering::Equal),
                    (None, Some(_)) => std::cmp::Ordering::Less,
                    (Some(_), None) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                };
                if *desc {
                    o.reverse()
                } else {
                    o
                }
            });
        }
        let total = hits.len();
        let page = hits
            .into_iter()
            .skip(self.start - 1)
            .take(self.max)
            .collect();
        (total, page)
    }

    /// The values an `=` or `IN` condition on `field` allows, if the query has one: every hit is
    /// among the entities with those values (a fast path over an indexed column).
    pub fn any_of(&self, field: &str) -> Option<&[String]> {
        self.conditions
            .iter()
            .find(|c| matches!(c.op, Op::Eq | Op::In) && c.field.eq_ignore_ascii_case(field))
            .map(|c| c.values.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_statements_the_connector_sends() {
        let q = parse("select * from Customer where DisplayName = 'Amy''s Bird' maxresults 2")
            .expect("parses");
        assert_eq!(q.entity, "Customer");
        assert_eq!(q.conditions[0].values, vec!["Amy's Bird".to_string()]);
        assert_eq!(q.max, 2);
        let q = parse("SELECT count(*) FROM Invoice WHERE DocNumber IN ('1001', '1002') AND CustomerRef = '3'").expect("parses");
        assert!(q.count);
        assert_eq!(q.conditions.len(), 2);
        assert_eq!(q.conditions[0].op, Op::In);
        let q = parse("select * from Invoice where MetaData.LastUpdatedTime > '2026-01-01T00:00:00-08:00' orderby Id desc startposition 11 maxresults 10").expect("parses");
        assert_eq!(q.order, Some(("Id".into(), true)));
        assert_eq!((q.start, q.max), (11, 10));
        let q = parse(r"select * from Customer where DisplayName = 'O\'Brien'").expect("parses");
        assert_eq!(q.conditions[0].values[0], "O'Brien");
    }

    #[test]
    fn bad_statements_are_4000_or_4001() {
        for bad in [
            "select from Customer",
            "select * Customer",
            "select * from Customer where",
            "select * from Customer where Name = 'x",
            "select * from Item maxresults lots",
        ] {
            match parse(bad) {
                Err(Fail::Validation { code, .. }) => assert_eq!(code, "4000", "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(matches!(
            parse("select * from Item maxresults 5000"),
            Err(Fail::Validation { code: "4001", .. })
        ));
    }

    #[test]
    fn an_eq_or_in_names_the_candidates_an_index_can_serve() {
        let q = parse(
            "select * from Invoice where TxnDate >= '2026-01-01' and DocNumber in ('7', '8')",
        )
        .expect("parses");
        assert_eq!(
            q.any_of("docnumber"),
            Some(&["7".to_string(), "8".to_string()][..])
        );
        assert_eq!(q.any_of("TxnDate"), None, "a range is not a look-up");
        let q = parse("select * from Customer where Id = '3'").expect("parses");
        assert_eq!(q.any_of("Id"), Some(&["3".to_string()][..]));
    }

    #[test]
    fn conditions_compare_numbers_times_strings_and_refs() {
        let doc = json!({ "Id": "12", "TotalAmt": 150.5, "DocNumber": "1001", "CustomerRef": { "value": "3" },
            "MetaData": { "LastUpdatedTime": "2026-01-15T10:00:00.000-08:00" }, "DisplayName": "Acme Ltd" });
        let q = parse("select * from Invoice where TotalAmt > '100' and CustomerRef = '3' and MetaData.LastUpdatedTime >= '2026-01-15T18:00:00Z' and DisplayName like 'acme%'").expect("parses");
        assert!(q.conditions.iter().all(|c| c.holds(&doc)));
        let q = parse("select * from Invoice where Id in ('1', '2')").expect("parses");
        assert!(!q.conditions[0].holds(&doc));
        let (total, page) = parse("select * from Invoice startposition 2 maxresults 1")
            .expect("parses")
            .apply(vec![
                json!({"Id":"1"}),
                json!({"Id":"2"}),
                json!({"Id":"3"}),
            ]);
        assert_eq!((total, page), (3, vec![json!({"Id":"2"})]));
    }
}
