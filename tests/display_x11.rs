// SPDX-License-Identifier: MPL-2.0

//! getDisplayMedia on real X11 screens and windows: each test starts an
//! Xvfb of its own (tests/common/xvfb.rs), paints a known picture (a red
//! root, a blue window at a known place) and measures it in the track's
//! frames; then the rules (downscale, decimation, the cursor) and the
//! ends (the X server killed, the window closed).

#[path = "common/launch_recording.rs"]
mod launch_recording;
#[path = "common/poll.rs"]
mod poll;
#[path = "common/track.rs"]
mod track;
#[path = "common/xvfb.rs"]
mod xvfb;

use gst::prelude::*;
use std::time::Duration;
use track::Track;
use xvfb::{Xvfb, pixel};

const RED: u32 = 0xff0000;
const BLUE: u32 = 0x0000ff;
const SIZE: (u16, u16) = (640, 480);
/// The window: at (100, 50), 200x100.
const WINDOW: ((i16, i16), (u16, u16)) = ((100, 50), (200, 100));

/// An Xvfb with a red root and a blue window; the painter keeps the
/// window alive.
fn screen() -> (Xvfb, xvfb::Painter, u32) {
    track::init();
    let x = Xvfb::start(SIZE.0, SIZE.1);
    let painter = x.client();
    painter.paint_root(RED);
    let window = painter.window(WINDOW.0, WINDOW.1, BLUE);
    // Out of the way of what is measured.
    painter.pointer_to(630, 470);
    (x, painter, window)
}

fn display_track(surface: &str, constraints: &str) -> Track {
    let t = track::track("video", constraints, "");
    t.src.set_property_from_str("capture", "display");
    t.src.set_property("display-surface", surface);
    t
}

fn size_of(s: &gst::Sample) -> (i32, i32) {
    let st = s.caps().unwrap().structure(0).unwrap();
    (st.get("width").unwrap(), st.get("height").unwrap())
}

/// The nick of an enum property's value.
fn nick(e: &gst::Element, property: &str) -> String {
    let v = e.property_value(property);
    gst::glib::EnumValue::from_value(&v)
        .map(|(_, ev)| ev.nick().to_owned())
        .unwrap()
}

fn close(a: (u8, u8, u8), b: (u8, u8, u8)) -> bool {
    let d = |x: u8, y: u8| (x as i32 - y as i32).abs() <= 8;
    d(a.0, b.0) && d(a.1, b.1) && d(a.2, b.2)
}

