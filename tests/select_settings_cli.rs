// SPDX-License-Identifier: MPL-2.0

//! The `select_settings` example as a user runs it: output, exit status,
//! and clear errors for bad input.

mod common;

use serde_json::Value;
use std::process::Command;

fn run(args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(common::example("select_settings"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn builtin() -> String {
    common::data("devices/builtin.json").display().to_string()
}

#[test]
fn video_true_picks_the_front_camera_at_vga() {
    let (code, out, _) = run(&[&builtin(), r#"{"video":true}"#]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        serde_json::json!({"video": {
            "deviceId": "fake-camera-front", "groupId": "fake-group-front",
            "width": 640, "height": 480, "aspectRatio": 1.3333333333,
            "frameRate": 30.0, "facingMode": "user", "resizeMode": "none"
        }})
    );
}

#[test]
fn only_the_requested_kinds_are_printed() {
    let (code, out, _) = run(&[&builtin(), r#"{"audio":true}"#]);
    assert_eq!(code, 0);
    let keys: Vec<_> = out.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["audio"]);
    let (_, out, _) = run(&[&builtin(), r#"{"video":true,"audio":true}"#]);
    assert_eq!(out.as_object().unwrap().len(), 2);
}

#[test]
fn errors_are_json_with_status_1() {
    let (code, out, stderr) = run(&[&builtin(), r#"{"video":{"width":{"min":100000000}}}"#]);
    assert_eq!(code, 1);
    assert_eq!(out["error"]["name"], "OverconstrainedError");
    assert_eq!(out["error"]["constraint"], "width");
    assert!(
        stderr.contains(
            "OverconstrainedError: width: no device can deliver width >= 100000000 (largest: 3840)"
        ),
        "{stderr}"
    );

    let (code, out, _) = run(&[&builtin(), "{\"video\": {\"width\": 640,}"]);
    assert_eq!(code, 1);
    assert_eq!(out["error"]["name"], "TypeError");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 1, column 25")
    );
    assert!(out["error"].get("constraint").is_none());

    let (code, out, _) = run(&[&builtin(), "{}"]);
    assert_eq!(
        (code, out["error"]["name"].as_str()),
        (1, Some("TypeError"))
    );
}

#[test]
fn explain_shows_candidates_and_the_deciding_step() {
    let (code, out, _) = run(&["--explain", &builtin(), r#"{"video":{"width":1000}}"#]);
    assert_eq!(code, 0);
    assert_eq!(out["video"]["width"], 1000);
    let e = &out["explain"]["video"];
    assert_eq!(
        e["decidedBy"],
        "step 7: smaller native mode (crop-and-scale)"
    );
    let best = e["best"].as_array().unwrap();
    assert!(best.len() > 1 && best.len() <= 5);
    assert_eq!(best[0]["settings"], out["video"]);
    assert_eq!(
        best[0]["nativeMode"],
        "video/x-raw 1280x720 [5/1,30/1] (structure 0)"
    );
}

#[test]
fn explain_shows_the_step4_value() {
    // The whole-pixel rule: 188x106 has both sides at the rounded 16:9
    // partner of the other, so it deviates by 0.
    let (code, out, _) = run(&[
        "--explain",
        &builtin(),
        r#"{"video":{"height":{"max":106}}}"#,
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        (&out["video"]["width"], &out["video"]["height"]),
        (&188.into(), &106.into())
    );
    let best = &out["explain"]["video"]["best"][0];
    assert_eq!(
        best["aspectFit"],
        serde_json::json!({"matchedSides": 2, "deviation": 0.0})
    );
    // A native size is not cut: step 4 does not apply.
    let (_, out, _) = run(&["--explain", &builtin(), r#"{"video":true}"#]);
    assert!(out["explain"]["video"]["best"][0]["aspectFit"].is_null());
}

#[test]
fn bad_device_files_name_file_device_and_field() {
    let dir = common::TempDir::new("select-settings");
    for (path, name, want) in common::broken_device_files(&dir) {
        let (code, out, stderr) = run(&[path.to_str().unwrap(), r#"{"video":true}"#]);
        assert_eq!(code, 1, "{name}");
        let msg = out["error"]["message"].as_str().unwrap();
        assert!(msg.contains(name) && msg.contains(want), "{name}: {msg}");
        assert!(stderr.contains(want), "{stderr}");
    }
    let (code, out, _) = run(&[
        dir.join("absent.json").to_str().unwrap(),
        r#"{"video":true}"#,
    ]);
    assert_eq!(code, 1);
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot read the file")
    );
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, stderr) = run(&[&builtin()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("usage: select_settings"));
}
