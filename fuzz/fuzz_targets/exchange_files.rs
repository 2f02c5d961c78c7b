//! `cargo fuzz run exchange_files`: what 1C sends besides XML — file names from the query
//! string and zip packages. A name that is accepted never leaves the session folder; a zip
//! either unpacks within the limit or is refused, never panics, and leaves nothing behind
//! when refused.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tradeport::exchange::onec::files::{clean_name, unpack};

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("tp-fuzz-zip-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("fuzz dir");
        d
    })
}

/// Every file under `d` (folders a refused zip created may stay, empty).
fn files_in(d: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).expect("dir").filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_in(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let name = String::from_utf8_lossy(data);
    if let Ok(clean) = clean_name(&name) {
        assert!(!clean.starts_with('/') && !clean.contains('\\'), "{clean:?}");
        assert!(clean.split('/').all(|p| !p.is_empty() && p != ".." && p != "." && !p.starts_with('.')), "{clean:?}");
    }
    let d = dir();
    let _ = std::fs::remove_dir_all(d);
    std::fs::create_dir_all(d).expect("fuzz dir");
    std::fs::write(d.join("p.zip"), data).expect("write zip");
    match unpack(d, "p.zip", 1 << 20) {
        Ok(files) => assert!(files.iter().map(|f| f.size).sum::<u64>() <= 1 << 20),
        Err(_) => {
            let left = files_in(d);
            assert_eq!(left, vec![d.join("p.zip")], "a refused zip left files behind");
        }
    }
});
