//! The container image and the Helm chart, checked without Docker or Helm (neither runs on the
//! development machines): the Dockerfile is parsed and checked against the repository, and the
//! chart is rendered by a small Go-template renderer (gotpl.rs) for the default values and the
//! variants operators use, then its manifests are parsed and checked against each other, the
//! image and the application's code. Each group of checks is also run on a broken copy, so a
//! check that could never fail would show here.
//!
//! Run: `cargo test --test deploy`.

mod chart;
mod dockerfile;
mod gotpl;
mod image;
mod repo;
mod yaml;

use chart::{check, render, render_mutated, s, Mutation, BUILTIN_APIS, PROMETHEUS_API};
use dockerfile::{copy, exec_form, files_under, Dockerfile, Ignore};
use repo::App;

fn docker() -> Dockerfile {
    Dockerfile::parse(&repo::read("Dockerfile")).expect("the Dockerfile parses")
}

fn with_prometheus() -> Vec<&'static str> {
    let mut apis = BUILTIN_APIS.to_vec();
    apis.push(PROMETHEUS_API);
    apis
}

fn chart_values() -> gotpl::Value {
    yaml::load_one(&repo::read("helm/tradeport/values.yaml"), yaml::Numbers::Float).expect("values.yaml")
}

// ------------------------------------------------------------------------------------------
// The Dockerfile.

fn version_at_least(have: &str, need: &str) -> bool {
    let parse = |v: &str| v.split('.').map(|x| x.parse::<u32>().unwrap_or(0)).collect::<Vec<_>>();
    parse(have) >= parse(need)
}

