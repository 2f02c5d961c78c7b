//! A small renderer for exactly the Go text/template + Sprig subset the Helm chart uses (Helm
//! itself cannot be installed on this machine). Anything outside the subset is an error, never
//! silently ignored: an unknown function, keyword or field, printing a map or a list, `%d` of a
//! float. Values from YAML are numbers as float64, as Helm reads them, so `printf "%d"` without
//! `int` fails here as it misprints in Helm, and 1000000 prints as `1e+06` as it does there.
//! Missing keys are errors too (stricter than Helm, which prints nothing): every key the chart
//! reads must be declared in values.yaml.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

use sha2::{Digest, Sha256};

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// `.Capabilities.APIVersions` (method `Has`).
    ApiVersions(Rc<Vec<String>>),
    /// `.Files` (method `Get`).
    Files(Rc<BTreeMap<String, String>>),
}

impl Value {
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::ApiVersions(_) | Value::Files(_) => true,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::ApiVersions(_) => "APIVersions",
            Value::Files(_) => "Files",
        }
    }

    pub fn map(entries: Vec<(&str, Value)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }
}

/// Go's `%v` of a float64 (strconv 'g' with the shortest precision, exponent from 1e+06 on).
pub fn go_float(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let exp = f.abs().log10().floor() as i32;
    if (-4..6).contains(&exp) {
        let s = format!("{f}");
        return s;
    }
    let s = format!("{f:e}");
    let (mant, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    format!("{mant}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

// ------------------------------------------------------------------------------------------
// Lexing the template into text and actions.

#[derive(Debug)]
enum Piece {
    Text(String),
    Action { src: String, line: usize },
}

fn split_pieces(name: &str, src: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = src;
    let mut line = 1;
    let mut trim_next = false;
    while let Some(open) = rest.find("{{") {
        let mut text = rest[..open].to_owned();
        if trim_next {
            text = text.trim_start().to_owned();
        }
        let after = &rest[open + 2..];
        let trim_left = after.starts_with("- ") || after.starts_with("-\n") || after.starts_with("-\t");
        if trim_left {
            text = text.trim_end().to_owned();
        }
        line += rest[..open].matches('\n').count();
        pieces.push(Piece::Text(text));
        let body_start = if trim_left { 1 } else { 0 };
        let close = find_close(after).ok_or_else(|| format!("{name}:{line}: unclosed action"))?;
        let mut body = &after[body_start..close];
        trim_next = false;
        if body.ends_with(" -") || body.ends_with("\n-") || body.ends_with("\t-") {
            body = &body[..body.len() - 1];
            trim_next = true;
        }
        let body_trim = body.trim();
        if body_trim.starts_with("/*") {
            if !body_trim.ends_with("*/") {
                return Err(format!("{name}:{line}: a comment must close right before the action ends"));
            }
        } else {
            pieces.push(Piece::Action { src: body_trim.to_owned(), line });
        }
        line += after[..close].matches('\n').count();
        rest = &after[close + 2..];
    }
    let mut text = rest.to_owned();
    if trim_next {
        text = text.trim_start().to_owned();
    }
    pieces.push(Piece::Text(text));
    Ok(pieces)
}

/// The `}}` that closes an action, skipping string literals and comments.
fn find_close(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
            }
            b'/' if b[i + 1] == b'*' => {
                let end = s[i + 2..].find("*/")?;
                i += end + 3;
            }
            b'}' if b[i + 1] == b'}' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

// ------------------------------------------------------------------------------------------
// Tokens of one action.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Field(Vec<String>),
    Var(String, Vec<String>),
    Ident(String),
    Str(String),
    Num(f64, bool),
    LParen,
    RParen,
    Pipe,
    Declare,
    Assign,
    Comma,
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let ident = |i: &mut usize| {
        let start = *i;
        while *i < c.len() && (c[*i].is_alphanumeric() || c[*i] == '_') {
            *i += 1;
        }
        c[start..*i].iter().collect::<String>()
    };
    let chain = |i: &mut usize| -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        while *i < c.len() && c[*i] == '.' {
            *i += 1;
            let start = *i;
            while *i < c.len() && (c[*i].is_alphanumeric() || c[*i] == '_') {
                *i += 1;
            }
            if start == *i {
                if names.is_empty() {
                    break;
                }
                return Err(format!("empty field name in {src:?}"));
            }
            names.push(c[start..*i].iter().collect());
        }
        Ok(names)
    };
    while i < c.len() {
        let ch = c[i];
        match ch {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
                if i < c.len() && c[i] == '.' {
                    return Err(format!("field access on a parenthesised value is not supported: {src:?}"));
                }
            }
            '|' => {
                out.push(Tok::Pipe);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            ':' if c.get(i + 1) == Some(&'=') => {
                out.push(Tok::Declare);
                i += 2
            }
            '=' => {
                out.push(Tok::Assign);
                i += 1
            }
            '"' => {
                i += 1;
                let mut s = String::new();
                loop {
                    let Some(&x) = c.get(i) else { return Err(format!("unterminated string in {src:?}")) };
                    i += 1;
                    match x {
                        '"' => break,
                        '\\' => {
                            let e = c.get(i).copied().ok_or("bad escape")?;
                            i += 1;
                            s.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                '"' => '"',
                                '\\' => '\\',
                                other => return Err(format!("unsupported escape \\{other} in {src:?}")),
                            });
                        }
                        x => s.push(x),
                    }
                }
                out.push(Tok::Str(s));
            }
            '`' => {
                i += 1;
                let start = i;
                while i < c.len() && c[i] != '`' {
                    i += 1;
                }
                out.push(Tok::Str(c[start..i].iter().collect()));
                i += 1;
            }
            '.' => out.push(Tok::Field(chain(&mut i)?)),
            '$' => {
                i += 1;
                let name = format!("${}", ident(&mut i));
                out.push(Tok::Var(name, chain(&mut i)?));
            }
            d if d.is_ascii_digit() || (d == '-' && c.get(i + 1).is_some_and(|n| n.is_ascii_digit())) => {
                let start = i;
                i += 1;
                while i < c.len() && (c[i].is_ascii_digit() || c[i] == '.') {
                    i += 1;
                }
                let s: String = c[start..i].iter().collect();
                let n: f64 = s.parse().map_err(|_| format!("bad number {s:?}"))?;
                out.push(Tok::Num(n, s.contains('.')));
            }
            a if a.is_alphabetic() || a == '_' => out.push(Tok::Ident(ident(&mut i))),
            other => return Err(format!("unexpected {other:?} in {src:?}")),
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------------
// The parse tree.

#[derive(Debug, Clone)]
enum Arg {
    Field(Vec<String>),
    Var(String, Vec<String>),
    Func(String),
    Lit(Value),
    Sub(Pipe),
}

#[derive(Debug, Clone)]
struct Pipe {
    decl: Option<(Vec<String>, bool)>,
    cmds: Vec<Vec<Arg>>,
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Out(Pipe, usize),
    If(Vec<(Pipe, Vec<Node>)>, Vec<Node>, usize),
    With(Pipe, Vec<Node>, Vec<Node>, usize),
    Range(Pipe, Vec<Node>, Vec<Node>, usize),
    Template(String, Option<Pipe>, usize),
}

fn parse_pipe(toks: &[Tok]) -> Result<Pipe, String> {
    let mut toks = toks;
    let mut decl = None;
    let pos = toks.iter().position(|t| matches!(t, Tok::Declare | Tok::Assign));
    if let Some(p) = pos {
        let mut vars = Vec::new();
        for t in &toks[..p] {
            match t {
                Tok::Var(v, chain) if chain.is_empty() => vars.push(v.clone()),
                Tok::Comma => {}
                other => return Err(format!("bad variable declaration at {other:?}")),
            }
        }
        decl = Some((vars, toks[p] == Tok::Declare));
        toks = &toks[p + 1..];
    }
    let mut cmds = Vec::new();
    let mut cur = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Pipe => {
                if cur.is_empty() {
                    return Err("empty command in pipeline".into());
                }
                cmds.push(std::mem::take(&mut cur));
            }
            Tok::LParen => {
                let mut depth = 1;
                let start = i + 1;
                while depth > 0 {
                    i += 1;
                    match toks.get(i) {
                        Some(Tok::LParen) => depth += 1,
                        Some(Tok::RParen) => depth -= 1,
                        Some(_) => {}
                        None => return Err("unclosed parenthesis".into()),
                    }
                }
                cur.push(Arg::Sub(parse_pipe(&toks[start..i])?));
            }
            Tok::RParen => return Err("unexpected )".into()),
            Tok::Field(f) => cur.push(Arg::Field(f.clone())),
            Tok::Var(v, c) => cur.push(Arg::Var(v.clone(), c.clone())),
            Tok::Str(s) => cur.push(Arg::Lit(Value::Str(s.clone()))),
            Tok::Num(n, is_float) => {
                cur.push(Arg::Lit(if *is_float { Value::Float(*n) } else { Value::Int(*n as i64) }))
            }
            Tok::Ident(id) => cur.push(match id.as_str() {
                "true" => Arg::Lit(Value::Bool(true)),
                "false" => Arg::Lit(Value::Bool(false)),
                "nil" => Arg::Lit(Value::Nil),
                _ => Arg::Func(id.clone()),
            }),
            other => return Err(format!("unexpected {other:?} in pipeline")),
        }
        i += 1;
    }
    if cur.is_empty() {
        return Err("empty pipeline".into());
    }
    cmds.push(cur);
    Ok(Pipe { decl, cmds })
}

