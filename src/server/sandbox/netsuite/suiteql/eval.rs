//! Running one SuiteQL `SELECT` over the sandbox's tables: the query is parsed with
//! `sqlparser` (Oracle dialect — SuiteQL is Oracle-flavoured SQL), then evaluated row by row.
//! What is understood is what integrations send for incremental sync and look-ups:
//! `SELECT` columns, `*`, aliases and `TO_CHAR(col, fmt)`; one table; `WHERE` with `AND`,
//! `OR`, `NOT`, comparisons, `IN`, `BETWEEN`, `IS [NOT] NULL`, `TO_DATE` / `TO_TIMESTAMP` with
//! an explicit format, and `?` bound parameters; `ORDER BY` columns or aliases. Anything else is
//! refused with NetSuite's "Invalid search query" answer rather than guessed at.

use chrono::NaiveDateTime;
use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, InTarget, OrderByKind,
    OrderBySort, Query, SelectItem, SetExpr, Statement, TableFactor, UnaryOperator, Value,
};
use sqlparser::dialect::OracleDialect;
use sqlparser::parser::Parser;
use std::cmp::Ordering;

use super::tables::{Row, V};

/// A parsed query: its table, output columns, filter and order.
pub struct Plan {
    /// The table (lowercase).
    pub table: String,
    items: Vec<(String, Expr)>,
    star: bool,
    filter: Option<Expr>,
    order: Vec<(Expr, bool)>,
}

/// Why a query was refused (shown in NetSuite's words by the caller).
pub type Refusal = String;

/// Parses `q` with its bound `params` (NetSuite sends them as strings; each `?` outside a
/// quoted literal takes the next one, as a quoted literal).
pub fn plan(q: &str, params: &[String]) -> Result<Plan, Refusal> {
    let q = bind(q, params)?;
    let statements = Parser::parse_sql(&OracleDialect {}, &q).map_err(|e| e.to_string())?;
    let [Statement::Query(query)] = statements.as_slice() else {
        return Err("only one SELECT statement is supported".into());
    };
    let Query { body, order_by, .. } = query.as_ref();
    let SetExpr::Select(select) = body.as_ref() else {
        return Err("only a plain SELECT is supported".into());
    };
    let [from] = select.from.as_slice() else {
        return Err("exactly one table is supported in FROM".into());
    };
    if !from.joins.is_empty() {
        return Err("joins are not supported by this sandbox".into());
    }
    let TableFactor::Table { name, .. } = &from.relation else {
        return Err("FROM must name a table".into());
    };
    let mut items = Vec::new();
    let mut star = false;
    for item in &select.projection {
        match item {
            SelectItem::UnnamedExpr(e) => items.push((label(e), e.clone())),
            SelectItem::ExprWithAlias { expr, alias } => {
                items.push((alias.value.to_lowercase(), expr.clone()))
            }
            SelectItem::Wildcard(_) => star = true,
            other => return Err(format!("unsupported select item {other}")),
        }
    }
    let order = match order_by.as_ref().map(|o| &o.kind) {
        None => Vec::new(),
        Some(OrderByKind::Expressions(exprs)) => exprs
            .iter()
            .map(|o| {
                (
                    o.expr.clone(),
                    matches!(o.options.sort, Some(OrderBySort::Desc)),
                )
            })
            .collect(),
        Some(OrderByKind::All(_)) => return Err("ORDER BY ALL is not supported".into()),
    };
    Ok(Plan {
        table: name.to_string().to_lowercase(),
        items,
        star,
        filter: select.selection.clone(),
        order,
    })
}

