// SPDX-License-Identifier: MPL-2.0

//! One camera, many tracks: getUserMedia twice on one device and
//! MediaStreamTrack.clone() share one capture. The cameras are exclusive
//! fake devices (a second open fails as busy, as a V4L2 camera), so a
//! second track works only through the sharing; they show the `square`
//! pattern, so each track's pixels are measured. One device per test: a
//! capture is per process.

mod common;
#[path = "common/pixels.rs"]
mod pixels;
#[path = "common/track.rs"]
mod track;

use gst::prelude::*;
use gstmediastream::devices::opened;
use pixels::Rgb;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

static DEVICES_PATH: OnceLock<PathBuf> = OnceLock::new();

fn camera(id: &str) -> String {
    format!(
        r#"{{"kind": "videoinput", "label": "Exclusive camera {id}", "deviceId": "{id}",
   "exclusive": true, "pattern": "square",
   "caps": "video/x-raw,format=I420,width=1280,height=720,framerate=30/1; video/x-raw,format=I420,width=640,height=480,framerate=30/1"}}"#
    )
}

const CAMERAS: [&str; 14] = [
    "one-pipeline",
    "two-pipelines",
    "unplugged",
    "clone-first",
    "stream-clone",
    "zero-copy",
    "blocked",
    "moves-for-newcomer",
    "moves-for-apply",
    "incompatible",
    "launch",
    "pending",
    "stalled-share",
    "elsewhere",
];

fn devices_json(cameras: &[&str]) -> String {
    let list: Vec<String> = cameras.iter().map(|id| camera(id)).collect();
    format!(r#"{{"devices": [{}]}}"#, list.join(",\n"))
}

fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let dir = std::env::temp_dir().join(format!(
            "gst-mediastream-shared-capture-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("devices.json");
        std::fs::write(&path, devices_json(&CAMERAS)).unwrap();
        DEVICES_PATH.set(path.clone()).unwrap();
        // SAFETY: before GStreamer starts any thread; other tests wait here.
        unsafe { std::env::set_var("GST_MEDIASTREAM_FAKE_DEVICES", &path) };
        gst::init().unwrap();
        gstmediastream::ensure_registered();
    });
}

/// A track (`mediastreamsrc`) and its output in RGB, in `pipeline`.
struct Out {
    track: gst::Element,
    sink: gst::Element,
    /// The timestamp of every frame the track puts out (also those its
    /// sink drops later).
    frames: std::sync::mpsc::Receiver<gst::ClockTime>,
}

/// The camera's own mode, and a crop-and-scale size from it.
const NATIVE: &str = r#", "width": 1280, "height": 720"#;
const SMALL: &str =
    r#", "width": {"exact": 320}, "height": {"exact": 240}, "resizeMode": "crop-and-scale""#;

/// A track on `device` with `extra` constraints, its output in `pipeline`.
fn track_on(pipeline: &gst::Pipeline, device: &str, extra: &str, latest_only: bool) -> Out {
    output(
        pipeline,
        new_track(&constraints(device, extra)),
        latest_only,
    )
}

fn constraints(device: &str, extra: &str) -> String {
    format!(r#"{{"deviceId": {{"exact": "{device}"}}{extra}}}"#)
}

fn new_track(constraints: &str) -> gst::Element {
    gst::ElementFactory::make("mediastreamsrc")
        .property("constraints", constraints)
        .build()
        .unwrap()
}

/// `track ! videoconvert ! RGB ! appsink` in `pipeline`; `latest_only`: the
/// sink keeps the newest frame only.
fn output(pipeline: &gst::Pipeline, track: gst::Element, latest_only: bool) -> Out {
    pipeline.add(&track).unwrap();
    let (convert, sink) = pixels::rgb_sink(pipeline, latest_only);
    track.link(&convert).unwrap();
    let frames = frame_log(&track);
    Out {
        track,
        sink,
        frames,
    }
}

/// The timestamps of the buffers leaving `track`.
fn frame_log(track: &gst::Element) -> std::sync::mpsc::Receiver<gst::ClockTime> {
    let (tx, rx) = std::sync::mpsc::channel();
    track
        .static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(pts) = info.buffer().and_then(|b| b.pts()) {
                let _ = tx.send(pts);
            }
            gst::PadProbeReturn::Ok
        });
    rx
}

