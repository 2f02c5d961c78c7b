//! The 1C catalog import (issue 8): one CommerceML file (import*, offers*, prices*, rests*)
//! applied to a tenant's catalog. The file is parsed off the async threads; the images it
//! names are stored first (content-addressed, so nothing is stored twice); then the whole
//! document is applied in ONE tenant transaction through temporary staging tables and
//! set-based upserts that change only rows whose values differ. Readers see the old
//! catalog until the commit; importing the same package again changes no row.

mod catalog;
mod classifier;
mod images;
mod offers;
pub mod price_types;
mod products;
mod rows;
mod stage;

use std::path::Path;

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::app::AppState;
use crate::db::{with_tenant, TenantSchema};
use crate::error::AppError;
use crate::exchange::commerceml::{self, CmlDocument};
use crate::exchange::report::{ImportError, ImportReport};

/// Tenant setting: what a full catalog package does to the products it no longer lists:
/// `archive` (the default) or `keep`.
pub const ABSENT_PRODUCTS: &str = "exchange_absent_products";

/// What a file is, by the name 1C gave it (`import0_1.xml`, `offers___<guid>.xml`,
/// `goods/1/prices.xml`); `None` when the name says nothing and the content decides.
pub fn kind_of(file_name: &str) -> Option<&'static str> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name).to_lowercase();
    ["import", "offers", "prices", "rests"].into_iter().find(|k| base.starts_with(k)).map(|k| match k {
        "import" => "catalog",
        k => k,
    })
}

/// Imports one uploaded CommerceML file into the tenant's catalog (see the module doc).
pub async fn import_file(
    state: &AppState,
    tenant_id: i64,
    schema: &TenantSchema,
    file_name: &str,
    path: &Path,
    files_dir: &Path,
) -> Result<ImportReport, ImportError> {
    let owned = path.to_owned();
    let doc = crate::db::run_blocking(move || Ok(commerceml::parse_file(&owned))).await??;
    if doc.classifier.is_none() && doc.catalog.is_none() && doc.offers.is_none() {
        return Err(ImportError::Refused(format!(
            "{file_name}: no <Классификатор>, <Каталог> or <ПакетПредложений> in the file"
        )));
    }
    let kind = kind_of(file_name).unwrap_or(if doc.catalog.is_some() { "catalog" } else { "offers" });
    let mut report = ImportReport::new(file_name, kind, &doc.header.schema_version);
    for w in &doc.warnings {
        report.warn(w.line, w.message.clone());
    }
    let linked = match &doc.catalog {
        Some(cat) => images::prepare(state, schema, cat, files_dir, &mut report).await?,
        None => Vec::new(),
    };
    let lock_key = schema.as_str().to_owned();
    let report = with_tenant(&state.pool, schema, move |c| {
        diesel::sql_query(
            "SELECT set_config('statement_timeout', '600000', true), \
                    pg_advisory_xact_lock(hashtextextended('cml_import:' || $1, 0))",
        )
        .bind::<Text, _>(&lock_key)
        .execute(c)?;
        apply(c, tenant_id, doc, &linked, report)
    })
    .await?;
    Ok(report)
}

fn setting(conn: &mut PgConnection, key: &str) -> Result<Option<String>, AppError> {
    #[derive(QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        v: Option<String>,
    }
    let row: Option<V> = diesel::sql_query("SELECT value #>> '{}' AS v FROM settings WHERE key = $1")
        .bind::<Text, _>(key)
        .get_result(conn)
        .optional()?;
    Ok(row.and_then(|r| r.v))
}

/// Applies the document inside the caller's tenant transaction.
fn apply(
    conn: &mut PgConnection,
    tenant_id: i64,
    doc: CmlDocument,
    linked: &[images::Linked],
    mut report: ImportReport,
) -> Result<ImportReport, AppError> {
    let CmlDocument { classifier, catalog, offers, .. } = doc;
    let mut changed = Vec::new();
    if let Some(cls) = &classifier {
        classifier::apply(conn, cls, &mut report)?;
    }
    if let Some(cat) = catalog {
        let props = classifier::known_props(conn)?;
        let catalog_id = [cat.id.as_str(), cat.classifier_id.as_deref().unwrap_or_default()]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or("catalog")
            .to_owned();
        let only_changes = cat.only_changes;
        let list = catalog::rows(cat, &catalog_id, &props, &mut report);
        changed.extend(products::upsert(conn, &list, &mut report)?);
        if !only_changes && setting(conn, ABSENT_PRODUCTS)?.as_deref() != Some("keep") {
            changed.extend(products::archive_absent(conn, &catalog_id, &mut report)?);
        }
        changed.extend(images::link(conn, linked, &mut report)?);
    }
    if let Some(pkg) = &offers {
        let currency = crate::catalog::settings::load(conn)?.currency;
        let (types, warehouses) = match &classifier {
            Some(c) => (c.price_types.as_slice(), c.warehouses.as_slice()),
            None => (&[][..], &[][..]),
        };
        changed.extend(offers::apply(conn, pkg, types, warehouses, &currency, &mut report)?);
    } else if let Some(cls) = &classifier {
        // 3.x: price types and warehouses declared in the classifier of import.xml.
        if !cls.price_types.is_empty() || !cls.warehouses.is_empty() {
            let pkg = commerceml::OfferPackage::default();
            let currency = crate::catalog::settings::load(conn)?.currency;
            changed.extend(offers::apply(conn, &pkg, &cls.price_types, &cls.warehouses, &currency, &mut report)?);
        }
    }
    changed.sort_unstable();
    changed.dedup();
    if !changed.is_empty() {
        crate::catalog::products::after_change(conn, tenant_id, &changed)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_file_name() {
        assert_eq!(kind_of("import0_1.xml"), Some("catalog"));
        assert_eq!(kind_of("offers___1af6.xml"), Some("offers"));
        assert_eq!(kind_of("goods/1/prices.xml"), Some("prices"));
        assert_eq!(kind_of("Rests___x.xml"), Some("rests"));
        assert_eq!(kind_of("orders.xml"), None);
        assert_eq!(images::inside(Path::new("/x"), "../etc/passwd"), None);
        assert_eq!(images::inside(Path::new("/x"), "/etc/passwd"), None);
        assert_eq!(
            images::inside(Path::new("/x"), "import_files/a.jpg"),
            Some(Path::new("/x/import_files/a.jpg").into())
        );
    }
}
