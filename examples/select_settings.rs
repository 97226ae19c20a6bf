// SPDX-License-Identifier: MPL-2.0

//! Which settings would getUserMedia pick?
//!
//! ```text
//! select_settings [--explain] DEVICES.json 'CONSTRAINTS'
//! select_settings --list DEVICES.json
//! ```
//!
//! Reads a fake-device file (docs/devices.md) and a MediaStreamConstraints
//! JSON, and prints `{"audio": {..}, "video": {..}}` (the kinds asked for),
//! exit status 0, or `{"error": {"name", "constraint", "message"}}`, exit
//! status 1. `--explain` adds, per kind, the best candidates with their
//! distances, the step 4 value of a crop-and-scale size (`aspectFit`) and
//! the ordering step that decided the winner (docs/constraints.md). `--list`
//! prints the file's devices with their capabilities instead.

use gstmediastream::constraints::{
    ConstraintError, DeviceKind, SelectOptions, StreamConstraints, capabilities, select_stream,
};
use gstmediastream::devices::file::load_device_infos;
use serde_json::{Value, json};
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "usage: select_settings [--explain] DEVICES.json 'CONSTRAINTS'\n\
    \x20      select_settings --list DEVICES.json\n\
    example: select_settings tests/data/devices/builtin.json '{\"video\": {\"width\": 1280}}'";

/// Prints JSON on stdout; a closed pipe (`| head`) is not a crash.
fn emit(v: &Value) {
    use std::io::Write;
    let text = serde_json::to_string_pretty(v).expect("a JSON value serializes");
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

fn fail(e: &ConstraintError) -> ExitCode {
    emit(&json!({ "error": e.to_json() }));
    eprintln!("select_settings: {e}");
    ExitCode::from(1)
}

fn main() -> ExitCode {
    let mut explain = false;
    let mut list = false;
    let mut positional = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--explain" => explain = true,
            "--list" => list = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => positional.push(arg),
        }
    }
    let (devices_path, constraints) = match positional.as_slice() {
        [d] if list => (d, None),
        [d, c] if !list => (d, Some(c)),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = gst::init() {
        eprintln!("select_settings: cannot initialize GStreamer: {e}");
        return ExitCode::from(1);
    }
    let devices = match load_device_infos(Path::new(devices_path)) {
        Ok(d) => d,
        Err(e) => return fail(&ConstraintError::not_found(e.to_string())),
    };
    let audio_processing = gst::ElementFactory::find("webrtcdsp").is_some();
    let Some(constraints) = constraints else {
        let listed: Vec<Value> = devices
            .iter()
            .map(|d| {
                let mut v = json!({
                    "deviceId": d.device_id, "kind": d.kind.as_str(),
                    "label": d.label, "groupId": d.group_id, "default": d.is_default,
                });
                if d.kind != DeviceKind::AudioOutput {
                    v["capabilities"] = capabilities(d, audio_processing);
                }
                v
            })
            .collect();
        emit(&Value::Array(listed));
        return ExitCode::SUCCESS;
    };
    let constraints = match StreamConstraints::parse(constraints) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let opts = SelectOptions {
        audio_processing,
        explain,
    };
    match select_stream(&constraints, &devices, &opts) {
        Ok(sel) => {
            let mut out = sel.to_json();
            if explain {
                let mut why = serde_json::Map::new();
                for (kind, s) in [("audio", &sel.audio), ("video", &sel.video)] {
                    if let Some(e) = s.as_ref().and_then(|s| s.explain.clone()) {
                        why.insert(kind.into(), e);
                    }
                }
                out["explain"] = Value::Object(why);
            }
            emit(&out);
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}
