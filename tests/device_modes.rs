// SPDX-License-Identifier: MPL-2.0

//! The device runs the native mode the selection chose: for every vector
//! case that flows (tests/data/vectors), a `mediastream` with the case's
//! constraints plays on the case's fake devices, and each track's device
//! element runs the native mode that `select_settings --explain` reports
//! (media type, size, a rate inside the mode's), with square pixels out.
//!
//! The fake-device file is read once per process, so the parent test runs
//! one child process per device file: the ignored test below, which
//! refuses to run without the parent's environment.

mod common;
#[path = "common/track.rs"]
mod track;

use gst::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

const CHILD_VAR: &str = "MEDIASTREAM_DEVICE_MODES_FILE";

/// Every flowing vector case, by device file: (case name, constraints).
fn flowing_cases() -> BTreeMap<String, Vec<(String, String)>> {
    let mut by_file: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for file in ["vectors/constraints.json", "vectors/own.json"] {
        let text = std::fs::read_to_string(common::data(file)).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        for case in doc["cases"].as_array().unwrap() {
            if case["expect"].get("error").is_some() || case.get("constraints_raw").is_some() {
                continue;
            }
            by_file
                .entry(case["devices"].as_str().unwrap().to_owned())
                .or_default()
                .push((
                    case["name"].as_str().unwrap().to_owned(),
                    case["constraints"].to_string(),
                ));
        }
    }
    by_file
}

