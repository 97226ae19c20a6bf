// SPDX-License-Identifier: MPL-2.0

//! mediastreamtracksink: the consumer's view of a track (state from the
//! sticky event, or from stream-start and caps for other sources), frames,
//! signals, and playing on an output device by sink-id.

#[path = "common/track.rs"]
mod track;

use gst::prelude::*;
use gstmediastream::track::ReadyState;
use std::sync::mpsc;
use std::time::Duration;

fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // autovideosink tries dfbvideosink, which crashes in its own thread
        // on a machine without a display (DirectFB, not this plugin).
        // SAFETY: before GStreamer starts; other tests wait on the Once.
        unsafe { std::env::set_var("GST_PLUGIN_FEATURE_RANK", "dfbvideosink:NONE") };
    });
    track::init_builtin();
}

/// Polls `f` for up to 15 s (auto sinks probe the machine's outputs
/// first; a loaded CI machine takes its time).
fn wait_until(what: &str, f: impl Fn() -> bool) {
    track::poll::until(what, Duration::from_secs(15), f);
}

fn pipeline(desc: &str) -> (gst::Pipeline, gst::Element) {
    let p = gst::parse::launch(desc)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let sink = p.by_name("t").unwrap();
    (p, sink)
}

#[test]
fn follows_the_track_enabled_mute_and_ended() {
    init();
    let (p, t) = pipeline(
        "mediastreamsrc name=src mute-timeout=200 ! queue ! mediastreamtracksink name=t sink=fakesink",
    );
    let src = p.by_name("src").unwrap();
    let (tx, rx) = mpsc::channel();
    for name in ["mute", "unmute", "ended"] {
        let tx = tx.clone();
        t.connect(name, false, move |_| {
            let _ = tx.send(name);
            None
        });
    }
    p.set_state(gst::State::Playing).unwrap();
    wait_until("frames", || t.property::<u64>("frames") >= 5);
    assert_eq!(
        t.property::<Option<String>>("track-id"),
        Some(src.property::<String>("track-id"))
    );
    assert_eq!(
        t.property::<Option<String>>("kind").as_deref(),
        Some("video")
    );
    assert_eq!(
        t.property::<Option<String>>("label").as_deref(),
        Some("Fake front camera")
    );
    let settings = t.property::<gst::Structure>("settings");
    assert_eq!(
        settings.get::<&str>("deviceId").unwrap(),
        "fake-camera-front"
    );
    assert_eq!(settings.get::<i32>("width").unwrap(), 640);

    src.set_property("enabled", false);
    wait_until("enabled=false downstream", || {
        !t.property::<bool>("enabled")
    });
    src.set_property("enabled", true);
    wait_until("enabled=true downstream", || t.property::<bool>("enabled"));

    // Stall the device: the sink sees the track muted, then unmuted.
    let bin = src.downcast_ref::<gst::Bin>().unwrap();
    let device = bin
        .children()
        .into_iter()
        .find(|e| e.factory().unwrap().name() == "mediastreamfakesrc")
        .unwrap();
    let pad = device.static_pad("src").unwrap();
    let block = pad
        .add_probe(
            gst::PadProbeType::BLOCK | gst::PadProbeType::BUFFER,
            |_, _| gst::PadProbeReturn::Ok,
        )
        .unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), "mute");
    assert!(t.property::<bool>("muted"));
    pad.remove_probe(block);
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), "unmute");

    src.emit_by_name::<()>("stop", &[]);
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), "ended");
    assert_eq!(
        t.property_value("ready-state").get::<ReadyState>().unwrap(),
        ReadyState::Ended
    );
    p.set_state(gst::State::Null).unwrap();
}

#[test]
fn any_source_is_a_track() {
    init();
    let (p, t) = pipeline(
        "videotestsrc num-buffers=12 ! video/x-raw,width=320,height=240,framerate=60/1 ! mediastreamtracksink name=t sink=fakesink",
    );
    p.set_state(gst::State::Playing).unwrap();
    let bus = p.bus().unwrap();
    bus.timed_pop_filtered(gst::ClockTime::from_seconds(10), &[gst::MessageType::Eos])
        .expect("EOS");
    assert_eq!(t.property::<u64>("frames"), 12);
    assert_eq!(
        t.property::<Option<String>>("kind").as_deref(),
        Some("video")
    );
    assert!(
        t.property::<Option<String>>("track-id")
            .is_some_and(|id| !id.is_empty())
    );
    let s = t.property::<gst::Structure>("settings");
    assert_eq!(
        (
            s.get::<i32>("width").unwrap(),
            s.get::<f64>("frameRate").unwrap()
        ),
        (320, 60.0)
    );
    assert_eq!(
        t.property_value("ready-state").get::<ReadyState>().unwrap(),
        ReadyState::Ended
    );
    p.set_state(gst::State::Null).unwrap();
}

