// SPDX-License-Identifier: MPL-2.0

//! The errors of docs/errors.md that no other test produces, and the check
//! that every error the document lists names a test that exists.

mod common;
#[path = "common/track.rs"]
mod track;

use gst::prelude::*;
use serde_json::Value;
use std::process::Command;

/// A machine with none of GStreamer's own plugins: only ours, from the
/// build, in a registry of its own.
fn without_system_plugins(cmd: &mut Command, dir: &common::TempDir) {
    let empty = dir.join("no-plugins");
    std::fs::create_dir_all(&empty).unwrap();
    cmd.env("GST_PLUGIN_SYSTEM_PATH_1_0", &empty)
        .env("GST_PLUGIN_SYSTEM_PATH", &empty)
        .env("GST_REGISTRY", dir.join("registry.bin"))
        .env("GST_MEDIASTREAM_FAKE_DEVICES", "1");
}

#[test]
fn a_missing_gstreamer_plugin_is_named() {
    let dir = common::TempDir::new("errors-missing");
    let mut cmd = Command::new(common::example("getusermedia"));
    without_system_plugins(&mut cmd, &dir);
    let out = cmd.arg(r#"{"video":true}"#).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["error"]["name"], "NotReadableError", "{json}");
    assert_eq!(
        json["error"]["message"],
        "the element 'capsfilter' is missing: install the GStreamer plugin that provides it"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("CRITICAL"), "{stderr}");
}

#[test]
fn a_track_sink_without_a_renderer_says_which() {
    gst::init().unwrap();
    let dir = common::TempDir::new("errors-renderer");
    // Only the test sources (and the plugin): no auto sinks.
    let some = dir.join("some-plugins");
    std::fs::create_dir_all(&some).unwrap();
    for plugin in ["coreelements", "videotestsrc", "audiotestsrc"] {
        let file = gst::Registry::get()
            .find_plugin(plugin)
            .and_then(|p| p.filename())
            .unwrap_or_else(|| panic!("the {plugin} plugin is installed"));
        std::os::unix::fs::symlink(&file, some.join(file.file_name().unwrap())).unwrap();
    }
    for (source, sink) in [
        ("videotestsrc", "autovideosink"),
        ("audiotestsrc", "autoaudiosink"),
    ] {
        let mut cmd = Command::new("gst-launch-1.0");
        without_system_plugins(&mut cmd, &dir);
        let out = cmd
            .env("GST_PLUGIN_SYSTEM_PATH_1_0", &some)
            .env("GST_PLUGIN_SYSTEM_PATH", &some)
            .env("GST_PLUGIN_PATH", common::plugin_dir())
            .args([source, "num-buffers=1", "!", "mediastreamtracksink"])
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        assert!(
            text.contains(&format!("the element '{sink}' is missing")),
            "{text}"
        );
    }
}

#[test]
fn a_track_sink_whose_sink_has_no_sink_pad_says_which() {
    track::init_builtin();
    let not_a_sink = gst::ElementFactory::make("videotestsrc")
        .name("not-a-sink")
        .build()
        .unwrap();
    let sink = gst::ElementFactory::make("mediastreamtracksink")
        .property("sink", &not_a_sink)
        .build()
        .unwrap();
    let pipeline = gst::Pipeline::new();
    pipeline.add(&sink).unwrap();
    // Twice: a retry finds the bin as empty as the first time.
    for _ in 0..2 {
        assert!(pipeline.set_state(gst::State::Ready).is_err());
        let err = track::error_of(&pipeline);
        assert!(err.matches(gst::ResourceError::Settings), "{err:?}");
        assert_eq!(err.message(), "the sink 'not-a-sink' has no sink pad");
        let left = sink.downcast_ref::<gst::Bin>().unwrap().children();
        assert!(left.is_empty(), "left in the bin: {left:?}");
    }
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn a_track_sink_whose_sink_is_a_filter_says_which() {
    track::init_builtin();
    let filter = gst::ElementFactory::make("identity")
        .name("a-filter")
        .build()
        .unwrap();
    let sink = gst::ElementFactory::make("mediastreamtracksink")
        .property("sink", &filter)
        .build()
        .unwrap();
    let pipeline = gst::Pipeline::new();
    pipeline.add(&sink).unwrap();
    assert!(pipeline.set_state(gst::State::Ready).is_err());
    let err = track::error_of(&pipeline);
    assert!(err.matches(gst::ResourceError::Settings), "{err:?}");
    assert!(
        err.message()
            .starts_with("the sink 'a-filter' (identity) is not a sink: it has a source pad"),
        "{}",
        err.message()
    );
    let left = sink.downcast_ref::<gst::Bin>().unwrap().children();
    assert!(left.is_empty(), "left in the bin: {left:?}");
    pipeline.set_state(gst::State::Null).unwrap();

    // A bin that ends in a sink is one.
    let bin = gst::parse::bin_from_description("queue ! fakesink", true).unwrap();
    let sink = gst::ElementFactory::make("mediastreamtracksink")
        .property("sink", &bin)
        .build()
        .unwrap();
    let src = gst::ElementFactory::make("mediastreamsrc").build().unwrap();
    let pipeline = gst::Pipeline::new();
    pipeline.add_many([&src, &sink]).unwrap();
    src.link(&sink).unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    sink.static_pad("sink")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            let _ = tx.send(());
            gst::PadProbeReturn::Ok
        });
    rx.recv_timeout(std::time::Duration::from_secs(10))
        .expect("frames through a bin ending in fakesink");
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn a_fake_source_without_its_device_says_which() {
    track::init_builtin();
    let pipeline = gst::parse::launch("mediastreamfakesrc device-id=nope ! fakesink")
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    assert!(pipeline.set_state(gst::State::Playing).is_err());
    let err = track::error_of(&pipeline);
    assert!(err.matches(gst::ResourceError::NotFound), "{err:?}");
    assert_eq!(
        err.message(),
        "no fake device 'nope' in built-in fake devices"
    );
    pipeline.set_state(gst::State::Null).unwrap();
}

/// Each `tests/FILE.rs::FN` of docs/errors.md is a test that exists.
#[test]
fn every_documented_error_has_its_test() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/errors.md")).unwrap();
    let mut refs = 0;
    for part in doc.split("tests/").skip(1) {
        let Some((file, rest)) = part.split_once(".rs::") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let path = root.join(format!("tests/{file}.rs"));
        let source = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("docs/errors.md names {}: {e}", path.display()));
        assert!(
            source.contains(&format!("fn {name}(")),
            "docs/errors.md names {file}.rs::{name}, which does not exist"
        );
        refs += 1;
    }
    assert!(refs >= 15, "only {refs} test references in docs/errors.md");
}
