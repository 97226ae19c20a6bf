// SPDX-License-Identifier: MPL-2.0

//! The fake devices: enumeration in the spec's order, gst-device-monitor-1.0,
//! devicechange when the device file changes, and a removed device's element
//! failing like an unplugged camera. Processes get their own environment, so
//! the variable never leaks between tests.

mod common;

use common::TempDir;
use gst::prelude::*;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

const ENV: &str = "GST_MEDIASTREAM_FAKE_DEVICES";

fn enumerate(fake: &str) -> (i32, Value, String) {
    let out = Command::new(common::example("enumerate_devices"))
        .env(ENV, fake)
        .env_remove("GST_PLUGIN_PATH")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| d["deviceId"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn builtin_devices_in_spec_order_with_capabilities() {
    let (code, list, stderr) = enumerate("1");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        ids(&list),
        [
            "fake-microphone",
            "fake-camera-front",
            "fake-camera-back",
            "fake-speaker"
        ]
    );
    let front = &list[1];
    assert_eq!(front["kind"], "videoinput");
    assert_eq!(front["label"], "Fake front camera");
    assert_eq!(front["groupId"], "fake-group-front");
    assert_eq!(
        front["capabilities"]["width"],
        serde_json::json!({"min": 1, "max": 1920})
    );
    assert_eq!(
        front["capabilities"]["facingMode"],
        serde_json::json!(["user"])
    );
    assert_eq!(
        list[0]["capabilities"]["sampleRate"],
        serde_json::json!({"min": 48000, "max": 48000})
    );
    assert!(
        list[3].get("capabilities").is_none(),
        "outputs have no capabilities"
    );
    // "default" is an alias of 1, and so are the words for "on" (not file
    // paths: "true" was once read as one).
    for alias in ["default", "true", "yes", "on", "TRUE"] {
        let (code, aliased, stderr) = enumerate(alias);
        assert_eq!((code, ids(&aliased)), (0, ids(&list)), "{alias}: {stderr}");
    }
}

#[test]
fn a_device_file_default_first_then_file_order() {
    let dir = TempDir::new("file-order");
    let path = dir.join("devices.json");
    std::fs::write(
        &path,
        r#"{"devices": [
          {"kind": "videoinput", "label": "B", "deviceId": "b", "caps": "video/x-raw,format=I420,width=320,height=240,framerate=30/1"},
          {"kind": "videoinput", "label": "A", "deviceId": "a", "default": true, "caps": "video/x-raw,format=I420,width=640,height=480,framerate=30/1"},
          {"kind": "videoinput", "label": "C", "deviceId": "c", "caps": "video/x-raw,format=I420"},
          {"kind": "audioinput", "label": "M", "deviceId": "m", "caps": "audio/x-raw,format=S16LE,rate=16000,channels=1"}
        ]}"#,
    )
    .unwrap();
    let (code, list, stderr) = enumerate(path.to_str().unwrap());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(ids(&list), ["m", "a", "b", "c"]);
    // A device without a usable mode is listed, without numeric capabilities.
    assert!(list[3]["capabilities"].get("width").is_none());
    assert_eq!(
        list[3]["capabilities"]["resizeMode"],
        serde_json::json!(["none", "crop-and-scale"])
    );
}

#[test]
fn broken_device_files_list_nothing_and_say_where() {
    let dir = TempDir::new("broken");
    for (path, name, want) in common::broken_device_files(&dir) {
        let (code, list, stderr) = enumerate(path.to_str().unwrap());
        assert_eq!(code, 1, "{name}: {stderr}");
        assert_eq!(list, serde_json::json!([]), "{name}");
        assert!(
            stderr.contains(name) && stderr.contains(want),
            "{name}: {stderr}"
        );
    }
    let (code, _, stderr) = enumerate(dir.join("missing.json").to_str().unwrap());
    assert_eq!(code, 1);
    assert!(stderr.contains("cannot read the file"), "{stderr}");
}