struct Parser<'a> {
    name: &'a str,
    pieces: Vec<Piece>,
    pos: usize,
    defines: &'a mut BTreeMap<String, Rc<Vec<Node>>>,
}

enum Stop {
    End,
    Else(Vec<Tok>, usize),
    Eof,
}

impl Parser<'_> {
    fn err(&self, line: usize, msg: impl std::fmt::Display) -> String {
        format!("{}:{line}: {msg}", self.name)
    }

    fn list(&mut self) -> Result<(Vec<Node>, Stop), String> {
        let mut nodes = Vec::new();
        while self.pos < self.pieces.len() {
            let piece = std::mem::replace(&mut self.pieces[self.pos], Piece::Text(String::new()));
            self.pos += 1;
            let (src, line) = match piece {
                Piece::Text(t) => {
                    if !t.is_empty() {
                        nodes.push(Node::Text(t));
                    }
                    continue;
                }
                Piece::Action { src, line } => (src, line),
            };
            let toks = lex(&src).map_err(|e| self.err(line, e))?;
            let kw = match toks.first() {
                Some(Tok::Ident(k)) => k.as_str(),
                _ => "",
            };
            let rest = toks.get(1..).unwrap_or_default().to_vec();
            let pipe = |p: &Self| parse_pipe(&rest).map_err(|e| p.err(line, e));
            match kw {
                "end" => return Ok((nodes, Stop::End)),
                "else" => return Ok((nodes, Stop::Else(rest, line))),
                "if" => {
                    let mut branches = vec![(pipe(self)?, Vec::new())];
                    let mut otherwise = Vec::new();
                    loop {
                        let (body, stop) = self.list()?;
                        branches.last_mut().ok_or("no branch")?.1 = body;
                        match stop {
                            Stop::End => break,
                            Stop::Eof => return Err(self.err(line, "if without end")),
                            Stop::Else(t, l) if t.is_empty() => {
                                let (body, stop) = self.list()?;
                                if !matches!(stop, Stop::End) {
                                    return Err(self.err(l, "else must be followed by end"));
                                }
                                otherwise = body;
                                break;
                            }
                            Stop::Else(t, l) => match t.first() {
                                Some(Tok::Ident(k)) if k == "if" => {
                                    branches.push((parse_pipe(&t[1..]).map_err(|e| self.err(l, e))?, Vec::new()))
                                }
                                _ => return Err(self.err(l, "only `else` and `else if` are supported")),
                            },
                        }
                    }
                    nodes.push(Node::If(branches, otherwise, line));
                }
                "with" | "range" => {
                    let p = pipe(self)?;
                    let (body, stop) = self.list()?;
                    let otherwise = match stop {
                        Stop::End => Vec::new(),
                        Stop::Eof => return Err(self.err(line, format!("{kw} without end"))),
                        Stop::Else(t, l) => {
                            if !t.is_empty() {
                                return Err(self.err(l, format!("only a plain else inside {kw}")));
                            }
                            let (b, s) = self.list()?;
                            if !matches!(s, Stop::End) {
                                return Err(self.err(l, "else must be followed by end"));
                            }
                            b
                        }
                    };
                    if kw == "with" {
                        nodes.push(Node::With(p, body, otherwise, line));
                    } else {
                        nodes.push(Node::Range(p, body, otherwise, line));
                    }
                }
                "define" => {
                    let Some(Tok::Str(name)) = rest.first() else {
                        return Err(self.err(line, "define needs a name"));
                    };
                    let (body, stop) = self.list()?;
                    if !matches!(stop, Stop::End) {
                        return Err(self.err(line, "define without end"));
                    }
                    if self.defines.insert(name.clone(), Rc::new(body)).is_some() {
                        return Err(self.err(line, format!("template {name:?} defined twice")));
                    }
                }
                "template" => {
                    let Some(Tok::Str(name)) = rest.first() else {
                        return Err(self.err(line, "template needs a name"));
                    };
                    let arg = if rest.len() > 1 {
                        Some(parse_pipe(&rest[1..]).map_err(|e| self.err(line, e))?)
                    } else {
                        None
                    };
                    nodes.push(Node::Template(name.clone(), arg, line));
                }
                "block" | "break" | "continue" => {
                    return Err(self.err(line, format!("`{kw}` is not supported by this renderer")))
                }
                _ => nodes.push(Node::Out(parse_pipe(&toks).map_err(|e| self.err(line, e))?, line)),
            }
        }
        Ok((nodes, Stop::Eof))
    }
}

