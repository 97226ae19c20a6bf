// SPDX-License-Identifier: MPL-2.0

//! getDisplayMedia on the fake displays (GST_MEDIASTREAM_FAKE_DEVICES):
//! the Screen Capture rules without an X server (docs/display.md). The
//! built-in set has a 1280x720 monitor (`fake-monitor`, the default) and
//! an 800x600 window (`fake-window`), both up to 30 fps.

#[path = "common/track.rs"]
mod track;

use gst::prelude::*;
use std::time::Duration;
use track::Track;

/// A `mediastreamsrc capture=display` track into an appsink.
fn display(constraints: &str, surface: &str) -> Track {
    track::init_builtin();
    let t = track::track("video", constraints, "");
    t.src.set_property_from_str("capture", "display");
    t.src.set_property("display-surface", surface);
    t
}

fn caps_of(s: &gst::Sample) -> (i32, i32, gst::Fraction) {
    let st = s.caps().unwrap().structure(0).unwrap().to_owned();
    (
        st.get("width").unwrap(),
        st.get("height").unwrap(),
        st.get("framerate").unwrap(),
    )
}

#[test]
fn the_default_is_the_whole_default_screen_at_its_rate() {
    let t = display("{}", "");
    t.play().unwrap();
    let s = t.pull().expect("a frame");
    assert_eq!(caps_of(&s), (1280, 720, gst::Fraction::new(30, 1)));
    let settings = t.settings();
    assert_eq!(settings.get::<&str>("deviceId").unwrap(), "fake-monitor");
    assert_eq!(settings.get::<&str>("displaySurface").unwrap(), "monitor");
    assert!(settings.get::<bool>("logicalSurface").unwrap());
    // A fake screen has no pointer.
    assert_eq!(settings.get::<&str>("cursor").unwrap(), "never");
    assert_eq!(settings.get::<&str>("resizeMode").unwrap(), "none");
    assert_eq!(t.src.property::<String>("label"), "Fake monitor");
    let caps = t
        .src
        .property::<Option<gst::Structure>>("capabilities")
        .unwrap();
    assert_eq!(caps.get::<&str>("displaySurface").unwrap(), "monitor");
}

