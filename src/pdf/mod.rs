//! PDF documents (invoices, reconciliation statements, later the accounting documents) with
//! Cyrillic text. Documents here are forms, not flowing text, so there is no layout engine:
//! a [`Doc`] places text, lines and boxes on A4 pages, measures and wraps text with the
//! font's own advances, and [`table`] draws ruled tables that continue on the next page.
//!
//! Text is set in DejaVu Sans (regular and bold) read from `documents.font_dir`; each
//! document embeds only the glyphs it uses (`subsetter`), as a CID font with a ToUnicode map
//! so that text can be searched and copied.

pub mod image;
pub mod qr;
pub mod table;
pub mod words;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use subsetter::GlyphRemapper;
use ttf_parser::Face;

use crate::error::{AppError, AppResult};

/// A4 in points.
pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;
/// Page margins in points (left 20 mm as Russian forms have, 10 mm elsewhere).
pub const LEFT: f32 = 42.0;
pub const RIGHT: f32 = PAGE_W - 28.0;
pub const TOP: f32 = 34.0;
pub const BOTTOM: f32 = PAGE_H - 40.0;

const FILES: [&str; 2] = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"];
const NAMES: [&[u8]; 2] = [b"DejaVuSans", b"DejaVuSans-Bold"];

/// The two faces every document is set in, read once per process.
pub struct Fonts {
    data: [Vec<u8>; 2],
}

static FONTS: OnceLock<Result<Arc<Fonts>, String>> = OnceLock::new();

impl Fonts {
    /// The fonts in `dir` (read on the first call; later calls answer the same).
    pub fn get(dir: &Path) -> AppResult<Arc<Fonts>> {
        FONTS
            .get_or_init(|| Fonts::read(dir).map(Arc::new))
            .clone()
            .map_err(|e| AppError::Unavailable(format!("documents cannot be made: {e}")))
    }

    fn read(dir: &Path) -> Result<Fonts, String> {
        let read = |name: &str| -> Result<Vec<u8>, String> {
            let path = dir.join(name);
            let data = std::fs::read(&path).map_err(|e| {
                format!(
                    "the font {} cannot be read ({e}); install fonts-dejavu-core or set documents.font_dir",
                    path.display()
                )
            })?;
            Face::parse(&data, 0).map_err(|e| format!("{} is not a usable font: {e}", path.display()))?;
            Ok(data)
        };
        Ok(Fonts { data: [read(FILES[0])?, read(FILES[1])?] })
    }
}

/// Regular or bold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular = 0,
    Bold = 1,
}

/// Horizontal alignment of text in a box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
    Center,
}

struct Used {
    remap: GlyphRemapper,
    /// Advance of each new glyph id, in thousandths of the font size.
    widths: Vec<f32>,
    unicode: BTreeMap<u16, char>,
}

/// A document being drawn. Coordinates are points from the page's top-left corner; `y` of a
/// text call is its baseline.
pub struct Doc<'f> {
    faces: [Face<'f>; 2],
    fonts: &'f Fonts,
    used: [Used; 2],
    pages: Vec<Vec<u8>>,
    page: Content,
    /// Page width and height in points (A4 portrait unless made [`Doc::landscape`]).
    size: (f32, f32),
    /// Images placed so far, each written once however often it is drawn.
    images: Vec<std::sync::Arc<image::Raster>>,
    /// Where the next block goes (the flow helpers move it down).
    pub y: f32,
}