/// Parses one template file: its top-level nodes, and its defines into `defines`.
fn parse_file(name: &str, src: &str, defines: &mut BTreeMap<String, Rc<Vec<Node>>>) -> Result<Vec<Node>, String> {
    let pieces = split_pieces(name, src)?;
    let mut p = Parser { name, pieces, pos: 0, defines };
    let (nodes, stop) = p.list()?;
    match stop {
        Stop::Eof => Ok(nodes),
        Stop::End => Err(format!("{name}: unexpected end")),
        Stop::Else(_, l) => Err(format!("{name}:{l}: unexpected else")),
    }
}

// ------------------------------------------------------------------------------------------
// Evaluation.

pub struct Engine {
    defines: BTreeMap<String, Rc<Vec<Node>>>,
    files: Vec<(String, Vec<Node>)>,
}

struct Scope<'a> {
    engine: &'a Engine,
    vars: Vec<(String, Value)>,
    depth: usize,
    file: String,
}

impl Engine {
    /// Parses every (name, source) pair; names starting with `_` only contribute defines.
    pub fn new(sources: &[(String, String)]) -> Result<Engine, String> {
        let mut defines = BTreeMap::new();
        let mut files = Vec::new();
        for (name, src) in sources {
            let nodes = parse_file(name, src, &mut defines)?;
            let base = name.rsplit('/').next().unwrap_or(name);
            if !base.starts_with('_') {
                files.push((name.clone(), nodes));
            }
        }
        Ok(Engine { defines, files })
    }

