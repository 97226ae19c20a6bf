// SPDX-License-Identifier: MPL-2.0

//! Timing and copies of a track against the device's own element, for
//! scripts/bench:
//!
//! - time to first frame (getUserMedia latency): NULL to the first buffer at
//!   a `mediastreamtracksink` for `{"video":true}`, with the device layer
//!   cold and warm, against the device's element alone;
//! - latency: what the pipeline reports, and the frames a track holds back
//!   (from buffer timestamps) on the native path, under crop-and-scale and
//!   when decimating;
//! - applyConstraints: from the call to the first buffer with the new caps,
//!   against changing a capsfilter after the device's element;
//! - copies: the share of buffers at the track's pad that are the device's
//!   own, and the new buffers and memories per buffer of a disabled track.
//!
//! ```text
//! GST_MEDIASTREAM_FAKE_DEVICES=1 track_timing          # the fake camera
//! scripts/media-daemons track_timing --real             # a PipeWire camera
//! ```
//!
//! Prints one JSON object; times in milliseconds. With `--real` only the
//! time to first frame is measured (the virtual camera has one mode).

#[path = "../tests/common/objects.rs"]
mod objects;

use gst::prelude::*;
use serde_json::json;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

/// The device's own element, as a user would put it in a pipeline by hand.
fn device_element(real: bool) -> gst::Element {
    if !real {
        return gst::ElementFactory::make("mediastreamfakesrc")
            .property("device-id", "fake-camera-front")
            .build()
            .unwrap();
    }
    let monitor = gst::DeviceMonitor::new();
    monitor.add_filter(Some("Video/Source"), None);
    monitor.start().expect("the device monitor starts");
    let device = monitor
        .devices()
        .into_iter()
        .next()
        .expect("a camera (run under scripts/media-daemons)");
    monitor.stop();
    device.create_element(None).expect("the camera's element")
}

/// A channel that gets the time of every buffer at `pad`.
fn buffer_times(pad: &gst::Pad) -> mpsc::Receiver<Instant> {
    let (tx, rx) = mpsc::channel();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        let _ = tx.send(Instant::now());
        gst::PadProbeReturn::Ok
    });
    rx
}

/// The fake camera's default mode, and the other one applyConstraints
/// switches to.
fn video_caps(width: i32, height: i32) -> gst::Caps {
    gst::Caps::builder("video/x-raw")
        .field("width", width)
        .field("height", height)
        .field("framerate", gst::Fraction::new(30, 1))
        .build()
}

fn capsfilter(caps: gst::Caps) -> gst::Element {
    gst::ElementFactory::make("capsfilter")
        .property("caps", caps)
        .build()
        .unwrap()
}

fn fakesink() -> gst::Element {
    gst::ElementFactory::make("fakesink")
        .property("sync", false)
        .build()
        .unwrap()
}

/// NULL -> first buffer at the sink, and the latency the pipeline reports
/// once playing.
fn first_frame(elements: &[gst::Element]) -> (f64, Option<gst::ClockTime>) {
    let pipeline = gst::Pipeline::new();
    pipeline.add_many(elements).unwrap();
    gst::Element::link_many(elements).expect("the elements link");
    let frames = buffer_times(&elements.last().unwrap().static_pad("sink").unwrap());
    play_to_first_frame(&pipeline, &frames)
}

/// Plays `pipeline` until `frames` has its first buffer, then asks the
/// latency and stops: (milliseconds, reported latency).
fn play_to_first_frame(
    pipeline: &gst::Pipeline,
    frames: &mpsc::Receiver<Instant>,
) -> (f64, Option<gst::ClockTime>) {
    let t0 = Instant::now();
    if pipeline.set_state(gst::State::Playing).is_err() {
        let error = pipeline
            .bus()
            .unwrap()
            .pop_filtered(&[gst::MessageType::Error])
            .map(|m| format!("{m:?}"));
        panic!("the pipeline does not play: {error:?}");
    }
    let first = frames.recv_timeout(WAIT).expect("a first frame");
    let ms = (first - t0).as_secs_f64() * 1e3;
    let _ = pipeline.state(gst::ClockTime::from_seconds(10));
    let mut q = gst::query::Latency::new();
    let latency = pipeline.query(&mut q).then(|| q.result().1);
    pipeline.set_state(gst::State::Null).unwrap();
    (ms, latency)
}

fn track(constraints: &str) -> gst::Element {
    gst::ElementFactory::make("mediastreamsrc")
        .property("constraints", constraints)
        .build()
        .unwrap()
}

