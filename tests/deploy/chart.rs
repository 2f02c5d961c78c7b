//! Rendering helm/tradeport with the small renderer, and the structural checks of its output.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use sha2::{Digest, Sha256};

use crate::dockerfile::Dockerfile;
use crate::gotpl::{Engine, Value};
use crate::repo::{self, App, PENDING_WORKER_PATHS};
use crate::yaml::{self, Numbers};

pub const CHART: &str = "helm/tradeport";
pub const RELEASE: &str = "shop";
pub const NAMESPACE: &str = "commerce";

/// Kubernetes' built-in APIs, as `.Capabilities.APIVersions` lists them (without the
/// Prometheus operator's).
pub const BUILTIN_APIS: &[&str] = &[
    "v1",
    "apps/v1",
    "batch/v1",
    "policy/v1",
    "autoscaling/v1",
    "autoscaling/v2",
    "networking.k8s.io/v1",
    "rbac.authorization.k8s.io/v1",
    "storage.k8s.io/v1",
];
pub const PROMETHEUS_API: &str = "monitoring.coreos.com/v1";

pub struct Rendered {
    pub values: Value,
    pub docs: Vec<(String, Value)>,
    pub raw: Vec<(String, String)>,
    pub notes: String,
}

/// A change to one template before rendering (for the tests that break the chart on purpose).
pub struct Mutation<'a> {
    pub file: &'a str,
    pub from: &'a str,
    pub to: &'a str,
}

pub fn chart_sources() -> Vec<(String, String)> {
    let dir = repo::root().join(CHART).join("templates");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("templates/")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.into_iter().map(|n| (n.clone(), repo::read(&format!("{CHART}/templates/{n}")))).collect()
}

fn capitalized(meta: &Value) -> Value {
    let Value::Map(m) = meta else { return Value::Nil };
    let map = m
        .iter()
        .map(|(k, v)| {
            let mut c = k.chars();
            let key = c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default();
            (key, v.clone())
        })
        .collect();
    Value::Map(map)
}

/// Helm's coalescing of values: maps merge key by key, anything else replaces.
pub fn merge(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Map(mut b), Value::Map(o)) => {
            for (k, v) in o {
                let merged = match b.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                b.insert(k, merged);
            }
            Value::Map(b)
        }
        (_, o) => o,
    }
}

pub fn render(overrides: &str, apis: &[&str]) -> Result<Rendered, String> {
    render_mutated(overrides, apis, &[])
}

/// The release being rendered (`.Release`).
pub struct Release<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub upgrade: bool,
}

pub const INSTALL: Release<'static> = Release { name: RELEASE, namespace: NAMESPACE, upgrade: false };

pub fn render_mutated(overrides: &str, apis: &[&str], mutations: &[Mutation]) -> Result<Rendered, String> {
    render_release(overrides, apis, mutations, &INSTALL)
}

