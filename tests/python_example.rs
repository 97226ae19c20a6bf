//! The PyGObject application (examples/python/getusermedia.py) against the
//! built plugin (GST_PLUGIN_PATH=target/debug) and the fake devices.

mod common;

use serde_json::Value;
use std::process::Command;

fn run(constraints: &str) -> (i32, Value) {
    let dir = common::TempDir::new("python");
    let out = Command::new("/usr/bin/python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/python/getusermedia.py"
        ))
        .arg(constraints)
        .env("GST_PLUGIN_PATH", common::plugin_dir())
        .env("GST_REGISTRY", dir.join("registry.bin"))
        .env("GST_MEDIASTREAM_FAKE_DEVICES", "1")
        .output()
        .expect("/usr/bin/python3 (python3-gi) runs");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("Traceback"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
    )
}

#[test]
fn python_application_gets_user_media() {
    let (code, out) = run(r#"{"audio":true,"video":{"width":1280}}"#);
    assert_eq!(code, 0, "{out}");
    let tracks = out["tracks"].as_array().unwrap();
    let video = tracks.iter().find(|t| t["kind"] == "video").unwrap();
    assert_eq!(
        (
            video["settings"]["width"].as_i64(),
            video["settings"]["height"].as_i64()
        ),
        (Some(1280), Some(720))
    );
    assert!(video["frames"].as_u64().unwrap() >= 10);
    assert!(
        tracks
            .iter()
            .any(|t| t["kind"] == "audio" && t["settings"]["sampleRate"] == 48000)
    );

    let (code, out) = run(r#"{"video":{"width":{"min":100000000}}}"#);
    assert_eq!(code, 1);
    assert_eq!(out["error"]["name"], "OverconstrainedError");
    assert_eq!(out["error"]["constraint"], "width");
}
