// SPDX-License-Identifier: MPL-2.0

//! mediastreamrtpenc's properties (docs/webrtc.md, docs/errors.md): an
//! unknown `video-codec` is refused where it is set, `video-bitrate` is
//! clamped to what the encoder accepts, and NULL makes an element that
//! failed usable again. No webrtcbin: fed nothing but a test source, the
//! element lets every packet through.
//!
//! The tests run one at a time: an injected panic is process-wide.

mod common;

use gst::prelude::*;
use gstmediastream::VideoCodec;
use std::process::Command;
use std::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::new(());

fn init() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    gst::init().unwrap();
    gstmediastream::ensure_registered();
    guard
}

/// `gst-launch-1.0 ARGS` with the plugin of this build; (exit code, all
/// output).
fn gst_launch(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new("gst-launch-1.0")
        .env("GST_PLUGIN_PATH", common::plugin_dir())
        .args(args)
        .output()
        .expect("gst-launch-1.0 runs (package gstreamer1.0-tools)");
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text.into_owned())
}

/// Runs `videotestsrc num-buffers=5 ! mediastreamrtpenc ! appsink` with
/// `enc` to EOS; the RTP caps out and the number of packets.
fn encode(enc: &gst::Element) -> Result<(gst::Caps, usize), String> {
    encode_then(enc, |_| ())
}

/// encode(), calling `inspect` with `enc` at EOS, before NULL tears its
/// chain down.
fn encode_then(
    enc: &gst::Element,
    inspect: impl FnOnce(&gst::Element),
) -> Result<(gst::Caps, usize), String> {
    let src = gst::ElementFactory::make("videotestsrc")
        .property("num-buffers", 5)
        .build()
        .unwrap();
    let filter = gst::ElementFactory::make("capsfilter")
        .property(
            "caps",
            gst::Caps::builder("video/x-raw")
                .field("width", 64)
                .field("height", 48)
                .field("framerate", gst::Fraction::new(30, 1))
                .build(),
        )
        .build()
        .unwrap();
    let (p, sink) = common::into_appsink(&[&src, &filter, enc]);
    let result = run(&p, &sink);
    if result.is_ok() {
        inspect(enc);
    }
    p.set_state(gst::State::Null).unwrap();
    // The element goes on in the next run of the caller.
    p.remove(enc).unwrap();
    result
}

fn run(p: &gst::Pipeline, sink: &gst::Element) -> Result<(gst::Caps, usize), String> {
    p.set_state(gst::State::Playing)
        .map_err(|e| format!("{e:?}"))?;
    let bus = p.bus().unwrap();
    let mut caps = None;
    let mut packets = 0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !sink.property::<bool>("eos") {
        if let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error]) {
            let gst::MessageView::Error(e) = msg.view() else {
                unreachable!()
            };
            return Err(e.error().to_string());
        }
        if std::time::Instant::now() > deadline {
            return Err("no EOS within 30 s".into());
        }
        if let Some(s) = sink.emit_by_name::<Option<gst::Sample>>(
            "try-pull-sample",
            &[&gst::ClockTime::from_mseconds(100)],
        ) {
            caps = s.caps_owned();
            packets += 1;
        }
    }
    Ok((caps.ok_or("no packet")?, packets))
}

fn encoding_name(caps: &gst::Caps) -> String {
    caps.structure(0)
        .unwrap()
        .get::<String>("encoding-name")
        .unwrap()
}

fn child(enc: &gst::Element, factory: &str) -> gst::Element {
    enc.downcast_ref::<gst::Bin>()
        .unwrap()
        .iterate_elements()
        .into_iter()
        .map(Result::unwrap)
        .find(|e| e.factory().is_some_and(|f| f.name() == factory))
        .unwrap_or_else(|| panic!("no {factory} in mediastreamrtpenc"))
}

