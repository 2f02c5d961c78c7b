//! What the application reads and serves, taken from its sources, so the image and the chart
//! are checked against the code rather than against a copy of it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Settings that other branches of issue 9 add (the worker's health/metrics listener and the
/// web server's drain delay). The chart sets them already; once `src/config.rs` has them they
/// are found there and this list is only a fallback.
pub const PENDING_SETTINGS: &[&str] = &["server.drain_secs", "worker.bind"];
/// The worker's `/healthz`, `/readyz`, `/metrics` on `worker.bind` (same branch).
pub const PENDING_WORKER_PATHS: &[&str] = &["/healthz", "/readyz", "/metrics"];

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src is readable").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

pub fn all_src() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    files.sort();
    files.into_iter().map(|p| (p.clone(), std::fs::read_to_string(&p).expect("readable"))).collect()
}

/// The string literals that follow `marker` (e.g. `env::var("`) in `text`.
fn literals_after(text: &str, marker: &str) -> Vec<String> {
    text.match_indices(marker)
        .filter_map(|(i, _)| {
            let rest = &text[i + marker.len()..];
            rest.find('"').map(|end| rest[..end].to_owned())
        })
        .collect()
}

pub struct App {
    /// Variables read by name: CONTRACT_VARS (and their `_FILE` forms) and `env::var("…")`.
    pub env_names: BTreeSet<String>,
    /// Settings keys `section.key` (and top-level `key`) from the structs of src/config.rs.
    pub settings: BTreeSet<String>,
    pub web_paths: BTreeSet<String>,
    pub subcommands: BTreeSet<String>,
    pub package: String,
    pub version: String,
    pub rust_version: String,
    pub bins: Vec<String>,
    /// Explicit target paths of Cargo.toml ([[bin]], [[test]], [[bench]], [lib]).
    pub target_paths: Vec<String>,
    /// Top-level directories that `include_str!`/`include_bytes!` read from.
    pub include_dirs: BTreeSet<String>,
}

fn struct_fields(src: &str, name: &str) -> Vec<(String, String)> {
    let Some(start) = src.find(&format!("pub struct {name} {{")) else { return Vec::new() };
    let body = &src[start..];
    let end = body.find("\n}").unwrap_or(body.len());
    body[..end]
        .lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix("pub ")?;
            let (f, ty) = l.split_once(':')?;
            Some((f.trim().to_owned(), ty.trim().trim_end_matches(',').to_owned()))
        })
        .collect()
}

impl App {
    pub fn load() -> App {
        let config = read("src/config.rs");
        let mut env_names = BTreeSet::new();
        let contract = &config[config.find("const CONTRACT_VARS").expect("CONTRACT_VARS in src/config.rs")..];
        let contract = &contract[..contract.find("];").expect("end of CONTRACT_VARS")];
        for line in contract.lines() {
            if let Some(rest) = line.trim().strip_prefix("(\"") {
                let name = &rest[..rest.find('"').expect("closing quote")];
                env_names.insert(name.to_owned());
                env_names.insert(format!("{name}_FILE"));
            }
        }
        let sources = all_src();
        for (_, text) in &sources {
            for m in ["env::var(\"", "try_from_env(\""] {
                env_names.extend(literals_after(text, m));
            }
        }
        let mut settings = BTreeSet::new();
        for (field, ty) in struct_fields(&config, "Settings") {
            let inner = struct_fields(&config, &ty);
            if inner.is_empty() {
                settings.insert(field.clone());
            }
            for (key, _) in inner {
                settings.insert(format!("{field}.{key}"));
            }
        }
        assert!(settings.contains("database.url"), "src/config.rs no longer parses as expected: {settings:?}");
        let mut web_paths = BTreeSet::new();
        for (_, text) in &sources {
            web_paths.extend(literals_after(text, "web::resource(\"").into_iter().filter(|p| !p.contains('{')));
        }
        let cli = read("src/cli/mod.rs");
        let cmd_enum = &cli[cli.find("pub enum Command").expect("Command enum")..];
        let cmd_enum = &cmd_enum[..cmd_enum.find("\n}").expect("end of Command")];
        let subcommands = cmd_enum
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                let name: String = l.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                (!name.is_empty() && name.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
                    .then(|| name.to_lowercase())
            })
            .collect();
        let manifest: toml::Value = toml::from_str(&read("Cargo.toml")).expect("Cargo.toml parses");
        let pkg = &manifest["package"];
        let package = pkg["name"].as_str().expect("package.name").to_owned();
        let mut bins: Vec<String> = manifest
            .get("bin")
            .and_then(|b| b.as_array())
            .map(|a| a.iter().filter_map(|b| b.get("name")?.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if bins.is_empty() || root().join("src/main.rs").exists() {
            bins.push(package.clone());
        }
        let mut target_paths = Vec::new();
        for kind in ["bin", "test", "bench", "example"] {
            for t in manifest.get(kind).and_then(|b| b.as_array()).into_iter().flatten() {
                if let Some(p) = t.get("path").and_then(|p| p.as_str()) {
                    target_paths.push(p.to_owned());
                }
            }
        }
        let mut include_dirs = BTreeSet::new();
        for (path, text) in &sources {
            for m in ["include_str!(\"", "include_bytes!(\"", "concat!(\""] {
                for lit in literals_after(text, m) {
                    if !lit.starts_with("..") {
                        continue;
                    }
                    let target = path.parent().expect("has a parent").join(&lit);
                    let rel = normalize(&target);
                    if let Ok(rel) = rel.strip_prefix(root()) {
                        if let Some(first) = rel.components().next() {
                            include_dirs.insert(first.as_os_str().to_string_lossy().into_owned());
                        }
                    }
                }
            }
        }
        App {
            env_names,
            settings,
            web_paths,
            subcommands,
            version: pkg["version"].as_str().expect("version").to_owned(),
            rust_version: pkg.get("rust-version").and_then(|v| v.as_str()).unwrap_or("1.0").to_owned(),
            package,
            bins,
            target_paths,
            include_dirs,
        }
    }

    /// Whether the application reads the environment variable `name`.
    pub fn reads_env(&self, name: &str) -> bool {
        if self.env_names.contains(name) {
            return true;
        }
        if let Some(key) = name.strip_prefix("TRADEPORT__") {
            let key = key.to_ascii_lowercase().replace("__", ".");
            return self.settings.contains(&key) || PENDING_SETTINGS.contains(&key.as_str());
        }
        false
    }
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