/// `mediastreamsrc ! fakesink`, in READY (the device chosen and its
/// element made): (pipeline, track, sink).
fn track_pipeline(constraints: &str) -> (gst::Pipeline, gst::Element, gst::Element) {
    let pipeline = gst::Pipeline::new();
    let t = track(constraints);
    let sink = fakesink();
    pipeline.add_many([&t, &sink]).unwrap();
    t.link(&sink).unwrap();
    pipeline.set_state(gst::State::Ready).unwrap();
    (pipeline, t, sink)
}

fn child(bin: &gst::Element, factory: &str) -> Option<gst::Element> {
    bin.downcast_ref::<gst::Bin>()?
        .children()
        .into_iter()
        .find(|e| e.factory().is_some_and(|f| f.name() == factory))
}

/// Frames the track holds back: for each buffer leaving the track, how
/// many frame durations the device has pushed past the capture time of
/// what it carries (the largest over 60 buffers). Each device buffer is
/// dated with a reference timestamp meta, which elements that copy or
/// retime frames (`videorate`) carry along.
fn frames_held(constraints: &str) -> f64 {
    let (pipeline, t, _) = track_pipeline(constraints);
    let device = child(&t, "mediastreamfakesrc").expect("a fake device");
    let (tx, rx) = mpsc::channel::<(gst::ClockTime, gst::ClockTime)>();
    let dated = gst::Caps::new_empty_simple("timestamp/x-mediastream-capture");
    // The device's newest buffer: (timestamp, duration).
    let newest = std::sync::Arc::new(std::sync::Mutex::new(None));
    let n = newest.clone();
    let d = dated.clone();
    device
        .static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(b) = info.buffer_mut()
                && let (Some(pts), Some(duration)) = (b.pts(), b.duration())
            {
                gst::ReferenceTimestampMeta::add(b.make_mut(), &d, pts, None);
                *n.lock().unwrap() = Some((pts, duration));
            }
            gst::PadProbeReturn::Ok
        });
    t.static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let (Some(gst::PadProbeData::Buffer(b)), Some((newest, d))) =
                (&info.data, *newest.lock().unwrap())
                && let Some(captured) = b
                    .iter_meta::<gst::ReferenceTimestampMeta>()
                    .find(|m| m.reference().is_subset(&dated))
                    .map(|m| m.timestamp())
                    .or(b.pts())
            {
                let _ = tx.send((newest.saturating_sub(captured), d));
            }
            gst::PadProbeReturn::Ok
        });
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut held: f64 = 0.0;
    for _ in 0..60 {
        let (behind, d) = rx.recv_timeout(WAIT).expect("buffers from the track");
        held = held.max((behind.nseconds() as f64 / d.nseconds() as f64).round());
    }
    pipeline.set_state(gst::State::Null).unwrap();
    held
}