#[test]
fn an_unknown_video_codec_is_refused_where_it_is_set() {
    let _serial = init();
    for value in ["nonsense", "av1", "\"\"", "VP8x"] {
        // gst-launch-1.0 refuses the line before anything runs, naming
        // the property and the value.
        let arg = format!("video-codec={value}");
        let (code, text) = gst_launch(&[
            "videotestsrc",
            "num-buffers=1",
            "!",
            "mediastreamrtpenc",
            &arg,
            "!",
            "fakesink",
        ]);
        assert_ne!(code, Some(0), "{value}: {text}");
        let said = format!(
            "could not set property \"video-codec\" in element \"mediastreamrtpenc\" to \"{}\"",
            value.trim_matches('"')
        );
        assert!(text.contains(&said), "{value}: {text}");
        assert!(!text.contains("CRITICAL"), "{value}: {text}");
        // In a program, parse::launch fails the same way.
        let line = format!("videotestsrc ! mediastreamrtpenc video-codec={value} ! fakesink");
        let err = gst::parse::launch(&line).expect_err(&line);
        assert!(err.to_string().contains("video-codec"), "{value}: {err}");
    }
    // The three codecs by their nicks, and gst-inspect-1.0 lists them.
    for (nick, codec, encoding) in [
        ("vp8", VideoCodec::Vp8, "VP8"),
        ("h264", VideoCodec::H264, "H264"),
        ("vp9", VideoCodec::Vp9, "VP9"),
    ] {
        let enc = gst::ElementFactory::make("mediastreamrtpenc")
            .build()
            .unwrap();
        enc.set_property_from_str("video-codec", nick);
        assert_eq!(enc.property::<VideoCodec>("video-codec"), codec);
        let (caps, packets) = encode(&enc).unwrap_or_else(|e| panic!("{nick}: {e}"));
        assert_eq!(encoding_name(&caps), encoding, "{nick}: {caps}");
        assert!(packets >= 5, "{nick}: {packets} packets");
    }
    let out = Command::new("gst-inspect-1.0")
        .env("GST_PLUGIN_PATH", common::plugin_dir())
        .arg("mediastreamrtpenc")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("(1): vp8") && text.contains("(2): h264") && text.contains("(3): vp9"),
        "{text}"
    );
}

#[test]
fn the_largest_video_bitrate_is_clamped_to_the_encoder() {
    let _serial = init();
    for (codec, factory, property) in [
        (VideoCodec::Vp8, "vp8enc", "target-bitrate"),
        (VideoCodec::Vp9, "vp9enc", "target-bitrate"),
        (VideoCodec::H264, "openh264enc", "bitrate"),
    ] {
        for bps in [2_147_483_648u32, u32::MAX] {
            let enc = gst::ElementFactory::make("mediastreamrtpenc")
                .property("video-codec", codec)
                .property("video-bitrate", bps)
                .build()
                .unwrap();
            let mut set = None;
            let (_, packets) = encode_then(&enc, |enc| {
                set = Some(child(enc, factory).property_value(property));
            })
            .unwrap_or_else(|e| panic!("{factory} {bps}: {e}"));
            assert!(packets >= 5, "{factory} {bps}: {packets} packets");
            let set = set.unwrap();
            // vp8enc's and vp9enc's target-bitrate is a gint (which they
            // keep in kbit/s); OpenH264 starts with at most 288 Mbit/s.
            let (low, high) = match factory {
                "vp8enc" | "vp9enc" => (i32::MAX as u64 - 1000, i32::MAX as u64),
                _ => (288_000_000, 288_000_000),
            };
            let set = set
                .get::<i32>()
                .map(|v| v as u64)
                .or_else(|_| set.get::<u32>().map(u64::from))
                .unwrap();
            assert!(
                (low..=high).contains(&set),
                "{factory} {property}={set} for video-bitrate={bps}"
            );
            assert_eq!(enc.property::<u32>("video-bitrate"), bps);
        }
    }
}

#[test]
fn after_an_error_null_makes_the_element_work_again() {
    let _serial = init();
    let enc = gst::ElementFactory::make("mediastreamrtpenc")
        .property("video-bitrate", u32::MAX)
        .build()
        .unwrap();
    // A panic where the chain is built (where `video-bitrate=2147483648`
    // panicked before): an element error, and nothing passes.
    gstmediastream::fault::inject_panic("mediastreamrtpenc:build");
    let err = encode(&enc).expect_err("the injected panic fails the run");
    assert!(
        err.contains("Panicked: panic injected at mediastreamrtpenc:build"),
        "{err}"
    );
    // encode() set the pipeline to NULL: the same element works again.
    let (caps, packets) = encode(&enc).expect("after NULL the element encodes again");
    assert_eq!(encoding_name(&caps), "VP8");
    assert!(packets >= 5, "{packets} packets");
}
