// SPDX-License-Identifier: MPL-2.0

//! Helpers shared by the integration tests.
#![allow(dead_code)]

use gst::prelude::*;
use gstmediastream::constraints::{
    ConstraintError, DeviceInfo, SelectOptions, StreamConstraints, select_stream,
};
use gstmediastream::devices::file::load_device_infos;
use serde_json::{Value, json};
use std::path::PathBuf;

/// `elements` linked in a new pipeline, ending in an appsink that pulls
/// as fast as it can (`sync=false`): the pipeline and the sink.
pub fn into_appsink(elements: &[&gst::Element]) -> (gst::Pipeline, gst::Element) {
    let pipeline = gst::Pipeline::new();
    let sink = gst::ElementFactory::make("appsink")
        .property("sync", false)
        .build()
        .unwrap();
    let mut all: Vec<&gst::Element> = elements.to_vec();
    all.push(&sink);
    pipeline.add_many(all.iter().copied()).unwrap();
    gst::Element::link_many(all.iter().copied()).unwrap();
    (pipeline, sink)
}

/// A non-live `mediastreamfakesrc` producing exactly `caps`.
pub fn fake_source(caps: &str) -> gst::Element {
    gst::ElementFactory::make("mediastreamfakesrc")
        .property("caps", caps.parse::<gst::Caps>().unwrap())
        .property("is-live", false)
        .build()
        .unwrap()
}

/// `src ! fakesink` playing, and its bus.
pub fn play_into_fakesink(src: &gst::Element) -> (gst::Pipeline, gst::Bus) {
    let pipeline = gst::Pipeline::new();
    let sink = gst::ElementFactory::make("fakesink").build().unwrap();
    pipeline.add_many([src, &sink]).unwrap();
    src.link(&sink).unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let bus = pipeline.bus().unwrap();
    (pipeline, bus)
}

pub fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

pub fn devices(name: &str) -> Vec<DeviceInfo> {
    gst::init().unwrap();
    load_device_infos(&data(&format!("devices/{name}.json"))).unwrap()
}

pub fn opts() -> SelectOptions {
    SelectOptions {
        audio_processing: true,
        explain: false,
    }
}

/// getUserMedia's selection as the example prints it: settings per kind or
/// `{"error": {..}}`.
pub fn gum(devices: &[DeviceInfo], constraints: &str) -> Value {
    let r: Result<_, ConstraintError> =
        StreamConstraints::parse(constraints).and_then(|c| select_stream(&c, devices, &opts()));
    match r {
        Ok(sel) => sel.to_json(),
        Err(e) => json!({ "error": e.to_json() }),
    }
}

/// Checks `actual` against an expectation in the vectors' form: listed
/// settings members per kind, or `{"error": NAME, "constraint": C}`.
pub fn check(actual: &Value, expect: &Value) -> Result<(), String> {
    if let Some(name) = expect.get("error") {
        let err = actual
            .get("error")
            .ok_or_else(|| format!("expected {name}, got {actual}"))?;
        if &err["name"] != name {
            return Err(format!("expected {name}, got {err}"));
        }
        if let Some(c) = expect.get("constraint")
            && &err["constraint"] != c
        {
            return Err(format!("expected constraint {c}, got {err}"));
        }
        return Ok(());
    }
    for (kind, members) in expect.as_object().unwrap() {
        let got = actual
            .get(kind)
            .ok_or_else(|| format!("no {kind} in {actual}"))?;
        for (k, want) in members.as_object().unwrap() {
            let have = &got[k];
            let same = match (want.as_f64(), have.as_f64()) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                _ => want == have,
            };
            if !same {
                return Err(format!("{kind}.{k}: expected {want}, got {have} in {got}"));
            }
        }
    }
    Ok(())
}

/// The path of a built example (cargo test builds them before the tests).
pub fn example(name: &str) -> PathBuf {
    // target/<profile>/deps/<this test> -> target/<profile>/examples/
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let path = dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: cargo test builds the examples before the tests",
        path.display()
    );
    path
}

