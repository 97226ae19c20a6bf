// SPDX-License-Identifier: MPL-2.0

//! mediastreamsrc over the built-in fake devices: settings against the caps
//! that flow, zero-copy, the track's identity and state, enabled, mute,
//! stop, applyConstraints and the errors.

#[path = "common/objects.rs"]
mod objects;
#[path = "common/track.rs"]
mod track;

use gst::prelude::*;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use track::track;

/// A wake-up for each buffer that reaches `sink`'s pad from now on.
fn buffers_at(sink: &gst::Element) -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel();
    sink.static_pad("sink")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            // The test may be done listening.
            let _ = tx.send(());
            gst::PadProbeReturn::Ok
        });
    rx
}

fn init() {
    track::init_builtin();
}

fn caps_of(sample: &gst::Sample) -> gst::Structure {
    sample.caps().unwrap().structure(0).unwrap().to_owned()
}

#[test]
fn settings_match_the_caps_that_flow() {
    init();
    let cases = [
        ("video", "{}", 640, 480, 30.0, "none"),
        (
            "video",
            r#"{"width":{"ideal":1280},"frameRate":30}"#,
            1280,
            720,
            30.0,
            "none",
        ),
        (
            "video",
            r#"{"frameRate":{"exact":60}}"#,
            1920,
            1080,
            60.0,
            "none",
        ),
        ("video", r#"{"frameRate":24}"#, 640, 480, 24.0, "none"),
        (
            "video",
            r#"{"width":1000}"#,
            1000,
            563,
            30.0,
            "crop-and-scale",
        ),
        (
            "video",
            r#"{"width":{"exact":640},"height":{"exact":480},"frameRate":10,"resizeMode":{"exact":"crop-and-scale"}}"#,
            640,
            480,
            10.0,
            "crop-and-scale",
        ),
        // The front camera's 1920x1080 is MJPEG: decoded inside the track.
        (
            "video",
            r#"{"width":{"exact":1920},"height":{"exact":1080},"resizeMode":{"exact":"none"}}"#,
            1920,
            1080,
            30.0,
            "none",
        ),
    ];
    for (kind, constraints, w, h, fps, resize) in cases {
        let t = track(kind, constraints, "");
        if t.play().is_err() {
            panic!("{constraints}: {}", track::error_of(&t.pipeline));
        }
        let sample = t
            .pull()
            .unwrap_or_else(|| panic!("{constraints}: no sample"));
        let caps = caps_of(&sample);
        let settings = t.settings();
        assert_eq!(caps.name(), "video/x-raw", "{constraints}");
        assert_eq!(
            (
                caps.get::<i32>("width").unwrap(),
                caps.get::<i32>("height").unwrap()
            ),
            (w, h),
            "{constraints}"
        );
        let f = caps.get::<gst::Fraction>("framerate").unwrap();
        assert!(
            (f.numer() as f64 / f.denom() as f64 - fps).abs() < 1e-9,
            "{constraints}: {caps}"
        );
        assert_eq!(settings.get::<i32>("width").unwrap(), w, "{constraints}");
        assert_eq!(settings.get::<i32>("height").unwrap(), h, "{constraints}");
        assert_eq!(
            settings.get::<f64>("frameRate").unwrap(),
            fps,
            "{constraints}"
        );
        assert_eq!(
            settings.get::<&str>("resizeMode").unwrap(),
            resize,
            "{constraints}"
        );
    }
    for (constraints, processing) in [
        ("{}", false),
        (r#"{"echoCancellation":{"exact":true}}"#, true),
    ] {
        let t = track("audio", constraints, "");
        if t.play().is_err() {
            panic!("{constraints}: {}", track::error_of(&t.pipeline));
        }
        let caps = caps_of(&t.pull().unwrap());
        let settings = t.settings();
        assert_eq!(
            caps.get::<i32>("rate").unwrap(),
            settings.get::<i32>("sampleRate").unwrap()
        );
        assert_eq!(
            caps.get::<i32>("channels").unwrap(),
            settings.get::<i32>("channelCount").unwrap()
        );
        assert_eq!(
            settings.get::<bool>("echoCancellation").unwrap(),
            processing
        );
        let bin = t.src.downcast_ref::<gst::Bin>().unwrap();
        assert_eq!(
            bin.by_name_recurse_up("webrtcdsp0").is_some()
                || bin
                    .children()
                    .iter()
                    .any(|e| e.factory().unwrap().name() == "webrtcdsp"),
            processing
        );
    }
}

#[test]
fn native_path_is_zero_copy() {
    init();
    let t = track("video", "{}", "");
    let children = t.src.downcast_ref::<gst::Bin>().unwrap().children();
    // Selection happens on NULL -> READY; before that the bin is empty.
    assert!(children.is_empty());
    t.pipeline.set_state(gst::State::Ready).unwrap();
    let names = track::child_factories(&t.src);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["capsfilter", "mediastreamfakesrc"],
        "the native path adds nothing else"
    );
    let at_src = objects::watch_against(
        &t.src.static_pad("src").unwrap(),
        &t.device_element().static_pad("src").unwrap(),
    );
    t.play().unwrap();
    for _ in 0..30 {
        t.pull().unwrap();
    }
    let c = at_src.take();
    assert!(c.buffers >= 30);
    assert_eq!(
        c.foreign, 0,
        "every buffer at the track's pad is the one the device pushed: {c:?}"
    );
}

/// A track disabled while it plays: black frames or silence with no new
/// buffer or memory per buffer once the first blank ones exist.
#[test]
fn disabled_track_allocates_nothing() {
    init();
    for kind in ["video", "audio"] {
        let t = track(kind, "{}", "");
        t.play().unwrap();
        t.pull().unwrap();
        t.src.set_property("enabled", false);
        let watch = objects::watch(&t.src.static_pad("src").unwrap());
        // The blank memory and the few buffers that carry it.
        for _ in 0..10 {
            t.pull().unwrap();
        }
        let first = watch.take();
        assert!(first.new_memories >= 1, "{kind}: {first:?}");
        let mut memories = std::collections::HashSet::new();
        for _ in 0..60 {
            let s = t.pull().unwrap();
            memories.insert(s.buffer().unwrap().peek_memory(0).as_ptr() as usize);
            if kind == "audio" {
                assert!(all_zero(&s), "silence once disabled");
            }
        }
        // The blank memory lives as long as the track: no recycled address.
        assert_eq!(memories.len(), 1, "{kind}: one blank memory");
        let c = watch.take();
        assert!(c.buffers >= 60, "{kind}: {c:?}");
        assert_eq!(
            (c.new_buffers, c.new_memories),
            (0, 0),
            "{kind}: a disabled track reuses its blank buffers: {c:?}"
        );
    }
}

#[test]
fn identity_and_state_in_the_stream() {
    init();
    let t = track("video", r#"{"facingMode":"environment"}"#, "");
    t.play().unwrap();
    t.pull().unwrap();
    let pad = t.sink.static_pad("sink").unwrap();
    let track_id = t.src.property::<String>("track-id");
    assert_eq!(track_id.len(), 36);
    let start = pad.sticky_event::<gst::event::StreamStart>(0).unwrap();
    assert_eq!(start.stream_id(), track_id);
    assert!(start.group_id().is_some());
    let stream = start.stream().unwrap();
    assert_eq!(stream.stream_type(), gst::StreamType::VIDEO);
    assert_eq!(track::width_of(stream.caps().as_deref()), 1920);
    assert_eq!(
        stream
            .tags()
            .unwrap()
            .get::<gst::tags::Title>()
            .unwrap()
            .get(),
        "Fake back camera"
    );
    let state = pad
        .sticky_event::<gst::event::CustomDownstreamSticky>(0)
        .unwrap();
    let s = state.structure().unwrap();
    assert_eq!(s.name(), "mediastream-track-state");
    assert_eq!(s.get::<&str>("track-id").unwrap(), track_id);
    assert_eq!(s.get::<&str>("kind").unwrap(), "video");
    assert_eq!(s.get::<&str>("label").unwrap(), "Fake back camera");
    assert_eq!(s.get::<&str>("device-id").unwrap(), "fake-camera-back");
    assert_eq!(s.get::<&str>("ready-state").unwrap(), "live");
    assert!(s.get::<bool>("enabled").unwrap());
    assert!(!s.get::<bool>("muted").unwrap());
    assert_eq!(
        s.get::<gst::Structure>("settings")
            .unwrap()
            .get::<i32>("width")
            .unwrap(),
        1920
    );
    assert_eq!(t.src.property::<String>("label"), "Fake back camera");
    let caps = t.src.property::<gst::Structure>("capabilities");
    assert_eq!(
        caps.get::<gst::IntRange<i32>>("width").unwrap(),
        gst::IntRange::new(1, 3840)
    );
    let supported = t.src.property::<gst::Structure>("supported-constraints");
    assert!(supported.get::<bool>("resizeMode").unwrap());
}

fn all_zero(sample: &gst::Sample) -> bool {
    sample
        .buffer()
        .unwrap()
        .map_readable()
        .unwrap()
        .iter()
        .all(|&b| b == 0)
}

#[test]
fn disabled_video_is_black_and_reused() {
    init();
    let t = track(
        "video",
        "{}",
        "videoconvert ! capsfilter caps=video/x-raw,format=RGB",
    );
    t.src.set_property("enabled", false);
    let at_src = Arc::new(Mutex::new(Vec::<usize>::new()));
    let a = at_src.clone();
    t.pipeline.set_state(gst::State::Ready).unwrap();
    t.src
        .static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(gst::PadProbeData::Buffer(b)) = &info.data {
                a.lock().unwrap().push(b.peek_memory(0).as_ptr() as usize);
            }
            gst::PadProbeReturn::Ok
        });
    t.play().unwrap();
    for _ in 0..5 {
        let s = t.pull().unwrap();
        let m = s.buffer().unwrap().map_readable().unwrap();
        let nz: Vec<(usize, u8)> = m
            .iter()
            .enumerate()
            .filter(|(_, b)| **b != 0)
            .take(8)
            .map(|(i, b)| (i, *b))
            .collect();
        assert!(
            nz.is_empty(),
            "black is all zero in RGB: {nz:?} {}",
            s.caps().unwrap()
        );
    }
    let seen = at_src.lock().unwrap().clone();
    assert!(seen.len() >= 5);
    assert!(
        seen.iter().all(|&m| m == seen[0]),
        "one black frame, reused"
    );
    let state = t
        .sink
        .static_pad("sink")
        .unwrap()
        .sticky_event::<gst::event::CustomDownstreamSticky>(0)
        .unwrap();
    assert!(!state.structure().unwrap().get::<bool>("enabled").unwrap());
    t.src.set_property("enabled", true);
    let mut back = false;
    for _ in 0..10 {
        if !all_zero(&t.pull().unwrap()) {
            back = true;
            break;
        }
    }
    assert!(back, "device frames again after enabled=true");
}

