// SPDX-License-Identifier: MPL-2.0

//! enumerateDevices() on this machine.
//!
//! ```text
//! enumerate_devices [--watch]
//! ```
//!
//! Prints the devices as a JSON array in the spec's order (audioinput,
//! videoinput, audiooutput; the default first within each kind), each with
//! deviceId, kind, label, groupId and, for inputs, capabilities. With
//! `--watch` it then prints one JSON line per devicechange until interrupted.
//! `--timing` prints how long the first and a cached enumeration take.
//! `GST_MEDIASTREAM_FAKE_DEVICES=1` lists the built-in fake devices instead.

use gstmediastream::constraints::{DeviceKind, capabilities};
use gstmediastream::devices::monitor::{DeviceChange, MediaDevice, MediaDevices};
use serde_json::{Value, json};
use std::io::Write;
use std::process::ExitCode;

fn describe(d: &MediaDevice, audio_processing: bool) -> Value {
    let i = &d.info;
    let mut v = json!({
        "deviceId": i.device_id,
        "kind": i.kind.as_str(),
        "label": i.label,
        "groupId": i.group_id,
    });
    if i.kind != DeviceKind::AudioOutput {
        v["capabilities"] = capabilities(i, audio_processing);
    }
    v
}

/// Writes a line; false when stdout is gone (`| head`), which ends the run.
fn emit(text: &str) -> bool {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").and_then(|_| out.flush()).is_ok()
}

fn main() -> ExitCode {
    let mut watch = false;
    let mut timing = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--watch" => watch = true,
            "--timing" => timing = true,
            "-h" | "--help" => {
                println!("usage: enumerate_devices [--watch | --timing]");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!(
                    "enumerate_devices: unknown argument '{other}'\nusage: enumerate_devices [--watch | --timing]"
                );
                return ExitCode::from(2);
            }
        }
    }
    if let Err(e) = gst::init() {
        eprintln!("enumerate_devices: cannot initialize GStreamer: {e}");
        return ExitCode::from(1);
    }
    let processing = gst::ElementFactory::find("webrtcdsp").is_some();
    let media = MediaDevices::get();
    if timing {
        // The first enumeration starts the monitor and probes; later ones
        // read the kept list.
        let t = std::time::Instant::now();
        let n = media.devices().map(|d| d.len()).unwrap_or(0);
        let first = t.elapsed();
        let t = std::time::Instant::now();
        const ROUNDS: u32 = 1000;
        for _ in 0..ROUNDS {
            let _ = media.devices();
        }
        let cached = t.elapsed() / ROUNDS;
        let ok = emit(
            &json!({
                "devices": n,
                "firstMs": first.as_secs_f64() * 1e3,
                "cachedUs": cached.as_secs_f64() * 1e6,
            })
            .to_string(),
        );
        return if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    }
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    // Subscribed with the listing, so no change falls between the two.
    let (devices, _subscription) = media.devices_and_subscribe(move |change| {
        let (what, d) = match change {
            DeviceChange::Added(d) => ("added", d),
            DeviceChange::Removed(d) => ("removed", d),
        };
        // A display surface or the system's sound: not a MediaDeviceInfo.
        if d.info.kind == gstmediastream::constraints::DeviceKind::Display {
            return;
        }
        let line =
            json!({ "event": "devicechange", "change": what, "device": describe(d, processing) });
        let _ = tx.send(line.to_string());
    });
    let devices = match devices {
        Ok(d) => d,
        Err(e) => {
            eprintln!("enumerate_devices: {e}");
            return ExitCode::from(1);
        }
    };
    let list: Vec<Value> = devices.iter().map(|d| describe(d, processing)).collect();
    if !emit(&serde_json::to_string_pretty(&Value::Array(list)).expect("JSON")) {
        return ExitCode::SUCCESS;
    }
    if let Some(problem) = media.problem() {
        eprintln!("enumerate_devices: {problem}");
        if !watch {
            return ExitCode::from(1);
        }
    }
    if !watch {
        return ExitCode::SUCCESS;
    }
    for line in rx {
        if !emit(&line) {
            break;
        }
    }
    ExitCode::SUCCESS
}
