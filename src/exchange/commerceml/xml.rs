//! Safe XML reading, streamed: decoding by the XML declaration, refusal of DTDs and entities,
//! limits on size, depth, element count and text length, and a small element tree
//! built one item at a time (a `Товар` or `Предложение` is handed over and dropped).

use std::borrow::Cow;
use std::io::{BufRead, Read};

use encoding_rs::{Decoder, DecoderResult, Encoding, UTF_8};
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

/// The input as UTF-8: the BOM (consumed) or the `encoding` of the XML declaration decides;
/// UTF-8 is read as it is, any other encoding through [`Utf8Reader`]. Nothing is read whole.
fn utf8_input<'a>(input: &'a mut dyn BufRead) -> Result<Box<dyn BufRead + 'a>, CmlError> {
    // The first 256 bytes (or fewer, in a shorter file) hold any BOM and the declaration,
    // however small the reads underneath are.
    let mut head = Vec::with_capacity(256);
    while head.len() < 256 {
        let buf = input.fill_buf().map_err(CmlError::Io)?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len().min(256 - head.len());
        head.extend_from_slice(&buf[..n]);
        input.consume(n);
    }
    let (encoding, bom_len) = match Encoding::for_bom(&head) {
        Some((enc, bom_len)) => (enc, bom_len),
        None => (declared_encoding(&head)?, 0),
    };
    head.drain(..bom_len);
    let whole: Box<dyn BufRead + 'a> = Box::new(std::io::Cursor::new(head).chain(input));
    if encoding == UTF_8 {
        Ok(whole)
    } else {
        Ok(Box::new(Utf8Reader::new(whole, encoding)))
    }
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

/// A reader that turns bytes of a legacy encoding (windows-1251, KOI8-R…) into UTF-8 as it
/// goes, 64 KB at a time; a byte sequence the encoding does not define is an error, never a
/// replacement character. (encoding_rs_io does the same but replaces bad bytes silently.)
struct Utf8Reader<'a> {
    input: Box<dyn BufRead + 'a>,
    decoder: Decoder,
    name: &'static str,
    /// Decoded text; `out[start..end]` is not handed over yet.
    out: Vec<u8>,
    start: usize,
    end: usize,
    done: bool,
    /// Undefined bytes were met: the text before them is handed over, then reading fails.
    malformed: bool,
}

impl<'a> Utf8Reader<'a> {
    fn new(input: Box<dyn BufRead + 'a>, encoding: &'static Encoding) -> Self {
        Utf8Reader {
            input,
            decoder: encoding.new_decoder_without_bom_handling(),
            name: encoding.name(),
            out: vec![0; 64 * 1024],
            start: 0,
            end: 0,
            done: false,
            malformed: false,
        }
    }
}

impl Read for Utf8Reader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        read_buffered(self, out)
    }
}

impl BufRead for Utf8Reader<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        while self.start == self.end && !self.done {
            // The text before bad bytes goes first, so the parser meets problems in the order
            // of the document, however the reads are split.
            if self.malformed {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("the file is not valid {}", self.name),
                ));
            }
            let src = self.input.fill_buf()?;
            let last = src.is_empty();
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(src, &mut self.out, last);
            self.input.consume(read);
            (self.start, self.end) = (0, written);
            match result {
                DecoderResult::Malformed(_, _) => self.malformed = true,
                DecoderResult::InputEmpty => self.done = last,
                DecoderResult::OutputFull => {}
            }
        }
        Ok(&self.out[self.start..self.end])
    }

    fn consume(&mut self, amt: usize) {
        self.start = (self.start + amt).min(self.end);
    }
}

/// `Read::read` of a [`BufRead`]: what its buffer holds, up to `out`'s length.
fn read_buffered(r: &mut impl BufRead, out: &mut [u8]) -> std::io::Result<usize> {
    let n = {
        let buf = r.fill_buf()?;
        let n = buf.len().min(out.len());
        out[..n].copy_from_slice(&buf[..n]);
        n
    };
    r.consume(n);
    Ok(n)
}