#[test]
fn plays_on_the_output_device_of_sink_id() {
    init();
    let (p, t) =
        pipeline("mediastreamsrc kind=audio ! mediastreamtracksink name=t sink-id=fake-speaker");
    p.set_state(gst::State::Playing).unwrap();
    wait_until("audio frames", || t.property::<u64>("frames") >= 3);
    let sink = t.property::<gst::Element>("sink");
    assert_eq!(
        sink.factory().unwrap().name(),
        "fakesink",
        "the fake speaker's element"
    );
    assert_eq!(
        t.property::<Option<String>>("kind").as_deref(),
        Some("audio")
    );
    p.set_state(gst::State::Null).unwrap();

    let (p, _) =
        pipeline("mediastreamsrc kind=audio ! mediastreamtracksink name=t sink-id=no-such-speaker");
    assert!(p.set_state(gst::State::Playing).is_err());
    let (err, details) = track::error_details(&p);
    assert_eq!(
        err.message(),
        "NotFoundError: no audiooutput device with deviceId 'no-such-speaker'"
    );
    assert!(err.matches(gst::ResourceError::NotFound), "{err:?}");
    assert_eq!(details.get::<&str>("name").unwrap(), "NotFoundError");
}

/// The factory of the renderer `t` chose, once it rendered some frames.
fn renderer_after_frames(p: &gst::Pipeline, t: &gst::Element) -> String {
    p.set_state(gst::State::Playing).unwrap();
    wait_until("frames rendered", || t.property::<u64>("frames") >= 3);
    let sink = t.property::<gst::Element>("sink");
    let name = sink.factory().unwrap().name().to_string();
    p.set_state(gst::State::Null).unwrap();
    name
}

#[test]
fn renders_by_the_kind_that_arrives() {
    init();
    // Linked to a started track (its caps query says audio), behind a queue
    // (known only from the first caps), and both kinds of a mediastream.
    for (desc, want) in [
        (
            "mediastreamsrc kind=audio ! mediastreamtracksink name=t",
            "autoaudiosink",
        ),
        (
            "mediastreamsrc kind=audio ! queue ! mediastreamtracksink name=t",
            "autoaudiosink",
        ),
        (
            "mediastreamsrc kind=video ! queue ! mediastreamtracksink name=t",
            "autovideosink",
        ),
    ] {
        let (p, t) = pipeline(desc);
        assert_eq!(renderer_after_frames(&p, &t), want, "{desc}");
    }
    let (p, _) = pipeline(
        r#"mediastream name=s constraints={"video":true,"audio":true} s. ! queue ! mediastreamtracksink name=t s. ! queue ! mediastreamtracksink name=u"#,
    );
    let (t, u) = (p.by_name("t").unwrap(), p.by_name("u").unwrap());
    p.set_state(gst::State::Playing).unwrap();
    wait_until("frames on both tracks", || {
        t.property::<u64>("frames") >= 3 && u.property::<u64>("frames") >= 3
    });
    let mut renderers: Vec<(String, String)> = [t, u]
        .iter()
        .map(|s| {
            (
                s.property::<Option<String>>("kind").unwrap(),
                s.property::<gst::Element>("sink")
                    .factory()
                    .unwrap()
                    .name()
                    .to_string(),
            )
        })
        .collect();
    renderers.sort();
    assert_eq!(
        renderers,
        [
            ("audio".to_owned(), "autoaudiosink".to_owned()),
            ("video".to_owned(), "autovideosink".to_owned())
        ]
    );
    p.set_state(gst::State::Null).unwrap();
}

#[test]
fn a_sink_that_cannot_render_the_track_is_named() {
    init();
    for (desc, want) in [
        (
            "mediastreamsrc kind=audio ! mediastreamtracksink name=t sink=\"appsink caps=video/x-raw\"",
            "the sink 'appsink0' cannot render this audio track",
        ),
        (
            "mediastreamsrc kind=audio ! queue ! mediastreamtracksink name=t sink=\"appsink name=a caps=video/x-raw\"",
            "the sink 'a' cannot render this audio track",
        ),
        (
            "mediastreamsrc ! mediastreamtracksink name=t sink-id=fake-speaker",
            "a video track cannot play on the audio output 'fake-speaker'",
        ),
        (
            "mediastreamsrc ! queue ! mediastreamtracksink name=t sink-id=fake-speaker",
            "a video track cannot play on the audio output 'fake-speaker'",
        ),
    ] {
        let (p, _) = pipeline(desc);
        let _ = p.set_state(gst::State::Playing);
        let err = track::error_of(&p);
        assert!(err.message().contains(want), "{desc}: {err}");
        assert!(err.matches(gst::StreamError::WrongType), "{err}");
        p.set_state(gst::State::Null).unwrap();
    }
}
