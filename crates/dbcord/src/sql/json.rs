//! JSON documents in SQL: the `->` / `->>` operators bind as in PostgreSQL.
//!
//! sqlparser's generic dialect gives `->` and `->>` a lower precedence
//! than comparisons, so `doc->>'k' = 'v'` parses as `doc ->> ('k' = 'v')`.
//! PostgreSQL, whose operators these are, binds them tighter than any
//! comparison. Rather than a whole dialect of its own, dbcord turns such
//! trees around after parsing: an arrow whose right side is a comparison
//! (or LIKE, IN, BETWEEN, IS NULL) of a plain operand becomes that
//! comparison of the arrow.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, visit_expressions_mut};

/// Fix the precedence of every JSON arrow in a statement.
pub fn fix_statement(stmt: &mut Statement) {
    if let Statement::Statement(s) = stmt {
        let _ = visit_expressions_mut(s.as_mut(), |e| {
            fix(e);
            ControlFlow::<()>::Continue(())
        });
    }
}

/// Fix the precedence of the arrows in one expression (and below it).
pub fn fix_expr(expr: &mut Expr) {
    let _ = visit_expressions_mut(expr, |e| {
        fix(e);
        ControlFlow::<()>::Continue(())
    });
}

fn is_arrow(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Arrow
            | BinaryOperator::LongArrow
            | BinaryOperator::HashArrow
            | BinaryOperator::HashLongArrow
    )
}

fn is_comparison(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq
    )
}

/// `a -> (k CMP v)` to `(a -> k) CMP v`, at this node.
fn fix(e: &mut Expr) {
    let Expr::BinaryOp { op, right, .. } = e else {
        return;
    };
    if !is_arrow(op) {
        return;
    }
    let Some(slot) = left_operand(right) else {
        return;
    };
    // Take the comparison's left operand out, put the arrow in its place.
    let key = std::mem::replace(
        slot,
        Expr::value(datafusion::sql::sqlparser::ast::Value::Null),
    );
    let comparison = std::mem::replace(right.as_mut(), key);
    let arrow = std::mem::replace(e, comparison);
    let Some(slot) = left_operand(e) else {
        unreachable!("the comparison kept its shape");
    };
    *slot = arrow;
}

/// The left operand of a comparison-like expression.
fn left_operand(e: &mut Expr) -> Option<&mut Expr> {
    Some(match e {
        Expr::BinaryOp { left, op, .. } if is_comparison(op) => left.as_mut(),
        Expr::Like { expr, .. }
        | Expr::ILike { expr, .. }
        | Expr::InList { expr, .. }
        | Expr::Between { expr, .. }
        | Expr::IsNull(expr)
        | Expr::IsNotNull(expr) => expr.as_mut(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    use super::*;

    fn fixed(sql: &str) -> String {
        let mut e = Parser::new(&GenericDialect {})
            .try_with_sql(sql)
            .unwrap()
            .parse_expr()
            .unwrap();
        fix_expr(&mut e);
        match e {
            Expr::BinaryOp { left, op, right } => format!("({left}) {op} ({right})"),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn arrows_bind_tighter_than_comparisons() {
        assert_eq!(fixed("doc->>'k' = 'v'"), "(doc ->> 'k') = ('v')");
        assert_eq!(
            fixed("doc->'a'->>'b' <> 'v'"),
            "(doc -> 'a' ->> 'b') <> ('v')"
        );
        assert_eq!(
            fixed("doc->>'k' = 'v' AND n > 1"),
            "(doc ->> 'k' = 'v') AND (n > 1)"
        );
        assert_eq!(fixed("a = b"), "(a) = (b)");
    }
}
