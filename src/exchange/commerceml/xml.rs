//! Safe XML reading: decoding by the XML declaration, refusal of DTDs and entities,
//! limits on size, depth, element count and text length, and a small element tree
//! built one item at a time (a `Товар` or `Предложение` is handed over and dropped).

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::CmlError;

/// Limits for one document; [`Limits::default`] is what the exchange endpoint uses.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_elements: usize,
    pub max_text_per_element: usize,
}

pub const MAX_FILE_BYTES: usize = 200 * 1024 * 1024;
pub const MAX_DEPTH: usize = 64;
pub const MAX_ELEMENTS: usize = 5_000_000;
pub const MAX_TEXT_PER_ELEMENT: usize = 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: MAX_FILE_BYTES,
            max_depth: MAX_DEPTH,
            max_elements: MAX_ELEMENTS,
            max_text_per_element: MAX_TEXT_PER_ELEMENT,
        }
    }
}

/// One element: local name (namespace prefix dropped), attributes, direct text, children.
#[derive(Debug, Default)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
    pub line: usize,
}

impl Node {
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Trimmed text of the element; `None` when empty.
    pub fn value(&self) -> Option<&str> {
        let t = self.text.trim();
        (!t.is_empty()).then_some(t)
    }

    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).and_then(Node::value)
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }
}

/// Decodes the bytes by the BOM or the `encoding` of the XML declaration.
/// UTF-8 input is borrowed, not copied (a 200 MB file is not held twice).
pub fn decode<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Cow<'a, str>, CmlError> {
    if bytes.len() > limits.max_bytes {
        return Err(CmlError::TooLarge { size: bytes.len(), limit: limits.max_bytes });
    }
    let (encoding, body) = match Encoding::for_bom(bytes) {
        Some((enc, bom_len)) => (enc, &bytes[bom_len..]),
        None => (declared_encoding(bytes)?, bytes),
    };
    let (text, had_errors) = encoding.decode_without_bom_handling(body);
    if had_errors {
        return Err(CmlError::Encoding(format!("the file is not valid {}", encoding.name())));
    }
    Ok(text)
}

/// The encoding named in `<?xml … encoding="…"?>`, UTF-8 when absent.
fn declared_encoding(bytes: &[u8]) -> Result<&'static Encoding, CmlError> {
    let head = &bytes[..bytes.len().min(256)];
    let head = String::from_utf8_lossy(head);
    let Some(decl) = head.strip_prefix("<?xml").and_then(|rest| rest.split_once("?>")) else {
        return Ok(UTF_8);
    };
    let Some(pos) = decl.0.find("encoding") else {
        return Ok(UTF_8);
    };
    let rest = decl.0[pos + "encoding".len()..].trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim_start();
    let label: String =
        rest.trim_start_matches(['"', '\'']).chars().take_while(|c| !matches!(c, '"' | '\'' | ' ' | '?')).collect();
    Encoding::for_label(label.as_bytes()).ok_or_else(|| CmlError::Encoding(format!("unknown encoding \"{label}\"")))
}

/// Line and column (1-based, in characters) of a byte offset, the way 1C's log shows it.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Incremental line counter for a monotonic sequence of offsets.
struct Lines<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        if end > self.pos {
            let slice = self.text.as_bytes().get(self.pos..end).unwrap_or_default();
            self.line += slice.iter().filter(|b| **b == b'\n').count();
            self.pos = end;
        }
        self.line
    }
}

fn position_error(text: &str, offset: u64, what: impl Into<String>) -> CmlError {
    let (line, column) = line_col(text, usize::try_from(offset).unwrap_or(usize::MAX));
    CmlError::Malformed { line, column, message: what.into() }
}

fn forbidden(text: &str, offset: u64, what: impl Into<String>) -> CmlError {
    let (line, column) = line_col(text, usize::try_from(offset).unwrap_or(usize::MAX));
    CmlError::Forbidden { line, column, message: what.into() }
}

