//! The Dockerfile and .dockerignore, parsed and checked without a Docker engine.

use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct Instr {
    pub line: usize,
    pub cmd: String,
    pub args: String,
}

#[derive(Debug, Clone, Default)]
pub struct Stage {
    pub name: Option<String>,
    /// The image after global ARG defaults are substituted.
    pub from: String,
    pub instrs: Vec<Instr>,
}

#[derive(Debug, Clone, Default)]
pub struct Dockerfile {
    pub global_args: BTreeMap<String, String>,
    pub stages: Vec<Stage>,
}

const KNOWN: &[&str] = &[
    "FROM",
    "RUN",
    "COPY",
    "ENV",
    "ARG",
    "WORKDIR",
    "USER",
    "EXPOSE",
    "VOLUME",
    "ENTRYPOINT",
    "CMD",
    "LABEL",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

fn substitute(s: &str, args: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, len) = if let Some(inner) = after.strip_prefix('{') {
            let end = inner.find('}').ok_or_else(|| format!("unclosed ${{ in {s:?}"))?;
            (&inner[..end], end + 2)
        } else {
            let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            (&after[..end], end)
        };
        let value = args.get(name).ok_or_else(|| format!("${name} in {s:?} has no ARG default"))?;
        out.push_str(value);
        rest = &after[len..];
    }
    out.push_str(rest);
    Ok(out)
}

impl Dockerfile {
    pub fn parse(text: &str) -> Result<Dockerfile, String> {
        let mut df = Dockerfile::default();
        let mut logical: Vec<(usize, String)> = Vec::new();
        let mut cur: Option<(usize, String)> = None;
        for (i, raw) in text.lines().enumerate() {
            let trimmed = raw.trim();
            if trimmed.starts_with('#') || (trimmed.is_empty() && cur.is_none()) {
                continue;
            }
            let (start, mut acc) = cur.take().unwrap_or((i + 1, String::new()));
            if let Some(body) = trimmed.strip_suffix('\\') {
                acc.push_str(body);
                acc.push(' ');
                cur = Some((start, acc));
            } else {
                acc.push_str(trimmed);
                logical.push((start, acc));
            }
        }
        if let Some((line, _)) = cur {
            return Err(format!("line {line}: the file ends inside a continued instruction"));
        }
        for (line, l) in logical {
            let (cmd, args) = l.split_once(char::is_whitespace).unwrap_or((&l, ""));
            let cmd = cmd.to_ascii_uppercase();
            if !KNOWN.contains(&cmd.as_str()) {
                return Err(format!("line {line}: unknown instruction {cmd}"));
            }
            let args = args.trim().to_owned();
            if cmd == "FROM" {
                let parts: Vec<&str> = args.split_whitespace().collect();
                let (image, name) = match parts.as_slice() {
                    [image] => (*image, None),
                    [image, as_, name] if as_.eq_ignore_ascii_case("as") => (*image, Some(name.to_string())),
                    _ => return Err(format!("line {line}: FROM image [AS name], not {args:?}")),
                };
                let from = substitute(image, &df.global_args).map_err(|e| format!("line {line}: {e}"))?;
                df.stages.push(Stage { name, from, instrs: Vec::new() });
                continue;
            }
            match df.stages.last_mut() {
                Some(stage) => stage.instrs.push(Instr { line, cmd, args }),
                None if cmd == "ARG" => {
                    let (k, v) =
                        args.split_once('=').ok_or_else(|| format!("line {line}: a global ARG needs a default"))?;
                    df.global_args.insert(k.to_owned(), v.to_owned());
                }
                None => return Err(format!("line {line}: {cmd} before the first FROM")),
            }
        }
        if df.stages.is_empty() {
            return Err("no FROM".into());
        }
        Ok(df)
    }

    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name.as_deref() == Some(name))
    }

    pub fn runtime(&self) -> &Stage {
        self.stages.last().expect("parse guarantees a stage")
    }
}

impl Stage {
    pub fn all(&self, cmd: &str) -> impl Iterator<Item = &Instr> {
        let cmd = cmd.to_owned();
        self.instrs.iter().filter(move |i| i.cmd == cmd)
    }

    pub fn last(&self, cmd: &str) -> Option<&Instr> {
        self.all(cmd).last()
    }

    pub fn workdir(&self) -> Option<&str> {
        self.last("WORKDIR").map(|i| i.args.as_str())
    }

    /// The numeric user of the last USER (`10001` or `10001:10001`).
    pub fn uid(&self) -> Option<u32> {
        self.last("USER")?.args.split(':').next()?.parse().ok()
    }