/// Everything wrong with the Dockerfile and .dockerignore, checked against the repository.
fn check_docker(text: &str, ignore: &str, app: &App) -> Vec<String> {
    let mut p = Vec::new();
    let df = match Dockerfile::parse(text) {
        Ok(df) => df,
        Err(e) => return vec![e],
    };
    let ignore = Ignore::parse(ignore);
    let root = repo::root();
    if df.stages.len() < 2 {
        p.push("not a multi-stage build".into());
    }
    let bin = &app.package;
    if !app.bins.contains(bin) {
        p.push(format!("Cargo builds no binary named {bin}"));
    }
    // Builder.
    let Some(builder) = df.stage("builder") else {
        p.push("no stage named builder".into());
        return p;
    };
    match builder.from.strip_prefix("rust:") {
        Some(tag) => {
            let version = tag.split('-').next().unwrap_or("");
            if !version_at_least(version, &app.rust_version) {
                p.push(format!(
                    "builder image rust:{tag} is older than Cargo.toml's rust-version {}",
                    app.rust_version
                ));
            }
            if !tag.contains("bookworm") {
                p.push(format!("builder image rust:{tag} is not Debian bookworm, the runtime's release"));
            }
        }
        None => p.push(format!("builder is not the official rust image: {}", builder.from)),
    }
    let runs: Vec<&str> = builder.all("RUN").map(|i| i.args.as_str()).collect();
    if !runs.iter().any(|r| r.contains("libpq-dev")) {
        p.push("builder does not install libpq-dev (diesel links libpq)".into());
    }
    let build_cmd = format!("cargo build --release --locked --bin {bin}");
    // The command as a whole word: `--bin tradeport-server` is another binary.
    let runs_build = |args: &str| {
        args.match_indices(&build_cmd).any(|(at, m)| {
            args[at + m.len()..].chars().next().is_none_or(|c| c.is_whitespace() || c == '&' || c == ';')
        })
    };
    let builds: Vec<usize> = builder
        .instrs
        .iter()
        .enumerate()
        .filter(|(_, i)| i.cmd == "RUN" && runs_build(&i.args))
        .map(|(n, _)| n)
        .collect();
    if builds.len() < 2 {
        p.push(format!("builder needs a dependency build and a final build, both `{build_cmd}`"));
    }
    // The dependency layer: the stub step creates every explicit target path of Cargo.toml.
    if let Some(first) = builds.first() {
        let stub = &builder.instrs[*first].args;
        let mut needed = app.target_paths.clone();
        needed.extend(["src/main.rs".to_string(), "src/lib.rs".to_string()]);
        for path in &needed {
            if !stub.contains(path.as_str()) {
                p.push(format!("the dependency stub does not create {path}, which Cargo.toml needs"));
            }
        }
        let copied_before: Vec<String> = builder.instrs[..*first]
            .iter()
            .filter(|i| i.cmd == "COPY")
            .filter_map(|i| copy(i).ok())
            .flat_map(|c| c.sources)
            .collect();
        if !copied_before.iter().any(|s| s == "Cargo.lock") || copied_before.iter().any(|s| s == "src") {
            p.push("the dependency layer must copy Cargo.toml and Cargo.lock only, before the sources".into());
        }
    }
    // The sources that are compiled in must be in the builder before the last build.
    let last_build = builds.last().copied().unwrap_or(0);
    let copied: Vec<String> = builder.instrs[..last_build]
        .iter()
        .filter(|i| i.cmd == "COPY")
        .filter_map(|i| copy(i).ok())
        .flat_map(|c| c.sources)
        .collect();
    let mut compiled_in = app.include_dirs.clone();
    compiled_in.insert("src".to_string());
    for dir in &compiled_in {
        if !copied.iter().any(|c| c.trim_end_matches('/') == dir) {
            p.push(format!("builder does not copy {dir}/, which the code compiles in (include_str!)"));
        }
    }
    // Every COPY from the context exists and is not ignored; every --from is an earlier stage.
    for (n, stage) in df.stages.iter().enumerate() {
        for i in stage.all("COPY") {
            let c = match copy(i) {
                Ok(c) => c,
                Err(e) => {
                    p.push(e);
                    continue;
                }
            };
            if let Some(from) = &c.from {
                if !df.stages[..n].iter().any(|s| s.name.as_deref() == Some(from.as_str())) {
                    p.push(format!("line {}: COPY --from={from} is not an earlier stage", c.line));
                }
                continue;
            }
            for src in &c.sources {
                let files = files_under(&root, src.trim_end_matches('/'));
                if files.is_empty() {
                    p.push(format!("line {}: COPY {src}: no such file in the repository", c.line));
                }
                if ignore.excluded(src.trim_end_matches('/')) {
                    p.push(format!("line {}: COPY {src}: excluded by .dockerignore", c.line));
                } else if let Some(f) = files.iter().find(|f| ignore.excluded(f)) {
                    p.push(format!("line {}: COPY {src}: {f} inside it is excluded by .dockerignore", c.line));
                }
            }
        }
    }
    for never in ["target", ".git", "helm", "docs"] {
        if !ignore.excluded(never) {
            p.push(format!(".dockerignore lets {never}/ into the build context"));
        }
    }
    // Runtime.
    let rt = df.runtime();
    if !rt.from.starts_with("debian:bookworm-slim") {
        p.push(format!("runtime is {}, not debian:bookworm-slim", rt.from));
    }
    let rt_runs: String = rt.all("RUN").map(|i| i.args.as_str()).collect::<Vec<_>>().join(" ");
    for pkg in ["libpq5", "ca-certificates", "fonts-dejavu-core"] {
        if !rt_runs.split_whitespace().any(|w| w == pkg) {
            p.push(format!("runtime does not install {pkg}"));
        }
    }
    for pkg in ["libpq-dev", "build-essential", "gcc", "cargo", "poppler-utils", "python3", "curl"] {
        if rt_runs.split_whitespace().any(|w| w == pkg) {
            p.push(format!("runtime installs {pkg}, which the binary does not need"));
        }
    }
    if !rt_runs.contains("--no-install-recommends") || !rt_runs.contains("rm -rf /var/lib/apt/lists") {
        p.push("runtime apt-get without --no-install-recommends or without cleaning its lists".into());
    }
    let font_dir = toml::from_str::<toml::Value>(&repo::read("config/default.toml"))
        .ok()
        .and_then(|t| t.get("documents")?.get("font_dir")?.as_str().map(str::to_owned))
        .unwrap_or_default();
    if font_dir != "/usr/share/fonts/truetype/dejavu" {
        p.push(format!("documents.font_dir is {font_dir}, not where fonts-dejavu-core installs DejaVu"));
    }
    let rt_copies: Vec<dockerfile::Copy> = rt.all("COPY").filter_map(|i| copy(i).ok()).collect();
    let bin_copy = rt_copies.iter().find(|c| c.from.as_deref() == Some("builder"));
    let builder_dir = builder.workdir().unwrap_or("/");
    match bin_copy {
        Some(c)
            if c.sources == [format!("{builder_dir}/target/release/{bin}")]
                && c.dest == format!("/usr/local/bin/{bin}") => {}
        _ => p.push(format!("runtime does not copy {builder_dir}/target/release/{bin} to /usr/local/bin/{bin}")),
    }
    let workdir = rt.workdir().unwrap_or("");
    if workdir.is_empty() {
        p.push("runtime has no WORKDIR".into());
    }
    for dir in ["templates", "static", "config", "tenants", "migrations"] {
        if !rt_copies.iter().any(|c| {
            c.from.is_none()
                && c.sources.iter().any(|s| s.trim_end_matches('/') == dir)
                && (c.dest == format!("./{dir}") || c.dest == format!("{workdir}/{dir}"))
        }) {
            p.push(format!("runtime does not copy {dir}/ into the working directory"));
        }
    }
    match rt.uid() {
        Some(0) | None => p.push(format!(
            "runtime USER is {:?}: it must be a numeric non-root user",
            rt.last("USER").map(|i| &i.args)
        )),
        Some(_) => {}
    }
    if rt.instrs.iter().rposition(|i| i.cmd == "USER") < rt.instrs.iter().rposition(|i| i.cmd == "RUN") {
        p.push("a RUN after the last USER runs as that user; put USER last".into());
    }
    let env = rt.env();
    for (k, v) in &env {
        if !app.reads_env(k) {
            p.push(format!("ENV {k}: the application never reads it"));
        }
        if k.ends_with("_DIR") && !v.starts_with('/') {
            p.push(format!("ENV {k}={v}: data directories must be absolute (the working directory is read-only)"));
        }
    }
    let volumes: String = rt.all("VOLUME").map(|i| i.args.clone()).collect();
    for dir in ["TRADEPORT__SERVER__MEDIA_DIR", "TRADEPORT__EXCHANGE__DIR", "TRADEPORT__DOCUMENTS__EDO_DIR"] {
        match env.get(dir) {
            Some(d) if volumes.contains(d.rsplit_once('/').map(|(a, _)| a).unwrap_or("")) => {}
            _ => p.push(format!("{dir} is not set to a path under the VOLUME")),
        }
    }
    let bind_port: Option<u16> = env.get("TRADEPORT_BIND").and_then(|b| b.rsplit(':').next()?.parse().ok());
    let exposed = rt.exposed();
    if bind_port.is_none_or(|port| !exposed.contains(&port))
        || !env.get("TRADEPORT_BIND").is_some_and(|b| b.starts_with("0.0.0.0:"))
    {
        p.push(format!(
            "TRADEPORT_BIND {:?} must listen on 0.0.0.0 at an EXPOSEd port {exposed:?}",
            env.get("TRADEPORT_BIND")
        ));
    }
    let values = chart_values();
    for port in [chart::int(&values, "web.port"), chart::int(&values, "worker.port")] {
        if port.is_none_or(|x| !exposed.contains(&(x as u16))) {
            p.push(format!("the chart's port {port:?} is not EXPOSEd"));
        }
    }
    match rt.last("ENTRYPOINT").map(exec_form) {
        Some(Ok(e)) if e == [bin.clone()] => {}
        other => p.push(format!("ENTRYPOINT must be [\"{bin}\"], is {other:?}")),
    }
    match rt.last("CMD").map(exec_form) {
        Some(Ok(c)) if c.first().is_some_and(|c| app.subcommands.contains(c)) && c[0] == "serve" => {}
        other => p.push(format!("CMD must be [\"serve\"], a subcommand of the CLI, is {other:?}")),
    }
    p
}