pub fn render_release(
    overrides: &str,
    apis: &[&str],
    mutations: &[Mutation],
    release: &Release,
) -> Result<Rendered, String> {
    let defaults = yaml::load_one(&repo::read(&format!("{CHART}/values.yaml")), Numbers::Float)?;
    let over = yaml::load_one(overrides, Numbers::Float)?;
    let values = merge(defaults, over);
    let meta = yaml::load_one(&repo::read(&format!("{CHART}/Chart.yaml")), Numbers::AsWritten)?;
    let mut files = BTreeMap::new();
    for f in crate::dockerfile::files_under(&repo::root().join(CHART), "files") {
        files.insert(f.clone(), repo::read(&format!("{CHART}/{f}")));
    }
    let root = Value::map(vec![
        ("Values", values.clone()),
        (
            "Release",
            Value::map(vec![
                ("Name", Value::Str(release.name.into())),
                ("Namespace", Value::Str(release.namespace.into())),
                ("Service", Value::Str("Helm".into())),
                ("IsInstall", Value::Bool(!release.upgrade)),
                ("IsUpgrade", Value::Bool(release.upgrade)),
                ("Revision", Value::Int(if release.upgrade { 2 } else { 1 })),
            ]),
        ),
        ("Chart", capitalized(&meta)),
        (
            "Capabilities",
            Value::map(vec![
                ("APIVersions", Value::ApiVersions(Rc::new(apis.iter().map(|s| s.to_string()).collect()))),
                (
                    "KubeVersion",
                    Value::map(vec![
                        ("Version", Value::Str("v1.30.0".into())),
                        ("Major", Value::Str("1".into())),
                        ("Minor", Value::Str("30".into())),
                    ]),
                ),
            ]),
        ),
        ("Files", Value::Files(Rc::new(files))),
    ]);
    let mut sources = chart_sources();
    for m in mutations {
        let src = sources.iter_mut().find(|(n, _)| n == m.file).unwrap_or_else(|| panic!("no template {}", m.file));
        assert!(src.1.contains(m.from), "mutation: {:?} is not in {}", m.from, m.file);
        src.1 = src.1.replacen(m.from, m.to, 1);
    }
    let engine = Engine::new(&sources)?;
    let raw = engine.render_all(&root)?;
    let mut docs = Vec::new();
    let mut notes = String::new();
    for (file, text) in &raw {
        if file == "NOTES.txt" {
            notes = text.clone();
            continue;
        }
        for doc in yaml::load_all(text, Numbers::AsWritten).map_err(|e| format!("{file}: {e}\n{text}"))? {
            docs.push((file.clone(), doc));
        }
    }
    Ok(Rendered { values, docs, raw, notes })
}

// ------------------------------------------------------------------------------------------
// Access helpers.

pub fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        cur = match cur {
            Value::Map(m) => m.get(part)?,
            Value::List(l) => l.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

pub fn s<'a>(v: &'a Value, path: &str) -> &'a str {
    match at(v, path) {
        Some(Value::Str(s)) => s,
        _ => "",
    }
}

pub fn list<'a>(v: &'a Value, path: &str) -> &'a [Value] {
    match at(v, path) {
        Some(Value::List(l)) => l,
        _ => &[],
    }
}

pub fn int(v: &Value, path: &str) -> Option<i64> {
    match at(v, path)? {
        Value::Int(i) => Some(*i),
        Value::Float(f) if f.fract() == 0.0 => Some(*f as i64),
        _ => None,
    }
}

fn str_map(v: Option<&Value>) -> BTreeMap<String, String> {
    match v {
        Some(Value::Map(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), if let Value::Str(s) = v { s.clone() } else { format!("{v:?}") }))
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn subset(sel: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
}

impl Rendered {
    pub fn kinds(&self) -> Vec<(String, String)> {
        self.docs.iter().map(|(_, d)| (s(d, "kind").to_owned(), s(d, "metadata.name").to_owned())).collect()
    }

    pub fn of_kind(&self, kind: &str) -> Vec<&Value> {
        self.docs.iter().map(|(_, d)| d).filter(|d| s(d, "kind") == kind).collect()
    }

    pub fn component(&self, kind: &str, component: &str) -> Option<&Value> {
        self.of_kind(kind).into_iter().find(|d| {
            str_map(at(d, "metadata.labels")).get("app.kubernetes.io/component").map(String::as_str) == Some(component)
        })
    }
}

pub fn env_of(container: &Value) -> BTreeMap<String, Value> {
    list(container, "env").iter().map(|e| (s(e, "name").to_owned(), e.clone())).collect()
}

pub fn env_value(container: &Value, name: &str) -> Option<String> {
    env_of(container).get(name).map(|e| s(e, "value").to_owned())
}

/// The (secret name, key) pairs values.yaml offers: every map with an `existingSecret` and
/// string fields ending in `Key`.
fn secret_refs_in_values(v: &Value, out: &mut BTreeSet<(String, String)>) {
    match v {
        Value::Map(m) => {
            if let Some(Value::Str(secret)) = m.get("existingSecret") {
                for (k, val) in m {
                    if let (true, Value::Str(key)) = (k.ends_with("Key"), val) {
                        out.insert((secret.clone(), key.clone()));
                    }
                }
            }
            m.values().for_each(|x| secret_refs_in_values(x, out));
        }
        Value::List(l) => l.iter().for_each(|x| secret_refs_in_values(x, out)),
        _ => {}
    }
}

fn dns_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
}

