//! YAML documents to `gotpl::Value` trees, from saphyr-parser's events. Plain scalars resolve
//! to null, booleans and numbers; quoted and block scalars stay strings. Numbers become floats
//! for values files (Helm reads values through JSON, so every number is a float64 there) and
//! integers where they are integers in rendered manifests. Duplicate keys, anchors and aliases
//! are errors: Kubernetes' strict decoding refuses duplicate keys, and the chart uses no anchors.

use std::collections::BTreeMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::gotpl::Value;

#[derive(Clone, Copy, PartialEq)]
pub enum Numbers {
    /// As Helm reads values.yaml: every number a float64.
    Float,
    /// As written: integers stay integers.
    AsWritten,
}

enum Frame {
    List(Vec<Value>),
    Map(BTreeMap<String, Value>, Option<String>),
}

fn plain(s: &str, numbers: Numbers) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Nil,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let int_like = {
        let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
        !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
    };
    if int_like {
        if let Ok(i) = s.parse::<i64>() {
            return if numbers == Numbers::Float { Value::Float(i as f64) } else { Value::Int(i) };
        }
    }
    let float_like = s.chars().any(|c| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
        && s.chars().next().is_some_and(|c| c.is_ascii_digit() || "+-.".contains(c));
    if float_like {
        if let Ok(f) = s.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(s.to_owned())
}

/// Every document of `src` (empty documents are left out, as Kubernetes tools do).
pub fn load_all(src: &str, numbers: Numbers) -> Result<Vec<Value>, String> {
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut done: Option<Value> = None;
    for event in Parser::new_from_str(src) {
        let (event, span) = event.map_err(|e| format!("YAML: {e}"))?;
        let at = || format!("line {}", span.start.line());
        let value = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentStart(_) => continue,
            Event::DocumentEnd => {
                if let Some(v) = done.take() {
                    if v != Value::Nil {
                        docs.push(v);
                    }
                }
                continue;
            }
            Event::Alias(_) => return Err(format!("YAML aliases are not used by the chart ({})", at())),
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) if anchor != 0 => {
                return Err(format!("YAML anchors are not used by the chart ({})", at()))
            }
            Event::MappingStart(..) => {
                stack.push(Frame::Map(BTreeMap::new(), None));
                continue;
            }
            Event::SequenceStart(..) => {
                stack.push(Frame::List(Vec::new()));
                continue;
            }
            Event::MappingEnd | Event::SequenceEnd => match stack.pop() {
                Some(Frame::Map(m, None)) => Value::Map(m),
                Some(Frame::List(l)) => Value::List(l),
                _ => return Err(format!("YAML: unbalanced collection ({})", at())),
            },
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 {
                    return Err(format!("YAML anchors are not used by the chart ({})", at()));
                }
                if tag.is_some() {
                    return Err(format!("YAML tags are not used by the chart ({})", at()));
                }
                if style == ScalarStyle::Plain {
                    plain(&text, numbers)
                } else {
                    Value::Str(text.into_owned())
                }
            }
        };
        match stack.last_mut() {
            None => done = Some(value),
            Some(Frame::List(l)) => l.push(value),
            Some(Frame::Map(m, key)) => match key.take() {
                None => {
                    let k = match value {
                        Value::Str(s) => s,
                        Value::Bool(b) => b.to_string(),
                        Value::Int(i) => i.to_string(),
                        Value::Float(f) => crate::gotpl::go_float(f),
                        Value::Nil => "null".into(),
                        _ => return Err(format!("YAML: a collection as a mapping key ({})", at())),
                    };
                    if m.contains_key(&k) {
                        return Err(format!("YAML: duplicate key {k:?} ({})", at()));
                    }
                    *key = Some(k);
                }
                Some(k) => {
                    m.insert(k, value);
                }
            },
        }
    }
    if let Some(v) = done.take() {
        if v != Value::Nil {
            docs.push(v);
        }
    }
    Ok(docs)
}

/// The one document of a values file.
pub fn load_one(src: &str, numbers: Numbers) -> Result<Value, String> {
    let mut docs = load_all(src, numbers)?;
    match docs.len() {
        0 => Ok(Value::Map(BTreeMap::new())),
        1 => Ok(docs.remove(0)),
        n => Err(format!("expected one YAML document, found {n}")),
    }
}
