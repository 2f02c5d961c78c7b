//! `cargo fuzz run commerceml` (nightly or RUSTC_BOOTSTRAP=1); seed the corpus with
//! `../shared/samples/commerceml/*.xml`. The parser must return Ok or Err, never panic, and
//! reading the same bytes in pieces of 1 to 16 bytes (the streaming reader's buffer
//! boundaries falling anywhere, inside a multi-byte character or a windows-1251 run) must give
//! the same document, or the same kind of refusal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeport::exchange::commerceml::{parse, parse_reader};

fuzz_target!(|data: &[u8]| {
    let whole = parse(data);
    let capacity = 1 + usize::from(data.first().copied().unwrap_or(0) % 16);
    let pieces = parse_reader(&mut std::io::BufReader::with_capacity(capacity, data));
    match (&whole, &pieces) {
        (Ok(a), Ok(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "read in {capacity}-byte pieces"),
        (Err(a), Err(b)) => {
            assert_eq!(std::mem::discriminant(a), std::mem::discriminant(b), "{a} / {b} ({capacity}-byte pieces)")
        }
        _ => panic!("whole: {whole:?}; in {capacity}-byte pieces: {pieces:?}"),
    }
});