fn hook_weight(d: &Value) -> Option<i64> {
    str_map(at(d, "metadata.annotations")).get("helm.sh/hook-weight")?.parse().ok()
}

fn is_hook(d: &Value) -> bool {
    str_map(at(d, "metadata.annotations")).contains_key("helm.sh/hook")
}

// ------------------------------------------------------------------------------------------
// The checks. Each returns the problems found; an empty list is a pass.

pub fn check(r: &Rendered, app: &App, docker: &Dockerfile) -> Vec<String> {
    let mut p = Vec::new();
    let values = &r.values;
    for (file, text) in &r.raw {
        for bad in ["{{", "}}", "<no value>", "%!"] {
            if text.contains(bad) {
                p.push(format!("{file}: the output still contains {bad:?}"));
            }
        }
        if text.contains('\t') {
            p.push(format!("{file}: a tab in the output"));
        }
    }
    let mut seen = BTreeSet::new();
    for (file, d) in &r.docs {
        let (kind, name) = (s(d, "kind"), s(d, "metadata.name"));
        if s(d, "apiVersion").is_empty() || kind.is_empty() {
            p.push(format!("{file}: a document without apiVersion or kind"));
        }
        let max = if matches!(kind, "Service" | "Deployment") { 63 } else { 253 };
        if !dns_name(name, max) {
            p.push(format!("{file}: {kind} has an invalid metadata.name {name:?}"));
        }
        if !seen.insert((kind.to_owned(), name.to_owned())) {
            p.push(format!("{file}: {kind} {name} is rendered twice"));
        }
        for (k, v) in str_map(at(d, "metadata.labels")) {
            if v.len() > 63 {
                p.push(format!("{kind} {name}: label {k} is longer than 63 characters"));
            }
        }
        if kind == "Secret" {
            p.push(format!("{file}: the chart renders a Secret ({name}); secrets are referenced, never rendered"));
        }
    }
    let configmaps: BTreeMap<String, &Value> =
        r.of_kind("ConfigMap").into_iter().map(|d| (s(d, "metadata.name").to_owned(), d)).collect();
    let pvcs: BTreeSet<String> =
        r.of_kind("PersistentVolumeClaim").iter().map(|d| s(d, "metadata.name").to_owned()).collect();
    let mut allowed_secrets = BTreeSet::new();
    secret_refs_in_values(values, &mut allowed_secrets);
    let uid = docker.runtime().uid();
    let exposed = docker.runtime().exposed();

    let web = r.component("Deployment", "web");
    let worker = r.component("Deployment", "worker");
    let job = r.of_kind("Job").into_iter().next();
    let Some(web) = web else {
        p.push("no web Deployment".into());
        return p;
    };
    let mut workloads: Vec<(&str, &Value)> = vec![("web", web)];
    workloads.extend(worker.map(|w| ("worker", w)));
    workloads.extend(job.map(|j| ("migrate", j)));

    for (what, w) in &workloads {
        let pod = at(w, "spec.template").cloned().unwrap_or(Value::Nil);
        let labels = str_map(at(&pod, "metadata.labels"));
        if s(w, "kind") == "Deployment" && !subset(&str_map(at(w, "spec.selector.matchLabels")), &labels) {
            p.push(format!("{what}: the Deployment's selector does not match its pod labels"));
        }
        let spec = at(&pod, "spec").cloned().unwrap_or(Value::Nil);
        if at(&spec, "securityContext.runAsNonRoot") != Some(&Value::Bool(true)) {
            p.push(format!("{what}: runAsNonRoot is not true"));
        }
        let run_as = int(&spec, "securityContext.runAsUser");
        if run_as.is_none_or(|u| u == 0) || run_as.map(|u| u as u32) != uid {
            p.push(format!("{what}: runAsUser {run_as:?} is not the image's non-root USER {uid:?}"));
        }
        let volumes: BTreeMap<String, &Value> =
            list(&spec, "volumes").iter().map(|v| (s(v, "name").to_owned(), v)).collect();
        for (vname, v) in &volumes {
            let cm = s(v, "configMap.name");
            if !cm.is_empty() {
                match configmaps.get(cm) {
                    None => p.push(format!("{what}: volume {vname} mounts ConfigMap {cm}, which the chart does not render")),
                    Some(c) if *what == "migrate" && !(is_hook(c) && hook_weight(c) < hook_weight(w)) => p.push(format!(
                        "migrate: ConfigMap {cm} is not a hook created before the Job (pre-install hooks run before the release's own resources exist)"
                    )),
                    _ => {}
                }
            }
            let claim = s(v, "persistentVolumeClaim.claimName");
            if !claim.is_empty() {
                if *what == "migrate" {
                    p.push(format!("migrate: mounts claim {claim}, which does not exist yet at pre-install"));
                }
                if !pvcs.contains(claim) && claim != s(values, "persistence.existingClaim") {
                    p.push(format!("{what}: claim {claim} is neither rendered nor values' existingClaim"));
                }
            }
        }
        let containers = list(&spec, "containers");
        if containers.is_empty() {
            p.push(format!("{what}: no containers"));
        }
        for c in containers {
            let cname = s(c, "name");
            if at(c, "securityContext.readOnlyRootFilesystem") != Some(&Value::Bool(true))
                || at(c, "securityContext.allowPrivilegeEscalation") != Some(&Value::Bool(false))
            {
                p.push(format!(
                    "{what}/{cname}: needs readOnlyRootFilesystem: true and allowPrivilegeEscalation: false"
                ));
            }
            if at(c, "resources.requests").is_none() || at(c, "resources.limits.memory").is_none() {
                p.push(format!("{what}/{cname}: no resource requests or memory limit"));
            }
            let default_image = format!("{}:{}", s(values, "image.repository"), app.version);
            if s(values, "image.tag").is_empty() && s(c, "image") != default_image {
                p.push(format!("{what}/{cname}: image {} is not {default_image} (the app version)", s(c, "image")));
            }
            let args: Vec<&str> = list(c, "args")
                .iter()
                .filter_map(|a| if let Value::Str(s) = a { Some(s.as_str()) } else { None })
                .collect();
            if args.first().is_none_or(|a| !app.subcommands.contains(*a)) {
                p.push(format!("{what}/{cname}: args {args:?} do not start with a tradeport subcommand"));
            }
            let mounts: Vec<(String, bool, String)> = list(c, "volumeMounts")
                .iter()
                .map(|m| {
                    (
                        s(m, "mountPath").to_owned(),
                        at(m, "readOnly") == Some(&Value::Bool(true)),
                        s(m, "name").to_owned(),
                    )
                })
                .collect();
            for (path, _, vname) in &mounts {
                if !volumes.contains_key(vname) {
                    p.push(format!("{what}/{cname}: mounts {path} from volume {vname}, which the pod does not have"));
                }
            }
            let writable =
                |dir: &str| mounts.iter().any(|(m, ro, _)| !ro && (dir == m || dir.starts_with(&format!("{m}/"))));
            if !writable("/tmp") {
                p.push(format!("{what}/{cname}: /tmp is not writable (read-only root file system)"));
            }
            let env = env_of(c);
            if env.len() != list(c, "env").len() {
                p.push(format!("{what}/{cname}: an environment variable is set twice"));
            }
            for (name, e) in &env {
                if !app.reads_env(name) {
                    p.push(format!("{what}/{cname}: sets {name}, which the application never reads"));
                }
                if let Some(r) = at(e, "valueFrom.secretKeyRef") {
                    let pair = (s(r, "name").to_owned(), s(r, "key").to_owned());
                    if !allowed_secrets.contains(&pair) {
                        p.push(format!("{what}/{cname}: {name} reads secret {pair:?}, which is not named in values"));
                    }
                } else if at(e, "valueFrom").is_some() {
                    p.push(format!("{what}/{cname}: {name} comes from something other than a secretKeyRef"));
                }
            }
            if *what != "migrate" {
                for dir_var in
                    ["TRADEPORT__SERVER__MEDIA_DIR", "TRADEPORT__EXCHANGE__DIR", "TRADEPORT__DOCUMENTS__EDO_DIR"]
                {
                    match env_value(c, dir_var) {
                        Some(dir) if dir.starts_with('/') && writable(&dir) => {}
                        other => p.push(format!(
                            "{what}/{cname}: {dir_var}={other:?} is not an absolute path on a writable volume"
                        )),
                    }
                }
            }
            for must in ["DATABASE_URL", "TRADEPORT_JWT_SECRET", "TRADEPORT_PROFILE", "TRADEPORT_CONFIG_DIR"] {
                if !env.contains_key(must) {
                    p.push(format!("{what}/{cname}: {must} is not set"));
                }
            }
            // The profile file is mounted where TRADEPORT_CONFIG_DIR points.
            let config_dir = env_value(c, "TRADEPORT_CONFIG_DIR").unwrap_or_default();
            let profile = env_value(c, "TRADEPORT_PROFILE").unwrap_or_default();
            let mounted = mounts.iter().find(|(m, _, _)| *m == config_dir).and_then(|(_, _, v)| volumes.get(v));
            let cm = mounted.map(|v| s(v, "configMap.name")).and_then(|n| configmaps.get(n));
            match cm {
                Some(cm) if str_map(at(cm, "data")).contains_key(&format!("{profile}.toml")) => {}
                _ => p.push(format!("{what}/{cname}: no ConfigMap with {profile}.toml is mounted at TRADEPORT_CONFIG_DIR={config_dir:?}")),
            }
            // Ports and probes.
            let ports: BTreeMap<String, i64> = list(c, "ports")
                .iter()
                .map(|x| (s(x, "name").to_owned(), int(x, "containerPort").unwrap_or(0)))
                .collect();
            for (pname, port) in &ports {
                if !exposed.contains(&(*port as u16)) {
                    p.push(format!("{what}/{cname}: port {pname} ({port}) is not EXPOSEd by the image"));
                }
            }
            for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
                let Some(pr) = at(c, probe) else {
                    if *what == "web" {
                        p.push(format!("web: no {probe}"));
                    }
                    continue;
                };
                let port = match at(pr, "httpGet.port") {
                    Some(Value::Str(n)) => ports.get(n).copied(),
                    Some(Value::Int(n)) => ports.values().find(|x| **x == *n).copied(),
                    _ => None,
                };
                if port.is_none() {
                    p.push(format!("{what}/{cname}: {probe} port is not a container port"));
                }
                let path = s(pr, "httpGet.path");
                let served =
                    app.web_paths.contains(path) || (*what == "worker" && PENDING_WORKER_PATHS.contains(&path));
                if !served {
                    p.push(format!("{what}/{cname}: {probe} path {path:?} is not served"));
                }
            }
        }
    }

    // Web specifics: the command, the listen port, the shutdown budget.
    let wc = list(web, "spec.template.spec.containers").first().cloned().unwrap_or(Value::Nil);
    let args: Vec<String> =
        list(&wc, "args").iter().map(|a| if let Value::Str(s) = a { s.clone() } else { String::new() }).collect();
    let expected: Vec<String> =
        if worker.is_some() { vec!["serve".into(), "--no-worker".into()] } else { vec!["serve".into()] };
    if args != expected {
        p.push(format!(
            "web: args {args:?}, expected {expected:?} (worker Deployment {})",
            if worker.is_some() { "present" } else { "absent" }
        ));
    }
    let http_port = list(&wc, "ports").iter().find(|x| s(x, "name") == "http").and_then(|x| int(x, "containerPort"));
    let bind = env_value(&wc, "TRADEPORT_BIND").unwrap_or_default();
    if http_port.is_none() || bind != format!("0.0.0.0:{}", http_port.unwrap_or(0)) {
        p.push(format!("web: TRADEPORT_BIND={bind:?} does not listen on all addresses at the http port {http_port:?}"));
    }
    if s(&wc, "readinessProbe.httpGet.path") != "/readyz" || s(&wc, "livenessProbe.httpGet.path") != "/healthz" {
        p.push("web: readiness must be /readyz and liveness /healthz".into());
    }
    let default_toml: toml::Value = toml::from_str(&repo::read("config/default.toml")).expect("default.toml");
    let setting = |var: &str, section: &str, key: &str| -> i64 {
        env_value(&wc, var)
            .and_then(|v| v.parse().ok())
            .or_else(|| default_toml.get(section).and_then(|s| s.get(key)).and_then(|v| v.as_integer()))
            .unwrap_or(0)
    };
    let drain = setting("TRADEPORT__SERVER__DRAIN_SECS", "server", "drain_secs");
    let shutdown = setting("TRADEPORT__SERVER__SHUTDOWN_TIMEOUT_SECS", "server", "shutdown_timeout_secs");
    let grace = int(web, "spec.template.spec.terminationGracePeriodSeconds").unwrap_or(30);
    if grace <= drain + shutdown {
        p.push(format!(
            "web: terminationGracePeriodSeconds {grace} does not exceed drain {drain} + shutdown timeout {shutdown}"
        ));
    }
    if drain == 0 && at(&wc, "lifecycle.preStop").is_none() {
        p.push("web: neither a drain delay (server.drain_secs) nor a preStop hook".into());
    }
    if let Some(w) = worker {
        let c = list(w, "spec.template.spec.containers").first().cloned().unwrap_or(Value::Nil);
        let mport = list(&c, "ports").iter().find(|x| s(x, "name") == "metrics").and_then(|x| int(x, "containerPort"));
        if mport.is_none()
            || env_value(&c, "TRADEPORT__WORKER__BIND") != Some(format!("0.0.0.0:{}", mport.unwrap_or(0)))
        {
            p.push("worker: TRADEPORT__WORKER__BIND does not match the metrics port".into());
        }
        if list(&c, "args").first() != Some(&Value::Str("worker".into())) {
            p.push("worker: does not run `tradeport worker`".into());
        }
    }
    let hpa_web = r
        .of_kind("HorizontalPodAutoscaler")
        .into_iter()
        .find(|h| s(h, "spec.scaleTargetRef.name") == s(web, "metadata.name"));
    if hpa_web.is_some() == at(web, "spec.replicas").is_some() {
        p.push("web: spec.replicas must be set exactly when no HPA scales it".into());
    }
    let web_labels = str_map(at(web, "spec.template.metadata.labels"));
    let pod_labels: Vec<BTreeMap<String, String>> =
        workloads.iter().map(|(_, w)| str_map(at(w, "spec.template.metadata.labels"))).collect();

    // Services.
    let services: BTreeMap<String, &Value> =
        r.of_kind("Service").into_iter().map(|d| (s(d, "metadata.name").to_owned(), d)).collect();
    let web_svc = services.values().find(|svc| subset(&str_map(at(svc, "spec.selector")), &web_labels));
    match web_svc {
        None => p.push("no Service selects the web pods".into()),
        Some(svc) => {
            let sel = str_map(at(svc, "spec.selector"));
            if pod_labels.iter().filter(|l| subset(&sel, l)).count() != 1 {
                p.push("the web Service also selects other pods (worker or migrate)".into());
            }
            for port in list(svc, "spec.ports") {
                let target = s(port, "targetPort");
                if !list(&wc, "ports").iter().any(|x| s(x, "name") == target) {
                    p.push(format!("web Service: targetPort {target:?} is not a web container port"));
                }
            }
        }
    }
    for svc in services.values() {
        let sel = str_map(at(svc, "spec.selector"));
        if !pod_labels.iter().any(|l| subset(&sel, l)) {
            p.push(format!("Service {} selects no pods", s(svc, "metadata.name")));
        }
    }
    // HPA and PDB.
    for h in r.of_kind("HorizontalPodAutoscaler") {
        let target = s(h, "spec.scaleTargetRef.name");
        if s(h, "spec.scaleTargetRef.kind") != "Deployment"
            || !workloads.iter().any(|(_, w)| s(w, "kind") == "Deployment" && s(w, "metadata.name") == target)
        {
            p.push(format!("HPA {}: scales {target:?}, which is not a rendered Deployment", s(h, "metadata.name")));
        }
        if s(h, "apiVersion") != "autoscaling/v2" {
            p.push("HPA is not autoscaling/v2".into());
        }
        if int(h, "spec.minReplicas").unwrap_or(0) < 1 || int(h, "spec.minReplicas") > int(h, "spec.maxReplicas") {
            p.push("HPA: minReplicas must be at least 1 and at most maxReplicas".into());
        }
    }
    if at(values, "autoscaling.web.enabled") == Some(&Value::Bool(true)) && hpa_web.is_none() {
        p.push("autoscaling.web.enabled but no HPA targets the web Deployment".into());
    }
    for pdb in r.of_kind("PodDisruptionBudget") {
        let sel = str_map(at(pdb, "spec.selector.matchLabels"));
        if pod_labels.iter().filter(|l| subset(&sel, l)).count() != 1 {
            p.push(format!("PDB {} does not select exactly one workload's pods", s(pdb, "metadata.name")));
        }
    }
    if at(values, "podDisruptionBudget.web.enabled") == Some(&Value::Bool(true))
        && !r
            .of_kind("PodDisruptionBudget")
            .iter()
            .any(|pdb| subset(&str_map(at(pdb, "spec.selector.matchLabels")), &web_labels))
    {
        p.push("no PodDisruptionBudget selects the web pods".into());
    }

    // The migrate hook.
    if at(values, "migrate.enabled") == Some(&Value::Bool(true)) {
        match job {
            None => p.push("no migrate Job".into()),
            Some(j) => {
                let ann = str_map(at(j, "metadata.annotations"));
                let hooks: BTreeSet<&str> =
                    ann.get("helm.sh/hook").map(|h| h.split(',').map(str::trim).collect()).unwrap_or_default();
                if !hooks.contains("pre-install") || !hooks.contains("pre-upgrade") {
                    p.push(format!(
                        "migrate: helm.sh/hook is {:?}, not pre-install,pre-upgrade",
                        ann.get("helm.sh/hook")
                    ));
                }
                if hook_weight(j).is_none() {
                    p.push("migrate: no integer helm.sh/hook-weight".into());
                }
                if ann.get("helm.sh/hook-delete-policy").is_none_or(|d| d.is_empty()) {
                    p.push("migrate: no helm.sh/hook-delete-policy".into());
                }
                if int(j, "spec.backoffLimit").is_none() {
                    p.push("migrate: no backoffLimit".into());
                }
                if s(j, "spec.template.spec.restartPolicy") != "Never" {
                    p.push("migrate: restartPolicy must be Never (the Job retries, not the kubelet)".into());
                }
                let c = list(j, "spec.template.spec.containers").first().cloned().unwrap_or(Value::Nil);
                if list(&c, "args") != [Value::Str("migrate".into())] {
                    p.push("migrate: the Job does not run `tradeport migrate`".into());
                }
            }
        }
    }

    // Ingress.
    for ing in r.of_kind("Ingress") {
        let base = s(values, "baseDomain");
        let hosts: Vec<&str> = list(ing, "spec.rules").iter().map(|r| s(r, "host")).collect();
        if !hosts.contains(&base) {
            p.push(format!("Ingress: no rule for the base domain {base}"));
        }
        let wildcard = format!("*.{base}");
        if (at(values, "ingress.wildcard") == Some(&Value::Bool(true))) != hosts.contains(&wildcard.as_str()) {
            p.push(format!("Ingress: the wildcard host {wildcard} is not as ingress.wildcard says"));
        }
        for d in list(values, "ingress.customDomains") {
            if let Value::Str(d) = d {
                if !hosts.contains(&d.as_str()) {
                    p.push(format!("Ingress: no rule for the custom domain {d}"));
                }
            }
        }
        for rule in list(ing, "spec.rules") {
            for path in list(rule, "http.paths") {
                let name = s(path, "backend.service.name");
                let port = int(path, "backend.service.port.number");
                let ok = services
                    .get(name)
                    .is_some_and(|svc| list(svc, "spec.ports").iter().any(|x| int(x, "port") == port))
                    && web_svc.is_some_and(|w| s(w, "metadata.name") == name);
                if !ok {
                    p.push(format!(
                        "Ingress: {} routes to {name}:{port:?}, not the web Service's port",
                        s(rule, "host")
                    ));
                }
            }
        }
        if at(values, "ingress.tls.enabled") == Some(&Value::Bool(true)) {
            let tls_hosts: BTreeSet<&str> = list(ing, "spec.tls")
                .iter()
                .flat_map(|t| list(t, "hosts").iter().map(|h| if let Value::Str(h) = h { h.as_str() } else { "" }))
                .collect();
            for h in &hosts {
                if !tls_hosts.contains(h) {
                    p.push(format!("Ingress: {h} has no TLS certificate"));
                }
            }
            if list(ing, "spec.tls").iter().any(|t| s(t, "secretName").is_empty()) {
                p.push("Ingress: a TLS entry without secretName".into());
            }
        }
    }

    // ServiceMonitor.
    for sm in r.of_kind("ServiceMonitor") {
        let sel = str_map(at(sm, "spec.selector.matchLabels"));
        let selected: Vec<&&Value> =
            services.values().filter(|svc| subset(&sel, &str_map(at(svc, "metadata.labels")))).collect();
        if !web_svc.is_some_and(|w| selected.iter().any(|x| s(x, "metadata.name") == s(w, "metadata.name"))) {
            p.push("ServiceMonitor does not select the web Service".into());
        }
        for ep in list(sm, "spec.endpoints") {
            let port = s(ep, "port");
            if !selected.iter().any(|svc| list(svc, "spec.ports").iter().any(|x| s(x, "name") == port)) {
                p.push(format!("ServiceMonitor endpoint port {port:?} is on no selected Service"));
            }
            if s(ep, "path") != "/metrics" {
                p.push("ServiceMonitor endpoint path is not /metrics".into());
            }
        }
    }

    // The ConfigMap and the checksum that rolls the pods when it changes.
    let profile = s(values, "config.profile");
    let main_cm = configmaps.values().find(|c| !is_hook(c));
    match main_cm.and_then(|c| str_map(at(c, "data")).get(&format!("{profile}.toml")).cloned()) {
        None => p.push(format!("no ConfigMap carries {profile}.toml")),
        Some(text) => {
            if toml::from_str::<toml::Value>(&text).is_err() {
                p.push(format!("ConfigMap {profile}.toml is not valid TOML"));
            }
            if s(values, "config.profileToml").is_empty()
                && text.trim_end() != repo::read(&format!("config/{profile}.toml")).trim_end()
            {
                p.push(format!("ConfigMap {profile}.toml differs from config/{profile}.toml"));
            }
            let sum = hex::encode(Sha256::digest(text.trim_end_matches('\n').as_bytes()));
            for (what, w) in &workloads {
                if s(w, "kind") == "Deployment"
                    && str_map(at(w, "spec.template.metadata.annotations")).get("checksum/config") != Some(&sum)
                {
                    p.push(format!(
                        "{what}: checksum/config is not the ConfigMap's (config changes would not roll the pods)"
                    ));
                }
            }
        }
    }
    p
}