    /// Renders every file with `root` as `.` and `$`.
    pub fn render_all(&self, root: &Value) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for (name, nodes) in &self.files {
            let mut scope =
                Scope { engine: self, vars: vec![("$".into(), root.clone())], depth: 0, file: name.clone() };
            let mut text = String::new();
            scope.exec(nodes, root, &mut text)?;
            out.push((name.clone(), text));
        }
        Ok(out)
    }
}

impl Scope<'_> {
    fn err(&self, line: usize, msg: impl std::fmt::Display) -> String {
        format!("{}:{line}: {msg}", self.file)
    }

    fn exec(&mut self, nodes: &[Node], dot: &Value, out: &mut String) -> Result<(), String> {
        for node in nodes {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Out(p, line) => {
                    let v = self.pipe(p, dot).map_err(|e| self.err(*line, e))?;
                    if p.decl.is_none() {
                        print_value(&v, out).map_err(|e| self.err(*line, e))?;
                    }
                }
                Node::If(branches, otherwise, line) => {
                    let mark = self.vars.len();
                    let mut done = false;
                    for (cond, body) in branches {
                        if self.pipe(cond, dot).map_err(|e| self.err(*line, e))?.truthy() {
                            self.exec(body, dot, out)?;
                            done = true;
                            break;
                        }
                    }
                    if !done {
                        self.exec(otherwise, dot, out)?;
                    }
                    self.vars.truncate(mark);
                }
                Node::With(p, body, otherwise, line) => {
                    let mark = self.vars.len();
                    let v = self.pipe(p, dot).map_err(|e| self.err(*line, e))?;
                    if v.truthy() {
                        self.exec(body, &v, out)?;
                    } else {
                        self.exec(otherwise, dot, out)?;
                    }
                    self.vars.truncate(mark);
                }
                Node::Range(p, body, otherwise, line) => self.range(p, body, otherwise, *line, dot, out)?,
                Node::Template(name, arg, line) => {
                    let arg = match arg {
                        Some(p) => self.pipe(p, dot).map_err(|e| self.err(*line, e))?,
                        None => Value::Nil,
                    };
                    let text = self.include(name, arg).map_err(|e| self.err(*line, e))?;
                    out.push_str(&text);
                }
            }
        }
        Ok(())
    }

    fn range(
        &mut self,
        p: &Pipe,
        body: &[Node],
        otherwise: &[Node],
        line: usize,
        dot: &Value,
        out: &mut String,
    ) -> Result<(), String> {
        let mark = self.vars.len();
        let source = Pipe { decl: None, cmds: p.cmds.clone() };
        let v = self.pipe(&source, dot).map_err(|e| self.err(line, e))?;
        let items: Vec<(Value, Value)> = match v {
            Value::List(l) => l.into_iter().enumerate().map(|(i, v)| (Value::Int(i as i64), v)).collect(),
            Value::Map(m) => m.into_iter().map(|(k, v)| (Value::Str(k), v)).collect(),
            Value::Nil => Vec::new(),
            other => return Err(self.err(line, format!("range over {} is not supported", other.kind()))),
        };
        if items.is_empty() {
            self.exec(otherwise, dot, out)?;
        }
        for (k, v) in items {
            match &p.decl {
                Some((vars, _)) if vars.len() == 2 => {
                    self.vars.push((vars[0].clone(), k));
                    self.vars.push((vars[1].clone(), v.clone()));
                }
                Some((vars, _)) if vars.len() == 1 => self.vars.push((vars[0].clone(), v.clone())),
                Some(_) => return Err(self.err(line, "range declares one or two variables")),
                None => {}
            }
            self.exec(body, &v, out)?;
            self.vars.truncate(mark);
        }
        Ok(())
    }

    fn include(&mut self, name: &str, arg: Value) -> Result<String, String> {
        let body = self.engine.defines.get(name).ok_or_else(|| format!("no template named {name:?}"))?.clone();
        if self.depth > 50 {
            return Err(format!("include {name:?} nested too deeply"));
        }
        let saved = std::mem::replace(&mut self.vars, vec![("$".into(), arg.clone())]);
        self.depth += 1;
        let mut text = String::new();
        let result = self.exec(&body, &arg, &mut text);
        self.depth -= 1;
        self.vars = saved;
        result.map(|_| text)
    }

    fn pipe(&mut self, p: &Pipe, dot: &Value) -> Result<Value, String> {
        let mut last: Option<Value> = None;
        for cmd in &p.cmds {
            last = Some(self.command(cmd, dot, last)?);
        }
        let v = last.unwrap_or(Value::Nil);
        if let Some((vars, declare)) = &p.decl {
            let [var] = vars.as_slice() else { return Err("only one variable can be set here".into()) };
            if *declare {
                self.vars.push((var.clone(), v.clone()));
            } else {
                let slot = self.vars.iter_mut().rev().find(|(n, _)| n == var);
                slot.ok_or_else(|| format!("undefined variable {var}"))?.1 = v.clone();
            }
        }
        Ok(v)
    }

    fn arg(&mut self, a: &Arg, dot: &Value) -> Result<Value, String> {
        match a {
            Arg::Lit(v) => Ok(v.clone()),
            Arg::Field(chain) => field(dot, chain, &[]),
            Arg::Var(name, chain) => {
                let base = self.var(name)?;
                field(&base, chain, &[])
            }
            Arg::Sub(p) => self.pipe(p, dot),
            Arg::Func(f) => self.call(f, &[], dot, None),
        }
    }

    fn var(&self, name: &str) -> Result<Value, String> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or(format!("undefined variable {name}"))
    }

    fn command(&mut self, cmd: &[Arg], dot: &Value, last: Option<Value>) -> Result<Value, String> {
        let (head, rest) = cmd.split_first().ok_or("empty command")?;
        match head {
            Arg::Func(f) => self.call(f, rest, dot, last),
            Arg::Field(chain) | Arg::Var(_, chain) if !rest.is_empty() || last.is_some() => {
                let mut args = Vec::new();
                for a in rest {
                    args.push(self.arg(a, dot)?);
                }
                args.extend(last);
                let base = match head {
                    Arg::Var(name, _) => self.var(name)?,
                    _ => dot.clone(),
                };
                field(&base, chain, &args)
            }
            _ if !rest.is_empty() || last.is_some() => Err(format!("can't give arguments to {head:?}")),
            _ => self.arg(head, dot),
        }
    }

    fn call(&mut self, f: &str, raw: &[Arg], dot: &Value, last: Option<Value>) -> Result<Value, String> {
        // `and` and `or` stop at the first deciding argument, like Go's.
        if f == "and" || f == "or" {
            let mut v = Value::Nil;
            let n = raw.len() + usize::from(last.is_some());
            if n < 2 {
                return Err(format!("{f} needs at least two arguments"));
            }
            for a in raw {
                v = self.arg(a, dot)?;
                if v.truthy() != (f == "and") {
                    return Ok(v);
                }
            }
            return Ok(last.unwrap_or(v));
        }
        let mut args = Vec::new();
        for a in raw {
            args.push(self.arg(a, dot)?);
        }
        args.extend(last);
        if f == "include" {
            let [Value::Str(name), arg] = args.as_slice() else {
                return Err("include takes a name and a value".into());
            };
            return self.include(name, arg.clone()).map(Value::Str);
        }
        builtin(f, args)
    }
}