impl<'f> Doc<'f> {
    pub fn new(fonts: &'f Fonts) -> AppResult<Doc<'f>> {
        let face =
            |i: usize| Face::parse(&fonts.data[i], 0).map_err(|e| AppError::Internal(anyhow::anyhow!("font: {e}")));
        let used = || Used { remap: GlyphRemapper::new(), widths: vec![0.0], unicode: BTreeMap::new() };
        Ok(Doc {
            faces: [face(0)?, face(1)?],
            fonts,
            used: [used(), used()],
            pages: Vec::new(),
            page: Content::new(),
            size: (PAGE_W, PAGE_H),
            images: Vec::new(),
            y: TOP,
        })
    }

    /// A document on landscape A4 (forms with wide tables, such as the УПД).
    pub fn landscape(fonts: &'f Fonts) -> AppResult<Doc<'f>> {
        let mut doc = Doc::new(fonts)?;
        doc.size = (PAGE_H, PAGE_W);
        Ok(doc)
    }

    /// The right margin of this document's pages.
    pub fn right(&self) -> f32 {
        self.size.0 - (PAGE_W - RIGHT)
    }

    /// The bottom margin of this document's pages.
    pub fn bottom(&self) -> f32 {
        self.size.1 - (PAGE_H - BOTTOM)
    }

    /// Draws `img` into the box whose top-left corner is (x, y), `w` × `h` points.
    pub fn image(&mut self, img: &std::sync::Arc<image::Raster>, x: f32, y: f32, w: f32, h: f32) {
        let i = match self.images.iter().position(|r| std::sync::Arc::ptr_eq(r, img)) {
            Some(i) => i,
            None => {
                self.images.push(img.clone());
                self.images.len() - 1
            }
        };
        let name = format!("Im{i}");
        self.page.save_state();
        self.page.transform([w, 0.0, 0.0, h, x, self.size.1 - y - h]);
        self.page.x_object(Name(name.as_bytes()));
        self.page.restore_state();
    }

    /// Width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32, weight: Weight) -> f32 {
        let face = &self.faces[weight as usize];
        let upem = f32::from(face.units_per_em());
        let units: u32 = text
            .chars()
            .map(|c| face.glyph_index(c).and_then(|g| face.glyph_hor_advance(g)).map_or(0, u32::from))
            .sum();
        units as f32 * size / upem
    }

    /// Splits `text` into lines no wider than `max` (at spaces; a word wider than a line is
    /// cut); explicit line breaks are kept. Never answers no lines.
    pub fn wrap(&self, text: &str, max: f32, size: f32, weight: Weight) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split(' ').filter(|w| !w.is_empty()) {
                let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
                if self.width(&candidate, size, weight) <= max {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                for c in word.chars() {
                    line.push(c);
                    if self.width(&line, size, weight) > max && line.chars().count() > 1 {
                        line.pop();
                        lines.push(std::mem::replace(&mut line, c.to_string()));
                    }
                }
            }
            lines.push(line);
        }
        lines
    }