#[test]
fn disabled_audio_is_silence() {
    init();
    let t = track("audio", "{}", "");
    t.play().unwrap();
    assert!(
        !all_zero(&t.pull().unwrap()),
        "the fake microphone plays a tone"
    );
    t.src.set_property("enabled", false);
    let mut silent = 0;
    for _ in 0..20 {
        if all_zero(&t.pull().unwrap()) {
            silent += 1;
        }
    }
    assert!(silent >= 15, "silence once disabled ({silent} of 20)");
}

#[test]
fn mute_and_unmute() {
    init();
    // Mute detection runs on the pipeline clock: a test clock drives it, in
    // steps of 5 ms, and nothing here waits for real time to pass.
    let clock = gst_check::TestClock::new();
    let t = track("video", "{}", "");
    t.pipeline.use_clock(Some(&clock));
    t.src.set_property("mute-timeout", 200u32);
    let (tx, rx) = mpsc::channel();
    // Each signal with the `muted` property as it reads when emitted.
    for name in ["mute", "unmute"] {
        let tx = tx.clone();
        t.src.connect(name, false, move |args| {
            let muted = args[0]
                .get::<gst::Element>()
                .unwrap()
                .property::<bool>("muted");
            let _ = tx.send((name, muted, clock_now(&args[0])));
            None
        });
    }
    fn clock_now(v: &gst::glib::Value) -> gst::ClockTime {
        v.get::<gst::Element>().unwrap().clock().unwrap().time()
    }
    let gaps = Arc::new(Mutex::new(Vec::new()));
    let g = gaps.clone();
    t.sink.static_pad("sink").unwrap().add_probe(
        gst::PadProbeType::EVENT_DOWNSTREAM,
        move |_, info| {
            if let Some(gst::PadProbeData::Event(e)) = &info.data
                && let gst::EventView::Gap(gap) = e.view()
            {
                g.lock().unwrap().push(gap.get());
            }
            gst::PadProbeReturn::Ok
        },
    );
    // Moves the clock on by `ms` in 5 ms steps, releasing what is due.
    let run = |ms: u64| {
        for _ in 0..ms / 5 {
            clock.advance_time(5_000_000);
            while clock.process_next_clock_id().is_some() {}
            // The streaming thread takes its turn with each step.
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    // The clock time of the last frame out of the track.
    let last_frame = Arc::new(Mutex::new(None));
    let (l, c) = (last_frame.clone(), clock.clone());
    t.src
        .static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            *l.lock().unwrap() = Some(c.time());
            gst::PadProbeReturn::Ok
        });
    t.play().unwrap();
    let first = std::thread::scope(|s| {
        let pulled = s.spawn(|| t.pull());
        while !pulled.is_finished() {
            run(5);
        }
        pulled.join().unwrap()
    });
    assert!(first.is_some(), "a first frame");
    run(100);
    assert!(rx.try_recv().is_err(), "no mute while frames come");
    // The device stalls: nothing leaves its pad.
    let pad = t.device_element().static_pad("src").unwrap();
    let block = pad
        .add_probe(
            gst::PadProbeType::BLOCK | gst::PadProbeType::BUFFER,
            |_, _| gst::PadProbeReturn::Ok,
        )
        .unwrap();
    let mut muted = None;
    for _ in 0..100 {
        run(5);
        if let Ok(signal) = rx.try_recv() {
            muted = Some(signal);
            break;
        }
    }
    let (name, muted_prop, muted_at) = muted.expect("muted within 500 ms of clock time");
    assert_eq!((name, muted_prop), ("mute", true));
    // mute-timeout after the last frame, to the clock step.
    let last = last_frame.lock().unwrap().expect("frames before the stall");
    let stalled = muted_at - last;
    assert!(
        stalled >= gst::ClockTime::from_mseconds(200)
            && stalled <= gst::ClockTime::from_mseconds(205),
        "muted {stalled} after the last frame (mute-timeout 200 ms, 5 ms steps)"
    );
    assert!(
        t.wait_message("mediastream-track-mute", Duration::from_secs(2))
            .is_some()
    );
    // While muted, a GAP each mute-timeout keeps downstream moving.
    let before = gaps.lock().unwrap().len();
    run(600);
    let gaps = gaps.lock().unwrap()[before..].to_vec();
    assert!(gaps.len() >= 2, "GAP events while muted: {gaps:?}");
    for (pos, duration) in &gaps {
        assert_eq!(*duration, Some(gst::ClockTime::from_mseconds(200)), "{pos}");
    }
    assert!(
        gaps.windows(2).all(|w| w[0].0 < w[1].0),
        "GAPs move forward: {gaps:?}"
    );
    pad.remove_probe(block);
    let mut unmuted = None;
    for _ in 0..100 {
        run(5);
        if let Ok(signal) = rx.try_recv() {
            unmuted = Some(signal);
            break;
        }
    }
    let (name, muted_prop, _) = unmuted.expect("unmuted once frames come");
    assert_eq!((name, muted_prop), ("unmute", false));
}

