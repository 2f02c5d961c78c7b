//! Files of an exchange session on disk: names 1C sends are checked and kept inside the
//! session's directory; chunks are appended; zips are unpacked with entry-count, size and
//! path checks (nothing of a refused zip stays behind).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::config::{resource_path, ExchangeSettings};
use crate::db::TenantSchema;

/// File types 1C sends: CommerceML, zips of it, pictures and attached documents.
const ALLOWED_EXTENSIONS: &[&str] = &["xml", "zip", "jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff", "pdf"];
/// Most entries a zip may hold.
pub const MAX_ZIP_ENTRIES: usize = 20_000;
/// Most a zip may unpack to.
pub const MAX_ZIP_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// `<exchange dir>/<tenant schema>/<session id>`.
pub fn session_dir(settings: &ExchangeSettings, schema: &TenantSchema, session_id: i64) -> PathBuf {
    resource_path(&settings.dir).join(schema.as_str()).join(session_id.to_string())
}

/// The name 1C sent, made relative and checked: `/`-separated, no `..`, no absolute path,
/// no hidden or odd components, an allowed extension. Leading folders some 1C setups add
/// (`upload/1c/webdata/`) are dropped.
pub fn clean_name(raw: &str) -> Result<String, String> {
    let unified = raw.trim().replace('\\', "/");
    if unified.is_empty() {
        return Err("не указано имя файла (filename)".into());
    }
    if unified.starts_with('/') || unified.contains(':') {
        return Err(format!("недопустимое имя файла «{raw}»: абсолютный путь"));
    }
    let unified = unified.strip_prefix("upload/1c/webdata/").unwrap_or(&unified);
    let mut parts = Vec::new();
    for part in unified.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err(format!("недопустимое имя файла «{raw}»: выход за каталог обмена")),
            p if p.starts_with('.') || p.len() > 150 || p.chars().any(|c| c.is_control()) => {
                return Err(format!("недопустимое имя файла «{raw}»"));
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() || parts.len() > 8 {
        return Err(format!("недопустимое имя файла «{raw}»"));
    }
    let name = parts.join("/");
    if name.len() > 300 {
        return Err(format!("имя файла длиннее 300 символов: «{raw}»"));
    }
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    if !ALLOWED_EXTENSIONS.contains(&ext.as_str()) {
        return Err(format!("тип файла «{name}» не принимается (xml, zip, изображения, pdf)"));
    }
    Ok(name)
}

/// Whether a new upload of `name` starts a new file rather than continuing one: 1C re-sends
/// a whole file from its start, and an XML file starts with its declaration.
pub fn starts_new_file(first_bytes: &[u8]) -> bool {
    let b = first_bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(first_bytes);
    b.starts_with(b"<?xml")
}

/// Appends `data` to `dir/name` (creating folders); truncates first when `fresh`. Returns the
/// file's new size.
pub fn append(dir: &Path, name: &str, data: &[u8], fresh: bool) -> io::Result<u64> {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut f = OpenOptions::new().create(true).append(!fresh).write(true).truncate(fresh).open(&path)?;
    f.write_all(data)?;
    f.flush()?;
    Ok(f.metadata()?.len())
}

/// Cuts `dir/name` back to `len` bytes (a chunk that could not be taken whole).
pub fn truncate(dir: &Path, name: &str, len: u64) -> io::Result<()> {
    match OpenOptions::new().write(true).open(dir.join(name)) {
        Ok(f) => f.set_len(len),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// A file unpacked from a zip: its clean name and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpacked {
    pub name: String,
    pub size: u64,
}

/// Unpacks `dir/zip_name` into `dir`. Every entry name is checked first; a bad name, too
/// many entries, a symlink, or more than `max_bytes` unpacked (counted while writing, not
/// trusted from the header) refuses the whole zip and removes what was written.
pub fn unpack(dir: &Path, zip_name: &str, max_bytes: u64) -> Result<Vec<Unpacked>, String> {
    let file = File::open(dir.join(zip_name)).map_err(|e| format!("архив «{zip_name}» не прочитан: {e}"))?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| format!("«{zip_name}» — не zip-архив или архив повреждён: {e}"))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(format!("в архиве «{zip_name}» {} файлов, больше допустимых {MAX_ZIP_ENTRIES}", archive.len()));
    }
    let mut plan = Vec::new();
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| format!("архив «{zip_name}» повреждён: {e}"))?;
        if entry.is_dir() {
            continue;
        }
        let raw = entry.name().map_err(|e| format!("архив «{zip_name}»: имя файла не прочитано: {e}"))?.into_owned();
        if entry.is_symlink() {
            return Err(format!("в архиве «{zip_name}» символическая ссылка «{raw}»"));
        }
        let name = clean_name(&raw).map_err(|e| format!("архив «{zip_name}»: {e}"))?;
        if name.eq_ignore_ascii_case(zip_name) || name.to_ascii_lowercase().ends_with(".zip") {
            return Err(format!("архив «{zip_name}» содержит другой архив «{name}»"));
        }
        plan.push((i, name));
    }
    let mut written: Vec<Unpacked> = Vec::new();
    let mut total = 0u64;
    let result = (|| {
        for (i, name) in &plan {
            let mut entry = archive.by_index(*i).map_err(|e| format!("архив «{zip_name}» повреждён: {e}"))?;
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            let mut out = File::create(&path).map_err(|e| e.to_string())?;
            written.push(Unpacked { name: name.clone(), size: 0 });
            let left = max_bytes.saturating_sub(total);
            let n = io::copy(&mut (&mut entry).take(left + 1), &mut out)
                .map_err(|e| format!("архив «{zip_name}», файл «{name}»: {e}"))?;
            if n > left {
                return Err(format!(
                    "архив «{zip_name}» распаковывается больше чем в {} МБ: отказано",
                    max_bytes / (1024 * 1024)
                ));
            }
            total += n;
            if let Some(last) = written.last_mut() {
                last.size = n;
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(written),
        Err(e) => {
            for w in &written {
                let _ = fs::remove_file(dir.join(&w.name));
            }
            Err(e)
        }
    }
}

/// Removes a session's folder (old sessions, `init` again).
pub fn remove_dir(dir: &Path) {
    if let Err(e) = fs::remove_dir_all(dir) {
        if e.kind() != io::ErrorKind::NotFound {
            tracing::warn!(dir = %dir.display(), error = %e, "exchange folder not removed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_session_folder() {
        assert_eq!(clean_name("import.xml").as_deref(), Ok("import.xml"));
        assert_eq!(clean_name("import_files\\9d\\9da0.jpg").as_deref(), Ok("import_files/9d/9da0.jpg"));
        assert_eq!(clean_name("upload/1c/webdata/offers.xml").as_deref(), Ok("offers.xml"));
        assert_eq!(clean_name("./goods//1/prices.xml").as_deref(), Ok("goods/1/prices.xml"));
        for bad in [
            "../import.xml",
            "a/../../b.xml",
            "/etc/passwd.xml",
            "C:\\x.xml",
            ".htaccess",
            "shell.php",
            "x.xml.php",
            "",
            "a\u{0}.xml",
            "page.html",
        ] {
            assert!(clean_name(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_resent_xml_file_starts_again() {
        assert!(starts_new_file(b"<?xml version=\"1.0\"?>"));
        assert!(starts_new_file(b"\xEF\xBB\xBF<?xml version"));
        assert!(!starts_new_file("</Товар><Товар>".as_bytes()));
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buf = io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, data) in entries {
            w.start_file(*name, zip::write::SimpleFileOptions::default()).expect("zip entry");
            w.write_all(data).expect("zip write");
        }
        w.finish().expect("zip finish");
        buf.into_inner()
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tp-zip-{tag}-{}", crate::identity::tokens::random_token()));
        fs::create_dir_all(&d).expect("temp dir");
        d
    }

    #[test]
    fn zips_unpack_with_their_folders_and_refuse_escapes_and_bombs() {
        let d = temp_dir("ok");
        fs::write(d.join("p.zip"), zip_of(&[("import.xml", b"<a/>"), ("import_files/1/a.jpg", b"jpg")])).expect("w");
        let got = unpack(&d, "p.zip", 1 << 20).expect("unpacks");
        assert_eq!(got.len(), 2);
        assert_eq!(fs::read(d.join("import_files/1/a.jpg")).expect("r"), b"jpg");

        let d = temp_dir("slip");
        fs::write(d.join("p.zip"), zip_of(&[("ok.xml", b"<a/>"), ("../evil.xml", b"x")])).expect("w");
        assert!(unpack(&d, "p.zip", 1 << 20).expect_err("refused").contains("выход за каталог"));
        assert!(!d.join("ok.xml").exists(), "nothing of a refused zip stays");

        let d = temp_dir("bomb");
        let zeros = vec![0u8; 3 << 20];
        fs::write(d.join("p.zip"), zip_of(&[("a.xml", b"<a/>"), ("big.xml", &zeros)])).expect("w");
        assert!(unpack(&d, "p.zip", 1 << 20).expect_err("refused").contains("отказано"));
        assert!(!d.join("a.xml").exists() && !d.join("big.xml").exists());
        let _ = fs::remove_dir_all(d);
    }
}
