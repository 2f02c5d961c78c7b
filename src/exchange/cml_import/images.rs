//! `<Картинка>` files of a catalog: read from the session's exchange directory (never outside
//! it), checked and thumbnailed by `catalog::media`, stored under keys derived from their
//! content hash (so importing them again stores nothing), and linked to their products in
//! the import's transaction.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use diesel::prelude::*;
use diesel::sql_types::{Array, Int4, Text};

use super::stage::{stage, Col};
use crate::app::AppState;
use crate::catalog::media;
use crate::db::TenantSchema;
use crate::error::{AppError, AppResult};
use crate::exchange::commerceml::Catalog;
use crate::exchange::report::ImportReport;

/// An image ready to link: the product's 1C id, its position and the stored keys.
#[derive(Debug, Clone)]
pub struct Linked {
    pub external_id: String,
    pub position: i32,
    pub key: String,
    pub thumb_key: String,
    pub content_type: String,
    pub width: i32,
    pub height: i32,
}

/// `rel` inside `dir`, or `None` when it would leave it (`..`, absolute, a prefix).
pub fn inside(dir: &Path, rel: &str) -> Option<PathBuf> {
    let rel = rel.trim().replace('\\', "/");
    let rel = Path::new(&rel);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(dir.join(rel))
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Text)]
    storage_key: String,
    #[diesel(sql_type = Text)]
    thumb_key: String,
    #[diesel(sql_type = Text)]
    content_type: String,
    #[diesel(sql_type = Int4)]
    width: i32,
    #[diesel(sql_type = Int4)]
    height: i32,
}

/// Reads, checks and stores the catalog's images; problems with one image are warnings.
pub async fn prepare(
    state: &AppState,
    schema: &TenantSchema,
    cat: &Catalog,
    files_dir: &Path,
    report: &mut ImportReport,
) -> AppResult<Vec<Linked>> {
    let mut wanted = Vec::new();
    for p in &cat.products {
        for (i, rel) in p.images.iter().enumerate() {
            match inside(files_dir, rel) {
                Some(path) => wanted.push((p.id.full.clone(), i as i32, rel.clone(), path, p.line)),
                None => report.warn(p.line, format!("image path {rel} leaves the exchange directory; skipped")),
            }
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    // Content hashes first (cheap), then only new images are decoded and stored.
    let mut hashed = Vec::new();
    for (ext_id, pos, rel, path, line) in wanted {
        let read = crate::db::run_blocking(move || {
            match std::fs::metadata(&path) {
                Ok(m) if m.len() > media::MAX_IMAGE_BYTES as u64 => return Ok(Err("is larger than 10 MB")),
                Ok(_) => {}
                Err(_) => return Ok(Err("is not among the uploaded files")),
            }
            Ok(std::fs::read(&path).map_err(|_| "cannot be read"))
        })
        .await?;
        match read {
            Ok(bytes) => {
                let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
                hashed.push((ext_id, pos, digest, bytes));
            }
            Err(why) => report.warn(line, format!("image {rel} {why}; skipped")),
        }
    }
    let keys: Vec<String> = hashed.iter().map(|(_, _, d, _)| format!("{}/images/1c-{d}", schema.as_str())).collect();
    let schema2 = schema.clone();
    let stored: Vec<Stored> = crate::db::with_tenant(&state.pool, &schema2, move |c| {
        Ok(diesel::sql_query(
            "SELECT DISTINCT ON (split_part(storage_key, '.', 1)) storage_key, thumb_key, content_type, width, height \
             FROM product_images WHERE split_part(storage_key, '.', 1) = ANY($1)",
        )
        .bind::<Array<Text>, _>(&keys)
        .load(c)?)
    })
    .await?;
    let mut known: HashMap<String, Stored> =
        stored.into_iter().map(|s| (s.storage_key.split('.').next().unwrap_or_default().to_owned(), s)).collect();
    let mut out = Vec::new();
    for (ext_id, pos, digest, bytes) in hashed {
        let stem = format!("{}/images/1c-{digest}", schema.as_str());
        if !known.contains_key(&stem) {
            let img = match actix_web::web::block(move || media::process_image(&bytes))
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("image worker: {e}")))?
            {
                Ok(img) => img,
                Err(e) => {
                    report.warn(0, format!("image of product {ext_id}: {e}; skipped"));
                    continue;
                }
            };
            let key = format!("{stem}.{}", img.ext);
            let thumb_key = format!("{}/thumbs/1c-{digest}.jpg", schema.as_str());
            state.media.put(&key, img.original).await?;
            state.media.put(&thumb_key, img.thumbnail).await?;
            known.insert(
                stem.clone(),
                Stored {
                    storage_key: key,
                    thumb_key,
                    content_type: img.content_type.to_owned(),
                    width: img.width as i32,
                    height: img.height as i32,
                },
            );
        }
        if let Some(s) = known.get(&stem) {
            out.push(Linked {
                external_id: ext_id,
                position: pos,
                key: s.storage_key.clone(),
                thumb_key: s.thumb_key.clone(),
                content_type: s.content_type.clone(),
                width: s.width,
                height: s.height,
            });
        }
    }
    Ok(out)
}

/// Links the images to their products (inside the import's transaction); an image a
/// product already has is left alone.
pub fn link(conn: &mut PgConnection, list: &[Linked], report: &mut ImportReport) -> AppResult<Vec<i64>> {
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let n = stage(
        conn,
        "stg_images",
        list,
        &[
            ("external_id", Col::Text(&|l| Some(l.external_id.clone()))),
            ("storage_key", Col::Text(&|l| Some(l.key.clone()))),
            ("thumb_key", Col::Text(&|l| Some(l.thumb_key.clone()))),
            ("content_type", Col::Text(&|l| Some(l.content_type.clone()))),
            ("width", Col::Int(&|l| Some(i64::from(l.width)))),
            ("height", Col::Int(&|l| Some(i64::from(l.height)))),
            ("position", Col::Int(&|l| Some(i64::from(l.position)))),
        ],
    )?;
    let added: Vec<super::stage::Id> = diesel::sql_query(
        "INSERT INTO product_images (product_id, storage_key, thumb_key, content_type, width, height, position) \
         SELECT DISTINCT ON (p.id, s.storage_key) p.id, s.storage_key, s.thumb_key, s.content_type, s.width::int, \
                s.height::int, s.position::int \
         FROM stg_images s JOIN products p ON p.external_id = s.external_id \
         WHERE NOT EXISTS (SELECT 1 FROM product_images i WHERE i.product_id = p.id AND i.storage_key = s.storage_key) \
         RETURNING product_id AS id",
    )
    .load(conn)?;
    let c = report.of("images");
    c.created += added.len() as u64;
    c.unchanged += (n as u64).saturating_sub(added.len() as u64);
    Ok(added.into_iter().map(|a| a.id).collect())
}