/// The parser's input with the position it has reached: the line (1-based) and the column
/// (in characters) after the last byte the parser consumed, the way 1C's log shows them.
struct Counted<'a> {
    input: Box<dyn BufRead + 'a>,
    line: usize,
    column: usize,
}

impl Counted<'_> {
    fn here(&self) -> (usize, usize) {
        (self.line, self.column + 1)
    }
}

impl Read for Counted<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        read_buffered(self, out)
    }
}

impl BufRead for Counted<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.input.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        // The buffer the parser has just read from (not consumed yet, so no new read).
        if let Ok(buf) = self.input.fill_buf() {
            for b in &buf[..amt.min(buf.len())] {
                if *b == b'\n' {
                    self.line += 1;
                    self.column = 0;
                } else if *b & 0xC0 != 0x80 {
                    self.column += 1;
                }
            }
        }
        self.input.consume(amt);
    }
}

fn error_at((line, column): (usize, usize), what: impl Into<String>) -> CmlError {
    CmlError::Malformed { line, column, message: what.into() }
}

fn forbidden((line, column): (usize, usize), what: impl Into<String>) -> CmlError {
    CmlError::Forbidden { line, column, message: what.into() }
}

/// What the XML reader's error means for 1C: bad bytes are an encoding problem, a failed
/// read is ours, anything else a malformed document at the place the reader stopped.
fn reader_error(err: quick_xml::Error, at: (usize, usize)) -> CmlError {
    match err {
        quick_xml::Error::Encoding(_) => CmlError::Encoding("the file is not valid UTF-8".into()),
        quick_xml::Error::Io(io) => read_error(std::io::Error::new(io.kind(), io.to_string())),
        err => error_at(at, err.to_string()),
    }
}

/// A failed read: bytes the declared encoding does not define are 1C's problem, the rest ours.
fn read_error(io: std::io::Error) -> CmlError {
    if io.kind() == std::io::ErrorKind::InvalidData {
        CmlError::Encoding(io.to_string())
    } else {
        CmlError::Io(io)
    }
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

/// Reads the document from `input` (bytes in the encoding they declare), one event at a
/// time: memory holds the open elements and what `on_close` keeps, never the file.
/// `on_close(ancestors, node)` sees every closed element below the root (with the open
/// elements above it, the root first) and may take it (return `None`) so that it is not kept
/// in the tree.
pub fn read_tree(
    input: &mut dyn BufRead,
    limits: &Limits,
    mut on_close: impl FnMut(&[Node], Node) -> Option<Node>,
) -> Result<Node, CmlError> {
    let mut counted = Counted { input: utf8_input(input)?, line: 1, column: 0 };
    let first = loop {
        let buf = counted.fill_buf().map_err(read_error)?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(at) => break Some(buf[at]),
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                counted.consume(n);
            }
        }
    };
    if first != Some(b'<') {
        return Err(CmlError::NotXml);
    }
    let mut reader = Reader::from_reader(counted);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut elements = 0usize;
    loop {
        buf.clear();
        let at = reader.get_ref().here();
        let event = reader.read_event_into(&mut buf).map_err(|err| reader_error(err, reader.get_ref().here()))?;
        let here = |what: String| error_at(at, what);
        match event {
            Event::DocType(_) => {
                return Err(forbidden(at, "<!DOCTYPE>, DTDs and entity declarations are not accepted"))
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
                let node = start_node(e, at.0).map_err(&here)?;
                stack.push(node);
                if matches!(event, Event::Empty(_)) {
                    close(&mut stack, &mut root, &mut on_close);
                }
            }
            Event::End(_) => close(&mut stack, &mut root, &mut on_close),
            Event::Text(t) => push_text(&mut stack, &t, limits).map_err(&here)?,
            Event::CData(t) => push_text(&mut stack, &t, limits).map_err(&here)?,
            Event::GeneralRef(r) => {
                let s = resolve_ref(&r).map_err(|m| forbidden(at, m))?;
                push_text(&mut stack, &s, limits).map_err(&here)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        let open = stack.last().map(|n| n.name.clone()).unwrap_or_default();
        return Err(error_at(
            reader.get_ref().here(),
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