/// `.a.b` on `base`, the last name being a method when it is given arguments.
fn field(base: &Value, chain: &[String], args: &[Value]) -> Result<Value, String> {
    let mut v = base.clone();
    for (i, name) in chain.iter().enumerate() {
        let last = i + 1 == chain.len();
        v = match (&v, name.as_str()) {
            (Value::ApiVersions(list), "Has") if last => {
                let [Value::Str(api)] = args else { return Err("APIVersions.Has takes one string".into()) };
                return Ok(Value::Bool(list.iter().any(|a| a == api)));
            }
            (Value::Files(files), "Get") if last => {
                let [Value::Str(path)] = args else { return Err("Files.Get takes one path".into()) };
                // Helm answers "" for a missing file; here it is an error.
                return files.get(path).cloned().map(Value::Str).ok_or(format!("no file {path:?} in the chart"));
            }
            (Value::Map(m), _) => {
                m.get(name).cloned().ok_or_else(|| format!("no key {name:?} in .{}", chain[..i].join(".")))?
            }
            (other, _) => return Err(format!("can't evaluate field {name} in a {}", other.kind())),
        };
    }
    if !args.is_empty() {
        return Err(format!("{} is not a method; can't give it arguments", chain.join(".")));
    }
    Ok(v)
}

fn print_value(v: &Value, out: &mut String) -> Result<(), String> {
    match v {
        Value::Nil => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&go_float(*f)),
        Value::Str(s) => out.push_str(s),
        other => return Err(format!("printing a {} (use toYaml)", other.kind())),
    }
    Ok(())
}