#[test]
fn constraints_downscale_in_the_surface_s_shape_and_decimate() {
    // One dimension: the other follows the screen's 16:9.
    let t = display(r#"{"width": 640, "frameRate": 10}"#, "");
    t.play().unwrap();
    let s = t.pull().expect("a frame");
    assert_eq!(caps_of(&s), (640, 360, gst::Fraction::new(10, 1)));
    assert_eq!(
        t.settings().get::<&str>("resizeMode").unwrap(),
        "crop-and-scale"
    );
    // Square pixels: scaled, not cropped or bordered.
    let st = s.caps().unwrap().structure(0).unwrap().to_owned();
    assert_eq!(
        st.get::<gst::Fraction>("pixel-aspect-ratio").unwrap(),
        gst::Fraction::new(1, 1)
    );
    drop(t);
    // Asking for more than the screen: the screen's own size and rate.
    let t = display(
        r#"{"width": {"max": 4000, "ideal": 4000}, "frameRate": 60}"#,
        "",
    );
    t.play().unwrap();
    let s = t.pull().expect("a frame");
    assert_eq!(caps_of(&s), (1280, 720, gst::Fraction::new(30, 1)));
}

#[test]
fn min_exact_and_advanced_are_type_errors() {
    for bad in [
        r#"{"width": {"min": 640}}"#,
        r#"{"height": {"exact": 480}}"#,
        r#"{"advanced": [{"width": 640}]}"#,
    ] {
        let t = display(bad, "");
        assert!(t.play().is_err(), "{bad}");
        let (err, details) = track::error_details(&t.pipeline);
        assert_eq!(
            details.get::<&str>("name").unwrap(),
            "TypeError",
            "{bad}: {err}"
        );
    }
    // max below the floor is an OverconstrainedError naming the member.
    let t = display(r#"{"width": {"max": 0}}"#, "");
    assert!(t.play().is_err());
    let (_, details) = track::error_details(&t.pipeline);
    assert_eq!(details.get::<&str>("name").unwrap(), "OverconstrainedError");
    assert_eq!(details.get::<&str>("constraint").unwrap(), "width");
}

#[test]
fn the_surface_is_named_or_preferred_by_type() {
    // Named: the window, whatever the constraints prefer.
    let t = display(r#"{"displaySurface": "monitor"}"#, "fake-window");
    t.play().unwrap();
    assert_eq!(caps_of(&t.pull().unwrap()).0, 800);
    let settings = t.settings();
    assert_eq!(settings.get::<&str>("displaySurface").unwrap(), "window");
    // A window is captured as far as it shows.
    assert!(!settings.get::<bool>("logicalSurface").unwrap());
    drop(t);
    // Preferred by displaySurface.
    let t = display(r#"{"displaySurface": "window"}"#, "");
    t.play().unwrap();
    assert_eq!(t.settings().get::<&str>("deviceId").unwrap(), "fake-window");
    drop(t);
    // A surface that is not there.
    let t = display("{}", "no-such-screen");
    assert!(t.play().is_err());
    let (err, details) = track::error_details(&t.pipeline);
    assert_eq!(details.get::<&str>("name").unwrap(), "NotFoundError");
    assert!(
        err.message().contains("no-such-screen"),
        "{}",
        err.message()
    );
}

#[test]
fn a_display_is_never_a_camera_nor_a_microphone() {
    // getUserMedia never picks a display, even asked for it by id.
    track::init_builtin();
    let t = track::track("video", r#"{"deviceId": "fake-monitor"}"#, "");
    t.play().unwrap();
    assert_ne!(
        t.settings().get::<&str>("deviceId").unwrap(),
        "fake-monitor"
    );
    drop(t);
    let t = track::track("audio", r#"{"deviceId": "fake-system-audio"}"#, "");
    t.play().unwrap();
    assert_eq!(
        t.settings().get::<&str>("deviceId").unwrap(),
        "fake-microphone"
    );
}

#[test]
fn the_system_s_sound_is_a_display_audio_track() {
    track::init_builtin();
    let t = track::track("audio", r#"{"channelCount": 2}"#, "");
    t.src.set_property_from_str("capture", "display");
    t.play().unwrap();
    let s = t.pull().expect("the system's sound");
    let st = s.caps().unwrap().structure(0).unwrap().to_owned();
    assert_eq!(st.get::<i32>("channels").unwrap(), 2, "{st}");
    let settings = t.settings();
    assert_eq!(
        settings.get::<&str>("deviceId").unwrap(),
        "fake-system-audio"
    );
    assert_eq!(t.src.property::<String>("label"), "Monitor of Fake speaker");
}

#[test]
fn apply_constraints_on_a_display_track_downscales_it() {
    let t = display("{}", "fake-window");
    t.play().unwrap();
    t.pull_width(800);
    let r = t
        .src
        .emit_by_name::<gst::Structure>("apply-constraints", &[&r#"{"height": 300}"#]);
    assert!(r.get::<bool>("success").unwrap(), "{r}");
    let s = t.pull_width(400);
    assert_eq!(caps_of(&s).1, 300);
    let settings = t.settings();
    assert_eq!(settings.get::<i32>("height").unwrap(), 300);
    assert_eq!(settings.get::<&str>("displaySurface").unwrap(), "window");
    // applyConstraints is getUserMedia's: min may fail, as an
    // OverconstrainedError, and the track keeps its settings.
    let r = t
        .src
        .emit_by_name::<gst::Structure>("apply-constraints", &[&r#"{"width": {"min": 1000}}"#]);
    assert!(!r.get::<bool>("success").unwrap(), "{r}");
    assert_eq!(
        r.get::<&str>("name").unwrap(),
        "OverconstrainedError",
        "{r}"
    );
    assert_eq!(t.settings().get::<i32>("width").unwrap(), 400);
    assert!(
        t.wait_message("mediastream-track-settings-changed", Duration::from_secs(1))
            .is_some()
    );
}

/// `mediastream display-constraints=…`: getDisplayMedia for a whole
/// stream.
fn display_stream(options: &str) -> (gst::Pipeline, gst::Element) {
    track::init_builtin();
    let p = gst::Pipeline::new();
    let stream = gst::ElementFactory::make("mediastream")
        .property("display-constraints", options)
        .build()
        .unwrap();
    p.add(&stream).unwrap();
    (p, stream)
}

#[test]
fn a_display_stream_has_a_video_track_and_the_system_s_sound_if_asked() {
    for (options, tracks) in [
        ("{}", 1),
        (r#"{"video": {"frameRate": 5}, "audio": true}"#, 2),
    ] {
        let (p, stream) = display_stream(options);
        let sinks = track::appsink_per_pad(&p, &stream);
        p.set_state(gst::State::Playing).unwrap();
        assert_eq!(stream.property::<Vec<String>>("track-ids").len(), tracks);
        let sinks = sinks.lock().unwrap().clone();
        assert_eq!(sinks.len(), tracks, "{options}");
        let pull = |sink: &gst::Element| {
            sink.emit_by_name::<Option<gst::Sample>>(
                "try-pull-sample",
                &[&gst::ClockTime::from_seconds(10)],
            )
            .expect("a sample")
        };
        let video = sinks.iter().find(|s| s.name().contains("video")).unwrap();
        let (w, h, rate) = caps_of(&pull(video));
        assert_eq!((w, h), (1280, 720), "{options}");
        let expected = if tracks == 1 { 30 } else { 5 };
        assert_eq!(rate, gst::Fraction::new(expected, 1), "{options}");
        if let Some(audio) = sinks.iter().find(|s| s.name().contains("audio")) {
            let s = pull(audio);
            let st = s.caps().unwrap().structure(0).unwrap().to_owned();
            assert_eq!(st.get::<i32>("rate").unwrap(), 48000, "{st}");
        }
        let srcs = track::children_made_by(&stream, "mediastreamsrc");
        let ids: Vec<String> = srcs
            .iter()
            .map(|s| {
                let settings = s.property::<Option<gst::Structure>>("settings").unwrap();
                settings.get::<String>("deviceId").unwrap()
            })
            .collect();
        assert!(ids.contains(&"fake-monitor".to_owned()), "{ids:?}");
        assert_eq!(
            ids.contains(&"fake-system-audio".to_owned()),
            tracks == 2,
            "{ids:?}"
        );
        p.set_state(gst::State::Null).unwrap();
    }
}

#[test]
fn a_stream_comes_from_one_call() {
    // video false, and both calls at once, are TypeErrors.
    let (p, _stream) = display_stream(r#"{"video": false}"#);
    assert!(p.set_state(gst::State::Playing).is_err());
    let (_, details) = track::error_details(&p);
    assert_eq!(details.get::<&str>("name").unwrap(), "TypeError");
    p.set_state(gst::State::Null).unwrap();
    let (p, stream) = display_stream("{}");
    stream.set_property("constraints", r#"{"video": true}"#);
    assert!(p.set_state(gst::State::Playing).is_err());
    let (err, details) = track::error_details(&p);
    assert_eq!(details.get::<&str>("name").unwrap(), "TypeError");
    assert!(
        err.message().contains("display-constraints"),
        "{}",
        err.message()
    );
    p.set_state(gst::State::Null).unwrap();
}

/// `mediastreamdisplaysrc` at a display where no X server runs fails to
/// start with a resource error whose message names the display, and a
/// name of any length comes back cut (src/excerpt.rs).
#[test]
fn no_x_server_is_an_error_naming_the_display() {
    track::init_builtin();
    let long = format!(":{}", "9".repeat(5000));
    for (name, shown) in [
        (":4711", ":4711".to_owned()),
        (&long[..], long[..100].to_owned()),
    ] {
        let p = gst::parse::launch(&format!("mediastreamdisplaysrc display={name} ! fakesink"))
            .unwrap()
            .downcast::<gst::Pipeline>()
            .unwrap();
        assert!(p.set_state(gst::State::Playing).is_err(), "{name}");
        let e = track::error_of(&p);
        let text = e.message().to_owned();
        assert!(e.matches(gst::ResourceError::OpenRead), "{text}");
        assert!(text.contains(&format!("X display {shown}")), "{text}");
        assert!(text.contains("cannot open the display"), "{text}");
        assert!(text.len() < 400, "{} bytes", text.len());
        p.set_state(gst::State::Null).unwrap();
    }
}