#[test]
fn every_flowing_vector_case_runs_the_chosen_native_mode() {
    let cases = flowing_cases();
    let total: usize = cases.values().map(Vec::len).sum();
    assert!(total >= 50, "only {total} flowing cases");
    let exe = std::env::current_exe().unwrap();
    let mut failures = Vec::new();
    for name in cases.keys() {
        let path = common::data(&format!("devices/{name}.json"));
        let out = std::process::Command::new(&exe)
            .args([
                "--exact",
                "one_device_file",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_VAR, name)
            .env("GST_MEDIASTREAM_FAKE_DEVICES", &path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !stdout.contains("1 passed") {
            failures.push(format!(
                "{name}:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The native mode `select_settings --explain` reports for `kind`:
/// (media type, size, rate or rate range as written).
fn explained_mode(devices: &std::path::Path, constraints: &str, kind: &str) -> Vec<String> {
    let out = std::process::Command::new(common::example("select_settings"))
        .arg("--explain")
        .arg(devices)
        .arg(constraints)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mode = v["explain"][kind]["best"][0]["nativeMode"]
        .as_str()
        .unwrap_or_else(|| panic!("no nativeMode for {kind} in {v}"));
    mode.split_whitespace().map(str::to_owned).collect()
}

/// Checks a device element's caps against an explained native mode.
fn matches_mode(caps: &gst::StructureRef, mode: &[String]) -> Result<(), String> {
    if caps.name() != mode[0].as_str() {
        return Err(format!("media type {} is not {}", caps.name(), mode[0]));
    }
    if mode[0].starts_with("audio/") {
        // `audio/x-raw FORMAT RATE Hz CH ch`.
        let rate = caps.get::<i32>("rate").map_err(|e| e.to_string())?;
        let channels = caps.get::<i32>("channels").map_err(|e| e.to_string())?;
        let format = caps.get::<&str>("format").map_err(|e| e.to_string())?;
        if format != mode[1] || !within(rate as f64, &mode[2]) || !within(channels as f64, &mode[4])
        {
            return Err(format!("{format} {rate} Hz {channels} ch"));
        }
        return Ok(());
    }
    let (w, h) = (
        caps.get::<i32>("width").map_err(|e| e.to_string())?,
        caps.get::<i32>("height").map_err(|e| e.to_string())?,
    );
    // `640x480`, or `[1,2000]x[1,2000]` for a mode with size ranges.
    let (mw, mh) = mode[1].split_once('x').unwrap();
    if !within(w as f64, mw) || !within(h as f64, mh) {
        return Err(format!("size {w}x{h} is not {}", mode[1]));
    }
    let rate = caps
        .get::<gst::Fraction>("framerate")
        .map_err(|e| e.to_string())?;
    let rate = rate.numer() as f64 / rate.denom() as f64;
    if !within(rate, &mode[2]) {
        return Err(format!("rate {rate} is outside {}", mode[2]));
    }
    Ok(())
}

/// Whether `v` is the value, or inside the `[min,max]` range, written in
/// `token` (integers or fractions).
fn within(v: f64, token: &str) -> bool {
    let number = |s: &str| match s.split_once('/') {
        Some((n, d)) => n.parse::<f64>().unwrap() / d.parse::<f64>().unwrap(),
        None => s.parse::<f64>().unwrap(),
    };
    let (lo, hi) = match token.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(range) => {
            let (a, b) = range.split_once(',').unwrap();
            (number(a), number(b))
        }
        None => (number(token), number(token)),
    };
    v >= lo - 1e-9 && v <= hi + 1e-9
}

#[test]
#[ignore = "one device file per process: run by every_flowing_vector_case_runs_the_chosen_native_mode"]
fn one_device_file() {
    let name = std::env::var(CHILD_VAR).expect("run by its parent test");
    gst::init().unwrap();
    gstmediastream::ensure_registered();
    let devices = common::data(&format!("devices/{name}.json"));
    let cases = flowing_cases().remove(&name).unwrap();
    let mut failures = Vec::new();
    for (case, constraints) in &cases {
        if let Err(e) = check_case(&devices, constraints) {
            failures.push(format!("{case} {constraints}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Plays the case until every track delivered, then compares each
/// track's device element with the explained mode.
fn check_case(devices: &std::path::Path, constraints: &str) -> Result<(), String> {
    let pipeline = gst::Pipeline::new();
    let stream = track::stream_in(&pipeline, constraints);
    let (tx, rx) = std::sync::mpsc::channel::<(String, gst::Caps)>();
    let weak = pipeline.downgrade();
    stream.connect_pad_added(move |_, pad| {
        let Some(pipeline) = weak.upgrade() else {
            return;
        };
        let sink = gst::ElementFactory::make("fakesink")
            .property("sync", false)
            .build()
            .unwrap();
        pipeline.add(&sink).unwrap();
        sink.sync_state_with_parent().unwrap();
        pad.link(&sink.static_pad("sink").unwrap()).unwrap();
        let tx = std::sync::Mutex::new(Some(tx.clone()));
        let name = pad.name().to_string();
        pad.add_probe(gst::PadProbeType::BUFFER, move |pad, _| {
            if let Some(tx) = tx.lock().unwrap().take() {
                let _ = tx.send((name.clone(), pad.current_caps().unwrap()));
            }
            gst::PadProbeReturn::Ok
        });
    });
    let result = (|| {
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| format!("does not play: {e}"))?;
        let kinds = serde_json::from_str::<Value>(constraints)
            .unwrap()
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, v)| (k.as_str() == "video" || k.as_str() == "audio") && **v != false)
            .count();
        let mut out = Vec::new();
        for _ in 0..kinds {
            out.push(
                rx.recv_timeout(Duration::from_secs(10))
                    .map_err(|_| "a track delivered nothing in 10 s".to_owned())?,
            );
        }
        for (pad, caps) in out {
            let kind = if pad.starts_with("video") {
                "video"
            } else {
                "audio"
            };
            let s = caps.structure(0).unwrap();
            if let Ok(par) = s.get::<gst::Fraction>("pixel-aspect-ratio")
                && par != gst::Fraction::new(1, 1)
            {
                return Err(format!("{pad}: pixel-aspect-ratio {par} in {caps}"));
            }
            let track = track::children_made_by(&stream, "mediastreamsrc")
                .into_iter()
                .find(|e| {
                    e.static_pad("src")
                        .and_then(|p| p.current_caps())
                        .is_some_and(|c| c == caps)
                })
                .ok_or_else(|| format!("{pad}: no track element with {caps}"))?;
            let device = track::children_made_by(&track, "mediastreamfakesrc")
                .into_iter()
                .next()
                .ok_or("no device element")?;
            let device_caps = device
                .static_pad("src")
                .unwrap()
                .current_caps()
                .ok_or("the device has no caps")?;
            let mode = explained_mode(devices, constraints, kind);
            matches_mode(device_caps.structure(0).unwrap(), &mode).map_err(|e| {
                format!(
                    "{pad}: the device runs {device_caps}, not {}: {e}",
                    mode.join(" ")
                )
            })?;
        }
        Ok(())
    })();
    let _ = pipeline.set_state(gst::State::Null);
    result
}