impl Out {
    fn sample(&self) -> gst::Sample {
        self.sink
            .emit_by_name::<Option<gst::Sample>>(
                "try-pull-sample",
                &[&gst::ClockTime::from_seconds(10)],
            )
            .unwrap_or_else(|| panic!("{}: a frame within 10 s", self.track.name()))
    }

    fn settings(&self) -> (i32, i32) {
        let s = self.track.property::<gst::Structure>("settings");
        (s.get("width").unwrap(), s.get("height").unwrap())
    }

    /// The next frame of the settings' size (after a switch, older frames
    /// may still come).
    fn frame(&self) -> Rgb {
        let want = self.settings();
        for _ in 0..100 {
            let sample = self.sample();
            let s = sample.caps().unwrap().structure(0).unwrap().to_owned();
            if (
                s.get::<i32>("width").unwrap(),
                s.get::<i32>("height").unwrap(),
            ) == want
            {
                return Rgb::of(&sample);
            }
        }
        panic!("{}: no frame of {want:?}", self.track.name());
    }

    fn expect_square(&self, size: (u32, u32)) {
        let rgb = self.frame();
        assert_eq!((rgb.width, rgb.height), size, "{}", self.track.name());
        rgb.expect_square()
            .unwrap_or_else(|e| panic!("{}: {e}", self.track.name()));
    }

    /// Within a few frames (one may be on its way), black.
    /// Within a few frames (one may be on its way), the square.
    fn expect_square_soon(&self, size: (u32, u32)) {
        let ok = (0..10).any(|_| self.frame().expect_square().is_ok());
        assert!(ok, "{}: the square comes back", self.track.name());
        self.expect_square(size);
    }

    fn expect_black(&self) {
        let black = (0..10).any(|_| {
            let rgb = self.frame();
            rgb.pixels.iter().all(|p| p.iter().all(|&c| c <= 5))
        });
        assert!(black, "{}: a disabled track is black", self.track.name());
    }

    fn ready_state(&self) -> String {
        let v = self.track.property_value("ready-state");
        gst::glib::EnumValue::from_value(&v)
            .unwrap()
            .1
            .nick()
            .to_owned()
    }

    /// Drops the frames waiting in the sink.
    fn drain(&self) {
        while self
            .sink
            .emit_by_name::<Option<gst::Sample>>("try-pull-sample", &[&gst::ClockTime::ZERO])
            .is_some()
        {}
    }

    /// The next `n` frames the track puts out: none of the device's 30 per
    /// second is missing between them (timestamps one frame apart).
    fn expect_every_frame(&self, n: usize) {
        while self.frames.try_recv().is_ok() {}
        let mut last: Option<gst::ClockTime> = None;
        for _ in 0..n {
            let pts = self
                .frames
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("{}: a frame within 10 s", self.track.name()));
            if let Some(last) = last {
                let gap = pts.saturating_sub(last);
                assert!(
                    gap < gst::ClockTime::from_mseconds(50),
                    "{}: {gap} between two frames at 30 fps",
                    self.track.name()
                );
            }
            last = Some(pts);
        }
    }
}

fn play(pipeline: &gst::Pipeline) {
    pipeline.set_state(gst::State::Playing).unwrap();
}

/// Bounded: the device closes when the last track's pipeline is NULL.
fn wait_closed(device: &str) {
    track::wait_until(&format!("{device} closed"), || !opened::is_open(device));
}