/// Sprig's `toString`/`%v` of a scalar.
fn to_str(v: &Value) -> Result<String, String> {
    let mut s = String::new();
    print_value(v, &mut s)?;
    Ok(s)
}

fn to_int(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Float(f) => Ok(*f as i64),
        Value::Str(s) => Ok(s.trim().parse().unwrap_or(0)),
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Nil => Ok(0),
        other => Err(format!("int of a {}", other.kind())),
    }
}

fn compare(a: &Value, b: &Value) -> Result<std::cmp::Ordering, String> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y).ok_or("NaN".into()),
        (Value::Str(x), Value::Str(y)) => Ok(x.cmp(y)),
        _ => Err(format!("incompatible types for comparison: {} and {}", a.kind(), b.kind())),
    }
}

fn equal(a: &Value, b: &Value) -> Result<bool, String> {
    match (a, b) {
        (Value::Nil, Value::Nil) => Ok(true),
        (Value::Bool(x), Value::Bool(y)) => Ok(x == y),
        (Value::Int(_), Value::Int(_)) | (Value::Float(_), Value::Float(_)) | (Value::Str(_), Value::Str(_)) => {
            Ok(compare(a, b)? == std::cmp::Ordering::Equal)
        }
        _ => Err(format!("incompatible types for comparison: {} and {}", a.kind(), b.kind())),
    }
}

fn str_arg(v: &Value) -> Result<&str, String> {
    match v {
        Value::Str(s) => Ok(s),
        other => Err(format!("expected a string, got a {}", other.kind())),
    }
}

fn list_arg(v: &Value) -> Result<Vec<Value>, String> {
    match v {
        Value::List(l) => Ok(l.clone()),
        Value::Nil => Ok(Vec::new()),
        other => Err(format!("expected a list, got a {}", other.kind())),
    }
}

