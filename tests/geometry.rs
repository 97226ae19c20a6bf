// SPDX-License-Identifier: MPL-2.0

//! Pixels as the settings promise: crop-and-scale is a centred crop of the
//! native mode the selection chose, then a scale, with square pixels. A
//! fake camera showing the `square` pattern (a white square, side half the
//! frame height, centred) is measured in the track's output frames: the
//! square stays square, centred, and of the size the crop and scale give.
//! One process, one device file.

#[path = "common/pixels.rs"]
mod pixels;
#[path = "common/track.rs"]
mod track;

use gst::prelude::*;
use gstmediastream::constraints::{
    NativeMode, SelectOptions, Settings, StreamConstraints, select_stream,
};
use gstmediastream::devices::file::load_device_infos;
use pixels::Rgb;
use std::path::PathBuf;
use std::sync::OnceLock;

static DEVICES_PATH: OnceLock<PathBuf> = OnceLock::new();

/// The built-in front camera's raw modes, showing the square; and a webcam
/// that lists its smallest mode first (as many UVC cameras do).
const DEVICES: &str = r#"{"devices": [
  {"kind": "videoinput", "label": "Square camera", "deviceId": "square", "default": true,
   "pattern": "square",
   "caps": "video/x-raw,format=I420,width=1280,height=720,framerate=[5/1,30/1]; video/x-raw,format=I420,width=640,height=480,framerate=[5/1,30/1]; video/x-raw,format=I420,width=320,height=240,framerate=[5/1,30/1]"},
  {"kind": "videoinput", "label": "Small-first webcam", "deviceId": "small-first",
   "pattern": "square",
   "caps": "image/jpeg,width=320,height=240,framerate=30/1; video/x-raw,format=YUY2,width=1280,height=720,framerate=30/1"},
  {"kind": "audioinput", "label": "Mic", "deviceId": "mic",
   "caps": "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1"}
]}"#;

fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let dir =
            std::env::temp_dir().join(format!("gst-mediastream-geometry-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("devices.json");
        std::fs::write(&path, DEVICES).unwrap();
        DEVICES_PATH.set(path.clone()).unwrap();
        // SAFETY: before GStreamer starts any thread; other tests wait here.
        unsafe { std::env::set_var("GST_MEDIASTREAM_FAKE_DEVICES", &path) };
        gst::init().unwrap();
        gstmediastream::ensure_registered();
    });
}

/// A track's element (`mediastreamsrc`) and its output converted to RGB.
struct Rig {
    pipeline: gst::Pipeline,
    track: gst::Element,
    sink: gst::Element,
}

impl Rig {
    /// `mediastreamsrc constraints=C ! videoconvert ! RGB ! appsink`.
    fn track(constraints: &str) -> Rig {
        let pipeline = gst::Pipeline::new();
        let track = gst::ElementFactory::make("mediastreamsrc")
            .property("constraints", constraints)
            .build()
            .unwrap();
        pipeline.add(&track).unwrap();
        let sink = pixels::rgb_sink(&pipeline, true);
        track.link(&sink.0).unwrap();
        Rig {
            pipeline,
            track,
            sink: sink.1,
        }
    }

