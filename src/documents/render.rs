//! A document's PDF from what was stored with it: the stored bytes when it has them,
//! otherwise drawn from its snapshot with the images it names (the same bytes every time).

use diesel::PgConnection;

use super::assets::{self, Images};
use super::snapshot::Snapshot;
use super::{forms_pdf, upd_pdf};
use crate::error::{AppError, AppResult};
use crate::pdf::Fonts;

/// A document ready to draw without the database.
pub struct Drawable {
    pub id: i64,
    pub kind: String,
    pub number: String,
    pub body: Body,
}

pub enum Body {
    Stored(Vec<u8>),
    Snapshot(Box<Snapshot>, Images),
}

/// Loads what drawing `rows` needs (snapshot, images) inside the tenant transaction.
pub fn prepare(conn: &mut PgConnection, schema: &str, rows: Vec<super::Content>) -> AppResult<Vec<Drawable>> {
    rows.into_iter()
        .map(|(id, kind, number, snapshot, pdf)| {
            let body = match pdf {
                Some(bytes) => Body::Stored(bytes),
                None => {
                    let s: Snapshot = serde_json::from_value(snapshot)
                        .map_err(|e| AppError::Internal(anyhow::anyhow!("document {id}: {e}")))?;
                    let images = assets::images(conn, schema, &s.assets)?;
                    Body::Snapshot(Box::new(s), images)
                }
            };
            Ok(Drawable { id, kind, number, body })
        })
        .collect()
}

/// The PDF of one document.
pub fn pdf(fonts: &Fonts, d: &Drawable) -> AppResult<Vec<u8>> {
    match &d.body {
        Body::Stored(bytes) => Ok(bytes.clone()),
        Body::Snapshot(s, img) => match d.kind.as_str() {
            "upd" => upd_pdf::render(fonts, s, img, true),
            "invoice_factura" => upd_pdf::render(fonts, s, img, false),
            "torg12" => forms_pdf::torg12(fonts, s, img),
            "act" => forms_pdf::act(fonts, s, img),
            other => Err(AppError::Internal(anyhow::anyhow!("no PDF drawing for documents of kind {other}"))),
        },
    }
}

/// The file name of a document in downloads and archives: `upd-2026-15.pdf`.
pub fn file_name(d: &Drawable, ext: &str) -> String {
    let year = match &d.body {
        Body::Snapshot(s, _) => chrono::Datelike::year(&s.issued_on).to_string(),
        Body::Stored(_) => String::new(),
    };
    let number: String =
        d.number.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    if year.is_empty() {
        format!("{}-{number}-{}.{ext}", d.kind, d.id)
    } else {
        format!("{}-{year}-{number}.{ext}", d.kind)
    }
}