fn indent(n: i64, s: &str) -> String {
    let pad = " ".repeat(n.max(0) as usize);
    format!("{pad}{}", s.replace('\n', &format!("\n{pad}")))
}

fn printf(format: &str, args: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let verb = chars.next().ok_or("printf: lone %")?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let a = args.next().ok_or_else(|| format!("printf {format:?}: missing argument for %{verb}"))?;
        match (verb, a) {
            ('s', Value::Str(s)) => out.push_str(s),
            ('d', Value::Int(i)) => out.push_str(&i.to_string()),
            ('v', v) => out.push_str(&to_str(v)?),
            ('q', Value::Str(s)) => out.push_str(&quote(s)),
            (verb, v) => {
                return Err(format!("printf {format:?}: %{verb} of a {} (Helm would print %!{verb}(...))", v.kind()))
            }
        }
    }
    if args.next().is_some() {
        return Err(format!("printf {format:?}: too many arguments"));
    }
    Ok(out)
}

/// Go's `%q`, as Sprig's `quote` writes it (valid as a YAML double-quoted scalar for the ASCII
/// the chart quotes).
fn quote(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(q, "\\x{:02x}", c as u32);
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

fn builtin(f: &str, args: Vec<Value>) -> Result<Value, String> {
    let n = args.len();
    let need = |k: usize| if n == k { Ok(()) } else { Err(format!("{f} takes {k} arguments, got {n}")) };
    Ok(match f {
        "not" => {
            need(1)?;
            Value::Bool(!args[0].truthy())
        }
        "eq" => {
            if n < 2 {
                return Err("eq needs two arguments".into());
            }
            let mut any = false;
            for b in &args[1..] {
                any |= equal(&args[0], b)?;
            }
            Value::Bool(any)
        }
        "ne" => {
            need(2)?;
            Value::Bool(!equal(&args[0], &args[1])?)
        }
        "lt" | "le" | "gt" | "ge" => {
            need(2)?;
            let o = compare(&args[0], &args[1])?;
            use std::cmp::Ordering::*;
            Value::Bool(match f {
                "lt" => o == Less,
                "le" => o != Greater,
                "gt" => o == Greater,
                _ => o != Less,
            })
        }
        "len" => {
            need(1)?;
            Value::Int(match &args[0] {
                Value::Str(s) => s.len(),
                Value::List(l) => l.len(),
                Value::Map(m) => m.len(),
                other => return Err(format!("len of a {}", other.kind())),
            } as i64)
        }
        "printf" => {
            let (fmt, rest) = args.split_first().ok_or("printf needs a format")?;
            Value::Str(printf(str_arg(fmt)?, rest)?)
        }
        "default" => {
            need(2)?;
            if args[1].truthy() {
                args[1].clone()
            } else {
                args[0].clone()
            }
        }
        "empty" => {
            need(1)?;
            Value::Bool(!args[0].truthy())
        }
        "required" => {
            need(2)?;
            match &args[1] {
                Value::Nil => return Err(str_arg(&args[0])?.to_owned()),
                Value::Str(s) if s.is_empty() => return Err(str_arg(&args[0])?.to_owned()),
                v => v.clone(),
            }
        }
        "fail" => {
            need(1)?;
            return Err(format!("fail: {}", str_arg(&args[0])?));
        }
        "quote" => {
            let parts: Result<Vec<String>, String> =
                args.iter().filter(|a| **a != Value::Nil).map(|a| to_str(a).map(|s| quote(&s))).collect();
            Value::Str(parts?.join(" "))
        }
        "toString" => {
            need(1)?;
            Value::Str(to_str(&args[0])?)
        }
        "int" => {
            need(1)?;
            Value::Int(to_int(&args[0])?)
        }
        "add" => Value::Int(args.iter().map(to_int).sum::<Result<i64, String>>()?),
        "trunc" => {
            need(2)?;
            let k = to_int(&args[0])?;
            let s = str_arg(&args[1])?;
            Value::Str(if k >= 0 { s.chars().take(k as usize).collect() } else { s.to_owned() })
        }
        "trimSuffix" => {
            need(2)?;
            let s = str_arg(&args[1])?;
            Value::Str(s.strip_suffix(str_arg(&args[0])?).unwrap_or(s).to_owned())
        }
        "trim" => {
            need(1)?;
            Value::Str(str_arg(&args[0])?.trim().to_owned())
        }
        "upper" => {
            need(1)?;
            Value::Str(str_arg(&args[0])?.to_uppercase())
        }
        "replace" => {
            need(3)?;
            Value::Str(str_arg(&args[2])?.replace(str_arg(&args[0])?, str_arg(&args[1])?))
        }
        "contains" => {
            need(2)?;
            Value::Bool(str_arg(&args[1])?.contains(str_arg(&args[0])?))
        }
        "list" => Value::List(args),
        "append" => {
            need(2)?;
            let mut l = list_arg(&args[0])?;
            l.push(args[1].clone());
            Value::List(l)
        }
        "concat" => {
            let mut l = Vec::new();
            for a in &args {
                l.extend(list_arg(a)?);
            }
            Value::List(l)
        }
        "has" => {
            need(2)?;
            Value::Bool(list_arg(&args[1])?.contains(&args[0]))
        }
        "join" => {
            need(2)?;
            let parts: Result<Vec<String>, String> = list_arg(&args[1])?.iter().map(to_str).collect();
            Value::Str(parts?.join(str_arg(&args[0])?))
        }
        "sha256sum" => {
            need(1)?;
            Value::Str(hex::encode(Sha256::digest(str_arg(&args[0])?.as_bytes())))
        }
        "toYaml" => {
            need(1)?;
            Value::Str(to_yaml(&args[0]).trim_end_matches('\n').to_owned())
        }
        "indent" | "nindent" => {
            need(2)?;
            let s = indent(to_int(&args[0])?, str_arg(&args[1])?);
            Value::Str(if f == "nindent" { format!("\n{s}") } else { s })
        }
        other => return Err(format!("function {other:?} is not supported by this renderer")),
    })
}

// ------------------------------------------------------------------------------------------
// toYaml, in the block style sigs.k8s.io/yaml writes (sorted keys, list items at the key's
// indentation).

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::Nil => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Value::Float(f) => f.to_string(),
        Value::Str(s) => yaml_str(s),
        _ => String::new(),
    }
}