#[test]
fn two_getusermedia_and_a_clone_in_one_pipeline_share_one_capture() {
    init();
    let dev = "one-pipeline";
    let pipeline = gst::Pipeline::new();
    // A bin starts its children last added first: the clone, then the
    // 1280x720 track, then the 320x240 one, adapted from the mode the
    // first two run.
    let b = track_on(&pipeline, dev, SMALL, true);
    let a = track_on(&pipeline, dev, NATIVE, true);
    let c = output(
        &pipeline,
        a.track.emit_by_name::<gst::Element>("clone", &[]),
        true,
    );
    play(&pipeline);
    assert_eq!(a.settings(), (1280, 720));
    assert_eq!(b.settings(), (320, 240));
    assert_eq!(c.settings(), (1280, 720));
    a.expect_square((1280, 720));
    b.expect_square((320, 240));
    c.expect_square((1280, 720));
    assert_eq!(opened::opens(dev), 1, "the device is opened once");
    let ids: Vec<String> = [&a, &b, &c]
        .iter()
        .map(|o| o.track.property::<String>("track-id"))
        .collect();
    assert!(ids[0] != ids[1] && ids[0] != ids[2] && ids[1] != ids[2]);

    // Disabled: black on that track only; the others keep every frame.
    b.track.set_property("enabled", false);
    b.expect_black();
    a.expect_square((1280, 720));
    c.expect_square((1280, 720));
    a.expect_every_frame(30);
    c.expect_every_frame(30);
    b.track.set_property("enabled", true);
    b.expect_square_soon((320, 240));

    // applyConstraints on one track: its own settings change, not the others'.
    let r = b.track.emit_by_name::<gst::Structure>(
        "apply-constraints",
        &[&r#"{"width": {"exact": 160}, "height": {"exact": 120}, "resizeMode": "crop-and-scale"}"#],
    );
    assert!(r.get::<bool>("success").unwrap(), "{r}");
    b.expect_square((160, 120));
    assert_eq!(a.settings(), (1280, 720));
    assert_eq!(c.settings(), (1280, 720));
    a.expect_square((1280, 720));
    c.expect_square((1280, 720));
    a.expect_every_frame(30);
    c.expect_every_frame(30);

    // Stopped: that track ends, the others go on, the device stays open.
    c.track.emit_by_name::<()>("stop", &[]);
    a.expect_square((1280, 720));
    b.expect_square((160, 120));
    a.expect_every_frame(30);
    b.expect_every_frame(30);
    assert_eq!(c.ready_state(), "ended");
    assert!(opened::is_open(dev));
    assert_eq!(opened::opens(dev), 1);

    pipeline.set_state(gst::State::Null).unwrap();
    wait_closed(dev);
    assert_eq!(opened::opens(dev), 1);
}

#[test]
fn tracks_in_two_pipelines_share_one_capture_and_a_paused_one_holds_up_nothing() {
    init();
    let dev = "two-pipelines";
    let first = gst::Pipeline::new();
    let second = gst::Pipeline::new();
    let a = track_on(&first, dev, NATIVE, false);
    play(&first);
    a.expect_square((1280, 720));
    let b = track_on(&second, dev, SMALL, true);
    let c = output(
        &second,
        a.track.emit_by_name::<gst::Element>("clone", &[]),
        true,
    );
    play(&second);
    // The first track's capture moved to a shared one while it ran.
    b.expect_square((320, 240));
    c.expect_square((1280, 720));
    a.expect_square((1280, 720));
    assert_eq!(opened::opens(dev), 1, "the device is opened once");

    // The second pipeline paused: the first track keeps every frame.
    second.set_state(gst::State::Paused).unwrap();
    a.drain();
    a.expect_every_frame(30);
    second.set_state(gst::State::Playing).unwrap();
    b.expect_square((320, 240));
    c.expect_square((1280, 720));

    // The first track's pipeline stops: the others keep the device and
    // every frame.
    first.set_state(gst::State::Null).unwrap();
    b.expect_square((320, 240));
    b.expect_every_frame(30);
    c.expect_every_frame(30);
    assert!(opened::is_open(dev));
    second.set_state(gst::State::Null).unwrap();
    wait_closed(dev);
    assert_eq!(opened::opens(dev), 1);
}

#[test]
fn a_clone_in_another_pipeline_runs_on_its_own_settings() {
    init();
    let dev = "clone-first";
    let first = gst::Pipeline::new();
    let a = output(
        &first,
        new_track(&constraints(dev, r#", "width": 640, "height": 480"#)),
        true,
    );
    play(&first);
    a.expect_square((640, 480));
    let clone = a.track.emit_by_name::<gst::Element>("clone", &[]);
    assert_eq!(
        clone.property::<String>("constraints"),
        r#"{"deviceId":{"exact":"clone-first"},"width":640,"height":480}"#
    );
    let second = gst::Pipeline::new();
    let c = output(&second, clone, true);
    play(&second);
    c.expect_square((640, 480));
    // Stopping the original leaves the clone running.
    a.track.emit_by_name::<()>("stop", &[]);
    c.expect_square((640, 480));
    first.set_state(gst::State::Null).unwrap();
    c.expect_square((640, 480));
    second.set_state(gst::State::Null).unwrap();
    wait_closed(dev);
    assert_eq!(opened::opens(dev), 1);
}

#[test]
fn an_unplugged_camera_ends_every_track_on_it() {
    init();
    let dev = "unplugged";
    let pipeline = gst::Pipeline::new();
    let b = track_on(&pipeline, dev, SMALL, true);
    let a = track_on(&pipeline, dev, NATIVE, true);
    let ended_a = signal_count(&a.track, "ended");
    let ended_b = signal_count(&b.track, "ended");
    play(&pipeline);
    a.expect_square((1280, 720));
    b.expect_square((320, 240));
    let others: Vec<&str> = CAMERAS.iter().copied().filter(|c| *c != dev).collect();
    std::fs::write(DEVICES_PATH.get().unwrap(), devices_json(&others)).unwrap();
    track::wait_until("both tracks end", || {
        a.ready_state() == "ended" && b.ready_state() == "ended"
    });
    assert_eq!(ended_a.recv_timeout(Duration::from_secs(5)), Ok(()));
    assert_eq!(ended_b.recv_timeout(Duration::from_secs(5)), Ok(()));
    pipeline.set_state(gst::State::Null).unwrap();
    wait_closed(dev);
}

/// The camera's modes are 1280x720 and 640x480: a 320x240 crop-and-scale
/// track alone runs 640x480 (the 4:3 one, no crop:
/// `constraints::share`'s tests), from which 1280x720 cannot come.
const EXACT_HD: &str = r#"{"width": {"exact": 1280}, "height": {"exact": 720}}"#;

/// EXACT_HD on `device` (getUserMedia's constraints).
fn exact_hd_on(device: &str) -> String {
    constraints(device, &format!(", {}", &EXACT_HD[1..EXACT_HD.len() - 1]))
}

fn resize_mode(out: &Out) -> String {
    let s = out.track.property::<gst::Structure>("settings");
    s.get::<String>("resizeMode").unwrap()
}

#[test]
fn a_newcomer_moves_the_device_to_a_mode_that_keeps_the_other_track() {
    init();
    let dev = "moves-for-newcomer";
    let first = gst::Pipeline::new();
    let a = track_on(&first, dev, SMALL, false);
    play(&first);
    a.expect_square((320, 240));
    let second = gst::Pipeline::new();
    let b = output(&second, new_track(&exact_hd_on(dev)), true);
    play(&second);
    // What it would get alone: the device moved to 1280x720 for it.
    b.expect_square((1280, 720));
    assert_eq!(resize_mode(&b), "none");
    // The first track saw no change: its settings, its square pixels,
    // every frame once its chain follows.
    assert_eq!(a.settings(), (320, 240));
    assert_eq!(resize_mode(&a), "crop-and-scale");
    a.expect_square_soon((320, 240));
    a.drain();
    a.expect_every_frame(30);
    assert_eq!(opened::opens(dev), 1, "the device is opened once");
    second.set_state(gst::State::Null).unwrap();
    a.expect_square((320, 240));
    first.set_state(gst::State::Null).unwrap();
    wait_closed(dev);
}

#[test]
fn apply_constraints_moves_the_device_and_the_others_keep_their_settings() {
    init();
    let dev = "moves-for-apply";
    let pipeline = gst::Pipeline::new();
    let a = track_on(&pipeline, dev, SMALL, false);
    let b = track_on(
        &pipeline,
        dev,
        r#", "width": {"exact": 160}, "height": {"exact": 120}, "resizeMode": "crop-and-scale""#,
        true,
    );
    let a_settings = signal_count(&a.track, "notify::settings");
    play(&pipeline);
    a.expect_square((320, 240));
    b.expect_square((160, 120));
    while a_settings.try_recv().is_ok() {}
    let r = b
        .track
        .emit_by_name::<gst::Structure>("apply-constraints", &[&EXACT_HD]);
    assert!(r.get::<bool>("success").unwrap(), "{r}");
    b.expect_square((1280, 720));
    assert_eq!(resize_mode(&b), "none");
    assert_eq!(a.settings(), (320, 240));
    a.expect_square_soon((320, 240));
    a.drain();
    a.expect_every_frame(30);
    // The move is no change to it: no notify of its settings.
    assert!(
        a_settings.try_recv().is_err(),
        "the other track's settings did not change"
    );
    assert_eq!(opened::opens(dev), 1);
    pipeline.set_state(gst::State::Null).unwrap();
    wait_closed(dev);
}

#[test]
fn incompatible_modes_refuse_the_newcomer_and_change_nothing() {
    init();
    let dev = "incompatible";
    let first = gst::Pipeline::new();
    // Native 640x480: only the 640x480 mode gives it.
    let a = track_on(
        &first,
        dev,
        r#", "width": {"exact": 640}, "height": {"exact": 480}, "resizeMode": "none""#,
        false,
    );
    let b = track_on(&first, dev, SMALL, true);
    play(&first);
    a.expect_square((640, 480));
    b.expect_square((320, 240));
    // getUserMedia for 1280x720: OverconstrainedError, the others untouched.
    let second = gst::Pipeline::new();
    let c = output(&second, new_track(&exact_hd_on(dev)), true);
    assert!(second.set_state(gst::State::Playing).is_err());
    let (e, _) = track::error_details(&second);
    assert!(e.to_string().starts_with("OverconstrainedError"), "{e}");
    drop(c);
    second.set_state(gst::State::Null).unwrap();
    // applyConstraints to it on a running track: refused the same way.
    let r = b
        .track
        .emit_by_name::<gst::Structure>("apply-constraints", &[&EXACT_HD]);
    assert!(!r.get::<bool>("success").unwrap(), "{r}");
    assert_eq!(r.get::<String>("name").unwrap(), "OverconstrainedError");
    assert_eq!(a.settings(), (640, 480));
    assert_eq!(b.settings(), (320, 240));
    a.drain();
    a.expect_every_frame(30);
    b.expect_square((320, 240));
    first.set_state(gst::State::Null).unwrap();
    wait_closed(dev);
}

#[test]
fn two_gst_launch_branches_on_one_camera_share_its_capture() {
    init();
    // In a process of its own: a second open there fails as busy unless
    // the two tracks share the capture.
    let branch = |extra: &str| {
        format!(
            "mediastreamsrc constraints={} ! identity eos-after=30 ! fakesink",
            common::shell_quote(&constraints("launch", extra))
        )
    };
    let line = format!("{} {}", branch(NATIVE), branch(SMALL));
    let mut child = common::Killed(
        std::process::Command::new("sh")
            .args(["-c", &format!("exec gst-launch-1.0 -q {line}")])
            .env("GST_PLUGIN_PATH", common::plugin_dir())
            .env("GST_MEDIASTREAM_FAKE_DEVICES", DEVICES_PATH.get().unwrap())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut status = None;
    track::poll::until(
        &format!("gst-launch-1.0 {line} to end at EOS"),
        Duration::from_secs(30),
        || {
            status = child.0.try_wait().unwrap();
            status.is_some()
        },
    );
    let status = status.unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(child.0.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(status.success(), "gst-launch-1.0 {line}: {status}\n{err}");
}

#[test]
fn a_track_with_constraints_not_yet_applied_is_not_shared_meanwhile() {
    init();
    let dev = "pending";
    let first = gst::Pipeline::new();
    let a = track_on(&first, dev, NATIVE, true);
    play(&first);
    a.expect_square((1280, 720));
    // Paused, its applyConstraints waits for PLAYING: shared now, its
    // native 640x480 would be built from the 1280x720 the device runs.
    first.set_state(gst::State::Paused).unwrap();
    let r = a.track.emit_by_name::<gst::Structure>(
        "apply-constraints",
        &[&r#"{"width": {"exact": 640}, "height": {"exact": 480}}"#],
    );
    assert!(r.get::<bool>("success").unwrap(), "{r}");
    let second = gst::Pipeline::new();
    let b = track_on(&second, dev, NATIVE, true);
    assert!(second.set_state(gst::State::Playing).is_err());
    let (e, _) = track::error_details(&second);
    assert!(
        e.to_string()
            .contains("the device is busy and cannot be shared: its track is applying constraints"),
        "{e}"
    );
    second.set_state(gst::State::Null).unwrap();
    drop(b);
    // Applied once playing; then the device is shared again.
    play(&first);
    a.expect_square((640, 480));
    let third = gst::Pipeline::new();
    let c = track_on(&third, dev, SMALL, true);
    play(&third);
    c.expect_square((320, 240));
    // Its applyConstraints restarted the device (a track alone on it);
    // the newcomer shares it, no other open.
    assert_eq!(opened::opens(dev), 2);
    assert!(opened::is_open(dev));
    third.set_state(gst::State::Null).unwrap();
    first.set_state(gst::State::Null).unwrap();
    wait_closed(dev);
}

/// `mediastream` with `constraints` in a pipeline of its own, its video
/// pad to RGB; (pipeline, stream, output of its video track).
fn stream(constraints: &str) -> (gst::Pipeline, gst::Element, Out) {
    let stream = gst::ElementFactory::make("mediastream")
        .property("constraints", constraints)
        .build()
        .unwrap();
    stream_of(stream)
}

fn stream_of(stream: gst::Element) -> (gst::Pipeline, gst::Element, Out) {
    let pipeline = gst::Pipeline::new();
    pipeline.add(&stream).unwrap();
    let (convert, sink) = pixels::rgb_sink(&pipeline, true);
    stream.connect_pad_added(move |_, pad| {
        pad.link(&convert.static_pad("sink").unwrap()).unwrap();
    });
    stream.set_state(gst::State::Ready).unwrap();
    let track = stream
        .downcast_ref::<gst::Bin>()
        .unwrap()
        .children()
        .into_iter()
        .find(|e| e.factory().is_some_and(|f| f.name() == "mediastreamsrc"))
        .expect("the stream's video track");
    let frames = frame_log(&track);
    (
        pipeline,
        stream,
        Out {
            track,
            sink,
            frames,
        },
    )
}

#[test]
fn a_cloned_stream_shares_the_capture_of_the_original() {
    init();
    let dev = "stream-clone";
    let (first, original, a) = stream(&format!(
        r#"{{"video": {{"deviceId": {{"exact": "{dev}"}}, "width": 640, "height": 480}}}}"#
    ));
    play(&first);
    a.expect_square((640, 480));
    let clone = original.emit_by_name::<gst::Element>("clone", &[]);
    let (second, _, c) = stream_of(clone);
    play(&second);
    c.expect_square((640, 480));
    a.expect_square((640, 480));
    assert_ne!(
        a.track.property::<String>("track-id"),
        c.track.property::<String>("track-id")
    );
    assert_eq!(opened::opens(dev), 1, "the device is opened once");
    first.set_state(gst::State::Null).unwrap();
    c.expect_square((640, 480));
    second.set_state(gst::State::Null).unwrap();
    wait_closed(dev);
}

#[test]
fn a_blocked_consumer_holds_up_no_other_track() {
    init();
    let dev = "blocked";
    let pipeline = gst::Pipeline::new();
    let a = track_on(&pipeline, dev, NATIVE, false);
    play(&pipeline);
    a.expect_square((1280, 720));
    // Never pulled, never dropping: its streaming thread blocks at once.
    let other = gst::Pipeline::new();
    let blocked = new_track(&constraints(
        dev,
        r#", "width": 640, "height": 480, "resizeMode": "crop-and-scale""#,
    ));
    let full = blocking_sink();
    other.add_many([&blocked, &full]).unwrap();
    blocked.link(&full).unwrap();
    play(&other);
    a.drain();
    a.expect_every_frame(60);
    assert_eq!(opened::opens(dev), 1);
    other.set_state(gst::State::Null).unwrap();
    pipeline.set_state(gst::State::Null).unwrap();
    wait_closed(dev);
}

/// An appsink never pulled that never drops: the streaming thread into it
/// blocks once it holds a buffer.
fn blocking_sink() -> gst::Element {
    gst::ElementFactory::make("appsink")
        .property("sync", false)
        .property("max-buffers", 1u32)
        .property("drop", false)
        .build()
        .unwrap()
}

/// The address of a buffer's first memory's data.
fn data_of(buffer: &gst::BufferRef) -> usize {
    buffer.peek_memory(0).map_readable().unwrap().as_ptr() as usize
}

#[test]
fn a_track_at_the_running_mode_gets_the_device_memory() {
    init();
    let dev = "zero-copy";
    let pipeline = gst::Pipeline::new();
    let a = track_on(&pipeline, dev, NATIVE, false);
    pipeline.set_state(gst::State::Ready).unwrap();
    // The device's element, in the track's bin until its capture is shared.
    let device = a
        .track
        .downcast_ref::<gst::Bin>()
        .unwrap()
        .children()
        .into_iter()
        .find(|e| {
            e.factory()
                .is_some_and(|f| f.name() == "mediastreamfakesrc")
        })
        .expect("the device's element");
    let pushed = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
    let record = pushed.clone();
    device
        .static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(buffer) = info.buffer() {
                let mut pushed = record.lock().unwrap();
                pushed.push_back(data_of(buffer));
                if pushed.len() > 64 {
                    pushed.pop_front();
                }
            }
            gst::PadProbeReturn::Ok
        });
    let seen = std::sync::Arc::new(std::sync::Mutex::new((0usize, 0usize)));
    let count = seen.clone();
    let check = pushed.clone();
    a.track
        .static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(buffer) = info.buffer() {
                let own = check.lock().unwrap().contains(&data_of(buffer));
                let mut count = count.lock().unwrap();
                count.0 += 1;
                count.1 += usize::from(own);
            }
            gst::PadProbeReturn::Ok
        });
    play(&pipeline);
    a.expect_square((1280, 720));
    // A second track: the capture is shared from now on.
    let second = gst::Pipeline::new();
    let b = track_on(&second, dev, SMALL, true);
    play(&second);
    b.expect_square((320, 240));
    assert!(
        device
            .parent()
            .is_some_and(|p| &p != a.track.upcast_ref::<gst::Object>()),
        "the device's element left the track's bin"
    );
    *seen.lock().unwrap() = (0, 0);
    for _ in 0..30 {
        a.sample();
    }
    let (all, own) = *seen.lock().unwrap();
    assert!(all >= 20, "{all} buffers");
    assert_eq!(
        own, all,
        "every buffer of the track at the running mode is the device's memory"
    );
    pipeline.set_state(gst::State::Null).unwrap();
    second.set_state(gst::State::Null).unwrap();
    wait_closed(dev);
}

fn signal_count(element: &gst::Element, name: &str) -> std::sync::mpsc::Receiver<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    element.connect(name, false, move |_| {
        let _ = tx.send(());
        None
    });
    rx
}

/// A capture that cannot move (its only track's sink is blocked, so the
/// device's streaming thread never comes between two buffers) makes the
/// track that wants to share it wait up to 2 s and fail as busy; a
/// getUserMedia on another device, in another pipeline, meanwhile is not
/// held up by it (each device has its own entry in the registry of shared
/// captures).
#[test]
fn a_capture_that_cannot_move_holds_up_no_other_device() {
    init();
    let dev = "stalled-share";
    // The device's only track, into a sink never pulled and never dropping:
    // its streaming thread blocks there.
    let first = gst::Pipeline::new();
    let a = new_track(&constraints(dev, NATIVE));
    let full = blocking_sink();
    first.add_many([&a, &full]).unwrap();
    a.link(&full).unwrap();
    let frames = frame_log(&a);
    play(&first);
    // The sink holds one; the second frame is stuck on its way in.
    for _ in 0..2 {
        frames
            .recv_timeout(Duration::from_secs(10))
            .expect("frames from the first track");
    }
    let device_pad = track::children_made_by(&a, "mediastreamfakesrc")
        .pop()
        .expect("the device's element in the track")
        .static_pad("src")
        .unwrap();
    // A second track on the device: its capture must move, and cannot.
    let waiting = std::thread::spawn(move || {
        let second = gst::Pipeline::new();
        second.add(&new_track(&constraints(dev, NATIVE))).unwrap();
        let started = second.set_state(gst::State::Ready);
        second.set_state(gst::State::Null).unwrap();
        started
    });
    track::wait_until("the move waiting for the device's thread", || {
        device_pad.is_blocked()
    });
    // Meanwhile, getUserMedia on another device, elsewhere.
    let other = gst::Pipeline::new();
    other
        .add(&new_track(&constraints("elsewhere", NATIVE)))
        .unwrap();
    assert_eq!(
        other.set_state(gst::State::Ready),
        Ok(gst::StateChangeSuccess::Success)
    );
    assert!(
        !waiting.is_finished(),
        "the other device's track waited for the stalled move"
    );
    other.set_state(gst::State::Null).unwrap();
    assert!(
        waiting.join().unwrap().is_err(),
        "the stalled capture cannot be shared: busy"
    );
    first.set_state(gst::State::Null).unwrap();
    wait_closed(dev);
    wait_closed("elsewhere");
}