#[test]
fn the_dockerfile_builds_the_cargo_binary_and_runs_it_as_a_non_root_user() {
    let app = App::load();
    let problems = check_docker(&repo::read("Dockerfile"), &repo::read(".dockerignore"), &app);
    assert!(problems.is_empty(), "Dockerfile problems:\n{}", problems.join("\n"));
    let df = docker();
    assert_eq!(df.stages.len(), 2);
    assert_eq!(df.runtime().uid(), Some(10001));
    assert_eq!(df.stage("builder").map(|s| s.from.as_str()), Some("rust:1.89-bookworm"));
}

#[test]
fn a_broken_dockerfile_is_caught() {
    let app = App::load();
    let good = repo::read("Dockerfile");
    let ignore = repo::read(".dockerignore");
    let cases: &[(&str, &str, &str)] = &[
        ("USER 10001:10001", "USER root", "non-root"),
        ("USER 10001:10001", "USER 0", "non-root"),
        ("COPY tenants ./tenants", "COPY tenant ./tenants", "no such file"),
        ("COPY tenants ./tenants", "", "tenants/"),
        ("EXPOSE 8080 9090", "EXPOSE 8000 9090", "EXPOSE"),
        ("ENTRYPOINT [\"tradeport\"]", "ENTRYPOINT [\"trade-port\"]", "ENTRYPOINT"),
        ("ENTRYPOINT [\"tradeport\"]", "ENTRYPOINT tradeport", "ENTRYPOINT"),
        ("CMD [\"serve\"]", "CMD [\"run\"]", "CMD"),
        ("--bin tradeport \\\n && strip", "--bin tradeport-server \\\n && strip", "final build"),
        ("ARG RUST_VERSION=1.89", "ARG RUST_VERSION=1.80", "rust-version"),
        (
            "COPY static ./static\nCOPY templates ./templates\nRUN touch",
            "COPY templates ./templates\nRUN touch",
            "static/",
        ),
        ("libpq5 ca-certificates", "ca-certificates", "libpq5"),
        ("--from=builder", "--from=build", "earlier stage"),
        ("echo 'fn main() {}' > tests/api/main.rs", "true", "tests/api/main.rs"),
        (
            "TRADEPORT__SERVER__MEDIA_DIR=/var/lib/tradeport/media",
            "TRADEPORT__SERVER__MEDIA_DIRS=/var/lib/tradeport/media",
            "never reads",
        ),
        ("FROM debian:${DEBIAN_RELEASE}-slim", "FROM debian:${DEBIAN_RELEAS}-slim", "no ARG default"),
        ("VOLUME", "VOLUMES", "unknown instruction"),
    ];
    for (from, to, expect) in cases {
        assert!(good.contains(from), "mutation source {from:?} is not in the Dockerfile");
        let bad = good.replacen(from, to, 1);
        let problems = check_docker(&bad, &ignore, &app);
        assert!(
            problems.iter().any(|p| p.contains(expect)),
            "replacing {from:?} by {to:?} should be caught ({expect}); got {problems:?}"
        );
    }
    for (from, to, expect) in [("!templates/", "", "excluded by .dockerignore"), ("*\n", "", "lets target/")] {
        assert!(ignore.contains(from));
        let problems = check_docker(&good, &ignore.replacen(from, to, 1), &app);
        assert!(problems.iter().any(|p| p.contains(expect)), ".dockerignore without {from:?}: {problems:?}");
    }
}

#[test]
fn dockerignore_follows_dockers_rules() {
    let ig = Ignore::parse("*\n!src/\n!config\nsrc/**/*.swp\n!templates/\ntemplates/secret?.txt\n");
    assert!(ig.excluded("target"));
    assert!(ig.excluded("target/debug/tradeport"));
    assert!(!ig.excluded("src"));
    assert!(!ig.excluded("src/cli/mod.rs"));
    assert!(ig.excluded("src/cli/.mod.rs.swp"));
    assert!(!ig.excluded("config/prod.toml"));
    assert!(ig.excluded("templates/secret1.txt"));
    assert!(!ig.excluded("templates/secret12.txt"));
    assert!(ig.excluded("Dockerfile"));
}

// ------------------------------------------------------------------------------------------
// The chart.

fn kinds(r: &chart::Rendered) -> Vec<String> {
    let mut k: Vec<String> = r.kinds().into_iter().map(|(k, n)| format!("{k}/{n}")).collect();
    k.sort();
    k
}

fn assert_clean(r: &chart::Rendered, what: &str) {
    let problems = check(r, &App::load(), &docker());
    assert!(problems.is_empty(), "{what}: chart problems:\n{}", problems.join("\n"));
}

