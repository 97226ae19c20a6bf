// SPDX-License-Identifier: MPL-2.0

//! The getusermedia example over the built-in fake devices.

mod common;

use serde_json::Value;
use std::process::Command;

fn run(args: &[&str]) -> (i32, Value) {
    let out = Command::new(common::example("getusermedia"))
        .args(args)
        .env("GST_MEDIASTREAM_FAKE_DEVICES", "1")
        .env_remove("GST_PLUGIN_PATH")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
    )
}

#[test]
fn audio_and_video_tracks_with_real_frame_counts() {
    let dir = common::TempDir::new("gum-snap");
    let (code, out) = run(&[
        "--frames",
        "5",
        "--snapshot",
        dir.0.to_str().unwrap(),
        r#"{"audio":true,"video":{"width":1280}}"#,
    ]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["id"].as_str().unwrap().len(), 36);
    let tracks = out["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 2);
    let video = tracks.iter().find(|t| t["kind"] == "video").unwrap();
    assert_eq!(
        (
            video["settings"]["width"].as_i64(),
            video["settings"]["height"].as_i64()
        ),
        (Some(1280), Some(720))
    );
    assert!(video["frames"].as_u64().unwrap() >= 5);
    assert_eq!(video["label"], "Fake front camera");
    assert_eq!(
        video["capabilities"]["width"],
        serde_json::json!({"min": 1, "max": 1920})
    );
    assert_eq!(video["constraints"], serde_json::json!({"width": 1280}));
    let png = std::fs::read(video["snapshot"].as_str().unwrap()).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let audio = tracks.iter().find(|t| t["kind"] == "audio").unwrap();
    assert_eq!(audio["settings"]["sampleRate"], 48000);
    assert!(audio["frames"].as_u64().unwrap() >= 5);
}

#[test]
fn errors_are_json_with_status_1() {
    let (code, out) = run(&[r#"{"video":{"width":{"min":100000000}}}"#]);
    assert_eq!(code, 1);
    assert_eq!(out["error"]["name"], "OverconstrainedError");
    assert_eq!(out["error"]["constraint"], "width");
    let (code, out) = run(&["{}"]);
    assert_eq!(code, 1);
    assert_eq!(out["error"]["name"], "TypeError");
}

/// One shape: a track's capabilities in getusermedia's output are those
/// enumerate_devices prints for its device, every numeric member
/// `{min, max}` as a browser's getCapabilities() (the microphone's one rate
/// too, which its GstStructure holds as a plain value).
#[test]
fn capabilities_have_the_shape_enumerate_devices_prints() {
    let (code, out) = run(&["--frames", "2", r#"{"audio":true,"video":true}"#]);
    assert_eq!(code, 0, "{out}");
    let listed = Command::new(common::example("enumerate_devices"))
        .env("GST_MEDIASTREAM_FAKE_DEVICES", "1")
        .env_remove("GST_PLUGIN_PATH")
        .output()
        .unwrap();
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let of_device = |id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["deviceId"] == id)
            .unwrap_or_else(|| panic!("{id} in {listed}"))["capabilities"]
            .clone()
    };
    let tracks = out["tracks"].as_array().unwrap();
    let audio = &tracks.iter().find(|t| t["kind"] == "audio").unwrap()["capabilities"];
    assert_eq!(
        audio["sampleRate"],
        serde_json::json!({"min": 48000, "max": 48000})
    );
    assert_eq!(audio, &of_device("fake-microphone"));
    let video = &tracks.iter().find(|t| t["kind"] == "video").unwrap()["capabilities"];
    assert_eq!(video, &of_device("fake-camera-front"));
}
