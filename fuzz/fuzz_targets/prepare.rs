//! Fuzz target: any JSON value must prepare to a plan or be refused, never panic.
//!
//! Owns feeding bytes that parse as JSON to `Model::prepare` of every embedded
//! model. Run with `cargo xtask fuzz --target prepare`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vidspec_core::Registry;

fn registry() -> &'static Registry {
    Registry::embedded()
}

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for model in registry().models() {
        // Every view of a plan is read too: they are worked out lazily.
        if let Ok(plan) = model.prepare(request.clone()) {
            let _ = (plan.billing(), plan.effective().to_map(), plan.preconditions());
            let _ = serde_json::to_vec(&plan);
        }
    }
});