#[test]
fn the_chart_renders_a_consistent_release_with_default_values() {
    let r = render("", BUILTIN_APIS).expect("renders");
    assert_clean(&r, "defaults");
    assert_eq!(
        kinds(&r),
        [
            "ConfigMap/shop-tradeport-config",
            "ConfigMap/shop-tradeport-migrate-config",
            "Deployment/shop-tradeport-web",
            "Deployment/shop-tradeport-worker",
            "HorizontalPodAutoscaler/shop-tradeport-web",
            "Ingress/shop-tradeport",
            "Job/shop-tradeport-migrate",
            "PersistentVolumeClaim/shop-tradeport-data",
            "PodDisruptionBudget/shop-tradeport-web",
            "Service/shop-tradeport",
            "Service/shop-tradeport-worker",
        ]
    );
    let web = r.component("Deployment", "web").expect("web");
    let c = &chart::list(web, "spec.template.spec.containers")[0];
    assert_eq!(chart::env_value(c, "TRADEPORT__SERVER__DRAIN_SECS").as_deref(), Some("5"));
    assert_eq!(chart::env_value(c, "TRADEPORT_BASE_DOMAIN").as_deref(), Some("tradeport.example.com"));
    assert_eq!(chart::int(web, "spec.template.spec.terminationGracePeriodSeconds"), Some(45));
    let ing = r.of_kind("Ingress")[0];
    let hosts: Vec<&str> = chart::list(ing, "spec.rules").iter().map(|x| s(x, "host")).collect();
    assert_eq!(hosts, ["tradeport.example.com", "*.tradeport.example.com"]);
    let pvc = r.of_kind("PersistentVolumeClaim")[0];
    assert_eq!(chart::list(pvc, "spec.accessModes"), [gotpl::Value::Str("ReadWriteMany".into())]);
    assert!(r.notes.contains("https://tradeport.example.com/"), "{}", r.notes);
    assert!(!r.notes.contains("WARNING"), "{}", r.notes);
    // Every secret is a reference: no values of secrets anywhere in the output.
    let all: String = r.raw.iter().map(|(_, t)| t.as_str()).collect();
    assert!(!all.contains("postgres://"), "a database URL in the output");
}

#[test]
fn the_chart_variants_operators_use_render_and_hold_together() {
    // Ingress and autoscaling off: no Ingress, no HPA, fixed replicas.
    let r =
        render("ingress: {enabled: false}\nautoscaling: {web: {enabled: false}}\nweb: {replicas: 3}\n", BUILTIN_APIS)
            .expect("renders");
    assert_clean(&r, "ingress and autoscaling off");
    assert!(r.of_kind("Ingress").is_empty() && r.of_kind("HorizontalPodAutoscaler").is_empty());
    let web = r.component("Deployment", "web").expect("web");
    assert_eq!(chart::int(web, "spec.replicas"), Some(3));
    assert!(r.notes.contains("port-forward"), "{}", r.notes);

    // ServiceMonitor: only with the Prometheus operator's API, and then over web and worker.
    let without = render("", BUILTIN_APIS).expect("renders");
    assert!(without.of_kind("ServiceMonitor").is_empty());
    let with = render("", &with_prometheus()).expect("renders");
    assert_clean(&with, "with the Prometheus operator");
    let sm = with.of_kind("ServiceMonitor");
    assert_eq!(sm.len(), 1);
    let ports: Vec<&str> = chart::list(sm[0], "spec.endpoints").iter().map(|e| s(e, "port")).collect();
    // One endpoint, the metrics port, on both the web and the worker Service; never the
    // public http port (whose /metrics answers 404 with server.metrics_bind).
    assert_eq!(ports, ["metrics"]);
    let services = with.of_kind("Service");
    assert!(services.iter().all(|svc| chart::list(svc, "spec.ports").iter().any(|p| s(p, "name") == "metrics")));
    let web = with.component("Deployment", "web").expect("web");
    let env = chart::list(web, "spec.template.spec.containers")[0].clone();
    let bind = chart::list(&env, "env")
        .iter()
        .find(|e| s(e, "name") == "TRADEPORT__SERVER__METRICS_BIND")
        .map(|e| s(e, "value").to_owned());
    assert_eq!(bind.as_deref(), Some("0.0.0.0:9090"));
    let off = render("serviceMonitor: {enabled: false}", &with_prometheus()).expect("renders");
    assert!(off.of_kind("ServiceMonitor").is_empty());

    // An existing claim: no PVC of the chart's, the pods mount that claim.
    let r = render("persistence: {existingClaim: shared-files}", BUILTIN_APIS).expect("renders");
    assert_clean(&r, "existing claim");
    assert!(r.of_kind("PersistentVolumeClaim").is_empty());
    let vols = chart::list(r.component("Deployment", "worker").expect("worker"), "spec.template.spec.volumes");
    assert!(vols.iter().any(|v| s(v, "persistentVolumeClaim.claimName") == "shared-files"));

    // Persistence off: emptyDir and a warning.
    let r = render("persistence: {enabled: false}", BUILTIN_APIS).expect("renders");
    assert_clean(&r, "persistence off");
    assert!(r.of_kind("PersistentVolumeClaim").is_empty());
    assert!(r.notes.contains("WARNING: persistence is off"), "{}", r.notes);
    let r = render("persistence: {accessModes: [ReadWriteOnce]}", BUILTIN_APIS).expect("renders");
    assert!(r.notes.contains("not ReadWriteMany"), "{}", r.notes);

    // No separate worker: the web pods run the jobs; nothing scrapes a worker port.
    let r = render("worker: {enabled: false}", &with_prometheus()).expect("renders");
    assert_clean(&r, "worker off");
    assert!(r.component("Deployment", "worker").is_none());
    let sm = r.of_kind("ServiceMonitor");
    assert_eq!(chart::list(sm[0], "spec.endpoints").len(), 1);

    // Everything on: custom domains with cert-manager, every optional service, worker HPA and
    // PDB, settings passed as environment, a fixed image tag.
    let all = "
ingress:
  customDomains: [shop.acme-supplies.ru, b2b.textile.example]
  certManager: {enabled: true, clusterIssuer: letsencrypt-dns}
meilisearch: {enabled: true}
stripe: {enabled: true, publishableKey: pk_live_123}
smtp: {enabled: true}
autoscaling: {worker: {enabled: true}}
podDisruptionBudget: {worker: {enabled: true}}
settings:
  database: {pool_max_size: 16, migrate_workers: 8}
  server: {workers: 4}
  mail: {from: orders@b2b.example.com}
image: {tag: 0.1.0-rc1}
extraEnv:
  - {name: RUST_LOG, value: info}
";
    let r = render(all, &with_prometheus()).expect("renders");
    assert_clean(&r, "everything on");
    let ing = r.of_kind("Ingress")[0];
    let ann = chart::at(ing, "metadata.annotations").expect("annotations");
    assert!(
        matches!(ann, gotpl::Value::Map(m) if m.get("cert-manager.io/cluster-issuer") == Some(&gotpl::Value::Str("letsencrypt-dns".into())))
    );
    let tls = chart::list(ing, "spec.tls");
    assert_eq!(tls.len(), 3, "one certificate for the base and wildcard hosts, one per custom domain");
    assert_eq!(s(&tls[1], "secretName"), "shop-tradeport-shop-acme-supplies-ru-tls");
    let c = &chart::list(r.component("Deployment", "web").expect("web"), "spec.template.spec.containers")[0];
    assert_eq!(chart::env_value(c, "TRADEPORT__DATABASE__POOL_MAX_SIZE").as_deref(), Some("16"));
    assert_eq!(chart::env_value(c, "STRIPE_PUBLISHABLE_KEY").as_deref(), Some("pk_live_123"));
    assert_eq!(s(c, "image"), "tradeport:0.1.0-rc1");
    assert_eq!(r.of_kind("HorizontalPodAutoscaler").len(), 2);
    assert_eq!(r.of_kind("PodDisruptionBudget").len(), 2);
}