#[test]
fn gst_device_monitor_lists_fake_devices() {
    let plugins = common::plugin_dir();
    let dir = TempDir::new("monitor");
    let out = Command::new("gst-device-monitor-1.0")
        .arg("Video/Source")
        .env(ENV, common::data("devices/two-cameras.json"))
        .env("GST_PLUGIN_PATH", &plugins)
        .env("GST_REGISTRY", dir.join("registry.bin"))
        .output()
        .expect("gst-device-monitor-1.0 (gstreamer1.0-plugins-base-apps) is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("name  : VGA camera"), "{text}");
    assert!(text.contains("name  : HD camera"), "{text}");
    assert!(text.contains("mediastream.device-id = hd"), "{text}");
    assert!(text.contains("width=1280, height=720"), "{text}");
}

fn write_devices(path: &std::path::Path, ids: &[&str]) {
    let devices: Vec<String> = ids
        .iter()
        .map(|id| {
            format!(
                r#"{{"kind": "videoinput", "label": "Camera {id}", "deviceId": "{id}", "caps": "video/x-raw,format=I420,width=320,height=240,framerate=30/1"}}"#
            )
        })
        .collect();
    // Write then rename, as an editor does, so no half-written file is read.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!(r#"{{"devices": [{}]}}"#, devices.join(","))).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn watch_prints_devicechange_when_the_file_changes() {
    let dir = TempDir::new("watch");
    let path = dir.join("devices.json");
    write_devices(&path, &["one", "two"]);
    let (watch, initial) = common::Watch::spawn(&[(ENV, path.as_os_str())]);
    assert_eq!(ids(&initial), ["one", "two"]);

    write_devices(&path, &["one", "three"]);
    let mut changes: Vec<(String, String)> = (0..2)
        .map(|_| {
            let (change, device) = watch.next_change();
            (change, device["deviceId"].as_str().unwrap().to_owned())
        })
        .collect();
    changes.sort();
    assert_eq!(
        changes,
        [
            ("added".to_owned(), "three".to_owned()),
            ("removed".to_owned(), "two".to_owned())
        ]
    );

    // A new default is not an unplug: reordering makes "three" the default
    // and "one" not; the next line is the device added after it.
    write_devices(&path, &["three", "one"]);
    std::thread::sleep(Duration::from_millis(500));
    write_devices(&path, &["three", "one", "four"]);
    let (change, device) = watch.next_change();
    assert_eq!(
        (change.as_str(), device["deviceId"].as_str()),
        ("added", Some("four")),
        "{device}"
    );
}

fn init() {
    gst::init().unwrap();
    gstmediastream::ensure_registered();
}

/// Runs `src ! capsfilter(downstream) ! appsink` for one buffer: its caps.
fn first_caps(src: gst::Element, downstream: &str) -> gst::Caps {
    let filter = gst::ElementFactory::make("capsfilter")
        .property("caps", downstream.parse::<gst::Caps>().unwrap())
        .build()
        .unwrap();
    let (pipeline, sink) = common::into_appsink(&[&src, &filter]);
    pipeline.set_state(gst::State::Playing).unwrap();
    let sample = sink
        .emit_by_name::<Option<gst::Sample>>(
            "try-pull-sample",
            &[&gst::ClockTime::from_seconds(10)],
        )
        .expect("a buffer within 10 s");
    pipeline.set_state(gst::State::Null).unwrap();
    sample.caps().unwrap().to_owned()
}

#[test]
fn fake_source_produces_the_declared_modes() {
    init();
    let front = "video/x-raw,format=I420,width=640,height=480,framerate=[5/1,30/1]; image/jpeg,width=1920,height=1080,framerate=30/1";
    let raw = first_caps(common::fake_source(front), "video/x-raw");
    let s = raw.structure(0).unwrap();
    assert_eq!(
        (
            s.get::<i32>("width").unwrap(),
            s.get::<&str>("format").unwrap()
        ),
        (640, "I420")
    );
    let jpeg = first_caps(common::fake_source(front), "image/jpeg");
    let s = jpeg.structure(0).unwrap();
    assert_eq!(
        (s.name().as_str(), s.get::<i32>("width").unwrap()),
        ("image/jpeg", 1920)
    );
    let audio = first_caps(
        common::fake_source("audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1"),
        "audio/x-raw",
    );
    assert_eq!(
        audio.structure(0).unwrap().get::<i32>("rate").unwrap(),
        48000
    );
}

#[test]
fn removed_device_fails_like_an_unplugged_camera() {
    init();
    let dir = TempDir::new("unplug");
    let path = dir.join("devices.json");
    write_devices(&path, &["cam", "other"]);
    let src = gst::ElementFactory::make("mediastreamfakesrc")
        .property(
            "caps",
            "video/x-raw,format=I420,width=320,height=240,framerate=30/1"
                .parse::<gst::Caps>()
                .unwrap(),
        )
        .property("device-id", "cam")
        .property("file", path.to_str().unwrap())
        .build()
        .unwrap();
    let (pipeline, bus) = common::play_into_fakesink(&src);
    // Flowing, and a change that keeps the device does nothing.
    let (tx, flowing) = std::sync::mpsc::channel();
    src.static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            // Only the first one is waited for.
            let _ = tx.send(());
            gst::PadProbeReturn::Remove
        });
    flowing
        .recv_timeout(Duration::from_secs(10))
        .expect("the fake camera delivers");
    write_devices(&path, &["cam"]);
    let quiet = bus.timed_pop_filtered(
        gst::ClockTime::from_mseconds(500),
        &[gst::MessageType::Error],
    );
    assert!(quiet.is_none(), "{quiet:?}");

    write_devices(&path, &["other"]);
    let msg = bus
        .timed_pop_filtered(gst::ClockTime::from_seconds(5), &[gst::MessageType::Error])
        .expect("an error within 5 s of the device leaving the file");
    let gst::MessageView::Error(err) = msg.view() else {
        unreachable!()
    };
    assert!(err.error().matches(gst::ResourceError::NotFound), "{err:?}");
    assert_eq!(err.error().message(), "Device 'cam' was removed");
    pipeline.set_state(gst::State::Null).unwrap();
}

