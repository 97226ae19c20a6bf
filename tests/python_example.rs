// SPDX-License-Identifier: MPL-2.0

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
    // track-ids reads as a list of str in PyGObject (no gst-python needed).
    let mut listed: Vec<&str> = out["trackIds"]
        .as_array()
        .unwrap_or_else(|| panic!("trackIds is a list: {out}"))
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut ids: Vec<&str> = tracks.iter().map(|t| t["id"].as_str().unwrap()).collect();
    listed.sort();
    ids.sort();
    assert_eq!(listed, ids);
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

/// What a Python program sees of the plugin's enums and string arrays:
/// enum values carry a short machine nick (`value_nick`) and a descriptive
/// name (what `repr` prints), can be set by nick, and `track-ids` is a list
/// of str.
#[test]
fn python_reads_enums_by_nick_and_track_ids_as_a_list() {
    let dir = common::TempDir::new("python-types");
    let script = r#"
import json, gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst
Gst.init(None)
src = Gst.ElementFactory.make("mediastreamsrc")
out = {"kind": src.get_property("kind").value_nick,
       "readyState": src.get_property("ready-state").value_nick,
       "kindName": src.get_property("kind").value_name}
src.set_property("kind", "audio")
out["kindSet"] = src.get_property("kind").value_nick
stream = Gst.ElementFactory.make("mediastream")
ids = stream.get_property("track-ids")
out["trackIds"] = [type(ids).__name__, ids]
print(json.dumps(out))
"#;
    let out = Command::new("/usr/bin/python3")
        .args(["-c", script])
        .env("GST_PLUGIN_PATH", common::plugin_dir())
        .env("GST_REGISTRY", dir.join("registry.bin"))
        .output()
        .expect("/usr/bin/python3 (python3-gi) runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "video", "{v}");
    assert_eq!(v["readyState"], "live", "{v}");
    assert_eq!(v["kindName"], "Video: a camera track", "{v}");
    assert_eq!(v["kindSet"], "audio", "{v}");
    assert_eq!(v["trackIds"], serde_json::json!(["list", []]), "{v}");
}