fn start_node(e: &BytesStart<'_>, line: usize) -> Result<Node, String> {
    let mut attrs = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| format!("bad attribute: {err}"))?;
        let value =
            attr.normalized_value(XmlVersion::Implicit1_0).map_err(|err| format!("bad attribute value: {err}"))?;
        attrs.push((attr.key.local_name().as_ref().to_owned(), value.into_owned()));
    }
    Ok(Node { name: e.local_name().as_ref().to_owned(), attrs, line, ..Node::default() })
}

fn resolve_ref(name: &str) -> Result<Cow<'static, str>, String> {
    let fixed = match name {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "apos" => "'",
        "quot" => "\"",
        _ if name.starts_with('#') => {
            let ch = quick_xml::events::BytesRef::new(name)
                .resolve_char_ref()
                .map_err(|err| format!("bad character reference &{name};: {err}"))?
                .ok_or_else(|| format!("bad character reference &{name};"))?;
            return Ok(Cow::Owned(ch.to_string()));
        }
        _ => return Err(format!("entity &{name}; is not allowed (no DTD entities are expanded)")),
    };
    Ok(Cow::Borrowed(fixed))
}

/// Reads the document. `on_close(ancestors, node)` sees every closed element below the
/// root (with the open elements above it, the root first) and may take it (return `None`)
/// so that it is not kept in the tree.
pub fn read_tree(
    text: &str,
    limits: &Limits,
    mut on_close: impl FnMut(&[Node], Node) -> Option<Node>,
) -> Result<Node, CmlError> {
    let first = text.trim_start().chars().next();
    if first != Some('<') {
        return Err(CmlError::NotXml);
    }
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut lines = Lines { text, pos: 0, line: 1 };
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut elements = 0usize;
    loop {
        let offset = reader.buffer_position();
        let event =
            reader.read_event().map_err(|err| position_error(text, reader.error_position(), err.to_string()))?;
        let here = |what: String| position_error(text, offset, what);
        match event {
            Event::DocType(_) => {
                return Err(forbidden(text, offset, "<!DOCTYPE>, DTDs and entity declarations are not accepted"))
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                elements += 1;
                if elements > limits.max_elements {
                    return Err(here(format!("more than {} elements", limits.max_elements)));
                }
                if stack.len() >= limits.max_depth {
                    return Err(here(format!("nesting deeper than {}", limits.max_depth)));
                }
                if root.is_some() {
                    return Err(here("content after the root element".into()));
                }
                let node = start_node(e, lines.at(usize::try_from(offset).unwrap_or(0))).map_err(&here)?;
                stack.push(node);
                if matches!(event, Event::Empty(_)) {
                    close(&mut stack, &mut root, &mut on_close);
                }
            }
            Event::End(_) => close(&mut stack, &mut root, &mut on_close),
            Event::Text(t) => push_text(&mut stack, &t, limits).map_err(&here)?,
            Event::CData(t) => push_text(&mut stack, &t, limits).map_err(&here)?,
            Event::GeneralRef(r) => {
                let s = resolve_ref(&r).map_err(|m| forbidden(text, offset, m))?;
                push_text(&mut stack, &s, limits).map_err(&here)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        let open = stack.last().map(|n| n.name.clone()).unwrap_or_default();
        return Err(position_error(
            text,
            text.len() as u64,
            format!("unexpected end of file: <{open}> is not closed (truncated file?)"),
        ));
    }
    root.ok_or(CmlError::NotXml)
}

fn push_text(stack: &mut [Node], t: &str, limits: &Limits) -> Result<(), String> {
    let Some(node) = stack.last_mut() else {
        return if t.trim().is_empty() { Ok(()) } else { Err("text outside the root element".into()) };
    };
    if node.text.len() + t.len() > limits.max_text_per_element {
        return Err(format!("text of <{}> longer than {} bytes", node.name, limits.max_text_per_element));
    }
    node.text.push_str(t);
    Ok(())
}

fn close(stack: &mut Vec<Node>, root: &mut Option<Node>, on_close: &mut impl FnMut(&[Node], Node) -> Option<Node>) {
    let Some(node) = stack.pop() else { return };
    if stack.is_empty() {
        *root = Some(node);
    } else if let Some(kept) = on_close(stack, node) {
        if let Some(parent) = stack.last_mut() {
            parent.children.push(kept);
        }
    }
}
