// SPDX-License-Identifier: MPL-2.0

#![no_main]

#[path = "../src/bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::uri(data));