    /// Text with its baseline at `y`, starting at `x`.
    pub fn text(&mut self, x: f32, y: f32, size: f32, weight: Weight, text: &str) {
        if text.is_empty() {
            return;
        }
        let i = weight as usize;
        let face = &self.faces[i];
        let used = &mut self.used[i];
        let upem = f32::from(face.units_per_em());
        let mut bytes = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let gid = face.glyph_index(c).map_or(0, |g| g.0);
            let new = used.remap.remap(gid);
            if usize::from(new) == used.widths.len() {
                let adv = face.glyph_hor_advance(ttf_parser::GlyphId(gid)).map_or(0.0, f32::from);
                used.widths.push(adv * 1000.0 / upem);
            }
            if gid != 0 {
                used.unicode.entry(new).or_insert(c);
            }
            bytes.extend_from_slice(&new.to_be_bytes());
        }
        let name = if i == 0 { Name(b"F0") } else { Name(b"F1") };
        self.page.begin_text().set_font(name, size).next_line(x, self.size.1 - y).show(Str(&bytes)).end_text();
    }

    /// Text aligned in the box from `x` to `x + w`.
    pub fn text_in(&mut self, (x, w): (f32, f32), y: f32, size: f32, weight: Weight, align: Align, text: &str) {
        let tw = self.width(text, size, weight);
        let at = match align {
            Align::Left => x,
            Align::Right => x + w - tw,
            Align::Center => x + (w - tw) / 2.0,
        };
        self.text(at, y, size, weight, text);
    }

    /// Wrapped text from the cursor down, `x` to `x + w`; moves the cursor below it.
    pub fn paragraph(&mut self, x: f32, w: f32, size: f32, weight: Weight, text: &str) {
        let lead = size * 1.3;
        for line in self.wrap(text, w, size, weight) {
            self.room(lead);
            self.y += lead;
            self.text(x, self.y - size * 0.25, size, weight, &line);
        }
    }

    /// Starts a new page when less than `h` points are left above the bottom margin.
    pub fn room(&mut self, h: f32) {
        if self.y + h > self.bottom() && self.y > TOP {
            self.new_page();
        }
    }

    /// Pages finished so far (the one being drawn not counted).
    pub fn pages_done(&self) -> usize {
        self.pages.len()
    }

    pub fn new_page(&mut self) {
        let done = std::mem::replace(&mut self.page, Content::new());
        self.pages.push(done.finish().into_vec());
        self.y = TOP;
    }

    /// A line from (x1, y1) to (x2, y2), `w` points thick.
    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, w: f32) {
        self.page.set_line_width(w).move_to(x1, self.size.1 - y1).line_to(x2, self.size.1 - y2).stroke();
    }

    /// The outline of a box whose top-left corner is (x, y).
    pub fn frame(&mut self, x: f32, y: f32, w: f32, h: f32, line: f32) {
        self.page.set_line_width(line).rect(x, self.size.1 - y - h, w, h).stroke();
    }

    /// A filled box (`gray` 0 is black, 1 white).
    pub fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, gray: f32) {
        self.page.set_fill_gray(gray).rect(x, self.size.1 - y - h, w, h).fill_nonzero().set_fill_gray(0.0);
    }

    /// The PDF: pages, then each face used, subset to its glyphs.
    pub fn finish(mut self, title: &str) -> AppResult<Vec<u8>> {
        let last = std::mem::replace(&mut self.page, Content::new());
        self.pages.push(last.finish().into_vec());
        let mut pdf = Pdf::new();
        let mut next = 1;
        let mut alloc = || {
            next += 1;
            Ref::new(next - 1)
        };
        let catalog = alloc();
        let tree = alloc();
        let info = alloc();
        let font_refs = [alloc(), alloc()];
        let image_refs: Vec<(Ref, Ref)> = self.images.iter().map(|_| (alloc(), alloc())).collect();
        pdf.catalog(catalog).pages(tree);
        pdf.document_info(info).title(TextStr(title)).producer(TextStr("Tradeport"));
        let mut page_ids = Vec::with_capacity(self.pages.len());
        for content in &self.pages {
            let (page, stream) = (alloc(), alloc());
            page_ids.push(page);
            let mut p = pdf.page(page);
            p.media_box(Rect::new(0.0, 0.0, self.size.0, self.size.1)).parent(tree).contents(stream);
            let mut res = p.resources();
            res.fonts().pair(Name(b"F0"), font_refs[0]).pair(Name(b"F1"), font_refs[1]);
            if !image_refs.is_empty() {
                let mut objects = res.x_objects();
                for (i, (r, _)) in image_refs.iter().enumerate() {
                    objects.pair(Name(format!("Im{i}").as_bytes()), *r);
                }
            }
            res.finish();
            p.finish();
            pdf.stream(stream, &deflate(content)).filter(Filter::FlateDecode);
        }
        let count = i32::try_from(page_ids.len()).unwrap_or(i32::MAX);
        pdf.pages(tree).kids(page_ids).count(count);
        for (i, id) in font_refs.into_iter().enumerate() {
            let refs = [alloc(), alloc(), alloc(), alloc()];
            self.write_font(&mut pdf, i, id, refs)?;
        }
        for (img, (r, mask)) in self.images.iter().zip(image_refs) {
            img.write(&mut pdf, r, mask);
        }
        Ok(pdf.finish())
    }

    fn write_font(&self, pdf: &mut Pdf, i: usize, id: Ref, [cid, descriptor, file, cmap]: [Ref; 4]) -> AppResult<()> {
        let face = &self.faces[i];
        let used = &self.used[i];
        let subset = subsetter::subset(&self.fonts.data[i], 0, &used.remap)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("font subset: {e}")))?;
        // A subset's name carries a six-letter tag naming the glyph set.
        let tag: String = {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for (g, c) in &used.unicode {
                h = (h ^ u64::from(*g) ^ (u64::from(u32::from(*c)) << 16)).wrapping_mul(0x100_0000_01b3);
            }
            (0..6).map(|k| char::from(b'A' + ((h >> (k * 5)) % 26) as u8)).collect()
        };
        let base = [tag.as_bytes(), b"+", NAMES[i]].concat();
        let info = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
        pdf.type0_font(id)
            .base_font(Name(&base))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(cmap);
        let mut f = pdf.cid_font(cid);
        f.subtype(CidFontType::Type2)
            .base_font(Name(&base))
            .system_info(info)
            .font_descriptor(descriptor)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        f.widths().consecutive(0, used.widths.iter().copied());
        f.finish();
        let upem = f32::from(face.units_per_em());
        let s = |v: i16| f32::from(v) * 1000.0 / upem;
        let bbox = face.global_bounding_box();
        pdf.font_descriptor(descriptor)
            .name(Name(&base))
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(s(bbox.x_min), s(bbox.y_min), s(bbox.x_max), s(bbox.y_max)))
            .italic_angle(0.0)
            .ascent(s(face.ascender()))
            .descent(s(face.descender()))
            .cap_height(s(face.capital_height().unwrap_or(face.ascender())))
            .stem_v(if i == 0 { 80.0 } else { 140.0 })
            .font_file2(file);
        let len = i32::try_from(subset.len()).unwrap_or(i32::MAX);
        pdf.stream(file, &deflate(&subset)).filter(Filter::FlateDecode).pair(Name(b"Length1"), len);
        let mut map = pdf_writer::types::UnicodeCmap::new(Name(b"Custom"), info);
        for (g, c) in &used.unicode {
            map.pair(*g, *c);
        }
        pdf.cmap(cmap, &map.finish()).system_info(info).name(Name(b"Custom"));
        Ok(())
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The system fonts, as the tests and CI have them (fonts-dejavu-core).
    pub fn fonts() -> Arc<Fonts> {
        Fonts::get(Path::new("/usr/share/fonts/truetype/dejavu"))
            .expect("DejaVu fonts (apt-get install fonts-dejavu-core)")
    }

    #[test]
    fn cyrillic_text_is_embedded_as_a_small_subset_with_unicode_map() {
        let fonts = fonts();
        let mut doc = Doc::new(&fonts).expect("doc");
        doc.text(LEFT, 100.0, 12.0, Weight::Bold, "Счёт на оплату № 7");
        doc.text(LEFT, 120.0, 10.0, Weight::Regular, "Итого: 1 250,00 ₽");
        let pdf = doc.finish("Счёт").expect("pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.len() < 60_000, "subset fonts keep a one-line document small: {} bytes", pdf.len());
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/ToUnicode"));
        assert!(text.contains("+DejaVuSans-Bold"));
        // 'С' (U+0421) is mapped back to text for search and copy.
        assert!(text.contains("<0421>"), "ToUnicode names the Cyrillic letters");
    }

    #[test]
    fn wrapping_keeps_lines_within_the_width_and_every_word() {
        let fonts = fonts();
        let doc = Doc::new(&fonts).expect("doc");
        let text = "Поставщик: Общество с ограниченной ответственностью «Ромашка-Опт», ИНН 7701234567, \
                    КПП 770101001, 123456, г. Москва, ул. Промышленная, д. 1 стр. 2 ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ";
        let lines = doc.wrap(text, 150.0, 9.0, Weight::Regular);
        assert!(lines.len() > 3);
        for l in &lines {
            assert!(doc.width(l, 9.0, Weight::Regular) <= 150.0, "{l:?} is too wide");
        }
        let joined: String = lines.concat().split_whitespace().collect();
        let original: String = text.split_whitespace().collect();
        assert_eq!(joined, original, "nothing lost in wrapping");
    }

    #[test]
    fn long_documents_continue_on_new_pages() {
        let fonts = fonts();
        let mut doc = Doc::new(&fonts).expect("doc");
        for i in 0..200 {
            doc.paragraph(LEFT, RIGHT - LEFT, 10.0, Weight::Regular, &format!("Строка {i}"));
        }
        let pdf = doc.finish("t").expect("pdf");
        let text = String::from_utf8_lossy(&pdf);
        let count =
            text.split("/Count ").nth(1).and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next()).unwrap_or("");
        assert!(count.parse::<u32>().unwrap_or(0) >= 3, "200 lines take several pages, got {count}");
    }
}
