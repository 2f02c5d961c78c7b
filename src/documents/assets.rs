//! The store's images for documents: logo, the director's and the accountant's signatures and
//! the stamp. PNG or JPEG only, checked like product images (decoded, size-limited, never
//! SVG); each upload is a new row that documents issued from then on name, so documents
//! issued earlier keep the images they were issued with.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::snapshot::Assets;
use crate::db::schema_tenant::{document_asset_current, document_assets};
use crate::error::{AppError, AppResult};
use crate::pdf::image::Raster;

pub const KINDS: &[&str] = &["logo", "director_signature", "accountant_signature", "stamp"];
/// Largest accepted image (a stamp or a logo needs far less).
pub const MAX_BYTES: usize = 2 * 1024 * 1024;

/// Checks and stores an image of `kind`; it goes on documents issued from now on.
pub fn upload(conn: &mut PgConnection, kind: &str, data: &[u8], actor: i64) -> AppResult<i64> {
    if !KINDS.contains(&kind) {
        return Err(AppError::field("kind", format!("must be one of {}", KINDS.join(", "))));
    }
    if data.len() > MAX_BYTES {
        return Err(AppError::PayloadTooLarge(format!(
            "document images are limited to {} MB",
            MAX_BYTES / 1024 / 1024
        )));
    }
    let p = crate::catalog::media::process_image(data)?;
    if !matches!(p.content_type, "image/png" | "image/jpeg") {
        return Err(AppError::field("image", "must be a PNG or JPEG image"));
    }
    let id: i64 = diesel::insert_into(document_assets::table)
        .values((
            document_assets::kind.eq(kind),
            document_assets::content_type.eq(p.content_type),
            document_assets::data.eq(data),
            document_assets::width.eq(i32::try_from(p.width).unwrap_or(i32::MAX)),
            document_assets::height.eq(i32::try_from(p.height).unwrap_or(i32::MAX)),
            document_assets::sha256.eq(hex::encode(Sha256::digest(data))),
            document_assets::created_by.eq(actor),
        ))
        .returning(document_assets::id)
        .get_result(conn)?;
    set_current(conn, kind, Some(id))?;
    Ok(id)
}

/// New documents go out without an image of `kind`.
pub fn remove(conn: &mut PgConnection, kind: &str) -> AppResult<()> {
    if !KINDS.contains(&kind) {
        return Err(AppError::not_found("document image"));
    }
    set_current(conn, kind, None)
}

fn set_current(conn: &mut PgConnection, kind: &str, id: Option<i64>) -> AppResult<()> {
    diesel::insert_into(document_asset_current::table)
        .values((document_asset_current::kind.eq(kind), document_asset_current::asset_id.eq(id)))
        .on_conflict(document_asset_current::kind)
        .do_update()
        .set(document_asset_current::asset_id.eq(id))
        .execute(conn)?;
    Ok(())
}

/// The images new documents get.
pub fn current(conn: &mut PgConnection) -> AppResult<Assets> {
    let rows: Vec<(String, Option<i64>)> = document_asset_current::table
        .select((document_asset_current::kind, document_asset_current::asset_id))
        .load(conn)?;
    let get = |k: &str| rows.iter().find(|(kind, _)| kind == k).and_then(|(_, id)| *id);
    Ok(Assets {
        logo: get("logo"),
        director_signature: get("director_signature"),
        accountant_signature: get("accountant_signature"),
        stamp: get("stamp"),
    })
}

/// One stored image: (content type, bytes).
pub fn get(conn: &mut PgConnection, id: i64) -> AppResult<(String, Vec<u8>)> {
    document_assets::table
        .find(id)
        .select((document_assets::content_type, document_assets::data))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("document image"))
}

/// Decoded images of a document, keyed by role.
#[derive(Default, Clone)]
pub struct Images {
    pub logo: Option<Arc<Raster>>,
    pub director_signature: Option<Arc<Raster>>,
    pub accountant_signature: Option<Arc<Raster>>,
    pub stamp: Option<Arc<Raster>>,
}

type Cache = Mutex<HashMap<(String, i64), Arc<Raster>>>;
static DECODED: OnceLock<Cache> = OnceLock::new();

/// The images `a` names, decoded once per process (rows never change, so the cache is never
/// stale; it is keyed by tenant schema and id and starts afresh past 256 images).
pub fn images(conn: &mut PgConnection, schema: &str, a: &Assets) -> AppResult<Images> {
    let mut one = |id: Option<i64>| -> AppResult<Option<Arc<Raster>>> {
        let Some(id) = id else { return Ok(None) };
        let cache = DECODED.get_or_init(|| Mutex::new(HashMap::new()));
        let key = (schema.to_owned(), id);
        if let Some(r) = cache.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(Some(r));
        }
        let (_, data) = get(conn, id)?;
        let r = Arc::new(Raster::decode(&data)?);
        if let Ok(mut m) = cache.lock() {
            if m.len() >= 256 {
                m.clear();
            }
            m.insert(key, r.clone());
        }
        Ok(Some(r))
    };
    Ok(Images {
        logo: one(a.logo)?,
        director_signature: one(a.director_signature)?,
        accountant_signature: one(a.accountant_signature)?,
        stamp: one(a.stamp)?,
    })
}
