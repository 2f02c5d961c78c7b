//! Staging tables: the rows of one file go into temporary tables (dropped at commit) with one
//! `INSERT … SELECT FROM unnest(…)` per 20,000 rows, made from the rows chunk by chunk, and
//! are applied from there with set-based statements.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{Array, Bool, Int8, Jsonb, Nullable, Numeric, Text};
use rust_decimal::Decimal;

use crate::error::AppResult;

const CHUNK: usize = 20_000;

/// One column of the staging table: how its value is read off a row. Values are made one
/// chunk at a time, so staging never holds a second copy of the whole file's rows.
pub enum Col<'f, T> {
    Text(&'f dyn Fn(&T) -> Option<String>),
    Bool(&'f dyn Fn(&T) -> bool),
    Int(&'f dyn Fn(&T) -> Option<i64>),
    Num(&'f dyn Fn(&T) -> Decimal),
    Json(&'f dyn Fn(&T) -> serde_json::Value),
}

impl<T> Col<'_, T> {
    fn sql_type(&self) -> &'static str {
        match self {
            Col::Text(_) => "text",
            Col::Bool(_) => "boolean",
            Col::Int(_) => "bigint",
            Col::Num(_) => "numeric",
            Col::Json(_) => "jsonb",
        }
    }

    fn bind<'a>(
        &self,
        q: BoxedSqlQuery<'a, Pg, diesel::query_builder::SqlQuery>,
        chunk: &[T],
    ) -> BoxedSqlQuery<'a, Pg, diesel::query_builder::SqlQuery> {
        match self {
            Col::Text(f) => q.bind::<Array<Nullable<Text>>, _>(chunk.iter().map(f).collect::<Vec<_>>()),
            Col::Bool(f) => q.bind::<Array<Bool>, _>(chunk.iter().map(f).collect::<Vec<_>>()),
            Col::Int(f) => q.bind::<Array<Nullable<Int8>>, _>(chunk.iter().map(f).collect::<Vec<_>>()),
            Col::Num(f) => q.bind::<Array<Numeric>, _>(chunk.iter().map(f).collect::<Vec<_>>()),
            Col::Json(f) => q.bind::<Array<Jsonb>, _>(chunk.iter().map(f).collect::<Vec<_>>()),
        }
    }
}

/// Creates temporary table `name` with `cols` (dropped at commit) and fills it from `rows`.
pub fn stage<T>(conn: &mut PgConnection, name: &str, rows: &[T], cols: &[(&str, Col<'_, T>)]) -> AppResult<usize> {
    let defs: Vec<String> = cols.iter().map(|(n, c)| format!("{n} {}", c.sql_type())).collect();
    diesel::sql_query(format!("DROP TABLE IF EXISTS {name}")).execute(conn)?;
    diesel::sql_query(format!("CREATE TEMPORARY TABLE {name} ({}) ON COMMIT DROP", defs.join(", "))).execute(conn)?;
    let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
    let params: Vec<String> =
        cols.iter().enumerate().map(|(i, (_, c))| format!("${}::{}[]", i + 1, c.sql_type())).collect();
    let sql = format!("INSERT INTO {name} ({}) SELECT * FROM unnest({})", names.join(", "), params.join(", "));
    for chunk in rows.chunks(CHUNK) {
        let mut q = diesel::sql_query(sql.clone()).into_boxed();
        for (_, c) in cols {
            q = c.bind(q, chunk);
        }
        q.execute(conn)?;
    }
    diesel::sql_query(format!("ANALYZE {name}")).execute(conn)?;
    Ok(rows.len())
}

/// `(id, created)` of the rows an upsert touched (`RETURNING id, (xmax = 0)`).
#[derive(QueryableByName, Debug, Clone, Copy)]
pub struct Touched {
    #[diesel(sql_type = Int8)]
    pub id: i64,
    #[diesel(sql_type = Bool)]
    pub created: bool,
    #[diesel(sql_type = Bool)]
    pub variant: bool,
}

#[derive(QueryableByName, Debug)]
pub struct Id {
    #[diesel(sql_type = Int8)]
    pub id: i64,
}
