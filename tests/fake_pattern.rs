// SPDX-License-Identifier: MPL-2.0

//! mediastreamfakesrc: the `square` pattern (a white square of known
//! geometry on black, in every raw format a device negotiates), the device
//! file's `"pattern"`, and `num-buffers`. One process, one device file.

mod common;
#[path = "common/pixels.rs"]
mod pixels;

use gst::prelude::*;
use pixels::{Rect, Rgb};

const DEVICES: &str = r#"{"devices": [
  {"kind": "videoinput", "label": "Plain", "deviceId": "plain",
   "caps": "video/x-raw,format=I420,width=320,height=240,framerate=30/1", "live": false},
  {"kind": "videoinput", "label": "Square", "deviceId": "square", "pattern": "square",
   "caps": "video/x-raw,format=NV12,width=641,height=361,framerate=30/1", "live": false},
  {"kind": "videoinput", "label": "Typo", "deviceId": "typo", "pattern": "sqare",
   "caps": "video/x-raw,format=I420,width=320,height=240,framerate=30/1", "live": false}
]}"#;

fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let dir =
            std::env::temp_dir().join(format!("gst-mediastream-pattern-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("devices.json");
        std::fs::write(&path, DEVICES).unwrap();
        // SAFETY: before GStreamer starts any thread; other tests wait here.
        unsafe { std::env::set_var("GST_MEDIASTREAM_FAKE_DEVICES", &path) };
        gst::init().unwrap();
        gstmediastream::ensure_registered();
    });
}

/// `src ! videoconvert ! RGB ! appsink`, playing.
struct Rig {
    pipeline: gst::Pipeline,
    sink: gst::Element,
}

impl Rig {
    fn new(src: &gst::Element) -> Rig {
        let pipeline = gst::Pipeline::new();
        pipeline.add(src).unwrap();
        let (convert, sink) = pixels::rgb_sink(&pipeline, false);
        src.link(&convert).unwrap();
        Rig { pipeline, sink }
    }

