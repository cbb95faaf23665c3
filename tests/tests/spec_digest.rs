//! The spec digest (`Model::spec_digest`, recorded with every task in the
//! ledger as the version of the spec that shaped it) covers the gateway file
//! a family inherits its `endpoint:` and `task:` blocks from: editing
//! `gateways/<name>.yaml` changes the digest of every model inheriting from
//! it, and of no other.

use vidspec_core::Registry;
use vidspec_tests::{GATEWAY, INHERITING, TINY, load};

/// [`TINY`] as a family `alone` that names no gateway and writes its own
/// `endpoint:` and `task:` blocks.
fn standalone() -> String {
    TINY.replace("family: tiny", "family: alone")
        .replace("id: tiny-1", "id: alone-1")
}

/// A registry of the vocabulary, the two families and `gateway` as the
/// gateway file.
fn registry(gateway: &str) -> Registry {
    load(&[
        ("specs/gateways/madeup.yaml", gateway),
        ("specs/tiny.yaml", INHERITING),
        ("specs/alone.yaml", &standalone()),
    ])
    .unwrap_or_else(|errors| panic!("{errors}"))
}

fn digest(registry: &Registry, id: &str) -> String {
    registry
        .model(id)
        .unwrap_or_else(|| panic!("{id} is loaded"))
        .spec_digest()
        .to_owned()
}

#[test]
fn editing_the_gateway_file_changes_the_digest_of_a_model_inheriting_from_it() {
    let before = registry(GATEWAY);
    let after = registry(&GATEWAY.replace("every_s: 1,", "every_s: 2,"));
    assert_ne!(digest(&before, "tiny-1"), digest(&after, "tiny-1"));
}

#[test]
fn editing_the_gateway_file_leaves_the_digest_of_a_model_that_names_no_gateway_unchanged() {
    let before = registry(GATEWAY);
    let after = registry(&GATEWAY.replace("every_s: 1,", "every_s: 2,"));
    assert_eq!(digest(&before, "alone-1"), digest(&after, "alone-1"));
}

#[test]
fn the_same_spec_and_gateway_files_give_the_same_digest_on_every_load() {
    assert_eq!(
        digest(&registry(GATEWAY), "tiny-1"),
        digest(&registry(GATEWAY), "tiny-1")
    );
}

#[test]
fn a_model_naming_no_gateway_keeps_the_digest_of_its_spec_files_text() {
    assert_eq!(
        digest(&registry(GATEWAY), "alone-1"),
        vidspec_core::digest::digest(standalone().as_bytes())
    );
}