#[test]
fn stop_ends_the_track_and_releases_the_device() {
    init();
    let t = track("video", "{}", "");
    let ended = Arc::new(Mutex::new(false));
    let e = ended.clone();
    t.src.connect("ended", false, move |_| {
        *e.lock().unwrap() = true;
        None
    });
    t.play().unwrap();
    t.pull().unwrap();
    let device = t.device_element();
    t.src.emit_by_name::<()>("stop", &[]);
    assert!(t.pull_until_eos(50), "EOS reaches the sink");
    track::wait_until("the device element in NULL", || {
        device.current_state() == gst::State::Null
    });
    assert_eq!(
        t.src
            .property_value("ready-state")
            .get::<gstmediastream::track::ReadyState>()
            .unwrap(),
        gstmediastream::track::ReadyState::Ended
    );
    assert!(!*ended.lock().unwrap(), "stop() fires no ended");
}

#[test]
fn apply_constraints_switches_and_switches_back() {
    init();
    let t = track(
        "video",
        r#"{"width":{"exact":1280},"height":{"exact":720}}"#,
        "",
    );
    t.play().unwrap();
    t.pull_width(1280);
    let stream_id = t
        .sink
        .static_pad("sink")
        .unwrap()
        .sticky_event::<gst::event::StreamStart>(0)
        .unwrap()
        .stream_id()
        .to_owned();
    let r = t.src.emit_by_name::<gst::Structure>(
        "apply-constraints",
        &[&r#"{"width":{"exact":640},"height":{"exact":360}}"#],
    );
    assert!(r.get::<bool>("success").unwrap(), "{r}");
    let s = t.pull_width(640);
    assert_eq!(caps_of(&s).get::<i32>("height").unwrap(), 360);
    assert_eq!(
        t.settings().get::<&str>("resizeMode").unwrap(),
        "crop-and-scale"
    );
    assert!(
        t.wait_message("mediastream-track-settings-changed", Duration::from_secs(2))
            .is_some()
    );
    // Same stream, no EOS.
    let again = t
        .sink
        .static_pad("sink")
        .unwrap()
        .sticky_event::<gst::event::StreamStart>(0)
        .unwrap();
    assert_eq!(again.stream_id(), stream_id);
    assert!(!t.sink.property::<bool>("eos"));
    // Back through the property.
    t.src.set_property(
        "constraints",
        r#"{"width":{"exact":1280},"height":{"exact":720}}"#,
    );
    t.pull_width(1280);
    assert_eq!(t.settings().get::<&str>("resizeMode").unwrap(), "none");
    // A change the caps do not show (the same size, cropped and scaled
    // from the same mode) is told as well.
    let bus = t.pipeline.bus().unwrap();
    while bus.pop().is_some() {}
    let r = t.src.emit_by_name::<gst::Structure>(
        "apply-constraints",
        &[&r#"{"width":{"exact":1280},"height":{"exact":720},"resizeMode":"crop-and-scale"}"#],
    );
    assert!(r.get::<bool>("success").unwrap(), "{r}");
    let told = t
        .wait_message("mediastream-track-settings-changed", Duration::from_secs(5))
        .expect("settings-changed after applyConstraints");
    let settings = told.get::<gst::Structure>("settings").unwrap();
    assert_eq!(
        settings.get::<&str>("resizeMode").unwrap(),
        "crop-and-scale",
        "{told}"
    );
}

const SMALL: &str = r#"{"width":{"exact":640},"height":{"exact":360}}"#;

/// `apply-constraints` on the track, failing the test binary if it hangs.
fn apply_within(t: &track::Track, what: &str, json: &'static str) -> gst::Structure {
    let src = t.src.clone();
    track::within(what, Duration::from_secs(5), move || {
        src.emit_by_name::<gst::Structure>("apply-constraints", &[&json])
    })
}

/// Paused, the device's last frame waits in the sink for PLAYING (the
/// device's thread with it): applyConstraints must not wait as long.
#[test]
fn apply_constraints_while_paused_does_not_wait_for_playing() {
    init();
    let t = track(
        "video",
        r#"{"width":{"exact":1280},"height":{"exact":720}}"#,
        "",
    );
    // In sync, the device's thread spends its time in the sink, waiting
    // for each frame's time: pausing then leaves a frame in preroll.
    t.sink.set_property("sync", true);
    let mut prerolled = false;
    for _ in 0..10 {
        t.play().unwrap();
        t.pull_width(1280);
        t.pipeline.set_state(gst::State::Paused).unwrap();
        // The sink prerolled: it holds a frame and the device's thread.
        prerolled =
            t.sink.state(gst::ClockTime::from_seconds(1)).0 == Ok(gst::StateChangeSuccess::Success);
        if prerolled {
            break;
        }
    }
    assert!(prerolled, "the sink holds a frame in preroll");
    let r = apply_within(&t, "apply-constraints while paused", SMALL);
    assert!(r.get::<bool>("success").unwrap(), "{r}");
    // Decided at once, applied when the pipeline plays.
    assert_eq!(t.settings().get::<i32>("width").unwrap(), 640);
    t.play().unwrap();
    let s = t.pull_width(640);
    assert_eq!(caps_of(&s).get::<i32>("height").unwrap(), 360);
    assert_eq!(t.settings().get::<i32>("height").unwrap(), 360);
    assert!(!t.sink.property::<bool>("eos"));
    t.pipeline.set_state(gst::State::Null).unwrap();
}

/// The application drains a one-buffer appsink from the thread that calls
/// applyConstraints: the device's thread waits in the full appsink, so
/// stopping the device there would wait for the caller.
#[test]
fn apply_constraints_never_waits_for_downstream() {
    init();
    let t = track(
        "video",
        r#"{"width":{"exact":1280},"height":{"exact":720}}"#,
        "",
    );
    t.sink.set_property("max-buffers", 1u32);
    t.sink.set_property("drop", false);
    t.play().unwrap();
    // The appsink fills up and holds the device's thread: one buffer
    // queued, the next one waiting in its chain.
    let arrived = buffers_at(&t.sink);
    t.pull_width(1280);
    for _ in 0..2 {
        arrived
            .recv_timeout(Duration::from_secs(5))
            .expect("buffers reach the appsink");
    }
    let r = apply_within(&t, "apply-constraints while downstream is full", SMALL);
    assert!(r.get::<bool>("success").unwrap(), "{r}");
    assert_eq!(t.settings().get::<i32>("width").unwrap(), 640);
    t.pull_width(640);

    // A handler of the track's own notify may apply constraints again.
    let again = Arc::new(Mutex::new(None));
    let result = again.clone();
    t.src.connect_notify(Some("constraints"), move |src, _| {
        let mut result = result.lock().unwrap();
        if result.is_none() {
            *result = Some(src.emit_by_name::<gst::Structure>(
                "apply-constraints",
                &[&r#"{"width":{"exact":1280},"height":{"exact":720}}"#],
            ));
        }
    });
    let src = t.src.clone();
    track::within(
        "applyConstraints from a notify::constraints handler",
        Duration::from_secs(5),
        move || src.set_property("constraints", r#"{"width":{"exact":320}}"#),
    );
    let r = again.lock().unwrap().clone().unwrap();
    assert!(r.get::<bool>("success").unwrap(), "{r}");
    t.pull_width(1280);
    t.pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn apply_constraints_failure_keeps_the_settings() {
    init();
    let t = track("video", r#"{"width":{"exact":1280}}"#, "");
    let (tx, rx) = mpsc::channel();
    t.src.connect("overconstrained", false, move |args| {
        let _ = tx.send((
            args[1].get::<String>().unwrap(),
            args[2].get::<String>().unwrap(),
        ));
        None
    });
    t.play().unwrap();
    t.pull_width(1280);
    let r = t
        .src
        .emit_by_name::<gst::Structure>("apply-constraints", &[&r#"{"width":{"exact":10000}}"#]);
    assert!(!r.get::<bool>("success").unwrap());
    assert_eq!(r.get::<&str>("name").unwrap(), "OverconstrainedError");
    assert_eq!(r.get::<&str>("constraint").unwrap(), "width");
    let (constraint, message) = rx.recv_timeout(Duration::from_secs(2)).unwrap();
    assert_eq!(constraint, "width");
    assert!(
        message.contains("cannot deliver width = 10000"),
        "{message}"
    );
    assert_eq!(t.settings().get::<i32>("width").unwrap(), 1280);
    assert_eq!(
        t.src.property::<String>("constraints"),
        r#"{"width":{"exact":1280}}"#
    );
    t.pull_width(1280);
    let r = t
        .src
        .emit_by_name::<gst::Structure>("apply-constraints", &[&"{nope"]);
    assert_eq!(r.get::<&str>("name").unwrap(), "TypeError");
}

#[test]
fn selection_errors_fail_the_state_change_with_details() {
    init();
    let cases = [
        (
            "video",
            r#"{"width":{"min":100000000}}"#,
            "OverconstrainedError",
            Some("width"),
            "OverconstrainedError: width: no device can deliver width >= 100000000 (largest: 3840)",
        ),
        (
            "video",
            r#"{"width": 640,}"#,
            "TypeError",
            None,
            "TypeError: malformed JSON at line 1, column 15",
        ),
        (
            "video",
            r#"{"width":"wide"}"#,
            "TypeError",
            None,
            "TypeError: width: expected a number",
        ),
        (
            "audio",
            r#"{"deviceId":{"exact":"fake-camera-front"}}"#,
            "OverconstrainedError",
            Some("deviceId"),
            "OverconstrainedError: deviceId: no device can deliver deviceId = \"fake-camera-front\"",
        ),
    ];
    for (kind, constraints, name, constraint, text) in cases {
        let t = track(kind, constraints, "");
        assert!(
            t.pipeline.set_state(gst::State::Ready).is_err(),
            "{constraints}"
        );
        let (err, details) = track::error_details(&t.pipeline);
        assert!(
            err.message().starts_with(text),
            "{constraints}: {}",
            err.message()
        );
        assert_eq!(details.name(), "mediastream-error");
        assert_eq!(details.get::<&str>("name").unwrap(), name);
        assert_eq!(details.get::<&str>("constraint").ok(), constraint);
    }
}

fn inner_test_source(t: &track::Track) -> gst::Element {
    t.device_element()
        .downcast_ref::<gst::Bin>()
        .unwrap()
        .children()
        .into_iter()
        .find(|e| e.factory().unwrap().name() == "videotestsrc")
        .unwrap()
}

fn ready_state(t: &track::Track) -> gstmediastream::track::ReadyState {
    t.src.property_value("ready-state").get().unwrap()
}

#[test]
fn stop_does_not_block_while_paused() {
    init();
    let t = track("video", "{}", "");
    t.play().unwrap();
    t.pull().unwrap();
    t.pipeline.set_state(gst::State::Paused).unwrap();
    // The pause done (a live pipeline: no preroll to wait for).
    let (done, state, _) = t.pipeline.state(gst::ClockTime::from_seconds(5));
    assert_eq!((done.is_ok(), state), (true, gst::State::Paused));
    let (tx, rx) = mpsc::channel();
    let src = t.src.clone();
    std::thread::spawn(move || {
        src.emit_by_name::<()>("stop", &[]);
        let _ = tx.send(());
    });
    rx.recv_timeout(Duration::from_secs(3))
        .expect("stop() returns while the pipeline is paused");
    assert_eq!(ready_state(&t), gstmediastream::track::ReadyState::Ended);
}

#[test]
fn a_device_that_ends_by_itself_ends_the_track() {
    init();
    let t = track("video", "{}", "");
    let rx = track::signal_channel(&t.src, "ended");
    t.play().unwrap();
    t.pull().unwrap();
    inner_test_source(&t).send_event(gst::event::Eos::new());
    rx.recv_timeout(Duration::from_secs(5))
        .expect("ended when the device's stream ends");
    assert_eq!(ready_state(&t), gstmediastream::track::ReadyState::Ended);
}

#[test]
fn a_failing_device_ends_the_track_without_an_error() {
    init();
    let t = track("video", "{}", "");
    let rx = track::signal_channel(&t.src, "ended");
    t.play().unwrap();
    t.pull().unwrap();
    // What a capture driver does when the camera is pulled out: a resource
    // error, then create() fails (basesrc then adds a stream error).
    let inner = inner_test_source(&t);
    let weak = inner.downgrade();
    inner
        .static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(el) = weak.upgrade() {
                gst::element_error!(el, gst::ResourceError::Read, ["device gone"]);
            }
            info.flow_res = Err(gst::FlowError::Error);
            gst::PadProbeReturn::Handled
        });
    rx.recv_timeout(Duration::from_secs(5)).expect("ended");
    // An error would follow within this window.
    let bus = t.pipeline.bus().unwrap();
    let err = bus.timed_pop_filtered(
        gst::ClockTime::from_mseconds(300),
        &[gst::MessageType::Error],
    );
    assert!(err.is_none(), "no error reaches the application: {err:?}");
}

#[test]
fn apply_constraints_after_stop_does_not_reopen_the_device() {
    init();
    let t = track("video", "{}", "");
    t.play().unwrap();
    t.pull().unwrap();
    t.src.emit_by_name::<()>("stop", &[]);
    let playing = || {
        t.src
            .downcast_ref::<gst::Bin>()
            .unwrap()
            .children()
            .iter()
            .filter(|e| {
                e.factory().unwrap().name() == "mediastreamfakesrc"
                    && e.current_state() == gst::State::Playing
            })
            .count()
    };
    // stop releases the device from GStreamer's async pool.
    track::wait_until("the device released", || playing() == 0);
    t.src.emit_by_name::<gst::Structure>(
        "apply-constraints",
        &[&r#"{"width":{"exact":1280},"height":{"exact":720}}"#],
    );
    // An absence: a device reopened would be playing within this window.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(playing(), 0, "no device reopened on an ended track");
    assert_eq!(ready_state(&t), gstmediastream::track::ReadyState::Ended);
}

#[test]
fn resuming_from_pause_is_not_a_mute() {
    init();
    // Timing is the subject: a test clock passes 600 ms (twice
    // mute-timeout) while the pipeline is paused, then runs on with frames.
    let clock = gst_check::TestClock::new();
    let t = track("video", "{}", "");
    t.pipeline.use_clock(Some(&clock));
    t.src.set_property("mute-timeout", 300u32);
    let rx = track::signal_channel(&t.src, "mute");
    // Moves the clock on by `ms` in 5 ms steps, releasing what is due.
    let run = |ms: u64| {
        for _ in 0..ms / 5 {
            clock.advance_time(5_000_000);
            while clock.process_next_clock_id().is_some() {}
            // The streaming thread takes its turn with each step.
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    // `n` frames, the clock running meanwhile.
    let pull = |n: usize| {
        std::thread::scope(|s| {
            let pulled = s.spawn(|| (0..n).all(|_| t.pull().is_some()));
            while !pulled.is_finished() {
                run(5);
            }
            assert!(pulled.join().unwrap(), "{n} frames");
        })
    };
    t.play().unwrap();
    pull(1);
    t.pipeline.set_state(gst::State::Paused).unwrap();
    run(600);
    t.play().unwrap();
    pull(5);
    // Past mute-timeout from the resume, frames flowing.
    run(400);
    assert!(rx.try_recv().is_err(), "no mute after a pause");
}

#[test]
fn an_eos_the_application_sends_is_not_an_ended_device() {
    init();
    let t = track("video", "{}", "");
    let rx = track::signal_channel(&t.src, "ended");
    t.play().unwrap();
    t.pull().unwrap();
    // gst-launch-1.0 -e: EOS into the pipeline to finish a recording.
    t.pipeline.send_event(gst::event::Eos::new());
    let mut eos = false;
    for _ in 0..50 {
        if t.pull().is_none() {
            eos = t.sink.property::<bool>("eos");
            break;
        }
    }
    assert!(eos);
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "no ended signal"
    );
}

#[test]
fn only_an_overconstrained_error_is_overconstrained() {
    init();
    let t = track("video", r#"{"width":{"exact":1280}}"#, "");
    let (tx, rx) = mpsc::channel();
    for signal in ["overconstrained", "apply-constraints-error"] {
        let tx = tx.clone();
        t.src.connect(signal, false, move |args| {
            let strings: Vec<String> = args[1..]
                .iter()
                .map(|a| a.get::<String>().unwrap())
                .collect();
            let _ = tx.send((signal, strings));
            None
        });
    }
    let next = || rx.recv_timeout(Duration::from_secs(2)).unwrap();
    // Not started: an InvalidStateError, no overconstrained.
    let r = t
        .src
        .emit_by_name::<gst::Structure>("apply-constraints", &[&"{}"]);
    assert_eq!(r.get::<&str>("name").unwrap(), "InvalidStateError", "{r}");
    let (signal, args) = next();
    assert_eq!(signal, "apply-constraints-error");
    assert_eq!(args[0], "InvalidStateError");
    assert_eq!(args[1], "");
    assert!(args[2].contains("not started"), "{args:?}");

    t.play().unwrap();
    t.pull_width(1280);
    // Malformed: a TypeError, no overconstrained.
    t.src
        .emit_by_name::<gst::Structure>("apply-constraints", &[&"{nope"]);
    let (signal, args) = next();
    assert_eq!(
        (signal, args[0].as_str()),
        ("apply-constraints-error", "TypeError")
    );
    assert!(args[2].contains("line 1"), "{args:?}");
    for name in ["InvalidStateError", "TypeError"] {
        let msg = t
            .wait_message(
                "mediastream-track-apply-constraints-error",
                Duration::from_secs(2),
            )
            .expect("a message for each failure");
        assert_eq!(msg.get::<&str>("name").unwrap(), name, "{msg}");
    }
    // Overconstrained: both, the rejection first.
    t.src
        .emit_by_name::<gst::Structure>("apply-constraints", &[&r#"{"width":{"exact":10000}}"#]);
    let (signal, args) = next();
    assert_eq!(
        (signal, args[0].as_str(), args[1].as_str()),
        ("apply-constraints-error", "OverconstrainedError", "width")
    );
    let (signal, args) = next();
    assert_eq!((signal, args[0].as_str()), ("overconstrained", "width"));
    let msg = t
        .wait_message("mediastream-track-overconstrained", Duration::from_secs(2))
        .expect("the overconstrained message");
    assert_eq!(msg.get::<&str>("name").unwrap(), "OverconstrainedError");
    // Stopped: an InvalidStateError.
    t.src.emit_by_name::<()>("stop", &[]);
    let r = t
        .src
        .emit_by_name::<gst::Structure>("apply-constraints", &[&"{}"]);
    assert_eq!(r.get::<&str>("name").unwrap(), "InvalidStateError", "{r}");
    let (signal, args) = next();
    assert_eq!(
        (signal, args[0].as_str()),
        ("apply-constraints-error", "InvalidStateError")
    );
    assert!(args[2].contains("has ended"), "{args:?}");
    assert!(rx.try_recv().is_err(), "no overconstrained for the others");
}

#[test]
fn kind_is_refused_once_a_device_is_selected() {
    init();
    let t = track("video", "{}", "");
    t.src.set_property_from_str("kind", "audio");
    t.src.set_property_from_str("kind", "video");
    t.play().unwrap();
    t.pull_width(640);
    t.src.set_property_from_str("kind", "audio");
    assert_eq!(
        t.src.property::<gstmediastream::track::TrackKind>("kind"),
        gstmediastream::track::TrackKind::Video
    );
    let r = t
        .src
        .emit_by_name::<gst::Structure>("apply-constraints", &[&r#"{"width":320}"#]);
    assert!(r.get::<bool>("success").unwrap(), "{r}");
    t.pull_width(320);
    t.pipeline.set_state(gst::State::Null).unwrap();
    // Back in NULL the track is new again: the kind may change.
    t.src.set_property_from_str("kind", "audio");
    assert_eq!(
        t.src.property::<gstmediastream::track::TrackKind>("kind"),
        gstmediastream::track::TrackKind::Audio
    );
}

#[test]
fn a_clone_has_its_sources_settings_at_once() {
    init();
    let t = track::track("video", r#"{"width": 320, "height": 240}"#, "");
    // Before the source is selected there is nothing to inherit.
    let early = t.src.emit_by_name::<gst::Element>("clone", &[]);
    assert_eq!(early.property::<Option<String>>("device-id"), None);
    t.play().unwrap();
    t.pull().unwrap();
    let clone = t.src.emit_by_name::<gst::Element>("clone", &[]);
    // In NULL, never started: the source's device, label and settings.
    for name in ["device-id", "label"] {
        let of_source = t.src.property::<Option<String>>(name);
        assert!(of_source.is_some(), "{name}");
        assert_eq!(clone.property::<Option<String>>(name), of_source, "{name}");
    }
    let settings = |e: &gst::Element| e.property::<Option<gst::Structure>>("settings");
    assert_eq!(settings(&clone), settings(&t.src));
    assert_eq!(settings(&clone).unwrap().get::<i32>("width").unwrap(), 320);
    assert_eq!(
        clone.property::<Option<gst::Structure>>("capabilities"),
        t.src.property::<Option<gst::Structure>>("capabilities")
    );
    assert_ne!(
        clone.property::<String>("track-id"),
        t.src.property::<String>("track-id")
    );
    // Started, it reads what it runs: the same.
    let c = gst::Pipeline::new();
    let sink = gst::ElementFactory::make("fakesink").build().unwrap();
    c.add_many([&clone, &sink]).unwrap();
    clone.link(&sink).unwrap();
    c.set_state(gst::State::Ready).unwrap();
    assert_eq!(settings(&clone), settings(&t.src));
    c.set_state(gst::State::Null).unwrap();
    t.pipeline.set_state(gst::State::Null).unwrap();
}

/// The sticky `mediastream-track-state` at `pad`, if any.
fn state_event_at(pad: &gst::Pad) -> Option<gst::Structure> {
    (0..)
        .map_while(|i| pad.sticky_event::<gst::event::CustomDownstreamSticky>(i))
        .filter_map(|e| e.structure().map(|s| s.to_owned()))
        .find(|s| s.name() == "mediastream-track-state")
}

/// W3C MediaStreamTrack.clone(): the clone of an ended track is ended
/// (cf. WPT mediacapture-streams/MediaStream-clone.https.html). It is
/// `ended` at once; played, it sends its stream-start, its state (ended)
/// and EOS, and opens no device.
#[test]
fn a_clone_of_an_ended_track_is_ended_and_opens_nothing() {
    use gstmediastream::track::ReadyState;
    init();
    let t = track("audio", "{}", "");
    t.play().unwrap();
    t.pull().unwrap();
    t.src.emit_by_name::<()>("stop", &[]);
    assert!(t.pull_until_eos(50), "EOS reaches the sink");
    let clone = t.src.emit_by_name::<gst::Element>("clone", &[]);
    let state = |e: &gst::Element| e.property_value("ready-state").get::<ReadyState>().unwrap();
    assert_eq!(state(&clone), ReadyState::Ended, "ended at once");
    assert_eq!(
        clone.property::<Option<String>>("device-id"),
        t.src.property::<Option<String>>("device-id")
    );
    let c = gst::Pipeline::new();
    let sink = gst::ElementFactory::make("appsink")
        .property("sync", false)
        .build()
        .unwrap();
    c.add_many([&clone, &sink]).unwrap();
    clone.link(&sink).unwrap();
    c.set_state(gst::State::Playing).unwrap();
    let pulled = sink.emit_by_name::<Option<gst::Sample>>(
        "try-pull-sample",
        &[&gst::ClockTime::from_seconds(10)],
    );
    assert!(pulled.is_none(), "no media from an ended clone");
    assert!(sink.property::<bool>("eos"), "EOS reaches the sink");
    let pad = sink.static_pad("sink").unwrap();
    let start = pad.sticky_event::<gst::event::StreamStart>(0).unwrap();
    assert_eq!(start.stream_id(), clone.property::<String>("track-id"));
    let told = state_event_at(&pad).expect("the track's state downstream");
    assert_eq!(told.get::<&str>("ready-state").unwrap(), "ended");
    assert_eq!(told.get::<&str>("kind").unwrap(), "audio");
    assert!(
        track::children_made_by(&clone, "mediastreamfakesrc").is_empty(),
        "no device opened"
    );
    assert_eq!(state(&clone), ReadyState::Ended);
    // A clone of the clone is ended too.
    let again = clone.emit_by_name::<gst::Element>("clone", &[]);
    assert_eq!(state(&again), ReadyState::Ended);
    c.set_state(gst::State::Null).unwrap();
    t.pipeline.set_state(gst::State::Null).unwrap();
}