    /// `mediastream constraints={"video": C}`, its video pad to RGB.
    fn stream(constraints: &str) -> Rig {
        let pipeline = gst::Pipeline::new();
        let stream = gst::ElementFactory::make("mediastream")
            .property("constraints", format!(r#"{{"video": {constraints}}}"#))
            .build()
            .unwrap();
        pipeline.add(&stream).unwrap();
        let (convert, sink) = pixels::rgb_sink(&pipeline, true);
        stream.connect_pad_added(move |_, pad| {
            pad.link(&convert.static_pad("sink").unwrap()).unwrap();
        });
        stream.set_state(gst::State::Ready).unwrap();
        let track = track::children_made_by(&stream, "mediastreamsrc")
            .into_iter()
            .next()
            .expect("the stream's video track");
        Rig {
            pipeline,
            track,
            sink,
        }
    }

    fn play(&self) {
        self.pipeline.set_state(gst::State::Playing).unwrap();
    }

    /// The next frame whose size is the track's settings.
    fn frame(&self) -> (gst::Caps, Rgb) {
        for _ in 0..100 {
            let sample = self
                .sink
                .emit_by_name::<Option<gst::Sample>>(
                    "try-pull-sample",
                    &[&gst::ClockTime::from_seconds(10)],
                )
                .expect("a frame within 10 s");
            let settings = self.settings();
            let caps = sample.caps().unwrap().to_owned();
            let s = caps.structure(0).unwrap();
            if s.get::<i32>("width").ok() == settings.get::<i32>("width").ok()
                && s.get::<i32>("height").ok() == settings.get::<i32>("height").ok()
            {
                return (self.track_caps(), Rgb::of(&sample));
            }
        }
        panic!("no frame of the settings' size");
    }

    fn settings(&self) -> gst::Structure {
        self.track.property::<gst::Structure>("settings")
    }

    /// The caps on the track's own pad (before the test's conversion).
    fn track_caps(&self) -> gst::Caps {
        self.track
            .static_pad("src")
            .unwrap()
            .current_caps()
            .unwrap()
    }

    /// The caps the device element runs.
    fn device_caps(&self) -> gst::Structure {
        let device = track::children_made_by(&self.track, "mediastreamfakesrc")
            .into_iter()
            .next()
            .expect("the device element");
        let caps = device.static_pad("src").unwrap().current_caps().unwrap();
        caps.structure(0).unwrap().to_owned()
    }

    fn apply(&self, constraints: &str) {
        let r = self
            .track
            .emit_by_name::<gst::Structure>("apply-constraints", &[&constraints]);
        assert!(r.get::<bool>("success").unwrap(), "{constraints}: {r}");
    }

    /// Checks the frame against the device's mode and the settings: square
    /// pixels, and the square where a centred crop then a scale puts it.
    fn check(&self, what: &str) -> String {
        let (caps, frame) = self.frame();
        let s = caps.structure(0).unwrap();
        if let Ok(par) = s.get::<gst::Fraction>("pixel-aspect-ratio") {
            assert_eq!(par, gst::Fraction::new(1, 1), "{what}: {caps}");
        }
        let device = self.device_caps();
        let (nw, nh) = (
            device.get::<i32>("width").unwrap() as f64,
            device.get::<i32>("height").unwrap() as f64,
        );
        let (w, h) = (frame.width as f64, frame.height as f64);
        // The crop keeps the whole of the dimension the target is
        // relatively shorter in; the scale maps that onto the target.
        let scale = if nw * h > nh * w { h / nh } else { w / nw };
        let side = (nh / 2.0).floor() * scale;
        let r = frame
            .bright_box()
            .unwrap_or_else(|| panic!("{what}: no square in the {w}x{h} frame"));
        let report = format!(
            "{what}: device {}x{} {}, track {w}x{h}, square {r:?}, expected side {side:.1}",
            nw,
            nh,
            device.name()
        );
        assert!(
            (r.width as f64 - side).abs() <= 2.0 && (r.height as f64 - side).abs() <= 2.0,
            "{report}: the square is stretched or the wrong size"
        );
        let (left, right) = (r.x, frame.width - r.x - r.width);
        let (top, bottom) = (r.y, frame.height - r.y - r.height);
        assert!(
            left.abs_diff(right) <= 2 && top.abs_diff(bottom) <= 2,
            "{report}: not centred (left {left}, right {right}, top {top}, bottom {bottom})"
        );
        report
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// Crop-and-scale cases: constraints, and the track size where an issue
/// names it (else the engine's, which the vector tests check).
const CASES: [(&str, Option<(i32, i32)>); 7] = [
    // The same shape as 640x480: scaled, nothing cropped.
    (r#"{"width":{"exact":480}}"#, Some((480, 360))),
    (r#"{"aspectRatio":{"exact":1.5}}"#, None),
    (
        r#"{"height":{"exact":240},"aspectRatio":{"exact":1}}"#,
        Some((240, 240)),
    ),
    (r#"{"width":1000}"#, Some((1000, 563))),
    (
        r#"{"width":{"exact":640},"height":{"exact":320}}"#,
        Some((640, 320)),
    ),
    // Whole pixels of the native shape (a rounded 16:9 is no deviation).
    (r#"{"height":{"max":106}}"#, Some((188, 106))),
    (
        r#"{"width":{"min":1001,"max":1100},"resizeMode":"crop-and-scale"}"#,
        Some((1001, 563)),
    ),
];

fn size_of(s: &gst::StructureRef) -> (i32, i32) {
    (
        s.get::<i32>("width").unwrap(),
        s.get::<i32>("height").unwrap(),
    )
}

/// What the engine selects for video constraints on this file's devices:
/// (track size, native mode).
fn engine(constraints: &str) -> ((i32, i32), NativeMode) {
    let devices = load_device_infos(DEVICES_PATH.get().unwrap()).unwrap();
    let c = StreamConstraints::parse(&format!(r#"{{"video": {constraints}}}"#)).unwrap();
    let opts = SelectOptions {
        audio_processing: false,
        explain: false,
    };
    let sel = select_stream(&c, &devices, &opts).unwrap().video.unwrap();
    let Settings::Video(v) = &sel.settings else {
        unreachable!()
    };
    (
        (v.width as i32, v.height as i32),
        devices[sel.device_index].modes[sel.mode_index].clone(),
    )
}

/// The track and its device against the engine and the issue's sizes.
fn expect_selection(rig: &Rig, constraints: &str, want: Option<(i32, i32)>, report: &str) {
    let (size, mode) = engine(constraints);
    let track = size_of(&rig.settings());
    assert_eq!(track, size, "{report}: the engine's settings");
    if let Some(want) = want {
        assert_eq!(track, want, "{report}");
    }
    let NativeMode::Video(m) = mode else {
        unreachable!()
    };
    let device = rig.device_caps();
    assert_eq!(device.name(), m.media_type.as_str(), "{report}");
    assert_eq!(
        size_of(&device),
        (m.width.max as i32, m.height.max as i32),
        "{report}: the device runs the whole native mode {m:?}"
    );
}

#[test]
fn crop_and_scale_keeps_the_square_square_and_centred() {
    init();
    for (constraints, want) in CASES {
        let rig = Rig::track(constraints);
        rig.play();
        let report = rig.check(constraints);
        expect_selection(&rig, constraints, want, &report);
    }
}

#[test]
fn apply_constraints_crops_from_the_chosen_mode_too() {
    init();
    let rig = Rig::track("{}");
    rig.play();
    rig.check("{}: the native 640x480");
    for (constraints, want) in CASES {
        rig.apply(constraints);
        let report = rig.check(&format!("applyConstraints({constraints})"));
        expect_selection(&rig, constraints, want, &report);
    }
}

#[test]
fn every_mediastream_pad_crops_from_the_chosen_mode() {
    init();
    for (constraints, want) in CASES {
        let rig = Rig::stream(constraints);
        rig.play();
        let report = rig.check(&format!("mediastream {constraints}"));
        expect_selection(&rig, constraints, want, &report);
    }
}

#[test]
fn a_camera_listing_its_smallest_mode_first_is_cropped_not_upscaled() {
    init();
    let rig = Rig::track(
        r#"{"deviceId":{"exact":"small-first"},"width":{"exact":640},"height":{"exact":320}}"#,
    );
    rig.play();
    let report = rig.check("small mode first");
    let device = rig.device_caps();
    assert_eq!(device.name(), "video/x-raw", "{report}");
    assert_eq!(device.get::<&str>("format").unwrap(), "YUY2", "{report}");
    assert_eq!(size_of(&device), (1280, 720), "{report}");
    // Its encoded small mode, chosen natively, runs as that mode.
    rig.apply(r#"{"deviceId":{"exact":"small-first"},"width":{"exact":320},"height":{"exact":240},"resizeMode":"none"}"#);
    rig.check("small mode, native");
    let device = rig.device_caps();
    assert_eq!(device.name(), "image/jpeg", "{device}");
    assert_eq!(size_of(&device), (320, 240));
}
