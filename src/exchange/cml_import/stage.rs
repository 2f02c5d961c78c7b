//! Staging tables: the rows of one file go into temporary tables (dropped at commit) with one
//! `INSERT … SELECT FROM unnest(…)` per 20,000 rows, and are applied from there with
//! set-based statements.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{Array, Bool, Int8, Jsonb, Nullable, Numeric, Text};
use rust_decimal::Decimal;

use crate::error::AppResult;

const CHUNK: usize = 20_000;

/// One column of rows to stage.
pub enum Col {
    Text(Vec<Option<String>>),
    Bool(Vec<bool>),
    Int(Vec<Option<i64>>),
    Num(Vec<Decimal>),
    Json(Vec<serde_json::Value>),
}

impl Col {
    fn len(&self) -> usize {
        match self {
            Col::Text(v) => v.len(),
            Col::Bool(v) => v.len(),
            Col::Int(v) => v.len(),
            Col::Num(v) => v.len(),
            Col::Json(v) => v.len(),
        }
    }

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
        r: std::ops::Range<usize>,
    ) -> BoxedSqlQuery<'a, Pg, diesel::query_builder::SqlQuery> {
        match self {
            Col::Text(v) => q.bind::<Array<Nullable<Text>>, _>(v[r].to_vec()),
            Col::Bool(v) => q.bind::<Array<Bool>, _>(v[r].to_vec()),
            Col::Int(v) => q.bind::<Array<Nullable<Int8>>, _>(v[r].to_vec()),
            Col::Num(v) => q.bind::<Array<Numeric>, _>(v[r].to_vec()),
            Col::Json(v) => q.bind::<Array<Jsonb>, _>(v[r].to_vec()),
        }
    }
}

/// Creates temporary table `name` with `cols` (dropped at commit) and fills it.
pub fn stage(conn: &mut PgConnection, name: &str, cols: &[(&str, Col)]) -> AppResult<usize> {
    let defs: Vec<String> = cols.iter().map(|(n, c)| format!("{n} {}", c.sql_type())).collect();
    diesel::sql_query(format!("DROP TABLE IF EXISTS {name}")).execute(conn)?;
    diesel::sql_query(format!("CREATE TEMPORARY TABLE {name} ({}) ON COMMIT DROP", defs.join(", "))).execute(conn)?;
    let rows = cols.first().map_or(0, |(_, c)| c.len());
    let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
    let params: Vec<String> =
        cols.iter().enumerate().map(|(i, (_, c))| format!("${}::{}[]", i + 1, c.sql_type())).collect();
    let sql = format!("INSERT INTO {name} ({}) SELECT * FROM unnest({})", names.join(", "), params.join(", "));
    let mut start = 0;
    while start < rows {
        let end = (start + CHUNK).min(rows);
        let mut q = diesel::sql_query(sql.clone()).into_boxed();
        for (_, c) in cols {
            q = c.bind(q, start..end);
        }
        q.execute(conn)?;
        start = end;
    }
    diesel::sql_query(format!("ANALYZE {name}")).execute(conn)?;
    Ok(rows)
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
