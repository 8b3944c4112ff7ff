//! `.schema` and `.indexes`: the catalog as a person reads it.

use std::sync::Arc;

use crate::store::{IndexDef, TableDef};

/// The statements that would make the table again: CREATE TABLE with its
/// rules, then its indexes.
pub fn schema_sql(def: &TableDef, indexes: &[Arc<IndexDef>]) -> String {
    let mut lines: Vec<String> = def
        .columns
        .iter()
        .map(|c| {
            let mut line = format!("    {} {}", c.name, c.ty.sql_name());
            if !c.nullable && !def.primary_key.contains(&c.name) {
                line.push_str(" NOT NULL");
            }
            if let Some(d) = &c.default {
                line.push_str(&format!(" DEFAULT {d}"));
            }
            line
        })
        .collect();
    lines.push(format!("    PRIMARY KEY ({})", def.primary_key.join(", ")));
    for check in &def.checks {
        lines.push(format!(
            "    CONSTRAINT {} CHECK ({})",
            check.name, check.expr
        ));
    }
    let mut out = format!(
        "CREATE TABLE {} (\n{}\n);",
        def.qualified_name(),
        lines.join(",\n")
    );
    for index in indexes {
        let column = def
            .index_column(index)
            .map(|i| def.columns[i].name.as_str())
            .unwrap_or(&index.column);
        let unique = if index.unique { "UNIQUE " } else { "" };
        out.push_str(&format!(
            "\nCREATE {unique}INDEX {} ON {} ({column});",
            index.name,
            def.qualified_name()
        ));
    }
    out
}

/// One line per index: name, table, column, UNIQUE, whether reads use it.
pub fn index_lines(def: &TableDef, indexes: &[Arc<IndexDef>]) -> Vec<String> {
    indexes
        .iter()
        .map(|index| {
            let column = def
                .index_column(index)
                .map(|i| def.columns[i].name.as_str())
                .unwrap_or(&index.column);
            format!(
                "{} on {} ({column}){}{}",
                index.name,
                def.qualified_name(),
                if index.unique { " unique" } else { "" },
                if index.ready {
                    ""
                } else {
                    " (being built: reads do not use it)"
                }
            )
        })
        .collect()
}
