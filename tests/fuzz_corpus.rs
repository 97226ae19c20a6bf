// SPDX-License-Identifier: MPL-2.0

//! Replays the committed fuzz corpus (fuzz/corpus/<target>/) through the
//! same bodies the cargo-fuzz targets run, so every input a fuzzer ever
//! kept, findings included, is checked by plain `cargo test`.

#[path = "../fuzz/src/bodies.rs"]
mod bodies;

use std::path::Path;

fn replay(target: &str, body: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        // A panic names the input that caused it.
        let r = std::panic::catch_unwind(|| body(&data));
        assert!(r.is_ok(), "{target}: {} panicked", path.display());
        n += 1;
    }
    assert!(n >= 5, "{}: only {n} inputs", dir.display());
}

#[test]
fn constraints_corpus() {
    replay("constraints", bodies::constraints);
}

#[test]
fn selection_corpus() {
    replay("selection", bodies::selection);
}

#[test]
fn device_file_corpus() {
    replay("device_file", bodies::device_file);
}

#[test]
fn uri_corpus() {
    replay("uri", bodies::uri);
}