/// Median over `n` switches (640x480 <-> 320x240, a native mode each) of
/// the time from `switch(width)` to the first buffer of that width at
/// `pad`.
fn switch_times(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    n: usize,
    switch: impl Fn(i32, i32),
) -> f64 {
    let (tx, rx) = mpsc::channel::<(Instant, i32)>();
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, _| {
        let width = pad
            .current_caps()
            .and_then(|c| c.structure(0).and_then(|s| s.get::<i32>("width").ok()))
            .unwrap_or(0);
        let _ = tx.send((Instant::now(), width));
        gst::PadProbeReturn::Ok
    });
    pipeline.set_state(gst::State::Playing).unwrap();
    for _ in 0..3 {
        rx.recv_timeout(WAIT).expect("frames before the switch");
    }
    let mut times = Vec::new();
    for i in 0..n {
        let (w, h) = if i % 2 == 0 { (320, 240) } else { (640, 480) };
        while rx.try_recv().is_ok() {}
        let t0 = Instant::now();
        switch(w, h);
        loop {
            let (at, width) = rx.recv_timeout(WAIT).expect("frames after the switch");
            if width == w {
                times.push((at - t0).as_secs_f64() * 1e3);
                break;
            }
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// applyConstraints on a live track, and a capsfilter changed after the
/// device's element, each switching between two native modes.
fn apply_constraints_times(n: usize) -> (f64, f64) {
    let pipeline = gst::Pipeline::new();
    let device = device_element(false);
    let filter = capsfilter(video_caps(640, 480));
    let sink = fakesink();
    pipeline.add_many([&device, &filter, &sink]).unwrap();
    gst::Element::link_many([&device, &filter, &sink]).unwrap();
    let plain = switch_times(&pipeline, &sink.static_pad("sink").unwrap(), n, |w, h| {
        filter.set_property("caps", video_caps(w, h))
    });

    let (pipeline, t, sink) = track_pipeline("{}");
    let tracked = switch_times(&pipeline, &sink.static_pad("sink").unwrap(), n, |w, h| {
        let json = format!(r#"{{"width":{{"exact":{w}}},"height":{{"exact":{h}}}}}"#);
        let r = t.emit_by_name::<gst::Structure>("apply-constraints", &[&json]);
        assert!(r.get::<bool>("success").unwrap(), "{r}");
    });
    (tracked, plain)
}

/// Over 100 buffers of a native track: the share that are the buffer the
/// device was pushing; then, disabled, new buffers and memories per buffer
/// after the first 10.
fn copies() -> (f64, f64) {
    let (pipeline, t, sink) = track_pipeline("{}");
    let device = child(&t, "mediastreamfakesrc").expect("a fake device");
    let pad = t.static_pad("src").unwrap();
    let watch = objects::watch_against(&pad, &device.static_pad("src").unwrap());
    let frames = buffer_times(&sink.static_pad("sink").unwrap());
    pipeline.set_state(gst::State::Playing).unwrap();
    let wait = |n: usize| {
        for _ in 0..n {
            frames.recv_timeout(WAIT).expect("frames");
        }
    };
    wait(100);
    let native = watch.take();
    t.set_property("enabled", false);
    wait(10);
    watch.take();
    wait(100);
    let disabled = watch.take();
    pipeline.set_state(gst::State::Null).unwrap();
    let own = 1.0 - native.foreign as f64 / native.buffers as f64;
    let new = (disabled.new_buffers + disabled.new_memories) as f64 / disabled.buffers as f64;
    (own, new)
}

fn main() {
    gst::init().unwrap();
    gstmediastream::ensure_registered();
    let real = std::env::args().any(|a| a == "--real");
    // The device's own element, as a user would write it by hand, with a
    // capsfilter as the track's (pipewiresrc does not start with ANY caps
    // downstream); the first run loads the plugins both pipelines use, so
    // it is not counted.
    let plain = || {
        vec![
            device_element(real),
            capsfilter(video_caps(640, 480)),
            fakesink(),
        ]
    };
    first_frame(&plain());
    let (plain_ms, plain_latency) = first_frame(&plain());
    let (cold_ms, track_latency) = first_frame_stream(r#"{"video":true}"#);
    let (warm_ms, _) = first_frame_stream(r#"{"video":true}"#);
    // The plain pipeline again, now that the device layer's monitor runs
    // in the process (it watches the PipeWire graph the stream joins).
    let (plain_monitor_ms, _) = first_frame(&plain());
    let ns = |l: Option<gst::ClockTime>| l.map(|l| l.nseconds());
    let mut out = json!({
        "plainFirstFrameMs": plain_ms,
        "trackFirstFrameMs": cold_ms,
        "trackFirstFrameWarmMs": warm_ms,
        "plainFirstFrameMonitorMs": plain_monitor_ms,
        "plainLatencyNs": ns(plain_latency),
        "nativeLatencyNs": ns(track_latency),
    });
    if !real {
        let crop = r#"{"width":{"exact":320},"height":{"exact":180}}"#;
        let (_, crop_latency) = first_frame(&[track(crop), fakesink()]);
        let (apply_ms, plain_switch_ms) = apply_constraints_times(9);
        let (own, disabled_new) = copies();
        let extra = json!({
            "cropLatencyNs": ns(crop_latency),
            "nativeFramesHeld": frames_held("{}"),
            "cropFramesHeld": frames_held(crop),
            "decimateFramesHeld": frames_held(
                r#"{"deviceId":{"exact":"fake-camera-back"},"frameRate":{"exact":15}}"#,
            ),
            "applyConstraintsMs": apply_ms,
            "plainCapsSwitchMs": plain_switch_ms,
            "zeroCopyShare": own,
            "disabledNewObjectsPerBuffer": disabled_new,
        });
        out.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
    }
    println!("{out}");
}

/// `first_frame` for `mediastream ! mediastreamtracksink` (getUserMedia):
/// the stream's pad appears on READY -> PAUSED and is linked then.
fn first_frame_stream(constraints: &str) -> (f64, Option<gst::ClockTime>) {
    let ms = gst::ElementFactory::make("mediastream")
        .property("constraints", constraints)
        .build()
        .unwrap();
    let inner = fakesink();
    let consumer = gst::ElementFactory::make("mediastreamtracksink")
        .property("sink", &inner)
        .build()
        .unwrap();
    let pipeline = gst::Pipeline::new();
    pipeline.add_many([&ms, &consumer]).unwrap();
    let frames = buffer_times(&inner.static_pad("sink").unwrap());
    let sinkpad = consumer.static_pad("sink").unwrap();
    ms.connect_pad_added(move |_, pad| {
        let _ = pad.link(&sinkpad);
    });
    play_to_first_frame(&pipeline, &frames)
}
