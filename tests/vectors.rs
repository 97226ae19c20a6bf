// SPDX-License-Identifier: MPL-2.0

//! The shared constraint vectors (tests/data/vectors/constraints.json, the
//! cases every implementation of this model is checked against) and the
//! project's own cases (own.json), which cover every step of the selection
//! order (docs/constraints.md) and every error class.

mod common;

use serde_json::Value;

fn run_file(file: &str, min_cases: usize) {
    let text = std::fs::read_to_string(common::data(file)).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= min_cases, "{file} lost cases");
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let devices = common::devices(case["devices"].as_str().unwrap());
        let constraints = match case.get("constraints_raw") {
            Some(raw) => raw.as_str().unwrap().to_owned(),
            None => case["constraints"].to_string(),
        };
        let actual = common::gum(&devices, &constraints);
        if let Err(e) = common::check(&actual, &case["expect"]) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{file}: {} failing:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn shared_vectors_pass() {
    run_file("vectors/constraints.json", 40);
}

#[test]
fn own_cases_pass() {
    run_file("vectors/own.json", 30);
}
