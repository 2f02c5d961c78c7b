//! `Классификатор`: groups → categories (nested, by 1C id), properties → attributes (a
//! `Справочник` property becomes a list attribute whose value ids resolve through
//! `attributes.external_values`).

use std::collections::{BTreeMap, HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::{Jsonb, Text};
use serde_json::Value;

use super::rows::{attribute_code, code_for, cut};
use super::stage::{stage, Col, Id, Touched};
use crate::error::AppResult;
use crate::exchange::commerceml::{Classifier, Group, Property};
use crate::exchange::report::ImportReport;

/// A 1C property as stored: our attribute code, kind and reference values.
pub struct Prop {
    pub code: String,
    pub kind: String,
    pub values: HashMap<String, String>,
}

pub fn apply(conn: &mut PgConnection, cls: &Classifier, report: &mut ImportReport) -> AppResult<()> {
    categories(conn, &cls.groups, report)?;
    attributes(conn, cls, report)
}

fn flatten<'a>(groups: &'a [Group], out: &mut Vec<&'a Group>) {
    for g in groups {
        out.push(g);
        flatten(&g.children, out);
    }
}

fn categories(conn: &mut PgConnection, groups: &[Group], report: &mut ImportReport) -> AppResult<()> {
    let mut all = Vec::new();
    flatten(groups, &mut all);
    let mut seen = HashSet::new();
    all.retain(|g| !g.id.is_empty() && seen.insert(g.id.as_str()));
    if all.is_empty() {
        return Ok(());
    }
    let all: Vec<(i64, &Group)> = (0..).zip(all).collect();
    let n = stage(
        conn,
        "stg_categories",
        &all,
        &[
            ("external_id", Col::Text(&|(_, g)| Some(g.id.clone()))),
            ("parent_id", Col::Text(&|(_, g)| g.parent_id.clone())),
            ("code", Col::Text(&|(_, g)| Some(code_for(&g.id)))),
            ("name", Col::Text(&|(_, g)| Some(cut(if g.name.trim().is_empty() { &g.id } else { &g.name }, 200)))),
            ("position", Col::Int(&|(i, _)| Some(*i))),
        ],
    )?;
    let touched: Vec<Touched> = diesel::sql_query(
        "INSERT INTO categories AS c (external_id, code, name, position) \
         SELECT s.external_id, s.code, s.name, s.position FROM stg_categories s \
         ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO UPDATE \
            SET name = EXCLUDED.name, position = EXCLUDED.position \
          WHERE (c.name, c.position) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.position) \
         RETURNING c.id, (c.xmax = 0) AS created, false AS variant",
    )
    .load(conn)?;
    let linked: Vec<Id> = diesel::sql_query(
        "UPDATE categories c SET parent_id = p.id FROM stg_categories s \
         LEFT JOIN categories p ON p.external_id = s.parent_id \
         WHERE c.external_id = s.external_id AND c.parent_id IS DISTINCT FROM p.id RETURNING c.id",
    )
    .load(conn)?;
    count(report, "categories", n, &touched, &linked);
    Ok(())
}

/// Fills the counts of `what` from the rows an upsert touched and those updated after it.
pub fn count(report: &mut ImportReport, what: &str, staged: usize, touched: &[Touched], more: &[Id]) {
    let created: HashSet<i64> = touched.iter().filter(|t| t.created).map(|t| t.id).collect();
    let updated: HashSet<i64> =
        touched.iter().filter(|t| !t.created).map(|t| t.id).chain(more.iter().map(|m| m.id)).collect();
    let updated = updated.difference(&created).count() as u64;
    let c = report.of(what);
    c.created += created.len() as u64;
    c.updated += updated;
    c.unchanged += (staged as u64).saturating_sub(created.len() as u64 + updated);
}