#[test]
fn the_whole_screen_shows_the_root_and_the_window() {
    let (x, _painter, _window) = screen();
    let t = display_track(&x.screen_id(), r#"{"cursor": "never"}"#);
    t.play().unwrap();
    let s = t.pull().expect("a frame of the screen");
    assert_eq!(size_of(&s), (640, 480));
    assert_eq!(pixel(&s, 10, 10), (255, 0, 0));
    assert_eq!(pixel(&s, 150, 100), (0, 0, 255));
    assert_eq!(pixel(&s, 299, 149), (0, 0, 255));
    assert_eq!(pixel(&s, 301, 151), (255, 0, 0));
    let settings = t.settings();
    assert_eq!(settings.get::<&str>("displaySurface").unwrap(), "monitor");
    assert!(settings.get::<bool>("logicalSurface").unwrap());
    assert_eq!(settings.get::<&str>("cursor").unwrap(), "never");
    assert_eq!(settings.get::<&str>("deviceId").unwrap(), x.screen_id());
    assert_eq!(settings.get::<&str>("resizeMode").unwrap(), "none");
    let caps = t
        .src
        .property::<Option<gst::Structure>>("capabilities")
        .unwrap();
    assert_eq!(caps.get::<gst::List>("cursor").unwrap().len(), 3, "{caps}");
    // The native path: the device's element and a capsfilter, nothing
    // that touches the frames.
    let factories = track::child_factories(&t.src);
    assert!(
        factories.contains(&"mediastreamdisplaysrc".to_owned()),
        "{factories:?}"
    );
    assert!(
        !factories.contains(&"videoconvertscale".to_owned()),
        "{factories:?}"
    );
}

#[test]
fn a_window_is_captured_alone() {
    let (x, _painter, window) = screen();
    let t = display_track(&format!("{}/0x{window:x}", x.screen_id()), "{}");
    t.play().unwrap();
    let s = t.pull().expect("a frame of the window");
    assert_eq!(size_of(&s), (200, 100));
    for (px, py) in [(0, 0), (199, 99), (100, 50)] {
        assert_eq!(pixel(&s, px, py), (0, 0, 255), "at {px},{py}");
    }
    let settings = t.settings();
    assert_eq!(settings.get::<&str>("displaySurface").unwrap(), "window");
    assert!(!settings.get::<bool>("logicalSurface").unwrap());
}

#[test]
fn constraints_downscale_and_decimate_the_screen() {
    let (x, _painter, _window) = screen();
    let t = display_track(
        &x.screen_id(),
        r#"{"width": 320, "frameRate": 10, "cursor": "never"}"#,
    );
    t.play().unwrap();
    let a = t.pull().unwrap();
    assert_eq!(size_of(&a), (320, 240));
    // Scaled, not cropped: the window's middle is at half its place.
    assert_eq!(pixel(&a, 5, 5), (255, 0, 0));
    assert!(
        close(pixel(&a, 100, 50), (0, 0, 255)),
        "{:?}",
        pixel(&a, 100, 50)
    );
    assert!(
        close(pixel(&a, 160, 120), (255, 0, 0)),
        "{:?}",
        pixel(&a, 160, 120)
    );
    let rate = a
        .caps()
        .unwrap()
        .structure(0)
        .unwrap()
        .get::<gst::Fraction>("framerate")
        .unwrap();
    assert_eq!(rate, gst::Fraction::new(10, 1));
    // Frames 100 ms apart.
    let b = t.pull().unwrap();
    let gap = b.buffer().unwrap().pts().unwrap() - a.buffer().unwrap().pts().unwrap();
    assert_eq!(gap, gst::ClockTime::from_mseconds(100));
    // Never an upscale.
    drop(t);
    let t = display_track(&x.screen_id(), r#"{"width": 1920, "frameRate": 60}"#);
    t.play().unwrap();
    let s = t.pull().unwrap();
    assert_eq!(size_of(&s), (640, 480));
    assert_eq!(t.settings().get::<f64>("frameRate").unwrap(), 30.0);
}

#[test]
fn the_cursor_is_drawn_or_not_as_asked() {
    let (x, painter, _window) = screen();
    painter.pointer_to(400, 300);
    // Xvfb's default cursor (the X) has dark pixels around its hotspot.
    let marked = |s: &gst::Sample| {
        (390..410)
            .flat_map(|px| (290..310).map(move |py| (px, py)))
            .filter(|&(px, py)| pixel(s, px, py) != (255, 0, 0))
            .count()
    };
    let t = display_track(&x.screen_id(), r#"{"cursor": "always"}"#);
    t.play().unwrap();
    let s = t.pull().unwrap();
    assert_eq!(t.settings().get::<&str>("cursor").unwrap(), "always");
    assert!(marked(&s) > 10, "no cursor drawn: {} pixels", marked(&s));
    drop(t);
    let t = display_track(&x.screen_id(), r#"{"cursor": "never"}"#);
    t.play().unwrap();
    let s = t.pull().unwrap();
    assert_eq!(marked(&s), 0);
    // The device's element got the setting as its pointer option.
    let el = track::children_made_by(&t.src, "mediastreamdisplaysrc")
        .into_iter()
        .next()
        .unwrap();
    assert_eq!(nick(&el, "cursor"), "never");
}

#[test]
fn the_x_server_killed_ends_the_track_with_eos() {
    let (mut x, painter, _window) = screen();
    let t = display_track(&x.screen_id(), "{}");
    let ended = track::signal_channel(&t.src, "ended");
    t.play().unwrap();
    t.pull().expect("a frame");
    drop(painter);
    x.kill();
    assert!(t.pull_until_eos(300), "EOS after the X server went away");
    ended
        .recv_timeout(Duration::from_secs(10))
        .expect("the track's ended signal");
    assert_eq!(nick(&t.src, "ready-state"), "ended");
    // No error: an ended track, not a failed pipeline.
    let bus = t.pipeline.bus().unwrap();
    assert!(bus.pop_filtered(&[gst::MessageType::Error]).is_none());
}

#[test]
fn a_closed_window_ends_its_track_with_eos() {
    let (x, painter, window) = screen();
    let t = display_track(&format!("{}/0x{window:x}", x.screen_id()), "{}");
    t.play().unwrap();
    t.pull().expect("a frame");
    painter.destroy(window);
    assert!(t.pull_until_eos(300), "EOS after the window closed");
    let bus = t.pipeline.bus().unwrap();
    assert!(bus.pop_filtered(&[gst::MessageType::Error]).is_none());
}

#[test]
fn a_hidden_window_mutes_its_track_until_shown() {
    let (x, painter, window) = screen();
    let t = display_track(&format!("{}/0x{window:x}", x.screen_id()), "{}");
    t.src.set_property("mute-timeout", 200u32);
    let muted = track::signal_channel(&t.src, "mute");
    let unmuted = track::signal_channel(&t.src, "unmute");
    t.play().unwrap();
    t.pull().expect("a frame");
    painter.show(window, false);
    muted
        .recv_timeout(Duration::from_secs(10))
        .expect("muted while the window is hidden");
    assert!(t.src.property::<bool>("muted"));
    painter.show(window, true);
    unmuted
        .recv_timeout(Duration::from_secs(10))
        .expect("unmuted when it shows again");
    let s = t.pull().expect("frames again");
    assert_eq!(pixel(&s, 10, 10), (0, 0, 255));
    assert!(!t.sink.property::<bool>("eos"));
}

#[test]
fn enabled_and_stop_work_on_a_display_track() {
    let (x, _painter, _window) = screen();
    let t = display_track(&x.screen_id(), r#"{"cursor": "never"}"#);
    t.play().unwrap();
    assert_eq!(pixel(&t.pull().unwrap(), 10, 10), (255, 0, 0));
    // enabled=false: black frames of the same size.
    t.src.set_property("enabled", false);
    let black = poll::holds_within(Duration::from_secs(10), || {
        t.pull()
            .is_some_and(|s| pixel(&s, 10, 10) == (0, 0, 0) && size_of(&s) == (640, 480))
    });
    assert!(black, "black frames while disabled");
    t.src.set_property("enabled", true);
    let red = poll::holds_within(Duration::from_secs(10), || {
        t.pull().is_some_and(|s| pixel(&s, 10, 10) == (255, 0, 0))
    });
    assert!(red, "the screen again");
    // stop(): ready-state ended (no `ended` event: the application ended
    // it, W3C), EOS.
    t.src.emit_by_name::<()>("stop", &[]);
    assert!(t.pull_until_eos(300), "EOS after stop");
    assert_eq!(nick(&t.src, "ready-state"), "ended");
    // The capture is set to NULL (its X connection closed) at once.
    let capture = track::children_made_by(&t.src, "mediastreamdisplaysrc")
        .into_iter()
        .next()
        .unwrap();
    track::wait_until("the capture in NULL after stop", || {
        capture.current_state() == gst::State::Null
    });
}

#[test]
fn a_surface_that_is_not_there_is_not_found() {
    let (x, _painter, _window) = screen();
    for id in [
        format!("{}/0x7fffff", x.screen_id()),
        "x11::1999.0".to_owned(),
        format!("x11:{}.5", x.display),
    ] {
        let t = display_track(&id, "{}");
        assert!(t.play().is_err(), "{id}");
        let (err, details) = track::error_details(&t.pipeline);
        assert_eq!(
            details.get::<&str>("name").unwrap(),
            "NotFoundError",
            "{id}: {err}"
        );
        assert!(err.message().contains(&id), "{}", err.message());
    }
}

/// The first frame of a VP8 WebM recording, decoded to BGRx.
fn first_frame(data: &[u8]) -> gst::Sample {
    let p = gst::parse::launch(
        "appsrc name=src format=bytes ! matroskademux ! vp8dec ! videoconvert ! \
         video/x-raw,format=BGRx ! appsink name=sink sync=false",
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    p.set_state(gst::State::Playing).unwrap();
    launch_recording::push_all(&p.by_name("src").unwrap(), data);
    let sample = p
        .by_name("sink")
        .unwrap()
        .emit_by_name::<Option<gst::Sample>>(
            "try-pull-sample",
            &[&gst::ClockTime::from_seconds(10)],
        )
        .expect("a decoded frame");
    p.set_state(gst::State::Null).unwrap();
    sample
}

/// A display stream recorded by `mediarecorder` from a launch line; the X
/// server goes away mid-recording: the track ends, the recording finishes
/// (EOS, no error) and its file decodes to the screen's picture.
#[test]
fn a_display_stream_is_recorded_to_a_finished_file() {
    let (mut x, painter, _window) = screen();
    let line = format!(
        "mediastream display-constraints={{\"video\":{{\"cursor\":\"never\"}}}} display-surface={} name=s \
         s. ! r.video_0 mediarecorder name=r timeslice=200",
        x.screen_id()
    );
    let p = gst::parse::launch(&line)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let chunks = launch_recording::collect_chunks(&p.by_name("r").unwrap());
    p.set_state(gst::State::Playing).unwrap();
    assert!(
        poll::holds_within(Duration::from_secs(20), || chunks.lock().unwrap().len()
            > 10_000),
        "chunks of the recording"
    );
    drop(painter);
    x.kill();
    let msg = launch_recording::eos_or_error(&p, 30, "the recording ends after the X server");
    assert_eq!(msg.type_(), gst::MessageType::Eos, "{msg:?}");
    p.set_state(gst::State::Null).unwrap();
    let data = chunks.lock().unwrap().clone();
    let frame = first_frame(&data);
    assert_eq!(size_of(&frame), (640, 480));
    assert!(
        lossy(pixel(&frame, 10, 10), (255, 0, 0)),
        "{:?}",
        pixel(&frame, 10, 10)
    );
    assert!(
        lossy(pixel(&frame, 150, 100), (0, 0, 255)),
        "{:?}",
        pixel(&frame, 150, 100)
    );
}

/// Within a lossy codec's reach of `b`.
fn lossy(a: (u8, u8, u8), b: (u8, u8, u8)) -> bool {
    let d = |x: u8, y: u8| (x as i32 - y as i32).abs() <= 40;
    d(a.0, b.0) && d(a.1, b.1) && d(a.2, b.2)
}