    pub fn exposed(&self) -> Vec<u16> {
        self.all("EXPOSE")
            .flat_map(|i| i.args.split_whitespace().map(|p| p.trim_end_matches("/tcp").parse().unwrap_or(0)))
            .collect()
    }

    /// `ENV K=V K2=V2` pairs.
    pub fn env(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for i in self.all("ENV") {
            for pair in i.args.split_whitespace() {
                if let Some((k, v)) = pair.split_once('=') {
                    out.insert(k.to_owned(), v.trim_matches('"').to_owned());
                }
            }
        }
        out
    }
}

/// A parsed COPY: `--from`, sources, destination.
#[derive(Debug)]
pub struct Copy {
    pub from: Option<String>,
    pub sources: Vec<String>,
    pub dest: String,
    pub line: usize,
}

pub fn copy(i: &Instr) -> Result<Copy, String> {
    let mut from = None;
    let mut words = Vec::new();
    for w in i.args.split_whitespace() {
        if let Some(f) = w.strip_prefix("--from=") {
            from = Some(f.to_owned());
        } else if w.starts_with("--chown=") || w.starts_with("--chmod=") || w == "--link" {
        } else if w.starts_with("--") {
            return Err(format!("line {}: COPY option {w} is not understood by this check", i.line));
        } else {
            words.push(w.to_owned());
        }
    }
    if words.first().is_some_and(|w| w.starts_with('[')) {
        return Err(format!("line {}: use the plain COPY form", i.line));
    }
    let dest = words.pop().ok_or_else(|| format!("line {}: COPY without a destination", i.line))?;
    if words.is_empty() {
        return Err(format!("line {}: COPY without a source", i.line));
    }
    Ok(Copy { from, sources: words, dest, line: i.line })
}

/// ENTRYPOINT/CMD in exec (JSON) form.
pub fn exec_form(i: &Instr) -> Result<Vec<String>, String> {
    let v: serde_json::Value = serde_json::from_str(&i.args)
        .map_err(|_| format!("line {}: {} must be in exec form [\"...\"]", i.line, i.cmd))?;
    v.as_array()
        .and_then(|a| a.iter().map(|x| x.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>())
        .ok_or_else(|| format!("line {}: {} must be a list of strings", i.line, i.cmd))
}

// ------------------------------------------------------------------------------------------
// .dockerignore (moby's patternmatcher: Go filepath.Match per path segment, `**` for any
// number of segments, `!` to re-include, the last matching pattern wins, and a pattern that
// matches a parent directory matches everything below it).

pub struct Ignore {
    patterns: Vec<(bool, Vec<String>)>,
}

impl Ignore {
    pub fn parse(text: &str) -> Ignore {
        let mut patterns = Vec::new();
        for line in text.lines() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (neg, p) = match l.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, l),
            };
            let p = p.trim_start_matches('/').trim_end_matches('/');
            patterns.push((neg, p.split('/').map(str::to_owned).collect()));
        }
        Ignore { patterns }
    }

    /// Whether `path` (relative, `/`-separated) is left out of the build context.
    pub fn excluded(&self, path: &str) -> bool {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut excluded = false;
        for (neg, pat) in &self.patterns {
            let hit = (1..=segs.len()).any(|n| match_segs(pat, &segs[..n]));
            if hit {
                excluded = !neg;
            }
        }
        excluded
    }
}

fn match_segs(pat: &[String], path: &[&str]) -> bool {
    match pat.split_first() {
        None => path.is_empty(),
        Some((p, rest)) if p == "**" => (0..=path.len()).any(|k| match_segs(rest, &path[k..])),
        Some((p, rest)) => !path.is_empty() && glob(p, path[0]) && match_segs(rest, &path[1..]),
    }
}

/// Go's filepath.Match for one segment: `*`, `?`, no character classes.
fn glob(p: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (p.chars().collect(), s.chars().collect());
    fn go(p: &[char], s: &[char]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some(('*', rest)) => (0..=s.len()).any(|k| go(rest, &s[k..])),
            Some(('?', rest)) => !s.is_empty() && go(rest, &s[1..]),
            Some((c, rest)) => s.first() == Some(c) && go(rest, &s[1..]),
        }
    }
    go(&p, &s)
}

/// Every file under `path` (or `path` itself), relative to `root`.
pub fn files_under(root: &Path, path: &str) -> Vec<String> {
    let full = root.join(path);
    if full.is_file() {
        return vec![path.to_owned()];
    }
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&full) {
        for e in entries.flatten() {
            let name = format!("{}/{}", path.trim_end_matches('/'), e.file_name().to_string_lossy());
            out.extend(files_under(root, &name));
        }
    }
    out
}