fn yaml_str(s: &str) -> String {
    let plain_chars = s.chars().all(|c| c.is_ascii_alphanumeric() || " _./-".contains(c));
    let first_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '/' || c == '_');
    let reserved = matches!(
        s.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
    );
    let numeric = s.parse::<f64>().is_ok() || s.starts_with("0x") || s.starts_with("0o");
    if plain_chars && first_ok && !reserved && !numeric && !s.ends_with(' ') {
        s.to_owned()
    } else {
        quote(s)
    }
}

pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    emit(v, 0, &mut out);
    out
}

fn emit(v: &Value, ind: usize, out: &mut String) {
    let pad = " ".repeat(ind);
    match v {
        Value::Map(m) if m.is_empty() => out.push_str(&format!("{pad}{{}}\n")),
        Value::List(l) if l.is_empty() => out.push_str(&format!("{pad}[]\n")),
        Value::Map(m) => {
            for (k, v) in m {
                match v {
                    Value::Map(x) if !x.is_empty() => {
                        out.push_str(&format!("{pad}{}:\n", yaml_str(k)));
                        emit(v, ind + 2, out);
                    }
                    Value::List(x) if !x.is_empty() => {
                        out.push_str(&format!("{pad}{}:\n", yaml_str(k)));
                        emit(v, ind, out);
                    }
                    Value::Map(_) => out.push_str(&format!("{pad}{}: {{}}\n", yaml_str(k))),
                    Value::List(_) => out.push_str(&format!("{pad}{}: []\n", yaml_str(k))),
                    scalar => out.push_str(&format!("{pad}{}: {}\n", yaml_str(k), yaml_scalar(scalar))),
                }
            }
        }
        Value::List(l) => {
            for item in l {
                match item {
                    Value::Map(x) if !x.is_empty() => {
                        let mut inner = String::new();
                        emit(item, ind + 2, &mut inner);
                        // The first key goes on the dash's line.
                        out.push_str(&format!("{pad}- {}", &inner[ind + 2..]));
                    }
                    Value::List(x) if !x.is_empty() => {
                        let mut inner = String::new();
                        emit(item, ind + 2, &mut inner);
                        out.push_str(&format!("{pad}- {}", &inner[ind + 2..]));
                    }
                    Value::Map(_) => out.push_str(&format!("{pad}- {{}}\n")),
                    Value::List(_) => out.push_str(&format!("{pad}- []\n")),
                    scalar => out.push_str(&format!("{pad}- {}\n", yaml_scalar(scalar))),
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{}\n", yaml_scalar(scalar))),
    }
}