/// gst-device-monitor-1.0 suggests for each camera, microphone and display
/// device `mediastreamfakesrc device-id=ID` alone (the element looks the rest up),
/// never a pattern on a microphone or a tone on a camera, and the line runs.
#[test]
fn gst_device_monitor_suggests_only_the_device_id() {
    let plugins = common::plugin_dir();
    let dir = TempDir::new("monitor-lines");
    let run = |args: &[&str]| {
        Command::new(args[0])
            .args(&args[1..])
            .env(ENV, "1")
            .env("GST_PLUGIN_PATH", &plugins)
            .env("GST_REGISTRY", dir.join("registry.bin"))
            .output()
            .unwrap()
    };
    let out = run(&["gst-device-monitor-1.0"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("gst-launch-1.0"))
        .collect();
    let mut sources: Vec<&str> = lines
        .iter()
        .filter(|l| l.contains("mediastreamfakesrc"))
        .copied()
        .collect();
    sources.sort();
    assert_eq!(
        sources,
        [
            "gst-launch-1.0 mediastreamfakesrc device-id=fake-camera-back ! ...",
            "gst-launch-1.0 mediastreamfakesrc device-id=fake-camera-front ! ...",
            "gst-launch-1.0 mediastreamfakesrc device-id=fake-microphone ! ...",
            "gst-launch-1.0 mediastreamfakesrc device-id=fake-monitor ! ...",
            "gst-launch-1.0 mediastreamfakesrc device-id=fake-system-audio ! ...",
            "gst-launch-1.0 mediastreamfakesrc device-id=fake-window ! ...",
        ],
        "{text}"
    );
    // getDisplayMedia's devices are told apart by their class: the surfaces
    // video, the system's sound audio.
    let classes: Vec<(String, String)> = text
        .split("Device found:")
        .filter(|d| d.contains("device.api = mediastream-fake"))
        .filter_map(|d| {
            let field = |key: &str| {
                d.lines()
                    .map(str::trim)
                    .find_map(|l| l.strip_prefix(key))
                    .map(|v| v.trim().to_owned())
            };
            Some((field("name  :")?, field("class :")?))
        })
        .filter(|(_, class)| class.ends_with("/Display"))
        .collect();
    assert_eq!(
        classes,
        [
            ("Fake monitor".into(), "Video/Source/Display".into()),
            ("Fake window".into(), "Video/Source/Display".into()),
            (
                "Monitor of Fake speaker".into(),
                "Audio/Source/Display".into()
            ),
        ],
        "{text}"
    );
    assert!(
        lines.contains(&"gst-launch-1.0 ... ! fakesink sync=true"),
        "{text}"
    );
    // The suggested element, as written, captures the device it names.
    for (id, caps) in [
        ("fake-camera-back", "video/x-raw,width=1920,height=1080"),
        ("fake-microphone", "audio/x-raw,rate=48000,channels=1"),
    ] {
        let out = run(&[
            "gst-launch-1.0",
            "-q",
            "mediastreamfakesrc",
            &format!("device-id={id}"),
            "num-buffers=3",
            "!",
            caps,
            "!",
            "fakesink",
        ]);
        assert!(
            out.status.success(),
            "{id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
