//! The image's file system, run without Docker: the runtime stage's COPYs are replayed into a
//! temporary root, which gets the host's /usr (for libpq5, CA roots, DejaVu and the C
//! library: what the runtime stage installs, and more) and a few files of /etc, and the binary
//! is started in it with chroot the way the chart starts it: its environment and ConfigMap file,
//! numeric user 10001, nothing writable but the volume and /tmp. The source tree is not in that
//! root, so the binary cannot fall back to the files of its build directory
//! (`config::resource_path`), which the image does not have. Needs root (unshare, chroot) and
//! the PostgreSQL the other tests use.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::chart::{self, env_of, list, s};
use crate::dockerfile::{copy, exec_form, Dockerfile};
use crate::gotpl::Value;
use crate::repo;

pub const UID: u32 = 10001;

/// `postgres://…/<name>` of the test server (TRADEPORT_TEST_DATABASE_URL's server, as the
/// other tests use it).
fn database_url(name: &str) -> String {
    let base = std::env::var("TRADEPORT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/tradeport_test".into());
    let server = base.rsplit_once('/').map(|(s, _)| s.to_owned()).unwrap_or(base);
    format!("{server}/{name}")
}

/// A database of its own, dropped at the end.
pub struct Database {
    pub url: String,
    name: String,
}

impl Database {
    pub fn create() -> Database {
        let name = format!("tradeport_image_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&database_url("postgres")).expect("PostgreSQL answers");
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create database");
        Database { url: database_url(&name), name }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&database_url("postgres")) {
            let _ =
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut admin);
        }
    }
}

/// The image's file system, laid out under a temporary directory.
pub struct Sandbox {
    pub root: PathBuf,
    pub workdir: String,
    /// Where the image has the binary (under /usr/local).
    pub bin_dest: String,
    pub entrypoint: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).expect("mkdir");
        for e in std::fs::read_dir(from).expect("readable").flatten() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    }
}