    fn play(&self) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        self.pipeline.set_state(gst::State::Playing)
    }

    /// The next frame, or `None` at EOS (10 s at most).
    fn pull(&self) -> Option<gst::Sample> {
        self.sink.emit_by_name::<Option<gst::Sample>>(
            "try-pull-sample",
            &[&gst::ClockTime::from_seconds(10)],
        )
    }

    fn frame(&self) -> Rgb {
        Rgb::of(&self.pull().expect("a frame within 10 s"))
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

#[test]
fn square_in_every_raw_format_and_size() {
    init();
    let formats = [
        "I420",
        "YV12",
        "NV12",
        "NV21",
        "Y42B",
        "Y444",
        "YUY2",
        "UYVY",
        "YVYU",
        "AYUV",
        "RGB",
        "BGR",
        "RGBx",
        "BGRx",
        "xRGB",
        "xBGR",
        "RGBA",
        "BGRA",
        "ARGB",
        "ABGR",
        "RGB16",
        "GRAY8",
        "I420_10LE",
        "P010_10LE",
    ];
    let sizes = [(640, 480), (641, 481), (320, 180), (99, 75), (75, 99)];
    let mut failures = Vec::new();
    for format in formats {
        for (w, h) in sizes {
            let src = common::fake_source(&format!(
                "video/x-raw,format={format},width={w},height={h},framerate=30/1"
            ));
            src.set_property("pattern", "square");
            let rig = Rig::new(&src);
            rig.play().unwrap();
            // Several frames: each is drawn (videotestsrc renders each black).
            for _ in 0..3 {
                let frame = rig.frame();
                assert_eq!((frame.width, frame.height), (w, h));
                if let Err(e) = frame.expect_square() {
                    failures.push(format!("{format}: {e}"));
                    break;
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn square_of(caps: &str) -> Option<Rect> {
    let src = common::fake_source(caps);
    src.set_property("pattern", "square");
    let rig = Rig::new(&src);
    rig.play().unwrap();
    rig.frame().bright_box()
}

#[test]
fn square_geometry_exactly() {
    init();
    let rect = |x, y, width, height| {
        Some(Rect {
            x,
            y,
            width,
            height,
        })
    };
    let caps = "video/x-raw,format=I420,width=640,height=480,framerate=30/1";
    assert_eq!(square_of(caps), rect(200, 120, 240, 240));
    // Odd margins: the left and top ones are the smaller.
    let caps = "video/x-raw,format=BGRx,width=641,height=481,framerate=30/1";
    assert_eq!(square_of(caps), rect(200, 120, 240, 240));
    // Narrower than half the height: the square is cut by the frame's sides.
    let caps = "video/x-raw,format=YUY2,width=100,height=300,framerate=30/1";
    assert_eq!(square_of(caps), rect(0, 75, 100, 150));
}

#[test]
fn device_file_pattern_selects_square() {
    init();
    // Looked up by device-id: the file's "pattern" and caps.
    let src = gst::ElementFactory::make("mediastreamfakesrc")
        .property("device-id", "square")
        .build()
        .unwrap();
    let rig = Rig::new(&src);
    rig.play().unwrap();
    let frame = rig.frame();
    assert_eq!((frame.width, frame.height), (641, 361));
    frame.expect_square().unwrap();
    drop(rig);

    // A device without "pattern" keeps its own videotestsrc pattern...
    let src = gst::ElementFactory::make("mediastreamfakesrc")
        .property("device-id", "plain")
        .build()
        .unwrap();
    let rig = Rig::new(&src);
    rig.play().unwrap();
    assert!(rig.frame().expect_square().is_err());
    assert_eq!(src.property::<String>("pattern"), "smpte");
    drop(rig);

    // ... and the element's pattern, when set, wins over the device's.
    let src = gst::ElementFactory::make("mediastreamfakesrc")
        .property("device-id", "plain")
        .property("pattern", "square")
        .build()
        .unwrap();
    let rig = Rig::new(&src);
    rig.play().unwrap();
    rig.frame().expect_square().unwrap();
}

#[test]
fn unknown_pattern_is_an_error_naming_it() {
    init();
    let src = gst::ElementFactory::make("mediastreamfakesrc")
        .property("device-id", "typo")
        .build()
        .unwrap();
    let rig = Rig::new(&src);
    assert!(rig.pipeline.set_state(gst::State::Ready).is_err());
    let bus = rig.pipeline.bus().unwrap();
    let msg = bus
        .timed_pop_filtered(gst::ClockTime::from_seconds(5), &[gst::MessageType::Error])
        .expect("an error message");
    let gst::MessageView::Error(err) = msg.view() else {
        unreachable!()
    };
    let text = err.error().to_string();
    assert!(
        text.contains("pattern 'sqare'") && text.contains("'square'"),
        "{text}"
    );
}

#[test]
fn num_buffers_then_eos() {
    init();
    for live in [false, true] {
        let src =
            common::fake_source("video/x-raw,format=I420,width=160,height=120,framerate=30/1");
        src.set_property("is-live", live);
        src.set_property("num-buffers", 5i32);
        assert_eq!(src.property::<i32>("num-buffers"), 5);
        let rig = Rig::new(&src);
        rig.play().unwrap();
        let mut n = 0;
        while rig.pull().is_some() {
            n += 1;
        }
        assert_eq!(n, 5, "live {live}");
        assert!(rig.sink.property::<bool>("eos"), "live {live}: EOS after 5");
    }
    // Audio too, and -1 (the default) does not stop.
    let src =
        common::fake_source("audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1");
    assert_eq!(src.property::<i32>("num-buffers"), -1);
    src.set_property("num-buffers", 2i32);
    let pipeline = gst::Pipeline::new();
    let sink = gst::ElementFactory::make("appsink")
        .property("sync", false)
        .build()
        .unwrap();
    pipeline.add_many([&src, &sink]).unwrap();
    src.link(&sink).unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut n = 0;
    while sink
        .emit_by_name::<Option<gst::Sample>>(
            "try-pull-sample",
            &[&gst::ClockTime::from_seconds(10)],
        )
        .is_some()
    {
        n += 1;
    }
    assert_eq!(n, 2);
    pipeline.set_state(gst::State::Null).unwrap();

    let src = common::fake_source("video/x-raw,format=I420,width=160,height=120,framerate=30/1");
    let rig = Rig::new(&src);
    rig.play().unwrap();
    for _ in 0..50 {
        assert!(rig.pull().is_some(), "unlimited by default");
    }
}

#[test]
fn square_on_a_format_it_cannot_draw_warns_once() {
    init();
    let src = common::fake_source("video/x-raw,format=v210,width=64,height=48,framerate=30/1");
    src.set_property("pattern", "square");
    src.set_property("num-buffers", 3i32);
    let (pipeline, bus) = common::play_into_fakesink(&src);
    let mut warnings = Vec::new();
    while let Some(msg) = bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(10),
        &[
            gst::MessageType::Warning,
            gst::MessageType::Eos,
            gst::MessageType::Error,
        ],
    ) {
        match msg.view() {
            gst::MessageView::Warning(w) => warnings.push(w.error().to_string()),
            gst::MessageView::Eos(_) => break,
            other => panic!("{other:?}"),
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("pattern 'square' cannot draw v210"),
        "{warnings:?}"
    );
}
