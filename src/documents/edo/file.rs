//! The file exchange provider: what many operators' desktop connectors (and 1C's own
//! exchange folders) do. We write each XML under its FNS file name into
//! `<edo_dir>/<tenant schema>/outbox/` (written to a temporary name, then renamed, so a
//! connector never reads half a file) and read status receipts from `…/inbox/`.
//!
//! The receipt format is ours (each real operator has its own): a JSON file
//! `{"file": "ON_NSCHFDOPPR_….xml", "status": "delivered" | "signed" | "rejected",
//! "reason": "…"}`, at most 64 KB. An applied receipt moves to `inbox/done/`, one that names
//! no document of ours or cannot be read to `inbox/refused/`.

use std::path::{Path, PathBuf};

use super::{EdoProvider, Outgoing, Receipt};
use crate::error::{AppError, AppResult};

pub const MAX_RECEIPT: u64 = 64 * 1024;

pub struct FileProvider {
    root: PathBuf,
}

fn io(what: &str, e: std::io::Error) -> AppError {
    AppError::Unavailable(format!("EDO folder: {what}: {e}"))
}

/// A name we wrote or may read: no separators, no leading dot.
fn safe(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 255
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl FileProvider {
    /// The folders of tenant `schema` under `edo_dir`.
    pub fn new(edo_dir: &Path, schema: &str) -> FileProvider {
        FileProvider { root: edo_dir.join(schema) }
    }

    pub fn outbox(&self) -> PathBuf {
        self.root.join("outbox")
    }

    pub fn inbox(&self) -> PathBuf {
        self.root.join("inbox")
    }
}

impl EdoProvider for FileProvider {
    fn name(&self) -> &'static str {
        "file"
    }

    fn send(&self, out: &Outgoing) -> AppResult<()> {
        if !safe(&out.file_name) {
            return Err(AppError::Internal(anyhow::anyhow!("unsafe EDO file name {}", out.file_name)));
        }
        let dir = self.outbox();
        std::fs::create_dir_all(&dir).map_err(|e| io("creating the outbox", e))?;
        let tmp = dir.join(format!(".{}.part", out.file_name));
        std::fs::write(&tmp, &out.xml).map_err(|e| io("writing", e))?;
        std::fs::rename(&tmp, dir.join(&out.file_name)).map_err(|e| io("renaming", e))
    }

    fn receipts(&self) -> AppResult<Vec<(String, Receipt)>> {
        let dir = self.inbox();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io("reading the inbox", e)),
        };
        let mut out = Vec::new();
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|n| safe(n) && n.ends_with(".json"))
            .collect();
        names.sort();
        for name in names.into_iter().take(500) {
            let path = dir.join(&name);
            let small = std::fs::metadata(&path).map(|m| m.len() <= MAX_RECEIPT).unwrap_or(false);
            let parsed = if small {
                std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<Receipt>(&b).ok())
            } else {
                None
            };
            match parsed {
                Some(r) => out.push((name, r)),
                None => self.done(&name, false)?,
            }
        }
        Ok(out)
    }

    fn done(&self, key: &str, applied: bool) -> AppResult<()> {
        if !safe(key) {
            return Ok(());
        }
        let to = self.inbox().join(if applied { "done" } else { "refused" });
        std::fs::create_dir_all(&to).map_err(|e| io("creating", e))?;
        std::fs::rename(self.inbox().join(key), to.join(key)).map_err(|e| io("moving a receipt", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_go_out_whole_and_receipts_come_back_once() {
        let dir = std::env::temp_dir().join(format!("tp-edo-{}", uuid::Uuid::new_v4().simple()));
        let p = FileProvider::new(&dir, "tenant_x");
        let out = Outgoing {
            file_name: "ON_NSCHFDOPPR_A_B_20260101_x.xml".into(),
            xml: b"<a/>".to_vec(),
            sender_id: "B".into(),
            receiver_id: "A".into(),
        };
        p.send(&out).expect("sent");
        assert_eq!(std::fs::read(p.outbox().join(&out.file_name)).expect("file"), b"<a/>");
        assert!(p.send(&Outgoing { file_name: "../evil.xml".into(), ..out.clone() }).is_err());
        std::fs::create_dir_all(p.inbox()).expect("inbox");
        std::fs::write(p.inbox().join("1.json"), br#"{"file":"ON_NSCHFDOPPR_A_B_20260101_x.xml","status":"signed"}"#)
            .expect("w");
        std::fs::write(p.inbox().join("2.json"), b"not json").expect("w");
        let r = p.receipts().expect("receipts");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].1.status, "signed");
        p.done(&r[0].0, true).expect("done");
        assert!(p.receipts().expect("again").is_empty(), "read once");
        assert!(p.inbox().join("refused/2.json").exists());
        let _ = std::fs::remove_dir_all(dir);
    }
}
