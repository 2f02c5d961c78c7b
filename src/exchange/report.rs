//! What one exchange import did (shared by the catalog and the sale importers and shown in
//! the exchange log), why a file was refused, and how answers to 1C are encoded.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Changes to one kind of thing (`products`, `variants`, `prices`, `stock`, `categories`,
/// `orders`, `companies` …).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
    pub unchanged: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.created += o.created;
        self.updated += o.updated;
        self.deleted += o.deleted;
        self.unchanged += o.unchanged;
    }
}

/// The outcome of importing one file. Serialised into the exchange log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// The file name as 1C sent it.
    pub file: String,
    /// `catalog`, `offers`, `prices`, `rests`, `orders`, `contragents`.
    pub kind: String,
    /// `ВерсияСхемы` of the document.
    pub schema_version: String,
    /// Per kind of thing.
    pub counts: BTreeMap<String, Counts>,
    /// Per-element problems (`line 120: offer 9a…#1 has no price`); the file was still applied.
    pub warnings: Vec<String>,
}

/// How many warnings a report keeps; the rest are counted in the last one.
pub const MAX_WARNINGS: usize = 500;

impl ImportReport {
    pub fn new(file: &str, kind: &str, schema_version: &str) -> Self {
        Self {
            file: file.to_owned(),
            kind: kind.to_owned(),
            schema_version: schema_version.to_owned(),
            ..Self::default()
        }
    }

    /// The counts of one kind of thing, created on first use.
    pub fn of(&mut self, what: &str) -> &mut Counts {
        self.counts.entry(what.to_owned()).or_default()
    }

    pub fn warn(&mut self, line: usize, message: impl Into<String>) {
        if self.warnings.len() < MAX_WARNINGS {
            let message = message.into();
            self.warnings.push(if line > 0 { format!("line {line}: {message}") } else { message });
        } else if self.warnings.len() == MAX_WARNINGS {
            self.warnings.push("more warnings were left out".to_owned());
        }
    }

    /// Totals over every kind of thing.
    pub fn total(&self) -> Counts {
        let mut t = Counts::default();
        for c in self.counts.values() {
            t += *c;
        }
        t
    }

    /// One line for 1C's exchange log: `products: 12 created, 3 updated; prices: …`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .counts
            .iter()
            .map(|(k, c)| format!("{k}: {} created, {} updated, {} deleted", c.created, c.updated, c.deleted))
            .collect();
        if parts.is_empty() {
            "nothing to change".to_owned()
        } else {
            parts.join("; ")
        }
    }
}

/// Why an import did not apply.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file itself is wrong (malformed, forbidden, not CommerceML): nothing was applied,
    /// and the message goes back to 1C as `failure\n<message>`.
    #[error("{0}")]
    Refused(String),
    /// Our side failed (database, storage); the job is retried.
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<super::commerceml::CmlError> for ImportError {
    fn from(e: super::commerceml::CmlError) -> Self {
        match e {
            super::commerceml::CmlError::Io(io) => {
                ImportError::App(AppError::Internal(anyhow::anyhow!("reading the exchange file: {io}")))
            }
            e => ImportError::Refused(e.to_string()),
        }
    }
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::App(e.into())
    }
}

/// How answers to 1C (status lines and the `mode=query` XML) are encoded: a store setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerEncoding {
    /// What 1C-Bitrix sends and every 1C version reads; characters outside the code page are
    /// written as `&#NNNN;`.
    #[default]
    Windows1251,
    /// UTF-8 with a byte order mark (1C 8.3 refuses UTF-8 without one).
    Utf8Bom,
}

impl AnswerEncoding {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "windows_1251" | "windows-1251" | "cp1251" => Some(Self::Windows1251),
            "utf8_bom" | "utf-8" | "utf8" => Some(Self::Utf8Bom),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Windows1251 => "windows_1251",
            Self::Utf8Bom => "utf8_bom",
        }
    }

    /// The name for `charset=` and the XML declaration.
    pub fn charset(self) -> &'static str {
        match self {
            Self::Windows1251 => "windows-1251",
            Self::Utf8Bom => "UTF-8",
        }
    }

    /// The bytes of `text` in this encoding.
    pub fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Self::Windows1251 => encoding_rs::WINDOWS_1251.encode(text).0.into_owned(),
            Self::Utf8Bom => {
                let mut out = Vec::with_capacity(text.len() + 3);
                out.extend_from_slice(b"\xEF\xBB\xBF");
                out.extend_from_slice(text.as_bytes());
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp1251_writes_unmappable_characters_as_references() {
        let bytes = AnswerEncoding::Windows1251.encode("Заказ №1 ✓");
        let back = encoding_rs::WINDOWS_1251.decode(&bytes).0.into_owned();
        assert_eq!(back, "Заказ №1 &#10003;");
        assert_eq!(&AnswerEncoding::Utf8Bom.encode("да")[..3], b"\xEF\xBB\xBF");
    }

    #[test]
    fn warnings_are_bounded() {
        let mut r = ImportReport::new("import.xml", "catalog", "2.07");
        for i in 0..MAX_WARNINGS + 10 {
            r.warn(i, "x");
        }
        assert_eq!(r.warnings.len(), MAX_WARNINGS + 1);
        r.of("products").created += 2;
        r.of("prices").updated += 1;
        assert_eq!(r.total().created, 2);
        assert_eq!(r.summary(), "prices: 0 created, 1 updated, 0 deleted; products: 2 created, 0 updated, 0 deleted");
    }
}
