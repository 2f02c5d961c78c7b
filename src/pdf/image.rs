//! Raster images (a supplier's logo, signatures and stamp) placed on documents: decoded once,
//! scaled down to what a printed form needs, and written as image XObjects with their alpha
//! channel as a soft mask, so a stamp's transparent background lets the text show through.

use std::io::Cursor;

use image::{ImageReader, Limits};
use pdf_writer::{Filter, Pdf, Ref};

use crate::error::{AppError, AppResult};

/// Longest side kept: 800 px is about 200 dpi at 10 cm, plenty for a stamp or a logo.
pub const MAX_KEPT_SIDE: u32 = 800;

/// A decoded image ready to embed.
pub struct Raster {
    pub width: u32,
    pub height: u32,
    rgb: Vec<u8>,
    alpha: Option<Vec<u8>>,
}

impl Raster {
    /// Decodes a PNG or JPEG (already checked on upload) and scales it down.
    pub fn decode(data: &[u8]) -> AppResult<Raster> {
        let mut reader = ImageReader::new(Cursor::new(data))
            .with_guessed_format()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("image: {e}")))?;
        let mut limits = Limits::default();
        limits.max_image_width = Some(8000);
        limits.max_image_height = Some(8000);
        limits.max_alloc = Some(256 * 1024 * 1024);
        reader.limits(limits);
        let img = reader.decode().map_err(|e| AppError::Internal(anyhow::anyhow!("image: {e}")))?;
        let img = if img.width().max(img.height()) > MAX_KEPT_SIDE {
            img.thumbnail(MAX_KEPT_SIDE, MAX_KEPT_SIDE)
        } else {
            img
        };
        let has_alpha = img.color().has_alpha();
        let rgba = img.to_rgba8();
        let (width, height) = rgba.dimensions();
        let mut rgb = Vec::with_capacity((width * height * 3) as usize);
        let mut alpha = Vec::with_capacity((width * height) as usize);
        for p in rgba.pixels() {
            rgb.extend_from_slice(&p.0[..3]);
            alpha.push(p.0[3]);
        }
        let deflate = |d: &[u8]| miniz_oxide::deflate::compress_to_vec_zlib(d, 6);
        Ok(Raster {
            width,
            height,
            rgb: deflate(&rgb),
            alpha: (has_alpha && alpha.iter().any(|a| *a != 255)).then(|| deflate(&alpha)),
        })
    }

    /// Height for `w` points of width, keeping the proportions.
    pub fn height_for(&self, w: f32) -> f32 {
        w * self.height as f32 / self.width.max(1) as f32
    }

    pub(super) fn write(&self, pdf: &mut Pdf, id: Ref, mask: Ref) {
        let (w, h) = (i32::try_from(self.width).unwrap_or(1), i32::try_from(self.height).unwrap_or(1));
        let mut x = pdf.image_xobject(id, &self.rgb);
        x.filter(Filter::FlateDecode);
        x.width(w).height(h).bits_per_component(8);
        x.color_space().device_rgb();
        if self.alpha.is_some() {
            x.s_mask(mask);
        }
        drop(x);
        if let Some(a) = &self.alpha {
            let mut m = pdf.image_xobject(mask, a);
            m.filter(Filter::FlateDecode);
            m.width(w).height(h).bits_per_component(8);
            m.color_space().device_gray();
        }
    }
}