#[test]
fn the_example_values_file_renders_cleanly() {
    let example = repo::read("helm/tradeport/values-example.yaml");
    let r = render(&example, &with_prometheus()).expect("renders");
    assert_clean(&r, "values-example.yaml");
    // Every key of the example exists in values.yaml (a typo would be silently ignored by Helm).
    fn keys(v: &gotpl::Value, prefix: &str, out: &mut Vec<String>) {
        if let gotpl::Value::Map(m) = v {
            for (k, x) in m {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                out.push(path.clone());
                if !matches!(
                    k.as_str(),
                    "settings"
                        | "annotations"
                        | "labels"
                        | "podAnnotations"
                        | "nodeSelector"
                        | "resources"
                        | "affinity"
                ) {
                    keys(x, &path, out);
                }
            }
        }
    }
    let mut example_keys = Vec::new();
    keys(&yaml::load_one(&example, yaml::Numbers::Float).expect("parses"), "", &mut example_keys);
    let defaults = chart_values();
    for k in example_keys {
        assert!(chart::at(&defaults, &k).is_some(), "values-example.yaml sets {k}, which values.yaml does not have");
    }
}

#[test]
fn operator_mistakes_fail_the_render_with_a_clear_message() {
    let err = render("web: {terminationGracePeriodSeconds: 30}", BUILTIN_APIS).err().expect("refused");
    assert!(err.contains("must exceed web.drainSecs + web.shutdownTimeoutSecs (35)"), "{err}");
    let err = render("baseDomain: \"\"", BUILTIN_APIS).err().expect("refused");
    assert!(err.contains("baseDomain is required"), "{err}");
    let err = render("config: {profile: staging}", BUILTIN_APIS).err().expect("refused");
    assert!(err.contains("set config.profileToml"), "{err}");
    let ok =
        render("config: {profile: dev, profileToml: \"[log]\\nformat = 'json'\\n\"}", BUILTIN_APIS).expect("renders");
    assert_clean(&ok, "own profile file");
}

#[test]
fn the_chart_copy_of_the_profile_file_and_its_version_match_the_repository() {
    assert_eq!(
        repo::read("helm/tradeport/files/prod.toml"),
        repo::read("config/prod.toml"),
        "helm/tradeport/files/prod.toml must equal config/prod.toml: cp config/prod.toml helm/tradeport/files/prod.toml"
    );
    let meta = yaml::load_one(&repo::read("helm/tradeport/Chart.yaml"), yaml::Numbers::AsWritten).expect("Chart.yaml");
    assert_eq!(s(&meta, "apiVersion"), "v2");
    assert_eq!(s(&meta, "appVersion"), App::load().version, "Chart.yaml appVersion must be Cargo.toml's version");
}

