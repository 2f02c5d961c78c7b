//! `cargo fuzz run commerceml` (nightly or RUSTC_BOOTSTRAP=1); seed the corpus with
//! `../shared/samples/commerceml/*.xml`. The parser must return Ok or Err, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tradeport::exchange::commerceml::parse(data);
});