fn chown_tree(p: &Path) {
    std::os::unix::fs::chown(p, Some(UID), Some(UID)).expect("chown");
    if p.is_dir() {
        for e in std::fs::read_dir(p).expect("readable").flatten() {
            chown_tree(&e.path());
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// Files of the host's /etc the C library and libpq read (the dynamic linker's cache, name
/// resolution); the users are the image's.
const ETC: &[&str] =
    &["ld.so.cache", "ld.so.conf", "nsswitch.conf", "hosts", "resolv.conf", "host.conf", "gai.conf", "localtime"];

impl Sandbox {
    /// Replays the runtime stage (leaving out the COPY sources in `skip`) and takes the web
    /// container's environment and ConfigMap from the chart rendered with its default values.
    pub fn build(database_url: &str, skip: &[&str]) -> Sandbox {
        let root = std::env::temp_dir().join(format!("tp-image-{}", uuid::Uuid::new_v4().simple()));
        let under = |abs: &str| root.join(abs.trim_start_matches('/'));
        for dir in ["usr", "etc/ssl", "proc", "dev", "tmp"] {
            std::fs::create_dir_all(under(dir)).expect("mkdir");
        }
        for link in ["bin", "lib", "lib64", "sbin"] {
            std::os::unix::fs::symlink(format!("usr/{link}"), under(link)).expect("symlink");
        }
        for f in ETC {
            if Path::new("/etc").join(f).exists() {
                std::fs::copy(Path::new("/etc").join(f), under(&format!("etc/{f}"))).expect("copy /etc file");
            }
        }
        std::fs::write(
            under("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\ntradeport:x:10001:10001::/var/lib/tradeport:/usr/sbin/nologin\n",
        )
        .expect("passwd");
        std::fs::write(under("etc/group"), "root:x:0:\ntradeport:x:10001:\n").expect("group");
        let df = Dockerfile::parse(&repo::read("Dockerfile")).expect("Dockerfile");
        let rt = df.runtime();
        let workdir = rt.workdir().expect("WORKDIR").to_owned();
        let mut bin_dest = String::new();
        std::fs::create_dir_all(under(&workdir)).expect("workdir");
        for i in rt.all("COPY") {
            let c = copy(i).expect("COPY parses");
            let dest = if c.dest.starts_with('/') { under(&c.dest) } else { under(&workdir).join(&c.dest) };
            if c.from.is_some() {
                // The builder's binary: this build's. It goes under /usr/local, which the
                // command below replaces by a tmpfs over the host's /usr (Debian's slim image
                // has nothing there either).
                assert!(c.dest.starts_with("/usr/local/"), "the binary is expected under /usr/local");
                std::fs::create_dir_all(under("staged")).expect("mkdir");
                std::fs::copy(env!("CARGO_BIN_EXE_tradeport"), under("staged/binary")).expect("copy the binary");
                bin_dest = c.dest.clone();
                continue;
            }
            for src in c.sources.iter().filter(|s| !skip.contains(&s.as_str())) {
                copy_tree(&repo::root().join(src), &dest);
            }
        }
        // The volume, owned by the image's user.
        for v in rt.all("VOLUME") {
            let dirs: Vec<String> = serde_json::from_str(&v.args).expect("VOLUME [\"…\"]");
            for d in dirs {
                std::fs::create_dir_all(under(&d)).expect("volume");
                chown_tree(&under(&d));
            }
        }
        // The chart's environment and ConfigMap, with the secrets it references filled in.
        let r = chart::render("", chart::BUILTIN_APIS).expect("the chart renders");
        let web = r.component("Deployment", "web").expect("web");
        let container = list(web, "spec.template.spec.containers")[0].clone();
        let mut env: Vec<(String, String)> = rt.env().into_iter().collect();
        let jwt = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        for (name, e) in env_of(&container) {
            let value = match name.as_str() {
                "DATABASE_URL" => database_url.to_owned(),
                "TRADEPORT_JWT_SECRET" => jwt.clone(),
                "REDIS_URL" => "redis://127.0.0.1:6379/".to_owned(),
                "TRADEPORT__REDIS__PREFIX" => format!("tp-image-{}", uuid::Uuid::new_v4().simple()),
                // Loopback only: this is a shared machine.
                "TRADEPORT_BIND" | "TRADEPORT__SERVER__METRICS_BIND" => format!("127.0.0.1:{}", free_port()),
                _ => {
                    assert!(chart::at(&e, "valueFrom").is_none(), "{name}: an unexpected secret");
                    s(&e, "value").to_owned()
                }
            };
            env.retain(|(n, _)| *n != name);
            env.push((name, value));
        }
        let config_dir =
            env.iter().find(|(n, _)| n == "TRADEPORT_CONFIG_DIR").map(|(_, v)| under(v)).expect("config dir");
        std::fs::create_dir_all(&config_dir).expect("config dir");
        let cm = r
            .of_kind("ConfigMap")
            .into_iter()
            .find(|c| s(c, "metadata.name").ends_with("-config") && !s(c, "metadata.name").contains("migrate"))
            .expect("ConfigMap");
        if let Some(Value::Map(data)) = chart::at(cm, "data") {
            for (file, text) in data {
                let Value::Str(text) = text else { panic!("ConfigMap data {file} is not a string") };
                std::fs::write(config_dir.join(file), text).expect("write");
            }
        }
        let entrypoint = exec_form(rt.last("ENTRYPOINT").expect("ENTRYPOINT")).expect("exec form");
        Sandbox { root, workdir, bin_dest, entrypoint, env }
    }

    /// `tradeport args` in the image's root: a private mount namespace, the host's /usr, /dev
    /// and a /proc bound in read-only, the whole root read-only but for the volume and a tmpfs
    /// /tmp, chroot, user 10001, the working directory of the image.
    pub fn command(&self, args: &[&str]) -> Command {
        let script = r#"set -e
R="$TP_ROOT"
mount --bind "$R" "$R"
mount --bind /usr "$R/usr"
mount -t tmpfs tmpfs "$R/usr/local"
mkdir -p "$R$(dirname "$TP_BIN")"
touch "$R$TP_BIN"
mount --bind "$R/staged/binary" "$R$TP_BIN"
mount --rbind /dev "$R/dev"
mount -t proc proc "$R/proc"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mount --bind "$R$TP_VOLUME" "$R$TP_VOLUME"
mount -o remount,bind,ro "$R/usr"
mount -o remount,bind,ro "$R"
exec chroot --userspec="$TP_UID:$TP_UID" "$R" /bin/sh -c 'cd "$TP_WORKDIR" && exec "$@"' sh "$@""#;
        let volume = "/var/lib/tradeport";
        let mut cmd = Command::new("unshare");
        // ENTRYPOINT then the arguments (CMD's place), found on the image's PATH.
        cmd.args(["--mount", "--", "sh", "-c", script, "sh"])
            .args(&self.entrypoint)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .env("TP_ROOT", &self.root)
            .env("TP_VOLUME", volume)
            .env("TP_WORKDIR", &self.workdir)
            .env("TP_UID", UID.to_string())
            .env("TP_BIN", &self.bin_dest)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    /// Runs to the end, or kills it after `limit`: (exited in time, output).
    pub fn run(&self, args: &[&str], limit: Duration) -> (bool, Output) {
        let mut child = self.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("unshare runs");
        let start = Instant::now();
        let mut in_time = true;
        while child.try_wait().expect("try_wait").is_none() {
            if start.elapsed() > limit {
                let _ = child.kill();
                in_time = false;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        (in_time, child.wait_with_output().expect("output"))
    }

    pub fn bind(&self) -> String {
        self.var("TRADEPORT_BIND")
    }

    /// The value of one variable of the chart's environment (loopback addresses here).
    pub fn var(&self, name: &str) -> String {
        self.env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("{name} is not set"))
    }
}

/// `GET path` over plain HTTP/1.1: (status, body).
pub fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Some((status, body))
}

/// Waits until `GET /healthz` answers 200, or the process exits, or `limit` passes.
pub fn wait_healthy(child: &mut Child, addr: &str, limit: Duration) -> Result<Duration, String> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited with {status} before answering"));
        }
        if get(addr, "/healthz").is_some_and(|(s, _)| s == 200) {
            return Ok(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("no answer on {addr} within {limit:?}"))
}

pub fn sigterm(child: &Child) {
    let ok = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill").success();
    assert!(ok, "kill -TERM failed");
}

/// Whether this process may make the sandbox (root, with unshare and chroot).
pub fn can_sandbox() -> bool {
    Command::new("unshare")
        .args(["--mount", "--", "chroot", "--userspec=10001:10001", "/", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
