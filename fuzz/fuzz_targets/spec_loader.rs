//! Fuzz target: any text as a spec file must load or be refused, never panic.
//!
//! Owns feeding bytes (as UTF-8) to `Registry::from_sources` as
//! `specs/fuzz.yaml`, beside the embedded vocabulary. Run with
//! `cargo xtask fuzz --target spec_loader`.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vidspec_core::{Registry, Source};

fn vocabulary() -> &'static [Source] {
    static VOCABULARY: OnceLock<Vec<Source>> = OnceLock::new();
    VOCABULARY.get_or_init(|| {
        Registry::embedded_sources()
            .into_iter()
            .filter(|source| source.stem() == "vocabulary")
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sources = vocabulary().to_vec();
    sources.push(Source::new("specs/fuzz.yaml", text));
    let _ = Registry::from_sources(sources);
});