/// target/<profile>, where `cargo build` puts libgstmediastream.so.
pub fn plugin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    assert!(
        dir.join("libgstmediastream.so").exists(),
        "{}/libgstmediastream.so is missing: run `cargo build` first (scripts/test does)",
        dir.display()
    );
    dir
}

/// Broken device files: (file name, text, what the error must say).
const BROKEN_DEVICE_FILES: [(&str, &str, &str); 3] = [
    (
        "no-caps.json",
        r#"{"devices": [{"kind": "videoinput", "label": "x", "deviceId": "x"}]}"#,
        "device 0: field \"caps\": missing",
    ),
    (
        "bad-caps.json",
        r#"{"devices": [{"kind": "videoinput", "label": "x", "deviceId": "x", "caps": "video/x-raw,width=(int)wide"}]}"#,
        "device 0: field \"caps\":",
    ),
    (
        "bad-json.json",
        "{\"devices\": [",
        "not valid JSON at line 1",
    ),
];

/// Writes `BROKEN_DEVICE_FILES` into `dir`: (path, file name, expected).
pub fn broken_device_files(dir: &TempDir) -> Vec<(PathBuf, &'static str, &'static str)> {
    BROKEN_DEVICE_FILES
        .iter()
        .map(|&(name, text, want)| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            (path, name, want)
        })
        .collect()
}

/// A scratch folder for one test, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("gst-mediastream-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed (and reaped) when dropped, also when a test panics.
pub struct Killed(pub std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `enumerate_devices --watch` with `env`: its initial list, then one
/// devicechange line at a time.
pub struct Watch {
    _child: Killed,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Watch {
    pub fn spawn(env: &[(&str, &std::ffi::OsStr)]) -> (Watch, serde_json::Value) {
        use std::io::{BufRead, BufReader};
        let mut cmd = std::process::Command::new(example("enumerate_devices"));
        cmd.arg("--watch")
            .env_remove("GST_PLUGIN_PATH")
            .env_remove("GST_MEDIASTREAM_FAKE_DEVICES")
            .stdout(std::process::Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = Killed(cmd.spawn().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.0.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let watch = Watch {
            _child: child,
            lines: rx,
        };
        // The initial list is pretty-printed: read up to its closing bracket.
        let mut initial = String::new();
        loop {
            let line = watch.next_line();
            initial.push_str(&line);
            if line == "]" {
                break;
            }
        }
        (watch, serde_json::from_str(&initial).unwrap())
    }

    pub fn next_line(&self) -> String {
        self.lines
            .recv_timeout(std::time::Duration::from_secs(15))
            .expect("a line from enumerate_devices within 15 s")
    }

    /// The next devicechange, as (change, device).
    pub fn next_change(&self) -> (String, serde_json::Value) {
        let v: serde_json::Value = serde_json::from_str(&self.next_line()).unwrap();
        assert_eq!(v["event"], "devicechange", "{v}");
        (
            v["change"].as_str().unwrap().to_owned(),
            v["device"].clone(),
        )
    }
}

/// A PipeWire virtual camera (`pipewiresink mode=provide`) named `name`,
/// stopped when dropped.
pub fn virtual_camera(name: &str) -> Killed {
    Killed(
        std::process::Command::new("gst-launch-1.0")
            .args([
                "-q",
                "videotestsrc",
                "is-live=true",
                "!",
                "video/x-raw,format=YUY2,width=320,height=240,framerate=15/1",
                "!",
                "pipewiresink",
                "mode=provide",
                &format!(
                    "stream-properties=props,media.class=Video/Source,node.description={name}"
                ),
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("gst-launch-1.0 runs"),
    )
}

/// `s` in single quotes for `sh`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Runs `command` (an example), which must succeed (else a panic with its
/// stderr); its stdout as JSON.
pub fn json_output(command: &mut std::process::Command) -> Value {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
