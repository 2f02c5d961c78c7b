//! 1C CommerceML 2.03–2.10 / 3.x documents (import.xml, offers.xml, prices*, rests*) parsed
//! into plain structs (issue 8, step 1). No database work here: the exchange endpoint and
//! the staging import build on [`parse`].
//!
//! Safety: the bytes are decoded by the XML declaration (UTF-8 with or without BOM,
//! windows-1251) as they are read, never held whole; any `<!DOCTYPE>` is refused and no
//! entity other than the five predefined ones and character references is accepted, so
//! nothing is ever expanded;
//! size, depth, element count and text length are bounded ([`Limits`]). Elements we do not
//! know are skipped; per-element problems become [`Warning`]s.

mod documents;
mod extract;
mod model;
mod xml;

#[cfg(test)]
mod tests;

pub use documents::{Counterparty, Document, DocumentLine};
pub use extract::decimal;
pub use model::*;
pub use xml::{Limits, MAX_DEPTH, MAX_ELEMENTS, MAX_FILE_BYTES, MAX_TEXT_PER_ELEMENT};

/// Why a document was refused. Messages name the line and column, as 1C shows them.
#[derive(Debug, thiserror::Error)]
pub enum CmlError {
    #[error("file of {size} bytes is larger than the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("encoding: {0}")]
    Encoding(String),
    #[error("not an XML document")]
    NotXml,
    #[error("refused at line {line}, column {column}: {message}")]
    Forbidden { line: usize, column: usize, message: String },
    #[error("XML error at line {line}, column {column}: {message}")]
    Malformed { line: usize, column: usize, message: String },
    #[error("root element is <{0}>, not <КоммерческаяИнформация>")]
    WrongRoot(String),
    /// The file could not be read: our side, not 1C's.
    #[error("reading the file: {0}")]
    Io(std::io::Error),
}

/// Parses a CommerceML document held in memory with the default [`Limits`].
pub fn parse(bytes: &[u8]) -> Result<CmlDocument, CmlError> {
    parse_with(bytes, &Limits::default())
}

/// Parses a CommerceML document held in memory with explicit limits.
pub fn parse_with(mut bytes: &[u8], limits: &Limits) -> Result<CmlDocument, CmlError> {
    if bytes.len() > limits.max_bytes {
        return Err(CmlError::TooLarge { size: bytes.len(), limit: limits.max_bytes });
    }
    parse_stream(&mut bytes, limits)
}

/// Parses the CommerceML file at `path` as it is read (see [`xml::read_tree`]): memory is
/// bounded by the items taken out of it, not by the file. A file over the size limit is
/// refused before it is read.
pub fn parse_file(path: &std::path::Path) -> Result<CmlDocument, CmlError> {
    let limits = Limits::default();
    let file = std::fs::File::open(path).map_err(CmlError::Io)?;
    let size = file.metadata().map_err(CmlError::Io)?.len();
    if size > limits.max_bytes as u64 {
        return Err(CmlError::TooLarge { size: usize::try_from(size).unwrap_or(usize::MAX), limit: limits.max_bytes });
    }
    parse_stream(&mut std::io::BufReader::with_capacity(64 * 1024, file), &limits)
}

/// Parses what `input` yields, however its reads are split (the size limit is the caller's:
/// [`parse_file`] and [`parse`] check it first). Public for the fuzz target, which compares it
/// with [`parse`] over reads of every size.
pub fn parse_reader(input: &mut dyn std::io::BufRead) -> Result<CmlDocument, CmlError> {
    parse_stream(input, &Limits::default())
}

fn parse_stream(input: &mut dyn std::io::BufRead, limits: &Limits) -> Result<CmlDocument, CmlError> {
    let mut items = extract::Items::default();
    let root = xml::read_tree(input, limits, |ancestors, node| items.take(ancestors, node))?;
    if root.name != "КоммерческаяИнформация" {
        return Err(CmlError::WrongRoot(root.name));
    }
    Ok(extract::document(&root, items))
}

#[cfg(test)]
mod sale_tests;