#[test]
fn a_broken_chart_is_caught() {
    let app = App::load();
    let df = docker();
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "service.yaml",
            "app.kubernetes.io/component: web\n  ports:",
            "app.kubernetes.io/component: worker\n  ports:",
            "web",
        ),
        ("service.yaml", "targetPort: http", "targetPort: web", "targetPort"),
        (
            "hpa.yaml",
            "name: {{ include \"tradeport.fullname\" . }}-web\n  minReplicas",
            "name: {{ include \"tradeport.fullname\" . }}-api\n  minReplicas",
            "scales",
        ),
        (
            "pdb.yaml",
            "app.kubernetes.io/component: web\n{{- end }}",
            "app.kubernetes.io/component: webb\n{{- end }}",
            "PDB",
        ),
        ("deployment-web.yaml", "path: /readyz", "path: /ready", "not served"),
        (
            "deployment-web.yaml",
            "port: http\n            periodSeconds: 5",
            "port: web\n            periodSeconds: 5",
            "not a container port",
        ),
        ("deployment-web.yaml", "args: [\"serve\", \"--no-worker\"]", "args: [\"serve\"]", "args"),
        (
            "deployment-web.yaml",
            "terminationGracePeriodSeconds: {{ .Values.web.terminationGracePeriodSeconds }}",
            "terminationGracePeriodSeconds: 20",
            "terminationGracePeriodSeconds",
        ),
        (
            "deployment-web.yaml",
            "name: TRADEPORT__SERVER__DRAIN_SECS",
            "name: TRADEPORT__SERVER__DRAIN_SECONDS",
            "never reads",
        ),
        (
            "_helpers.tpl",
            "name: {{ .Values.redis.existingSecret | quote }}",
            "name: redis-credentials",
            "not named in values",
        ),
        ("_helpers.tpl", "mountPath: /tmp", "mountPath: /scratch", "/tmp"),
        (
            "_helpers.tpl",
            "mountPath: /etc/tradeport\n  readOnly",
            "mountPath: /etc/config\n  readOnly",
            "TRADEPORT_CONFIG_DIR",
        ),
        (
            "_helpers.tpl",
            "value: {{ printf \"%s/media\" .Values.persistence.mountPath | quote }}",
            "value: data/media",
            "MEDIA_DIR",
        ),
        (
            "job-migrate.yaml",
            "pre-install,pre-upgrade\n    \"helm.sh/hook-weight\": \"0\"",
            "post-install,post-upgrade\n    \"helm.sh/hook-weight\": \"0\"",
            "pre-install",
        ),
        (
            "job-migrate.yaml",
            "\"helm.sh/hook-weight\": \"-10\"",
            "\"helm.sh/hook-weight\": \"10\"",
            "hook created before",
        ),
        (
            "job-migrate.yaml",
            "-migrate-config\n        - name: tmp",
            "-config\n        - name: tmp",
            "hook created before",
        ),
        ("job-migrate.yaml", "restartPolicy: Never", "restartPolicy: OnFailure", "restartPolicy"),
        ("ingress.yaml", "number: {{ $port }}", "number: 8080", "routes to"),
        ("ingress.yaml", "{{- $hosts = append $hosts (printf \"*.%s\" .Values.baseDomain) -}}", "", "wildcard"),
        ("servicemonitor.yaml", "- port: metrics", "- port: worker-metrics", "endpoint port"),
        ("configmap.yaml", "{{ .Values.config.profile }}.toml: |", "default.toml: |", "ConfigMap"),
        (
            "deployment-worker.yaml",
            "checksum/config: {{ include \"tradeport.configData\" . | sha256sum }}",
            "checksum/config: \"0\"",
            "checksum",
        ),
        ("_helpers.tpl", "- name: TRADEPORT_JWT_SECRET", "- name: JWT_SECRET", "never reads"),
        (
            "pvc.yaml",
            "{{- include \"tradeport.labels\" . | nindent 4 }}\n  annotations",
            "{{- include \"tradeport.labels\" . | nindent 4 }}\n    app.kubernetes.io/name: dup\n  annotations",
            "duplicate key",
        ),
        ("service.yaml", "port: {{ .Values.service.port }}", "port: {{ .Values.service }}", "printing a map"),
        (
            "deployment-web.yaml",
            "printf \"0.0.0.0:%d\" (int .Values.web.port)",
            "printf \"0.0.0.0:%d\" .Values.web.port",
            "%d of a float64",
        ),
        (
            "pvc.yaml",
            "storage: {{ .Values.persistence.size }}",
            "storage: {{ .Values.persistence.sizes }}",
            "no key \"sizes\"",
        ),
        ("pvc.yaml", "{{ .Values.persistence.size }}", "{{ .Values.persistence.size | b64enc }}", "not supported"),
        (
            "pvc.yaml",
            "{{- with .Values.persistence.storageClass }}",
            "{{- with .Values.persistence.storageClass }}{{ break }}",
            "not supported",
        ),
        ("pvc.yaml", "storage: {{ .Values.persistence.size }}", "storage: {{ .Values.persistence.size }", "unexpected"),
    ];
    let mut checked = 0;
    for (file, from, to, expect) in cases {
        let apis = with_prometheus();
        let outcome = render_mutated("", &apis, &[Mutation { file, from, to }]);
        let problems = match outcome {
            Err(e) => vec![e],
            Ok(r) => check(&r, &app, &df),
        };
        assert!(
            problems.iter().any(|p| p.contains(expect)),
            "{file}: replacing {from:?} by {to:?} should be caught ({expect}); got {problems:#?}"
        );
        checked += 1;
    }
    assert!(checked >= 25);
}