fn bind(q: &str, params: &[String]) -> Result<String, Refusal> {
    let mut out = String::with_capacity(q.len());
    let mut next = params.iter();
    let mut quoted = false;
    for c in q.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => {
                let p = next.next().ok_or("the query has more ? than params")?;
                out.push('\'');
                out.push_str(&p.replace('\'', "''"));
                out.push('\'');
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// The output name of an unnamed column: its own name, lowercase.
fn label(e: &Expr) -> String {
    match e {
        Expr::Identifier(i) => i.value.to_lowercase(),
        Expr::CompoundIdentifier(parts) => parts
            .last()
            .map(|i| i.value.to_lowercase())
            .unwrap_or_default(),
        other => other.to_string().to_lowercase(),
    }
}

impl Plan {
    /// Filters, orders and projects `rows`: each answer row as (column, value) pairs.
    pub fn run(&self, rows: Vec<Row>) -> Result<Vec<Vec<(String, V)>>, Refusal> {
        let mut kept = Vec::new();
        for row in rows {
            let keep = match &self.filter {
                Some(f) => truthy(&self.eval(f, &row)?),
                None => true,
            };
            if keep {
                kept.push(row);
            }
        }
        // Sort keys first, so an error in one surfaces instead of being swallowed by sort.
        let mut keyed = Vec::with_capacity(kept.len());
        for row in kept {
            let keys = self
                .order
                .iter()
                .map(|(e, _)| self.eval_output(e, &row))
                .collect::<Result<Vec<_>, _>>()?;
            keyed.push((keys, row));
        }
        keyed.sort_by(|(a, _), (b, _)| {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                let desc = self.order.get(i).is_some_and(|(_, d)| *d);
                let o = compare(x, y).unwrap_or(Ordering::Equal);
                let o = if desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
        keyed
            .into_iter()
            .map(|(_, row)| {
                let mut out = Vec::new();
                if self.star {
                    out.extend(row.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                for (name, e) in &self.items {
                    out.push((name.clone(), self.eval(e, &row)?));
                }
                Ok(out)
            })
            .collect()
    }

    /// An ORDER BY expression: an output alias, else a column or expression of the row.
    fn eval_output(&self, e: &Expr, row: &Row) -> Result<V, Refusal> {
        if let Expr::Identifier(i) = e {
            let name = i.value.to_lowercase();
            if let Some((_, item)) = self.items.iter().find(|(n, _)| *n == name) {
                return self.eval(item, row);
            }
        }
        self.eval(e, row)
    }

    fn eval(&self, e: &Expr, row: &Row) -> Result<V, Refusal> {
        let bool_v = |b: bool| V::Num(if b { 1.0 } else { 0.0 });
        Ok(match e {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                let col = label(e);
                row.get(&col).cloned().unwrap_or(V::Null)
            }
            Expr::Value(v) => match &v.value {
                Value::SingleQuotedString(s) => V::Str(s.clone()),
                Value::Number(n, _) => V::Num(n.parse().map_err(|_| format!("bad number {n}"))?),
                Value::Null => V::Null,
                other => return Err(format!("unsupported value {other}")),
            },
            Expr::Nested(inner) => self.eval(inner, row)?,
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr,
            } => bool_v(!truthy(&self.eval(expr, row)?)),
            Expr::BinaryOp { left, op, right } => {
                let l = self.eval(left, row)?;
                match op {
                    BinaryOperator::And => bool_v(truthy(&l) && truthy(&self.eval(right, row)?)),
                    BinaryOperator::Or => bool_v(truthy(&l) || truthy(&self.eval(right, row)?)),
                    _ => {
                        let r = self.eval(right, row)?;
                        let Some(o) = compare(&l, &r) else {
                            return Ok(bool_v(false)); // NULL compares to nothing
                        };
                        bool_v(match op {
                            BinaryOperator::Eq => o == Ordering::Equal,
                            BinaryOperator::NotEq => o != Ordering::Equal,
                            BinaryOperator::Lt => o == Ordering::Less,
                            BinaryOperator::LtEq => o != Ordering::Greater,
                            BinaryOperator::Gt => o == Ordering::Greater,
                            BinaryOperator::GtEq => o != Ordering::Less,
                            other => return Err(format!("unsupported operator {other}")),
                        })
                    }
                }
            }
            Expr::In {
                expr,
                target: InTarget::List(list),
                negated,
                ..
            } => {
                let v = self.eval(expr, row)?;
                let mut found = false;
                for item in list {
                    if compare(&v, &self.eval(item, row)?) == Some(Ordering::Equal) {
                        found = true;
                    }
                }
                bool_v(found != *negated && v != V::Null)
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let v = self.eval(expr, row)?;
                let (lo, hi) = (self.eval(low, row)?, self.eval(high, row)?);
                let inside = compare(&v, &lo).is_some_and(|o| o != Ordering::Less)
                    && compare(&v, &hi).is_some_and(|o| o != Ordering::Greater);
                bool_v(inside != *negated)
            }
            Expr::IsNull(inner) => bool_v(self.eval(inner, row)? == V::Null),
            Expr::IsNotNull(inner) => bool_v(self.eval(inner, row)? != V::Null),
            Expr::Function(f) => {
                let name = f.name.to_string().to_uppercase();
                let FunctionArguments::List(list) = &f.args else {
                    return Err(format!("{name} needs arguments"));
                };
                let mut args = Vec::new();
                for a in &list.args {
                    let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = a else {
                        return Err(format!("unsupported argument of {name}"));
                    };
                    args.push(self.eval(e, row)?);
                }
                function(&name, &args)?
            }
            other => return Err(format!("unsupported expression {other}")),
        })
    }
}

fn truthy(v: &V) -> bool {
    matches!(v, V::Num(n) if *n != 0.0)
}

/// Compares two values as SuiteQL would (numbers with numeric text; NULL with nothing).
pub fn compare(a: &V, b: &V) -> Option<Ordering> {
    match (a, b) {
        (V::Null, _) | (_, V::Null) => None,
        (V::Num(x), V::Num(y)) => x.partial_cmp(y),
        (V::Num(x), V::Str(s)) => s.trim().parse::<f64>().ok().and_then(|y| x.partial_cmp(&y)),
        (V::Str(s), V::Num(y)) => s.trim().parse::<f64>().ok().and_then(|x| x.partial_cmp(y)),
        (V::Str(x), V::Str(y)) => Some(x.cmp(y)),
        (V::Time(x), V::Time(y)) => Some(x.cmp(y)),
        (V::Date(x), V::Date(y)) => Some(x.cmp(y)),
        (V::Date(x), V::Time(y)) => x.and_hms_opt(0, 0, 0).map(|x| x.and_utc().cmp(y)),
        (V::Time(x), V::Date(y)) => y.and_hms_opt(0, 0, 0).map(|y| x.cmp(&y.and_utc())),
        _ => None,
    }
}

fn function(name: &str, args: &[V]) -> Result<V, Refusal> {
    match (name, args) {
        ("TO_CHAR", [v, V::Str(fmt)]) => Ok(match v {
            V::Null => V::Null,
            V::Time(t) => V::Str(t.format(&chrono_format(fmt)?).to_string()),
            V::Date(d) => V::Str(d.format(&chrono_format(fmt)?).to_string()),
            V::Num(n) => V::Str(number_text(*n)),
            V::Str(s) => V::Str(s.clone()),
        }),
        ("TO_DATE" | "TO_TIMESTAMP", [V::Str(s), V::Str(fmt)]) => {
            let f = chrono_format(fmt)?;
            let parsed = NaiveDateTime::parse_from_str(s, &f)
                .map(|t| t.and_utc())
                .or_else(|_| {
                    chrono::NaiveDate::parse_from_str(s, &f)
                        .map(|d| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
                        .map_err(|e| e.to_string())
                        .and_then(|t| t.ok_or_else(|| "bad date".to_string()))
                })
                .map_err(|e| format!("{name}('{s}', '{fmt}'): {e}"))?;
            Ok(V::Time(parsed))
        }
        ("UPPER", [V::Str(s)]) => Ok(V::Str(s.to_uppercase())),
        ("LOWER", [V::Str(s)]) => Ok(V::Str(s.to_lowercase())),
        (other, _) => Err(format!(
            "function {other} with these arguments is not supported"
        )),
    }
}

/// An Oracle date format (`YYYY-MM-DD HH24:MI:SS`) as a chrono one.
fn chrono_format(fmt: &str) -> Result<String, Refusal> {
    let mut out = String::new();
    let mut rest = fmt;
    while !rest.is_empty() {
        // Compared byte for byte without regard to ASCII case (never by uppercasing the text:
        // some letters uppercase to ASCII and would shift the slicing off a char boundary).
        let (token, len) = [
            ("YYYY", "%Y"),
            ("HH24", "%H"),
            ("MM", "%m"),
            ("DD", "%d"),
            ("MI", "%M"),
            ("SS", "%S"),
        ]
        .iter()
        .find(|(t, _)| {
            rest.get(..t.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(t))
        })
        .map(|(t, c)| (c.to_string(), t.len()))
        .unwrap_or_else(|| (String::new(), 0));
        if len > 0 {
            out.push_str(&token);
            rest = &rest[len..];
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        match c {
            '"' => {
                // A quoted literal: "T".
                let end = rest[1..]
                    .find('"')
                    .ok_or("unclosed quote in a date format")?;
                out.push_str(&rest[1..=end].replace('%', "%%"));
                rest = &rest[end + 2..];
            }
            '-' | '/' | ':' | ' ' | '.' | 'T' => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
            _ => return Err(format!("date format element in {fmt:?} is not supported")),
        }
    }
    Ok(out)
}

/// A number as SuiteQL writes it: integers without a decimal point.
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A value as a SuiteQL answer writes it: a string; plain dates in the account's date format
/// (the sandbox's accounts use NetSuite's US default, `M/D/YYYY`) without the time of day.
pub fn answer_text(v: &V) -> Option<String> {
    match v {
        V::Null => None,
        V::Str(s) => Some(s.clone()),
        V::Num(n) => Some(number_text(*n)),
        V::Time(t) => Some(us_date(t.date_naive())),
        V::Date(d) => Some(us_date(*d)),
    }
}

fn us_date(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}/{}/{}", d.month(), d.day(), d.year())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

    fn row(id: f64, name: &str, at: DateTime<Utc>) -> Row {
        let mut r = Row::new();
        r.insert("id".into(), V::Num(id));
        r.insert("companyname".into(), V::Str(name.into()));
        r.insert("lastmodifieddate".into(), V::Time(at));
        r
    }

    #[test]
    fn a_watermark_query_filters_orders_and_formats_as_netsuite_does() {
        let t = |h| {
            Utc.with_ymd_and_hms(2026, 11, 27, h, 30, 15)
                .single()
                .expect("time")
        };
        let rows = vec![
            row(3.0, "C", t(12)),
            row(1.0, "A", t(9)),
            row(2.0, "B", t(12)),
        ];
        let p = plan(
            "SELECT id, companyname, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified, lastmodifieddate \
             FROM customer WHERE lastmodifieddate > TO_DATE('2026-11-27 10:00:00', 'YYYY-MM-DD HH24:MI:SS') \
             ORDER BY lastmodifieddate, id",
            &[],
        )
        .expect("plan");
        let out = p.run(rows).expect("run");
        let ids: Vec<_> = out.iter().map(|r| answer_text(&r[0].1)).collect();
        assert_eq!(ids, vec![Some("2".into()), Some("3".into())]);
        assert_eq!(
            out[0][2],
            ("modified".into(), V::Str("2026-11-27 12:30:15".into()))
        );
        assert_eq!(
            answer_text(&out[0][3].1).as_deref(),
            Some("11/27/2026"),
            "plain date, no time"
        );
    }

    #[test]
    fn bound_parameters_and_in_lists_are_understood() {
        let t = Utc::now();
        let rows = vec![row(1.0, "A", t), row(2.0, "B", t), row(3.0, "C", t)];
        let p = plan(
            "SELECT id FROM customer WHERE companyname IN ('A', 'C') AND id > ?",
            &["1".to_string()],
        )
        .expect("plan");
        let out = p.run(rows).expect("run");
        assert_eq!(out.len(), 1);
        assert_eq!(answer_text(&out[0][0].1).as_deref(), Some("3"));
    }

    #[test]
    fn a_format_with_letters_that_uppercase_to_ascii_is_refused_not_a_panic() {
        for fmt in ["Mı", "ſS", "YYYY-MM-DD HH24:MI:ſS"] {
            assert!(chrono_format(fmt).is_err(), "{fmt}");
        }
        assert_eq!(
            chrono_format("yyyy-mm-dd\"T\"hh24:mi:ss").as_deref(),
            Ok("%Y-%m-%dT%H:%M:%S")
        );
    }

    #[test]
    fn what_is_not_understood_is_refused_not_guessed() {
        assert!(plan("DELETE FROM customer", &[]).is_err());
        assert!(plan(
            "SELECT id FROM customer c JOIN transaction t ON t.entity = c.id",
            &[]
        )
        .is_err());
        let p = plan(
            "SELECT id FROM customer WHERE SOUNDEX(companyname) = 'A'",
            &[],
        )
        .expect("plan");
        assert!(p.run(vec![row(1.0, "A", Utc::now())]).is_err());
    }
}
