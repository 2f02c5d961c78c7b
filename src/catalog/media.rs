//! Product images and attached files, stored through `object_store` (the local filesystem by
//! default; S3-compatible stores plug in the same way). Keys are built by us from the
//! tenant schema and a random id, never from a file name a user sent.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use image::{ImageFormat, ImageReader};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::db::TenantSchema;
use crate::error::{AppError, AppResult};

/// Largest accepted image upload.
pub const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;
/// Largest accepted attached file.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// Largest accepted image side, in pixels (decompression bombs are refused before decoding).
pub const MAX_SIDE: u32 = 8000;
/// Thumbnails fit in this square.
pub const THUMB_SIDE: u32 = 400;

#[derive(Clone)]
pub struct Media {
    store: Arc<dyn ObjectStore>,
}

/// A checked image with its thumbnail, ready to store.
pub struct ProcessedImage {
    pub content_type: &'static str,
    pub ext: &'static str,
    pub width: u32,
    pub height: u32,
    pub original: Vec<u8>,
    pub thumbnail: Vec<u8>,
}

impl Media {
    pub fn local(dir: &Path) -> anyhow::Result<Media> {
        std::fs::create_dir_all(dir)?;
        Ok(Media { store: Arc::new(LocalFileSystem::new_with_prefix(dir)?) })
    }

    pub async fn put(&self, key: &str, data: Vec<u8>) -> AppResult<()> {
        self.store
            .put(&ObjectPath::from(key), PutPayload::from(Bytes::from(data)))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("storing {key}: {e}")))?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> AppResult<Bytes> {
        let r = self.store.get(&ObjectPath::from(key)).await.map_err(|e| match e {
            object_store::Error::NotFound { .. } => AppError::not_found("file"),
            e => AppError::Internal(anyhow::anyhow!("reading {key}: {e}")),
        })?;
        r.bytes().await.map_err(|e| AppError::Internal(anyhow::anyhow!("reading {key}: {e}")))
    }

    pub async fn delete(&self, key: &str) -> AppResult<()> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(AppError::Internal(anyhow::anyhow!("deleting {key}: {e}"))),
        }
    }
}

/// A fresh storage key under the tenant's folder.
pub fn new_key(schema: &TenantSchema, kind: &str, ext: &str) -> String {
    format!("{}/{kind}/{}.{ext}", schema.as_str(), uuid::Uuid::new_v4().simple())
}

/// Checks that `data` is a PNG, JPEG, WebP or GIF of sane size (by its bytes, not its name or
/// declared type: an SVG or HTML file is refused) and makes a JPEG thumbnail.
pub fn process_image(data: &[u8]) -> AppResult<ProcessedImage> {
    if data.len() > MAX_IMAGE_BYTES {
        return Err(AppError::PayloadTooLarge(format!("images are limited to {} MB", MAX_IMAGE_BYTES / 1024 / 1024)));
    }
    let format = image::guess_format(data).map_err(|_| not_an_image())?;
    let (content_type, ext) = match format {
        ImageFormat::Png => ("image/png", "png"),
        ImageFormat::Jpeg => ("image/jpeg", "jpg"),
        ImageFormat::WebP => ("image/webp", "webp"),
        ImageFormat::Gif => ("image/gif", "gif"),
        _ => return Err(not_an_image()),
    };
    let mut reader = ImageReader::with_format(Cursor::new(data), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => {
            AppError::PayloadTooLarge(format!("images are limited to {MAX_SIDE}×{MAX_SIDE} pixels"))
        }
        _ => not_an_image(),
    })?;
    let thumb = img.thumbnail(THUMB_SIDE, THUMB_SIDE).to_rgb8();
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82)
        .encode_image(&thumb)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("thumbnail: {e}")))?;
    Ok(ProcessedImage {
        content_type,
        ext,
        width: img.width(),
        height: img.height(),
        original: data.to_vec(),
        thumbnail: out.into_inner(),
    })
}

fn not_an_image() -> AppError {
    AppError::field("image", "must be a PNG, JPEG, WebP or GIF image")
}

/// What an attached file is served as: always as a download, never rendered inline.
pub fn file_content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().map(str::to_lowercase).as_deref() {
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// A file name safe for `Content-Disposition` (letters, digits, `.-_ ` and Cyrillic kept).
pub fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("file");
    let cleaned: String =
        base.chars().filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ')).take(150).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_fakes_are_not_images() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>"#;
        assert!(process_image(svg).is_err());
        assert!(process_image(b"\x89PNG\r\n\x1a\nnot really").is_err());
        assert!(process_image(b"<html><script>").is_err());
        assert!(matches!(process_image(&vec![0u8; MAX_IMAGE_BYTES + 1]), Err(AppError::PayloadTooLarge(_))));
    }

    #[test]
    fn a_real_png_gets_a_thumbnail() {
        let img = image::RgbImage::from_pixel(900, 300, image::Rgb([200, 30, 30]));
        let mut png = Cursor::new(Vec::new());
        img.write_to(&mut png, ImageFormat::Png).expect("png");
        let p = process_image(png.get_ref()).expect("processed");
        assert_eq!((p.width, p.height, p.content_type), (900, 300, "image/png"));
        let thumb = image::load_from_memory(&p.thumbnail).expect("thumb");
        assert_eq!((thumb.width(), thumb.height()), (400, 133));
    }

    #[test]
    fn file_names_cannot_escape() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(safe_file_name("Сертификат №5.pdf"), "Сертификат 5.pdf");
        assert_eq!(safe_file_name("\"; x=<script>.pdf"), "x=script.pdf".replace('=', ""));
        assert_eq!(file_content_type("a.html"), "application/octet-stream");
    }
}