/// Prints every template of the chart as this renderer renders it, for reading the chart
/// without Helm and for `scripts/helm_lint.py`, which compares it with Helm's own rendering:
/// `cargo test --test deploy -- --ignored --nocapture print_rendered`. DEPLOY_VALUES names a
/// values file merged over values.yaml (default: values-example.yaml), DEPLOY_RELEASE and
/// DEPLOY_NAMESPACE the release (shop, commerce), DEPLOY_UPGRADE=1 renders an upgrade,
/// DEPLOY_PROMETHEUS=0 leaves the Prometheus operator's API out.
#[test]
#[ignore = "prints the rendered chart; run it by name"]
fn print_rendered() {
    let var = |name: &str| std::env::var(name).ok();
    let values = match var("DEPLOY_VALUES") {
        Some(path) => std::fs::read_to_string(&path).expect("DEPLOY_VALUES is readable"),
        None => repo::read("helm/tradeport/values-example.yaml"),
    };
    let apis = if var("DEPLOY_PROMETHEUS").as_deref() == Some("0") { BUILTIN_APIS.to_vec() } else { with_prometheus() };
    let name = var("DEPLOY_RELEASE").unwrap_or_else(|| chart::RELEASE.into());
    let namespace = var("DEPLOY_NAMESPACE").unwrap_or_else(|| chart::NAMESPACE.into());
    let release =
        chart::Release { name: &name, namespace: &namespace, upgrade: var("DEPLOY_UPGRADE").as_deref() == Some("1") };
    let r = chart::render_release(&values, &apis, &[], &release).expect("renders");
    for (file, text) in &r.raw {
        println!("=== {file}\n{text}");
    }
    println!("=== END");
}

// ------------------------------------------------------------------------------------------
// The renderer itself (scripts/helm_lint.py compares its output with Helm's, byte for byte).

fn tpl(src: &str, values: &str) -> Result<String, String> {
    let values = yaml::load_one(values, yaml::Numbers::Float)?;
    let root = gotpl::Value::map(vec![("Values", values)]);
    let engine = gotpl::Engine::new(&[
        ("_helpers.tpl".into(), "{{- define \"h\" -}}[{{ . }}]{{- end -}}".into()),
        ("t".into(), src.into()),
    ])?;
    Ok(engine.render_all(&root)?.remove(0).1)
}

#[test]
fn the_renderer_follows_go_templates_and_helm() {
    let ok = |src: &str, values: &str, want: &str| {
        assert_eq!(tpl(src, values).as_deref(), Ok(want), "{src}");
    };
    // Trim markers take all white space on their side, newlines included.
    ok("a  \n  {{- 1 -}}  \n  b", "", "a1b");
    ok("a {{ 1 }} b", "", "a 1 b");
    ok("{{- /* a comment */ -}}\nx", "", "x");
    // if / else if / else; Go's truthiness.
    let cond = "{{ if .Values.a }}A{{ else if .Values.b }}B{{ else }}C{{ end }}";
    ok(cond, "a: 1", "A");
    ok(cond, "a: 0\nb: [x]", "B");
    ok(cond, "a: \"\"\nb: []", "C");
    // with changes the dot; range over maps is in key order, over lists with an index.
    ok("{{ with .Values.m }}{{ .k }}{{ end }}", "m: {k: v}", "v");
    ok("{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}", "m: {b: 2, a: 1}", "a=1;b=2;");
    ok("{{ range $i, $v := .Values.l }}{{ $i }}{{ $v }}{{ end }}", "l: [x, y]", "0x1y");
    ok("{{ range .Values.l }}{{ . }}{{ else }}none{{ end }}", "l: []", "none");
    // Variables: `=` assigns the outer one, `:=` inside a block is gone after `end`.
    ok("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ end }}{{ $x }}", "", "2");
    assert!(tpl("{{ if true }}{{ $y := 3 }}{{ end }}{{ $y }}", "").is_err());
    // and/or return the deciding value and do not evaluate the rest.
    ok("{{ or .Values.a .Values.b }}", "a: \"\"\nb: x", "x");
    ok("{{ and .Values.a (fail \"not evaluated\") }}", "a: false", "false");
    // Numbers are float64 as in Helm: 1000000 prints as 1e+06, %d needs int.
    ok("{{ .Values.n }} {{ .Values.m }}", "n: 1000000\nm: 2", "1e+06 2");
    ok("{{ printf \"%d\" (int .Values.n) }}", "n: 8080", "8080");
    assert!(tpl("{{ printf \"%d\" .Values.n }}", "n: 8080").is_err_and(|e| e.contains("float64")));
    assert!(tpl("{{ lt .Values.n 3 }}", "n: 2").is_err_and(|e| e.contains("incompatible")));
    // Sprig and Helm functions the chart uses.
    ok("{{ include \"h\" .Values.a | nindent 2 }}", "a: x", "\n  [x]");
    ok("{{ .Values.m | toYaml }}", "m: {b: [1, {c: d}], a: \"yes\", e: {}}", "a: \"yes\"\nb:\n- 1\n- c: d\ne: {}");
    ok("{{ \"a.b\" | replace \".\" \"-\" | upper | quote }}", "", "\"A-B\"");
    ok("{{ default \"d\" .Values.a }}|{{ default \"d\" .Values.b }}", "a: \"\"\nb: x", "d|x");
    ok("{{ printf \"%s-%s\" \"abcdefgh\" \"x\" | trunc 5 | trimSuffix \"-\" }}", "", "abcde");
    // Everything outside the subset is an error, not silence.
    for bad in [
        "{{ tpl \"x\" . }}",
        "{{ .Values.missing }}",
        "{{ .Values.m }}",
        "{{ block \"b\" . }}{{ end }}",
        "{{ if 1 }}",
        "{{ end }}",
        "{{ 1 }",
    ] {
        assert!(tpl(bad, "m: {k: v}").is_err(), "{bad} should be an error");
    }
    assert_eq!(gotpl::go_float(0.5), "0.5");
    assert_eq!(gotpl::go_float(123456.0), "123456");
    assert_eq!(gotpl::go_float(1.5e7), "1.5e+07");
}