fn attributes(conn: &mut PgConnection, cls: &Classifier, report: &mut ImportReport) -> AppResult<()> {
    let mut seen = HashSet::new();
    let props: Vec<_> = cls.properties.iter().filter(|p| !p.id.is_empty() && seen.insert(p.id.as_str())).collect();
    if props.is_empty() {
        return Ok(());
    }
    let kind = |t: Option<&str>| match t {
        Some("Справочник") => "list",
        Some("Число") => "number",
        _ => "text",
    };
    let options = |p: &Property| -> Value {
        let mut seen = HashSet::new();
        let list: Vec<String> =
            p.values.iter().map(|v| cut(&v.value, 200)).filter(|v| !v.is_empty() && seen.insert(v.clone())).collect();
        Value::from(list)
    };
    let values = |p: &Property| -> Value {
        let map: serde_json::Map<String, Value> =
            p.values.iter().map(|v| (v.id.clone(), Value::String(cut(&v.value, 200)))).collect();
        Value::Object(map)
    };
    let props: Vec<(i64, &Property)> = (0..).zip(props).collect();
    let n = stage(
        conn,
        "stg_attributes",
        &props,
        &[
            ("external_id", Col::Text(&|(_, p)| Some(p.id.clone()))),
            ("code", Col::Text(&|(_, p)| Some(attribute_code(&p.id)))),
            ("name", Col::Text(&|(_, p)| Some(cut(if p.name.trim().is_empty() { &p.id } else { &p.name }, 100)))),
            ("kind", Col::Text(&|(_, p)| Some(kind(p.value_type.as_deref()).to_owned()))),
            ("options", Col::Json(&|(_, p)| options(p))),
            ("ext_values", Col::Json(&|(_, p)| values(p))),
            ("position", Col::Int(&|(i, _)| Some(*i))),
        ],
    )?;
    // A property listed without its values keeps the values it had.
    let touched: Vec<Touched> = diesel::sql_query(
        "INSERT INTO attributes AS a (external_id, code, name, kind, options, external_values, position) \
         SELECT s.external_id, s.code, s.name, s.kind, \
                CASE WHEN jsonb_array_length(s.options) = 0 AND old.code IS NOT NULL THEN old.options \
                     ELSE ARRAY(SELECT jsonb_array_elements_text(s.options)) END, \
                coalesce(old.external_values, '{}') || s.ext_values, s.position \
         FROM stg_attributes s LEFT JOIN attributes old ON old.external_id = s.external_id \
         ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO UPDATE \
            SET name = EXCLUDED.name, kind = EXCLUDED.kind, options = EXCLUDED.options, \
                external_values = EXCLUDED.external_values \
          WHERE (a.name, a.kind, a.options, a.external_values) \
                IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.kind, EXCLUDED.options, EXCLUDED.external_values) \
         RETURNING 0::bigint AS id, (a.xmax = 0) AS created, false AS variant",
    )
    .load(conn)?;
    // Ids are not numbers here: count by position instead.
    let created = touched.iter().filter(|t| t.created).count() as u64;
    let updated = touched.len() as u64 - created;
    let c = report.of("attributes");
    c.created += created;
    c.updated += updated;
    c.unchanged += (n as u64).saturating_sub(created + updated);
    Ok(())
}

#[derive(QueryableByName)]
struct PropRow {
    #[diesel(sql_type = Text)]
    external_id: String,
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Jsonb)]
    external_values: Value,
}

/// Every 1C property known to the tenant (this file's and earlier ones').
pub fn known_props(conn: &mut PgConnection) -> AppResult<BTreeMap<String, Prop>> {
    let rows: Vec<PropRow> = diesel::sql_query(
        "SELECT external_id, code, kind, external_values FROM attributes WHERE external_id IS NOT NULL",
    )
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let values = r
                .external_values
                .as_object()
                .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned()))).collect())
                .unwrap_or_default();
            (r.external_id, Prop { code: r.code, kind: r.kind, values })
        })
        .collect())
}