// ------------------------------------------------------------------------------------------
// The image's layout, run: migrate, serve and worker as the chart starts them.

#[test]
fn the_image_layout_migrates_serves_and_stops_as_a_non_root_user_on_a_read_only_root() {
    if !image::can_sandbox() {
        eprintln!("skipped: making the image sandbox needs root (unshare --mount, setpriv)");
        return;
    }
    let db = image::Database::create();
    let sandbox = image::Sandbox::build(&db.url, &[]);
    let addr = sandbox.bind();

    let (in_time, migrate) = sandbox.run(&["migrate"], std::time::Duration::from_secs(120));
    let out = String::from_utf8_lossy(&migrate.stdout).into_owned() + &String::from_utf8_lossy(&migrate.stderr);
    assert!(in_time && migrate.status.success(), "tradeport migrate failed in the image layout: {out}");

    let mut web = sandbox
        .command(&["serve", "--no-worker"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve starts");
    let started = image::wait_healthy(&mut web, &addr, std::time::Duration::from_secs(60));
    let ready = image::get(&addr, "/readyz");
    // /metrics is on the metrics port (server.metrics_bind), not on the public one.
    let public_metrics = image::get(&addr, "/metrics");
    let metrics = image::get(&sandbox.var("TRADEPORT__SERVER__METRICS_BIND"), "/metrics");
    let landing = image::get(&addr, "/");
    image::sigterm(&web);
    let stop = std::time::Instant::now();
    let status = web.wait().expect("serve exits");
    let stopped = stop.elapsed();
    let mut log = String::new();
    if let Some(mut e) = web.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut log);
    }
    let started = started.unwrap_or_else(|e| panic!("serve: {e}\n{log}"));
    assert_eq!(ready.as_ref().map(|r| r.0), Some(200), "/readyz: {ready:?}");
    assert!(metrics.as_ref().is_some_and(|(s, b)| *s == 200 && b.contains("# TYPE")), "/metrics: {metrics:?}");
    assert_eq!(public_metrics.as_ref().map(|r| r.0), Some(404), "/metrics on the public port: {public_metrics:?}");
    // The landing page renders from templates/ in the working directory.
    assert!(landing.as_ref().is_some_and(|(s, b)| *s == 200 && b.contains("<html")), "/: {landing:?}");
    assert!(status.success(), "serve did not exit cleanly on SIGTERM: {status}\n{log}");
    let grace = chart::int(&chart_values(), "web.terminationGracePeriodSeconds").unwrap_or(0);
    assert!(stopped.as_secs() < grace as u64, "SIGTERM took {stopped:?}, over the grace period");
    eprintln!("image layout: migrate ok; serve healthy after {started:?}; stopped {stopped:?} after SIGTERM");

    // The worker starts in the same layout and keeps running.
    let mut worker = sandbox
        .command(&["worker"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("worker starts");
    std::thread::sleep(std::time::Duration::from_secs(3));
    let early = worker.try_wait().expect("try_wait");
    image::sigterm(&worker);
    let _ = worker.wait();
    let mut wlog = String::new();
    if let Some(mut e) = worker.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut wlog);
    }
    assert!(early.is_none(), "the worker exited at once in the image layout: {early:?}\n{wlog}");
}

#[test]
fn the_image_sandbox_hides_the_source_tree() {
    // Without templates/ in the working directory the server must not start: proof that the
    // sandbox leaves the binary no fallback to the source tree.
    if !image::can_sandbox() {
        eprintln!("skipped: making the image sandbox needs root (unshare --mount, setpriv)");
        return;
    }
    let sandbox = image::Sandbox::build("postgres://postgres@127.0.0.1:1/none", &["templates"]);
    let (in_time, out) = sandbox.run(&["serve", "--no-worker"], std::time::Duration::from_secs(30));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(in_time && !out.status.success(), "serve started without templates/: {err}");
    assert!(err.contains("templates"), "the error names what is missing: {err}");
    eprintln!("without templates/: {}", err.trim());
}

#[test]
fn the_binary_links_only_libraries_the_runtime_image_has() {
    // The shared libraries the binary asks for, and the Debian package of each in the runtime
    // stage: what the stage installs, or what debian:bookworm-slim has anyway.
    const PROVIDED: &[(&str, &str)] = &[
        ("libpq.so.5", "libpq5"),
        ("libgcc_s.so.1", "base"),
        ("libm.so.6", "base"),
        ("libc.so.6", "base"),
        ("ld-linux-x86-64.so.2", "base"),
    ];
    let Ok(out) = std::process::Command::new("readelf").args(["-d", env!("CARGO_BIN_EXE_tradeport")]).output() else {
        eprintln!("skipped: no readelf (binutils)");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let needed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1)?.split(']').next())
        .collect();
    assert!(needed.contains(&"libc.so.6"), "readelf output not understood: {text}");
    let installs: String = docker().runtime().all("RUN").map(|i| i.args.clone()).collect::<Vec<_>>().join(" ");
    for lib in needed {
        let package = PROVIDED.iter().find(|(l, _)| *l == lib).map(|(_, p)| *p);
        match package {
            Some("base") => {}
            Some(p) => assert!(
                installs.split_whitespace().any(|w| w == p),
                "{lib} needs {p}, which the runtime stage does not install"
            ),
            None => panic!("the binary links {lib}: add its package to the runtime stage and to this table"),
        }
    }
}
