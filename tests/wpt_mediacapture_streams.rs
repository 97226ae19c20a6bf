// SPDX-License-Identifier: MPL-2.0

//! WPT `mediacapture-streams/` ported to the GStreamer elements: one test
//! per WPT case, named after the WPT file and the case's title, asserting
//! what the WPT case asserts (our own code; the JavaScript was read for
//! what it checks). docs/conformance.md lists every case of the folder,
//! which are not applicable and why, and each one's result.
//!
//! getUserMedia is a `mediastream` with `constraints` over the built-in
//! fake devices (GST_MEDIASTREAM_FAKE_DEVICES=1); a rejected getUserMedia
//! is the failed state change and the error's `mediastream-error` details;
//! a MediaStreamTrack is a `mediastreamsrc` inside it; enumerateDevices is
//! `examples/enumerate_devices`.

mod common;
#[path = "common/track.rs"]
mod track;

use gst::prelude::*;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn init() {
    track::init_builtin();
}

/// A getUserMedia that resolved: a playing `mediastream` whose pads each
/// feed an appsink.
struct Gum {
    pipeline: gst::Pipeline,
    stream: gst::Element,
    sinks: Arc<Mutex<Vec<gst::Element>>>,
}

/// getUserMedia(constraints): the stream, or the rejection's
/// `mediastream-error` details (name, message, constraint).
fn gum(constraints: &str) -> Result<Gum, gst::Structure> {
    init();
    let pipeline = gst::Pipeline::new();
    let stream = track::stream_in(&pipeline, constraints);
    let sinks = track::appsink_per_pad(&pipeline, &stream);
    if pipeline.set_state(gst::State::Playing).is_err() {
        let (_, details) = track::error_details(&pipeline);
        let _ = pipeline.set_state(gst::State::Null);
        return Err(details);
    }
    let (ok, state, _) = pipeline.state(gst::ClockTime::from_seconds(10));
    ok.expect("the stream plays");
    assert_eq!(state, gst::State::Playing);
    Ok(Gum {
        pipeline,
        stream,
        sinks,
    })
}

/// getUserMedia that must resolve.
fn gum_ok(constraints: &str) -> Gum {
    gum(constraints).unwrap_or_else(|e| panic!("getUserMedia({constraints}) rejected: {e}"))
}

/// getUserMedia that must reject: (name, constraint).
fn gum_err(constraints: &str) -> (String, Option<String>) {
    match gum(constraints) {
        Ok(_) => panic!("getUserMedia({constraints}) resolved"),
        Err(d) => (
            d.get::<String>("name").unwrap(),
            d.get::<String>("constraint").ok(),
        ),
    }
}

fn nick(element: &gst::Element, property: &str) -> String {
    let v = element.property_value(property);
    let (_, e) = gst::glib::EnumValue::from_value(&v).unwrap();
    e.nick().to_owned()
}

impl Gum {
    /// stream.getTracks(), in the stream's `track-ids` order.
    fn tracks(&self) -> Vec<gst::Element> {
        let all = track::children_made_by(&self.stream, "mediastreamsrc");
        let ids: Vec<String> = self.stream.property::<Vec<String>>("track-ids");
        ids.iter()
            .map(|id| {
                all.iter()
                    .find(|t| &t.property::<String>("track-id") == id)
                    .unwrap_or_else(|| panic!("the track {id} in the bin"))
                    .clone()
            })
            .collect()
    }

    /// getAudioTracks() / getVideoTracks().
    fn tracks_of(&self, kind: &str) -> Vec<gst::Element> {
        self.tracks()
            .into_iter()
            .filter(|t| nick(t, "kind") == kind)
            .collect()
    }

    fn only(&self, kind: &str) -> gst::Element {
        let t = self.tracks_of(kind);
        assert_eq!(t.len(), 1, "exactly one {kind} track");
        t[0].clone()
    }

    /// The appsink of the stream's pad for `kind`.
    fn sink(&self, kind: &str) -> gst::Element {
        self.sinks
            .lock()
            .unwrap()
            .iter()
            .find(|s| s.name().starts_with(&format!("sink_{kind}")))
            .expect("a sink for the kind")
            .clone()
    }
}

impl Drop for Gum {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

fn settings(track: &gst::Element) -> gst::Structure {
    track
        .property::<Option<gst::Structure>>("settings")
        .expect("settings")
}

fn pull(sink: &gst::Element) -> gst::Sample {
    sink.emit_by_name::<Option<gst::Sample>>(
        "try-pull-sample",
        &[&gst::ClockTime::from_seconds(10)],
    )
    .expect("a sample within 10 s")
}

/// applyConstraints(json) on a running track: the result structure.
fn apply(track: &gst::Element, json: &str) -> gst::Structure {
    let t = track.clone();
    let json = json.to_owned();
    track::within("apply-constraints", Duration::from_secs(20), move || {
        t.emit_by_name::<gst::Structure>("apply-constraints", &[&json])
    })
}

/// The rejection of applyConstraints: (name, constraint).
fn rejected(result: &gst::Structure) -> (String, Option<String>) {
    assert!(
        !result.get::<bool>("success").unwrap(),
        "applyConstraints resolved: {result}"
    );
    (
        result.get::<String>("name").unwrap(),
        result.get::<String>("constraint").ok(),
    )
}

/// navigator.mediaDevices.enumerateDevices(), as `examples/enumerate_devices`
/// prints it (browser-shaped JSON).
fn enumerate_devices() -> Vec<Value> {
    let v: Value = common::json_output(
        std::process::Command::new(common::example("enumerate_devices"))
            .env("GST_MEDIASTREAM_FAKE_DEVICES", "1"),
    );
    v.as_array().expect("a list").clone()
}

/// A MediaTrackSettings member as a number (JS `typeof` "number"), if it is one.
fn number(s: &gst::Structure, field: &str) -> Option<f64> {
    let v = s.value(field).ok()?;
    if let Ok(i) = v.get::<i32>() {
        return Some(i as f64);
    }
    if let Ok(u) = v.get::<u32>() {
        return Some(u as f64);
    }
    v.get::<f64>().ok()
}

// ---------------------------------------------------------------------
// GUM-*.https.html
// ---------------------------------------------------------------------

/// GUM-empty-option-param.https.html, "Tests that getUserMedia is rejected
/// with a TypeError when used with an empty options parameter":
/// getUserMedia({}) rejects with a TypeError that has no constraint.
#[test]
fn gum_empty_option_param_tests_that_getusermedia_is_rejected_with_a_typeerror_when_used_with_an_empty_options_parameter()
 {
    let (name, constraint) = gum_err("{}");
    assert_eq!(name, "TypeError");
    assert_eq!(constraint, None, "constraintName is not set");
}

/// GUM-impossible-constraint.https.html, "Tests that setting an impossible
/// constraint in getUserMedia fails": {video: {width: {min: 100000000}}}
/// rejects with OverconstrainedError, constraint "width".
#[test]
fn gum_impossible_constraint_tests_that_setting_an_impossible_constraint_in_getusermedia_fails() {
    let (name, constraint) = gum_err(r#"{"video": {"width": {"min": 100000000}}}"#);
    assert_eq!(name, "OverconstrainedError");
    assert_eq!(constraint.as_deref(), Some("width"));
}

/// GUM-invalid-facing-mode.https.html, "Tests that setting an invalid
/// facingMode constraint in getUserMedia fails": {facingMode: {exact: ''}}
/// rejects with OverconstrainedError, constraint "facingMode".
#[test]
fn gum_invalid_facing_mode_tests_that_setting_an_invalid_facingmode_constraint_in_getusermedia_fails()
 {
    let (name, constraint) = gum_err(r#"{"video": {"facingMode": {"exact": ""}}}"#);
    assert_eq!(name, "OverconstrainedError");
    assert_eq!(constraint.as_deref(), Some("facingMode"));
}

const VIDEO_ONLY_VALID: &str = r#"{"width": {"min": 0}, "height": {"min": 0}, "frameRate": {"min": 0},
  "aspectRatio": {"min": 0}, "facingMode": {"ideal": "environment"}, "resizeMode": {"ideal": "none"}}"#;
const VIDEO_ONLY_INVALID: &str = r#"{"width": {"min": 100000000}, "height": {"min": 100000000},
  "frameRate": {"min": 100000000}, "aspectRatio": {"min": 100000000},
  "facingMode": {"exact": "invalid"}, "resizeMode": {"exact": "invalid"}}"#;
const AUDIO_ONLY_VALID: &str = r#"{"volume": {"min": 0}, "sampleRate": {"min": 0},
  "sampleSize": {"min": 0}, "echoCancellation": {"ideal": true}, "autoGainControl": {"ideal": true},
  "noiseSuppression": {"ideal": true}, "latency": {"min": 0}, "channelCount": {"min": 0}}"#;
const AUDIO_ONLY_INVALID: &str = r#"{"volume": {"min": 2}, "sampleRate": {"min": 100000000},
  "sampleSize": {"min": 100000000}, "echoCancellation": {"exact": true},
  "autoGainControl": {"exact": true}, "noiseSuppression": {"exact": true},
  "latency": {"max": 0}, "channelCount": {"max": 0}}"#;

/// GUM-non-applicable-constraint.https.html, "Test that setting video-only
/// valid constraints inside of "audio" is simply ignored": one audio track.
#[test]
fn gum_non_applicable_constraint_test_that_setting_video_only_valid_constraints_inside_of_audio_is_simply_ignored()
 {
    let g = gum_ok(&format!(r#"{{"audio": {VIDEO_ONLY_VALID}}}"#));
    assert_eq!(g.tracks_of("audio").len(), 1);
}

/// GUM-non-applicable-constraint.https.html, "Test that setting video-only
/// invalid constraints inside of "audio" is simply ignored": one audio track.
#[test]
fn gum_non_applicable_constraint_test_that_setting_video_only_invalid_constraints_inside_of_audio_is_simply_ignored()
 {
    let g = gum_ok(&format!(r#"{{"audio": {VIDEO_ONLY_INVALID}}}"#));
    assert_eq!(g.tracks_of("audio").len(), 1);
}

/// GUM-non-applicable-constraint.https.html, "Test that setting audio-only
/// valid constraints inside of "video" is simply ignored": one video track.
/// (`volume` is no longer a constraint: here it is an unknown key, ignored.)
#[test]
fn gum_non_applicable_constraint_test_that_setting_audio_only_valid_constraints_inside_of_video_is_simply_ignored()
 {
    let g = gum_ok(&format!(r#"{{"video": {AUDIO_ONLY_VALID}}}"#));
    assert_eq!(g.tracks_of("video").len(), 1);
}

/// GUM-non-applicable-constraint.https.html, "Test that setting audio-only
/// invalid constraints inside of "video" is simply ignored": one video track.
#[test]
fn gum_non_applicable_constraint_test_that_setting_audio_only_invalid_constraints_inside_of_video_is_simply_ignored()
 {
    let g = gum_ok(&format!(r#"{{"video": {AUDIO_ONLY_INVALID}}}"#));
    assert_eq!(g.tracks_of("video").len(), 1);
}

/// GUM-optional-constraint.https.html, "Tests that setting an optional
/// constraint in getUserMedia is handled as optional": an unsatisfiable
/// advanced set does not stop getUserMedia; one video track.
#[test]
fn gum_optional_constraint_tests_that_setting_an_optional_constraint_in_getusermedia_is_handled_as_optional()
 {
    let g = gum_ok(r#"{"video": {"advanced": [{"width": {"min": 1024, "max": 800}}]}}"#);
    assert_eq!(g.tracks_of("video").len(), 1);
}

/// GUM-required-constraint-with-ideal-value.https.html, "Tests that setting
/// a required constraint with an ideal value in getUserMedia works":
/// {width: {ideal: 320, min: 160}} gives one video track whose settings
/// width is 320, and the frames a consumer gets (the <video>'s videoWidth)
/// are 320 wide.
#[test]
fn gum_required_constraint_with_ideal_value_tests_that_setting_a_required_constraint_with_an_ideal_value_in_getusermedia_works()
 {
    let g = gum_ok(r#"{"video": {"width": {"ideal": 320, "min": 160}}}"#);
    let video = g.only("video");
    assert_eq!(settings(&video).get::<i32>("width").unwrap(), 320);
    let sample = pull(&g.sink("video"));
    assert_eq!(track::width_of(sample.caps()), 320);
    video.emit_by_name::<()>("stop", &[]);
}

/// GUM-trivial-constraint.https.html, "Tests that setting a trivial
/// mandatory constraint in getUserMedia works": {width: {min: 0}}.
#[test]
fn gum_trivial_constraint_tests_that_setting_a_trivial_mandatory_constraint_in_getusermedia_works()
{
    let g = gum_ok(r#"{"video": {"width": {"min": 0}}}"#);
    assert_eq!(g.tracks_of("video").len(), 1);
}

/// GUM-unknownkey-option-param.https.html, "Tests that getUserMedia is
/// rejected with a TypeError when used with an unknown constraint":
/// {doesnotexist: true} requests neither kind: TypeError, no constraint.
#[test]
fn gum_unknownkey_option_param_tests_that_getusermedia_is_rejected_with_a_typeerror_when_used_with_an_unknown_constraint()
 {
    let (name, constraint) = gum_err(r#"{"doesnotexist": true}"#);
    assert_eq!(name, "TypeError");
    assert_eq!(constraint, None);
}

// ---------------------------------------------------------------------
// MediaDevices-*.https.html
// ---------------------------------------------------------------------

/// The getUserMedia-with-groupId check of MediaDevices-getUserMedia for
/// one kind: for every device's groupId, {KIND: {groupId: {exact}}} either
/// gives a track of a device of that kind in that group, or rejects with
/// OverconstrainedError "groupId" when no device of the kind has it.
fn group_id_is_supported(kind: &str, device_kind: &str) {
    let devices = enumerate_devices();
    assert!(!devices.is_empty());
    for device in &devices {
        let group = device["groupId"].as_str().unwrap();
        let c = format!(r#"{{"{kind}": {{"groupId": {{"exact": "{group}"}}}}}}"#);
        match gum(&c) {
            Ok(g) => {
                let id = settings(&g.only(kind)).get::<String>("deviceId").unwrap();
                let found = devices
                    .iter()
                    .find(|d| d["deviceId"] == id.as_str())
                    .expect("the track's device is enumerated");
                assert_eq!(found["kind"], device_kind);
                assert_eq!(found["groupId"], group);
            }
            Err(d) => {
                assert_eq!(d.get::<String>("name").unwrap(), "OverconstrainedError");
                assert_eq!(d.get::<String>("constraint").unwrap(), "groupId");
                assert!(
                    !devices
                        .iter()
                        .any(|d| d["kind"] == device_kind && d["groupId"] == group),
                    "a {device_kind} of group {group} exists"
                );
            }
        }
    }
}

fn supported_constraints() -> gst::Structure {
    init();
    let src = gst::ElementFactory::make("mediastreamsrc").build().unwrap();
    src.property::<gst::Structure>("supported-constraints")
}

/// MediaDevices-getUserMedia.https.html, "groupId is correctly supported by
/// getUserMedia() for video devices".
#[test]
fn mediadevices_getusermedia_groupid_is_correctly_supported_by_getusermedia_for_video_devices() {
    assert!(supported_constraints().get::<bool>("groupId").unwrap());
    group_id_is_supported("video", "videoinput");
}

/// MediaDevices-getUserMedia.https.html, "groupId is correctly supported by
/// getUserMedia() for audio devices".
#[test]
fn mediadevices_getusermedia_groupid_is_correctly_supported_by_getusermedia_for_audio_devices() {
    assert!(supported_constraints().get::<bool>("groupId").unwrap());
    group_id_is_supported("audio", "audioinput");
}

/// MediaDevices-getUserMedia.https.html, "getUserMedia() supports setting
/// none as resizeMode.": resizeMode is supported, and {exact: 'none'} gives
/// a track whose settings say 'none'.
#[test]
fn mediadevices_getusermedia_getusermedia_supports_setting_none_as_resizemode() {
    assert!(supported_constraints().get::<bool>("resizeMode").unwrap());
    let g = gum_ok(r#"{"video": {"resizeMode": {"exact": "none"}}}"#);
    let s = settings(&g.only("video"));
    assert_eq!(s.get::<String>("resizeMode").unwrap(), "none");
}

/// MediaDevices-getUserMedia.https.html, "getUserMedia() supports setting
/// crop-and-scale as resizeMode.".
#[test]
fn mediadevices_getusermedia_getusermedia_supports_setting_crop_and_scale_as_resizemode() {
    assert!(supported_constraints().get::<bool>("resizeMode").unwrap());
    let g = gum_ok(r#"{"video": {"resizeMode": {"exact": "crop-and-scale"}}}"#);
    let s = settings(&g.only("video"));
    assert_eq!(s.get::<String>("resizeMode").unwrap(), "crop-and-scale");
}

/// MediaDevices-getUserMedia.https.html, "getUserMedia() fails with exact
/// invalid resizeMode.": OverconstrainedError, constraint "resizeMode".
#[test]
fn mediadevices_getusermedia_getusermedia_fails_with_exact_invalid_resizemode() {
    assert!(supported_constraints().get::<bool>("resizeMode").unwrap());
    let (name, constraint) = gum_err(r#"{"video": {"resizeMode": {"exact": "INVALID"}}}"#);
    assert_eq!(name, "OverconstrainedError");
    assert_eq!(constraint.as_deref(), Some("resizeMode"));
}

/// MediaDevices-enumerateDevices.https.html, "mediaDevices.enumerateDevices()
/// is present and working - after capture": after a getUserMedia, every
/// device has a kind among videoinput, audioinput, audiooutput and a
/// non-empty deviceId.
#[test]
fn mediadevices_enumeratedevices_mediadevices_enumeratedevices_is_present_and_working_after_capture()
 {
    let _g = gum_ok(r#"{"audio": true}"#);
    let devices = enumerate_devices();
    assert!(!devices.is_empty());
    for d in &devices {
        let kind = d["kind"].as_str().expect("a kind");
        assert!(
            ["videoinput", "audioinput", "audiooutput"].contains(&kind),
            "{kind}"
        );
        assert_ne!(d["deviceId"].as_str().expect("a deviceId"), "");
    }
}

/// MediaDevices-enumerateDevices-returned-objects.https.html,
/// "enumerateDevices returns expected objects in case device-info permission
/// is granted": after getUserMedia, two enumerations list the same devices
/// (deviceId, kind) in the same order. (That they are distinct objects is
/// JavaScript identity: two runs of the example are distinct by nature.)
#[test]
fn mediadevices_enumeratedevices_returned_objects_enumeratedevices_returns_expected_objects_in_case_device_info_permission_is_granted()
 {
    let _g = gum_ok(r#"{"audio": true, "video": true}"#);
    let a = enumerate_devices();
    let b = enumerate_devices();
    assert_eq!(a.len(), b.len());
    for (d1, d2) in a.iter().zip(&b) {
        assert_eq!(d1["deviceId"], d2["deviceId"], "deviceId");
        assert_eq!(d1["kind"], d2["kind"], "kind");
    }
}

/// MediaDevices-getSupportedConstraints.https.html, "navigator.mediaDevices.
/// getSupportedConstraints exists": `mediastreamsrc`'s
/// `supported-constraints` is a structure (getSupportedConstraints()).
#[test]
fn mediadevices_getsupportedconstraints_navigator_mediadevices_getsupportedconstraints_exists() {
    let s = supported_constraints();
    assert!(s.n_fields() > 0, "{s}");
}

/// MediaDevices-getSupportedConstraints.https.html, "PROPERTY is supported",
/// one case per property: getSupportedConstraints()[PROPERTY] is true.
macro_rules! supported {
    ($($name:ident: $prop:literal),* $(,)?) => {$(
        #[doc = concat!("MediaDevices-getSupportedConstraints.https.html, \"", $prop, " is supported\".")]
        #[test]
        fn $name() {
            let s = supported_constraints();
            assert_eq!(s.get::<bool>($prop).ok(), Some(true), "{s}");
        }
    )*};
}

supported! {
    mediadevices_getsupportedconstraints_width_is_supported: "width",
    mediadevices_getsupportedconstraints_height_is_supported: "height",
    mediadevices_getsupportedconstraints_aspectratio_is_supported: "aspectRatio",
    mediadevices_getsupportedconstraints_framerate_is_supported: "frameRate",
    mediadevices_getsupportedconstraints_facingmode_is_supported: "facingMode",
    mediadevices_getsupportedconstraints_resizemode_is_supported: "resizeMode",
    mediadevices_getsupportedconstraints_samplerate_is_supported: "sampleRate",
    mediadevices_getsupportedconstraints_samplesize_is_supported: "sampleSize",
    mediadevices_getsupportedconstraints_echocancellation_is_supported: "echoCancellation",
    mediadevices_getsupportedconstraints_autogaincontrol_is_supported: "autoGainControl",
    mediadevices_getsupportedconstraints_noisesuppression_is_supported: "noiseSuppression",
    mediadevices_getsupportedconstraints_latency_is_supported: "latency",
    mediadevices_getsupportedconstraints_channelcount_is_supported: "channelCount",
    mediadevices_getsupportedconstraints_deviceid_is_supported: "deviceId",
    mediadevices_getsupportedconstraints_groupid_is_supported: "groupId",
}

// ---------------------------------------------------------------------
// MediaStream-*.https.html
// ---------------------------------------------------------------------

/// MediaStream-audio-only.https.html, "Tests that a MediaStream with exactly
/// one audio track is returned": one audio track of kind audio, no video.
#[test]
fn mediastream_audio_only_tests_that_a_mediastream_with_exactly_one_audio_track_is_returned() {
    let g = gum_ok(r#"{"audio": true}"#);
    assert_eq!(g.stream.factory().unwrap().name(), "mediastream");
    let audio = g.tracks_of("audio");
    assert_eq!(audio.len(), 1);
    assert_eq!(nick(&audio[0], "kind"), "audio");
    assert_eq!(g.tracks_of("video").len(), 0);
}

/// MediaStream-video-only.https.html, "Tests that a MediaStream with at
/// least one video track is returned": no audio track, one video track.
#[test]
fn mediastream_video_only_tests_that_a_mediastream_with_at_least_one_video_track_is_returned() {
    let g = gum_ok(r#"{"video": true}"#);
    assert_eq!(g.tracks_of("audio").len(), 0);
    let video = g.tracks_of("video");
    assert_eq!(video.len(), 1);
    assert_eq!(nick(&video[0], "kind"), "video");
}

/// MediaStream-id.https.html, "Tests that a MediaStream with a correct id is
/// returned": 36 characters, all in the allowed set.
#[test]
fn mediastream_id_tests_that_a_mediastream_with_a_correct_id_is_returned() {
    let g = gum_ok(r#"{"video": true}"#);
    let id = g.stream.property::<String>("id");
    assert_eq!(id.chars().count(), 36, "{id}");
    let allowed = |c: char| {
        matches!(c as u32,
            0x21 | 0x23..=0x27 | 0x2A..=0x2B | 0x2D..=0x2E | 0x30..=0x39
            | 0x41..=0x5A | 0x5E..=0x7E)
    };
    assert!(id.chars().all(allowed), "{id}");
}

/// MediaStream-gettrackid.https.html, "Tests that MediaStream.getTrackById
/// works as expected": get-track-by-id gives the track's pad (the track), and
/// NULL for an id that is not there.
#[test]
fn mediastream_gettrackid_tests_that_mediastream_gettrackbyid_works_as_expected() {
    let g = gum_ok(r#"{"video": true}"#);
    let video = g.only("video");
    let id = video.property::<String>("track-id");
    let pad = g
        .stream
        .emit_by_name::<Option<gst::Pad>>("get-track-by-id", &[&id])
        .expect("getTrackById(track.id) returns the track");
    let start = pad
        .sticky_event::<gst::event::StreamStart>(0)
        .expect("the track's stream-start");
    assert_eq!(start.stream_id(), id);
    let none = g
        .stream
        .emit_by_name::<Option<gst::Pad>>("get-track-by-id", &[&format!("{id}foo")]);
    assert!(none.is_none(), "an id not in the stream gives null");
}

// ---------------------------------------------------------------------
// MediaStreamTrack-*.https.html
// ---------------------------------------------------------------------

/// MediaStreamTrack-id.https.html, "Tests that distinct mediastream tracks
/// have distinct ids ".
#[test]
fn mediastreamtrack_id_tests_that_distinct_mediastream_tracks_have_distinct_ids() {
    let g = gum_ok(r#"{"video": true, "audio": true}"#);
    let v = g.only("video").property::<String>("track-id");
    let a = g.only("audio").property::<String>("track-id");
    assert_ne!(v, a);
}

/// MediaStreamTrack-init.https.html (untitled case; the page's title:
/// "getUserMedia({video:true}) creates a stream with a properly initialized
/// video track"): one video track, live, kind video, enabled.
#[test]
fn mediastreamtrack_init_getusermedia_video_true_creates_a_stream_with_a_properly_initialized_video_track()
 {
    let g = gum_ok(r#"{"video": true}"#);
    let t = g.only("video");
    assert_eq!(nick(&t, "ready-state"), "live");
    assert_eq!(nick(&t, "kind"), "video");
    assert!(t.property::<bool>("enabled"));
}

/// MediaStreamTrack-MediaElement-disabled-video-is-black.https.html, "Tests
/// that a disabled video track in a MediaStream is rendered as blackness":
/// a disabled camera track, converted to RGB as a <video> draws it, is black
/// in every pixel of its first frame (and the next ones).
#[test]
fn mediastreamtrack_mediaelement_disabled_video_is_black_tests_that_a_disabled_video_track_in_a_mediastream_is_rendered_as_blackness()
 {
    init();
    let t = track::track(
        "video",
        "{}",
        "videoconvert ! capsfilter caps=video/x-raw,format=RGB",
    );
    t.src.set_property("enabled", false);
    t.play().unwrap();
    for n in 0..3 {
        let sample = t.pull().expect("a frame");
        let buffer = sample.buffer().unwrap();
        let map = buffer.map_readable().unwrap();
        let info = gst_video::VideoInfo::from_caps(sample.caps().unwrap()).unwrap();
        // Every pixel of every row (padding aside) is 0,0,0.
        let stride = info.stride()[0] as usize;
        let row = info.width() as usize * 3;
        for y in 0..info.height() as usize {
            let line = &map[y * stride..y * stride + row];
            assert!(
                line.iter().all(|&b| b == 0),
                "frame {n}, row {y} is not black"
            );
        }
    }
}

/// MediaStreamTrack-MediaElement-disabled-audio-is-silence.https.html,
/// "Tests that a disabled audio track in a MediaStream is rendered as
/// silence": every sample of 10 buffers of a disabled microphone track is 0.
#[test]
fn mediastreamtrack_mediaelement_disabled_audio_is_silence_tests_that_a_disabled_audio_track_in_a_mediastream_is_rendered_as_silence()
 {
    init();
    let t = track::track(
        "audio",
        "{}",
        "audioconvert ! capsfilter caps=audio/x-raw,format=F32LE,channels=2",
    );
    t.src.set_property("enabled", false);
    t.play().unwrap();
    for n in 0..10 {
        let sample = t.pull().expect("audio");
        let map = sample.buffer().unwrap().map_readable().unwrap();
        assert!(!map.is_empty());
        assert!(
            map.chunks(4)
                .all(|s| f32::from_le_bytes([s[0], s[1], s[2], s[3]]) == 0.0),
            "buffer {n} is not silent"
        );
    }
}

/// MediaStreamTrack-applyConstraints.https.html, "applyConstraints rejects
/// invalid groupID": {groupId: {exact: "INVALID"}} → OverconstrainedError
/// "groupId".
#[test]
fn mediastreamtrack_applyconstraints_applyconstraints_rejects_invalid_groupid() {
    let g = gum_ok(r#"{"video": true}"#);
    let r = apply(&g.only("video"), r#"{"groupId": {"exact": "INVALID"}}"#);
    let (name, constraint) = rejected(&r);
    assert_eq!(name, "OverconstrainedError");
    assert_eq!(constraint.as_deref(), Some("groupId"));
}

fn long_group_id() -> String {
    format!("{:>501}", "2")
}

/// MediaStreamTrack-applyConstraints.https.html, "applyConstraints rejects
/// long string ideal groupID": {groupId: {ideal: 500 spaces + "2"}} →
/// OverconstrainedError: a deviceId or groupId over 500 characters is
/// refused, `ideal` too, as browsers do (docs/constraints.md).
#[test]
fn mediastreamtrack_applyconstraints_applyconstraints_rejects_long_string_ideal_groupid() {
    let g = gum_ok(r#"{"video": true}"#);
    let json = serde_json::json!({"groupId": {"ideal": long_group_id()}}).to_string();
    let (name, _) = rejected(&apply(&g.only("video"), &json));
    assert_eq!(name, "OverconstrainedError");
}

/// MediaStreamTrack-applyConstraints.https.html, "applyConstraints rejects
/// long string groupID": {groupId: {exact: 500 spaces + "2"}} →
/// OverconstrainedError.
#[test]
fn mediastreamtrack_applyconstraints_applyconstraints_rejects_long_string_groupid() {
    let g = gum_ok(r#"{"video": true}"#);
    let json = serde_json::json!({"groupId": {"exact": long_group_id()}}).to_string();
    let (name, _) = rejected(&apply(&g.only("video"), &json));
    assert_eq!(name, "OverconstrainedError");
}

/// MediaStreamTrack-applyConstraints.https.html, "applyConstraints rejects
/// using both mandatory and specific constraints": {mandatory: {groupId:
/// "INVALID"}, groupId: {exact: "INVALID"}} → OverconstrainedError.
#[test]
fn mediastreamtrack_applyconstraints_applyconstraints_rejects_using_both_mandatory_and_specific_constraints()
 {
    let g = gum_ok(r#"{"video": true}"#);
    let r = apply(
        &g.only("video"),
        r#"{"mandatory": {"groupId": "INVALID"}, "groupId": {"exact": "INVALID"}}"#,
    );
    let (name, _) = rejected(&r);
    assert_eq!(name, "OverconstrainedError");
}

/// MediaStreamTrack-applyConstraints.https.html, "applyConstraints accepts
/// invalid ideal groupID, does not change setting".
#[test]
fn mediastreamtrack_applyconstraints_applyconstraints_accepts_invalid_ideal_groupid_does_not_change_setting()
 {
    let g = gum_ok(r#"{"video": true}"#);
    let t = g.only("video");
    let before = settings(&t).get::<String>("groupId").unwrap();
    let r = apply(&t, r#"{"groupId": "INVALID"}"#);
    assert!(r.get::<bool>("success").unwrap(), "{r}");
    assert_eq!(settings(&t).get::<String>("groupId").unwrap(), before);
}

/// MediaStreamTrack-applyConstraints.https.html, "applyConstraints rejects
/// attempt to switch device using groupId": with another camera in another
/// group (the fake back camera), {groupId: {exact: its group}} →
/// OverconstrainedError "groupId".
#[test]
fn mediastreamtrack_applyconstraints_applyconstraints_rejects_attempt_to_switch_device_using_groupid()
 {
    let g = gum_ok(r#"{"video": true}"#);
    let t = g.only("video");
    let group = settings(&t).get::<String>("groupId").unwrap();
    let devices = enumerate_devices();
    let other = devices
        .iter()
        .find(|d| d["kind"] == "videoinput" && d["groupId"] != group.as_str())
        .expect("the fake devices have a camera in another group");
    let json = serde_json::json!({"groupId": {"exact": other["groupId"]}}).to_string();
    let (name, constraint) = rejected(&apply(&t, &json));
    assert_eq!(name, "OverconstrainedError");
    assert_eq!(constraint.as_deref(), Some("groupId"));
}

/// MediaStreamTrack-applyConstraints.https.html, "applyConstraints rejects
/// invalid resizeMode": {resizeMode: {exact: "INVALID"}} →
/// OverconstrainedError "resizeMode".
#[test]
fn mediastreamtrack_applyconstraints_applyconstraints_rejects_invalid_resizemode() {
    let g = gum_ok(r#"{"video": true}"#);
    let t = g.only("video");
    let (name, constraint) = rejected(&apply(&t, r#"{"resizeMode": {"exact": "INVALID"}}"#));
    assert_eq!(name, "OverconstrainedError");
    assert_eq!(constraint.as_deref(), Some("resizeMode"));
    t.emit_by_name::<()>("stop", &[]);
}

/// MediaStreamTrack-applyConstraints.https.html, "applyConstraints accepts
/// invalid ideal resizeMode, does not change setting".
#[test]
fn mediastreamtrack_applyconstraints_applyconstraints_accepts_invalid_ideal_resizemode_does_not_change_setting()
 {
    let g = gum_ok(r#"{"video": true}"#);
    let t = g.only("video");
    let before = settings(&t).get::<String>("resizeMode").unwrap();
    let r = apply(&t, r#"{"resizeMode": "INVALID"}"#);
    assert!(r.get::<bool>("success").unwrap(), "{r}");
    assert_eq!(settings(&t).get::<String>("resizeMode").unwrap(), before);
    t.emit_by_name::<()>("stop", &[]);
}

// MediaStreamTrack-getSettings.https.html

/// The settings of the only track of getUserMedia({KIND: true}).
fn settings_of(kind: &str) -> gst::Structure {
    let g = gum_ok(&format!(r#"{{"{kind}": true}}"#));
    assert_eq!(g.tracks().len(), 1);
    let t = g.only(kind);
    let s = settings(&t);
    t.emit_by_name::<()>("stop", &[]);
    s
}

/// MediaStreamTrack-getSettings.https.html, "A device can be opened twice
/// and have the same device ID": a second getUserMedia with {deviceId:
/// {exact: the first's}} while the first runs has the same deviceId.
#[test]
fn mediastreamtrack_getsettings_a_device_can_be_opened_twice_and_have_the_same_device_id() {
    let g1 = gum_ok(r#"{"video": true, "audio": false}"#);
    let s1 = settings(&g1.only("video"));
    let id = s1.get::<String>("deviceId").unwrap();
    let g2 = gum_ok(&format!(
        r#"{{"video": {{"deviceId": {{"exact": "{id}"}}}}, "audio": false}}"#
    ));
    let s2 = settings(&g2.only("video"));
    assert_eq!(s2.get::<String>("deviceId").unwrap(), id);
}

/// MediaStreamTrack-getSettings.https.html, "A device can be opened twice
/// with different resolutions requested": the second, with {width: {ideal:
/// half the first's}}, has the same deviceId and a width between half and
/// the whole of the first's.
#[test]
fn mediastreamtrack_getsettings_a_device_can_be_opened_twice_with_different_resolutions_requested()
{
    let g1 = gum_ok(r#"{"video": true, "audio": false}"#);
    let s1 = settings(&g1.only("video"));
    let id = s1.get::<String>("deviceId").unwrap();
    let w1 = s1.get::<i32>("width").unwrap();
    let g2 = gum_ok(&format!(
        r#"{{"video": {{"deviceId": {{"exact": "{id}"}}, "width": {{"ideal": {}}}}}, "audio": false}}"#,
        w1 as f64 / 2.0
    ));
    let s2 = settings(&g2.only("video"));
    assert_eq!(s2.get::<String>("deviceId").unwrap(), id);
    let w2 = s2.get::<i32>("width").unwrap() as f64;
    assert!(w2 >= w1 as f64 / 2.0 && w2 <= w1 as f64, "{w2} of {w1}");
}

/// MediaStreamTrack-getSettings.https.html, "groupId is correctly reported
/// by getSettings() for all input devices": for every input device, a
/// getUserMedia with its deviceId gives a track whose groupId is the
/// device's, and the groupId is not empty.
#[test]
fn mediastreamtrack_getsettings_groupid_is_correctly_reported_by_getsettings_for_all_input_devices()
{
    let devices = enumerate_devices();
    let inputs: Vec<&Value> = devices
        .iter()
        .filter(|d| d["kind"] != "audiooutput")
        .collect();
    assert!(!inputs.is_empty());
    for d in inputs {
        let kind = if d["kind"] == "audioinput" {
            "audio"
        } else {
            "video"
        };
        let c = serde_json::json!({kind: {"deviceId": {"exact": d["deviceId"]}}}).to_string();
        let g = gum_ok(&c);
        let s = settings(&g.only(kind));
        assert_eq!(s.get::<String>("groupId").unwrap(), d["groupId"], "{d}");
        assert!(!d["groupId"].as_str().unwrap().is_empty());
    }
}

macro_rules! settings_string {
    ($($name:ident: $kind:literal, $field:literal;)*) => {$(
        #[doc = concat!("MediaStreamTrack-getSettings.https.html, \"", $field,
            " is reported by getSettings() for getUserMedia() ", $kind, " tracks\": a string.")]
        #[test]
        fn $name() {
            let s = settings_of($kind);
            assert!(s.get::<String>($field).is_ok(), "{s}");
        }
    )*};
}

macro_rules! settings_boolean {
    ($($name:ident: $kind:literal, $field:literal;)*) => {$(
        #[doc = concat!("MediaStreamTrack-getSettings.https.html, \"", $field,
            " is reported by getSettings() for getUserMedia() ", $kind, " tracks\": a boolean.")]
        #[test]
        fn $name() {
            let s = settings_of($kind);
            assert!(s.get::<bool>($field).is_ok(), "{s}");
        }
    )*};
}

/// A number: `> 0` when `positive`, else `>= 0`; an integer when `integer`.
macro_rules! settings_number {
    ($($name:ident: $kind:literal, $field:literal, positive = $pos:literal, integer = $int:literal;)*) => {$(
        #[doc = concat!("MediaStreamTrack-getSettings.https.html, \"", $field,
            " is reported by getSettings() for getUserMedia() ", $kind, " tracks\": a number.")]
        #[test]
        fn $name() {
            let s = settings_of($kind);
            let n = number(&s, $field).unwrap_or_else(|| panic!("{} is not a number: {s}", $field));
            if $pos {
                assert!(n > 0.0, "{n}");
            } else {
                assert!(n >= 0.0, "{n}");
            }
            if $int {
                assert_eq!(n.fract(), 0.0, "an integer");
            }
        }
    )*};
}

settings_string! {
    mediastreamtrack_getsettings_deviceid_is_reported_by_getsettings_for_getusermedia_audio_tracks: "audio", "deviceId";
    mediastreamtrack_getsettings_groupid_is_reported_by_getsettings_for_getusermedia_audio_tracks: "audio", "groupId";
    mediastreamtrack_getsettings_deviceid_is_reported_by_getsettings_for_getusermedia_video_tracks: "video", "deviceId";
    mediastreamtrack_getsettings_groupid_is_reported_by_getsettings_for_getusermedia_video_tracks: "video", "groupId";
}

settings_boolean! {
    mediastreamtrack_getsettings_echocancellation_is_reported_by_getsettings_for_getusermedia_audio_tracks: "audio", "echoCancellation";
    mediastreamtrack_getsettings_autogaincontrol_is_reported_by_getsettings_for_getusermedia_audio_tracks: "audio", "autoGainControl";
    mediastreamtrack_getsettings_noisesuppression_is_reported_by_getsettings_for_getusermedia_audio_tracks: "audio", "noiseSuppression";
}

settings_number! {
    mediastreamtrack_getsettings_samplerate_is_reported_by_getsettings_for_getusermedia_audio_tracks: "audio", "sampleRate", positive = true, integer = false;
    mediastreamtrack_getsettings_samplesize_is_reported_by_getsettings_for_getusermedia_audio_tracks: "audio", "sampleSize", positive = true, integer = false;
    mediastreamtrack_getsettings_latency_is_reported_by_getsettings_for_getusermedia_audio_tracks: "audio", "latency", positive = false, integer = false;
    mediastreamtrack_getsettings_channelcount_is_reported_by_getsettings_for_getusermedia_audio_tracks: "audio", "channelCount", positive = true, integer = false;
    mediastreamtrack_getsettings_width_is_reported_by_getsettings_for_getusermedia_video_tracks: "video", "width", positive = false, integer = true;
    mediastreamtrack_getsettings_height_is_reported_by_getsettings_for_getusermedia_video_tracks: "video", "height", positive = false, integer = true;
    mediastreamtrack_getsettings_aspectratio_is_reported_by_getsettings_for_getusermedia_video_tracks: "video", "aspectRatio", positive = false, integer = false;
    mediastreamtrack_getsettings_framerate_is_reported_by_getsettings_for_getusermedia_video_tracks: "video", "frameRate", positive = false, integer = false;
}

/// MediaStreamTrack-getSettings.https.html, "facingMode is reported by
/// getSettings() for getUserMedia() video tracks": when present, a string
/// among user, environment, left, right.
#[test]
fn mediastreamtrack_getsettings_facingmode_is_reported_by_getsettings_for_getusermedia_video_tracks()
 {
    let s = settings_of("video");
    if s.has_field("facingMode") {
        let f = s.get::<String>("facingMode").expect("a string");
        assert!(
            ["user", "environment", "left", "right"].contains(&f.as_str()),
            "{f}"
        );
    }
}

/// MediaStreamTrack-getSettings.https.html, "resizeMode is reported by
/// getSettings() for getUserMedia() video tracks": none or crop-and-scale.
#[test]
fn mediastreamtrack_getsettings_resizemode_is_reported_by_getsettings_for_getusermedia_video_tracks()
 {
    let s = settings_of("video");
    let r = s.get::<String>("resizeMode").expect("a string");
    assert!(["none", "crop-and-scale"].contains(&r.as_str()), "{r}");
}

/// MediaStreamTrack-getSettings.https.html, "Stopped tracks should expose
/// deviceId/groupId": after stop(), both tracks' settings keep them.
#[test]
fn mediastreamtrack_getsettings_stopped_tracks_should_expose_deviceid_groupid() {
    let g = gum_ok(r#"{"audio": true, "video": true}"#);
    for kind in ["audio", "video"] {
        let t = g.only(kind);
        let before = settings(&t);
        t.emit_by_name::<()>("stop", &[]);
        assert_eq!(nick(&t, "ready-state"), "ended");
        let after = settings(&t);
        for f in ["deviceId", "groupId"] {
            assert_eq!(
                after.get::<String>(f).ok(),
                before.get::<String>(f).ok(),
                "{kind} track {f}"
            );
        }
    }
}

// MediaStreamTrack-getCapabilities.https.html

/// The type WPT expects of a capability.
#[derive(Clone, Copy)]
enum Cap {
    Str,
    Bool,
    Num,
    /// Every value among these.
    EnumAny(&'static [&'static str]),
    /// Every value among these, and all of them.
    EnumAll(&'static [&'static str]),
}

const FACING: &[&str] = &["user", "environment", "left", "right"];
const RESIZE: &[&str] = &["none", "crop-and-scale"];

/// WPT's checks of one capability of a track's `capabilities` structure:
/// present; a string; a list of at most two booleans; a numeric range with
/// min <= max (a one-value range is the plain number in the structure, as
/// documented: GStreamer ranges need min < max; JSON gives `{min, max}`);
/// enum values among the valid ones (all of them for resizeMode).
fn check_track_capability(caps: &gst::Structure, prop: &str, cap: Cap) {
    let v = caps
        .value(prop)
        .unwrap_or_else(|_| panic!("{prop} property present: {caps}"));
    let strings = || -> Vec<String> {
        v.get::<gst::List>()
            .unwrap_or_else(|_| panic!("{prop}: a list"))
            .iter()
            .map(|x| x.get::<String>().unwrap())
            .collect()
    };
    match cap {
        Cap::Str => assert!(v.get::<String>().is_ok(), "{prop}: a string"),
        Cap::Bool => {
            let l = v.get::<gst::List>().expect("a list of booleans");
            assert!(l.len() <= 2, "{prop}");
            assert!(l.iter().all(|x| x.get::<bool>().is_ok()), "{prop}");
        }
        Cap::Num => {
            if let Ok(r) = v.get::<gst::IntRange<i32>>() {
                assert!(r.min() <= r.max(), "{prop}");
            } else if let Some((min, max)) = double_range(v) {
                assert!(min <= max, "{prop}");
            } else {
                assert!(number(caps, prop).is_some(), "{prop}: a number or a range");
            }
        }
        Cap::EnumAny(valid) | Cap::EnumAll(valid) => {
            let got = strings();
            for g in &got {
                assert!(valid.contains(&g.as_str()), "{prop}: {g}");
            }
            if let Cap::EnumAll(valid) = cap {
                for want in valid {
                    assert!(got.iter().any(|g| g == want), "{prop} Value: {want}");
                }
            }
        }
    }
}

/// The same checks on the JSON of an InputDeviceInfo's getCapabilities()
/// (`examples/enumerate_devices`): numbers are `{min, max}` there.
fn check_device_capability(caps: &Value, prop: &str, cap: Cap) {
    let v = caps
        .get(prop)
        .unwrap_or_else(|| panic!("{prop} property present: {caps}"));
    match cap {
        Cap::Str => assert!(v.is_string(), "{prop}"),
        Cap::Bool => {
            let a = v.as_array().expect("an array");
            assert!(a.len() <= 2 && a.iter().all(Value::is_boolean), "{prop}");
        }
        Cap::Num => {
            let o = v.as_object().expect("an object");
            assert_eq!(o.len(), 2, "{prop}: {v}");
            let (min, max) = (o["min"].as_f64().unwrap(), o["max"].as_f64().unwrap());
            assert!(min <= max, "{prop}");
        }
        Cap::EnumAny(valid) | Cap::EnumAll(valid) => {
            let a = v.as_array().expect("an array");
            for g in a {
                assert!(
                    valid.contains(&g.as_str().expect("a string")),
                    "{prop}: {g}"
                );
            }
            if let Cap::EnumAll(valid) = cap {
                for want in valid {
                    assert!(a.iter().any(|g| g == want), "{prop} Value: {want}");
                }
            }
        }
    }
}

/// The bounds of a `GstDoubleRange` (gstreamer-rs has no type for it).
fn double_range(v: &gst::glib::SendValue) -> Option<(f64, f64)> {
    use gst::glib::translate::{FromGlib, ToGlibPtr};
    // SAFETY: the type is checked before the range is read.
    unsafe {
        let ty = gst::glib::Type::from_glib(gst::ffi::gst_double_range_get_type());
        if v.type_() != ty {
            return None;
        }
        let p: *const gst::glib::gobject_ffi::GValue = v.to_glib_none().0;
        Some((
            gst::ffi::gst_value_get_double_range_min(p),
            gst::ffi::gst_value_get_double_range_max(p),
        ))
    }
}

fn track_capabilities(kind: &str) -> gst::Structure {
    let g = gum_ok(&format!(r#"{{"{kind}": true}}"#));
    let t = g.only(kind);
    let c = t.property::<gst::Structure>("capabilities");
    t.emit_by_name::<()>("stop", &[]);
    c
}

/// The capabilities of the first enumerated device of `kind`.
fn device_capabilities(kind: &str) -> Value {
    enumerate_devices()
        .into_iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("a {kind}"))["capabilities"]
        .clone()
}

macro_rules! capabilities {
    ($($name:ident: $what:literal, $prop:literal, $cap:expr;)*) => {$(
        #[doc = concat!("MediaStreamTrack-getCapabilities.https.html, \"Setup ", $what,
            " getCapabilities() test for ", $prop, "\" and its sub-tests (present, properly supported).")]
        #[test]
        fn $name() {
            match $what {
                "audio MediaStreamTrack" => check_track_capability(&track_capabilities("audio"), $prop, $cap),
                "video MediaStreamTrack" => check_track_capability(&track_capabilities("video"), $prop, $cap),
                "audio InputDeviceInfo" => check_device_capability(&device_capabilities("audioinput"), $prop, $cap),
                _ => check_device_capability(&device_capabilities("videoinput"), $prop, $cap),
            }
        }
    )*};
}

capabilities! {
    mediastreamtrack_getcapabilities_setup_audio_mediastreamtrack_getcapabilities_test_for_samplerate: "audio MediaStreamTrack", "sampleRate", Cap::Num;
    mediastreamtrack_getcapabilities_setup_audio_mediastreamtrack_getcapabilities_test_for_samplesize: "audio MediaStreamTrack", "sampleSize", Cap::Num;
    mediastreamtrack_getcapabilities_setup_audio_mediastreamtrack_getcapabilities_test_for_echocancellation: "audio MediaStreamTrack", "echoCancellation", Cap::Bool;
    mediastreamtrack_getcapabilities_setup_audio_mediastreamtrack_getcapabilities_test_for_autogaincontrol: "audio MediaStreamTrack", "autoGainControl", Cap::Bool;
    mediastreamtrack_getcapabilities_setup_audio_mediastreamtrack_getcapabilities_test_for_noisesuppression: "audio MediaStreamTrack", "noiseSuppression", Cap::Bool;
    mediastreamtrack_getcapabilities_setup_audio_mediastreamtrack_getcapabilities_test_for_latency: "audio MediaStreamTrack", "latency", Cap::Num;
    mediastreamtrack_getcapabilities_setup_audio_mediastreamtrack_getcapabilities_test_for_channelcount: "audio MediaStreamTrack", "channelCount", Cap::Num;
    mediastreamtrack_getcapabilities_setup_audio_mediastreamtrack_getcapabilities_test_for_deviceid: "audio MediaStreamTrack", "deviceId", Cap::Str;
    mediastreamtrack_getcapabilities_setup_audio_mediastreamtrack_getcapabilities_test_for_groupid: "audio MediaStreamTrack", "groupId", Cap::Str;
    mediastreamtrack_getcapabilities_setup_video_mediastreamtrack_getcapabilities_test_for_width: "video MediaStreamTrack", "width", Cap::Num;
    mediastreamtrack_getcapabilities_setup_video_mediastreamtrack_getcapabilities_test_for_height: "video MediaStreamTrack", "height", Cap::Num;
    mediastreamtrack_getcapabilities_setup_video_mediastreamtrack_getcapabilities_test_for_aspectratio: "video MediaStreamTrack", "aspectRatio", Cap::Num;
    mediastreamtrack_getcapabilities_setup_video_mediastreamtrack_getcapabilities_test_for_framerate: "video MediaStreamTrack", "frameRate", Cap::Num;
    mediastreamtrack_getcapabilities_setup_video_mediastreamtrack_getcapabilities_test_for_facingmode: "video MediaStreamTrack", "facingMode", Cap::EnumAny(FACING);
    mediastreamtrack_getcapabilities_setup_video_mediastreamtrack_getcapabilities_test_for_resizemode: "video MediaStreamTrack", "resizeMode", Cap::EnumAll(RESIZE);
    mediastreamtrack_getcapabilities_setup_video_mediastreamtrack_getcapabilities_test_for_deviceid: "video MediaStreamTrack", "deviceId", Cap::Str;
    mediastreamtrack_getcapabilities_setup_video_mediastreamtrack_getcapabilities_test_for_groupid: "video MediaStreamTrack", "groupId", Cap::Str;
    mediastreamtrack_getcapabilities_setup_audio_inputdeviceinfo_getcapabilities_test_for_samplerate: "audio InputDeviceInfo", "sampleRate", Cap::Num;
    mediastreamtrack_getcapabilities_setup_audio_inputdeviceinfo_getcapabilities_test_for_samplesize: "audio InputDeviceInfo", "sampleSize", Cap::Num;
    mediastreamtrack_getcapabilities_setup_audio_inputdeviceinfo_getcapabilities_test_for_echocancellation: "audio InputDeviceInfo", "echoCancellation", Cap::Bool;
    mediastreamtrack_getcapabilities_setup_audio_inputdeviceinfo_getcapabilities_test_for_autogaincontrol: "audio InputDeviceInfo", "autoGainControl", Cap::Bool;
    mediastreamtrack_getcapabilities_setup_audio_inputdeviceinfo_getcapabilities_test_for_noisesuppression: "audio InputDeviceInfo", "noiseSuppression", Cap::Bool;
    mediastreamtrack_getcapabilities_setup_audio_inputdeviceinfo_getcapabilities_test_for_latency: "audio InputDeviceInfo", "latency", Cap::Num;
    mediastreamtrack_getcapabilities_setup_audio_inputdeviceinfo_getcapabilities_test_for_channelcount: "audio InputDeviceInfo", "channelCount", Cap::Num;
    mediastreamtrack_getcapabilities_setup_audio_inputdeviceinfo_getcapabilities_test_for_deviceid: "audio InputDeviceInfo", "deviceId", Cap::Str;
    mediastreamtrack_getcapabilities_setup_audio_inputdeviceinfo_getcapabilities_test_for_groupid: "audio InputDeviceInfo", "groupId", Cap::Str;
    mediastreamtrack_getcapabilities_setup_video_inputdeviceinfo_getcapabilities_test_for_width: "video InputDeviceInfo", "width", Cap::Num;
    mediastreamtrack_getcapabilities_setup_video_inputdeviceinfo_getcapabilities_test_for_height: "video InputDeviceInfo", "height", Cap::Num;
    mediastreamtrack_getcapabilities_setup_video_inputdeviceinfo_getcapabilities_test_for_aspectratio: "video InputDeviceInfo", "aspectRatio", Cap::Num;
    mediastreamtrack_getcapabilities_setup_video_inputdeviceinfo_getcapabilities_test_for_framerate: "video InputDeviceInfo", "frameRate", Cap::Num;
    mediastreamtrack_getcapabilities_setup_video_inputdeviceinfo_getcapabilities_test_for_facingmode: "video InputDeviceInfo", "facingMode", Cap::EnumAny(FACING);
    mediastreamtrack_getcapabilities_setup_video_inputdeviceinfo_getcapabilities_test_for_resizemode: "video InputDeviceInfo", "resizeMode", Cap::EnumAll(RESIZE);
    mediastreamtrack_getcapabilities_setup_video_inputdeviceinfo_getcapabilities_test_for_deviceid: "video InputDeviceInfo", "deviceId", Cap::Str;
    mediastreamtrack_getcapabilities_setup_video_inputdeviceinfo_getcapabilities_test_for_groupid: "video InputDeviceInfo", "groupId", Cap::Str;
}

// MediaStream-finished-add.https.html, MediaStream-clone.https.html (the
// track-clone case): tracks added to a stream through its `sink_%u` pads.

/// A playing pipeline of its own holding `mediastream`s; every src pad of
/// each goes to a fakesink unless `route` takes it.
struct Streams {
    pipeline: gst::Pipeline,
}

impl Streams {
    fn new() -> Streams {
        init();
        Streams {
            pipeline: gst::Pipeline::new(),
        }
    }

    /// A `mediastream` (getUserMedia with `constraints`, or empty); its
    /// src pads go to fakesinks, the first through `tee` when given.
    fn stream(&self, constraints: Option<&str>, tee: Option<gst::Element>) -> gst::Element {
        let mut b = gst::ElementFactory::make("mediastream");
        if let Some(c) = constraints {
            b = b.property("constraints", c);
        }
        let ms = b.build().unwrap();
        self.pipeline.add(&ms).unwrap();
        let weak = self.pipeline.downgrade();
        ms.connect_pad_added(move |_, pad| {
            if pad.direction() != gst::PadDirection::Src {
                return;
            }
            let p = weak.upgrade().unwrap();
            match &tee {
                Some(tee) if !tee.static_pad("sink").unwrap().is_linked() => {
                    let q = gst::ElementFactory::make("queue").build().unwrap();
                    p.add(&q).unwrap();
                    q.sync_state_with_parent().unwrap();
                    pad.link(&tee.static_pad("sink").unwrap()).unwrap();
                    tee.link(&q).unwrap();
                    track::fakesink_for(&p, &q.static_pad("src").unwrap());
                }
                _ => {
                    track::fakesink_for(&p, pad);
                }
            }
        });
        ms
    }

    fn play(&self) {
        self.pipeline.set_state(gst::State::Playing).unwrap();
        let (ok, _, _) = self.pipeline.state(gst::ClockTime::from_seconds(10));
        ok.expect("playing");
    }

    /// A track of `kind` (`mediastreamsrc`) into a tee, whose branches
    /// may go to several streams.
    fn track_into_tee(&self, kind: &str) -> (gst::Element, gst::Element) {
        let src = gst::ElementFactory::make("mediastreamsrc")
            .property_from_str("kind", kind)
            .build()
            .unwrap();
        let tee = gst::ElementFactory::make("tee")
            .property("allow-not-linked", true)
            .build()
            .unwrap();
        self.pipeline.add_many([&src, &tee]).unwrap();
        src.link(&tee).unwrap();
        (src, tee)
    }

    /// stream.addTrack(the branch behind `src`): a new `sink_%u` of `ms`.
    fn add_track(&self, ms: &gst::Element, src: &gst::Pad) {
        let sink = ms.request_pad_simple("sink_%u").unwrap();
        src.link(&sink).unwrap();
    }
}

impl Drop for Streams {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

fn tracks_in(ms: &gst::Element, kind: &str) -> Vec<gst::Element> {
    track::children_made_by(ms, "mediastreamsrc")
        .into_iter()
        .filter(|t| nick(t, "kind") == kind)
        .collect()
}

/// MediaStream-finished-add.https.html, "Tests that adding a track to an
/// inactive MediaStream is allowed": the audio stream's only track stopped,
/// it is inactive and the video stream active; the video stream's track
/// added to the audio stream (through a tee: one track in two streams)
/// joins it; removing the ended audio track is allowed too.
#[test]
fn mediastream_finished_add_tests_that_adding_a_track_to_an_inactive_mediastream_is_allowed() {
    let s = Streams::new();
    let tee = gst::ElementFactory::make("tee").build().unwrap();
    s.pipeline.add(&tee).unwrap();
    let audio = s.stream(Some(r#"{"audio": true}"#), None);
    let video = s.stream(Some(r#"{"video": true}"#), Some(tee.clone()));
    s.play();
    let audio_track = tracks_in(&audio, "audio").remove(0);
    audio_track.emit_by_name::<()>("stop", &[]);
    track::wait_until("the audio stream inactive", || {
        !audio.property::<bool>("active")
    });
    assert!(video.property::<bool>("active"));
    let video_id = tracks_in(&video, "video")[0].property::<String>("track-id");
    let branch = tee.request_pad_simple("src_%u").unwrap();
    s.add_track(&audio, &branch);
    track::wait_until("the video track in the audio stream", || {
        audio
            .property::<Vec<String>>("track-ids")
            .contains(&video_id)
    });
    let audio_id = audio_track.property::<String>("track-id");
    assert!(audio.emit_by_name::<bool>("remove-track", &[&audio_id]));
    assert!(
        !audio
            .property::<Vec<String>>("track-ids")
            .contains(&audio_id)
    );
}

/// MediaStream-clone.https.html, "Tests that cloning MediaStreamTrack
/// objects works as expected": clones of a live stream's tracks are live
/// with new ids; stopping the originals ends them (the stream inactive) and
/// not the clones; the clones added to the stream make it active; stopping
/// every track makes it inactive and the clones ended.
#[test]
fn mediastream_clone_tests_that_cloning_mediastreamtrack_objects_works_as_expected() {
    let s = Streams::new();
    let ms = s.stream(Some(r#"{"video": true, "audio": true}"#), None);
    s.play();
    let audio = tracks_in(&ms, "audio").remove(0);
    let video = tracks_in(&ms, "video").remove(0);
    assert_eq!(nick(&audio, "ready-state"), "live");
    assert_eq!(nick(&video, "ready-state"), "live");
    assert!(ms.property::<bool>("active"));
    let audio_clone = audio.emit_by_name::<gst::Element>("clone", &[]);
    let video_clone = video.emit_by_name::<gst::Element>("clone", &[]);
    assert_eq!(nick(&audio_clone, "ready-state"), "live");
    assert_eq!(nick(&video_clone, "ready-state"), "live");
    assert_ne!(
        audio.property::<String>("track-id"),
        audio_clone.property::<String>("track-id")
    );
    assert_ne!(
        video.property::<String>("track-id"),
        video_clone.property::<String>("track-id")
    );
    audio.emit_by_name::<()>("stop", &[]);
    video.emit_by_name::<()>("stop", &[]);
    assert!(!ms.property::<bool>("active"));
    assert_eq!(nick(&audio, "ready-state"), "ended");
    assert_eq!(nick(&video, "ready-state"), "ended");
    assert_eq!(nick(&audio_clone, "ready-state"), "live");
    assert_eq!(nick(&video_clone, "ready-state"), "live");
    // stream.addTrack(audio_clone); stream.addTrack(video_clone).
    for clone in [&audio_clone, &video_clone] {
        s.pipeline.add(clone).unwrap();
        s.add_track(&ms, &clone.static_pad("src").unwrap());
        clone.sync_state_with_parent().unwrap();
    }
    track::wait_until("the clones in the stream", || {
        let ids = ms.property::<Vec<String>>("track-ids");
        ids.contains(&audio_clone.property::<String>("track-id"))
            && ids.contains(&video_clone.property::<String>("track-id"))
    });
    assert!(ms.property::<bool>("active"));
    for clone in [&audio_clone, &video_clone] {
        clone.emit_by_name::<()>("stop", &[]);
    }
    track::wait_until("the stream inactive", || !ms.property::<bool>("active"));
    assert_eq!(nick(&audio_clone, "ready-state"), "ended");
    assert_eq!(nick(&video_clone, "ready-state"), "ended");
}

/// Counts the emissions of `signal` (addtrack / removetrack) on `ms`.
fn count_signal(ms: &gst::Element, signal: &str) -> Arc<Mutex<usize>> {
    let n = Arc::new(Mutex::new(0));
    let c = n.clone();
    ms.connect(signal, false, move |_| {
        *c.lock().unwrap() += 1;
        None
    });
    n
}

fn count_id(ms: &gst::Element, id: &str) -> usize {
    ms.property::<Vec<String>>("track-ids")
        .iter()
        .filter(|i| *i == id)
        .count()
}

/// MediaStream-add-audio-track.https.html, "Tests that adding a track to a
/// MediaStream works as expected": an audio stream and a video stream,
/// each of one track; the audio track added to the video stream (through
/// a tee: one track in two streams) makes one audio track there; added
/// again, still one; no `addtrack` for the application's own change; the
/// video track added to the audio stream makes one video track there. The
/// streams are made of tracks (`new MediaStream([track])`), each track
/// through a tee of its own: a stream whose output fed the other stream
/// and back would make a loop of bins, which GStreamer cannot order for
/// state changes.
#[test]
fn mediastream_add_audio_track_tests_that_adding_a_track_to_a_mediastream_works_as_expected() {
    let s = Streams::new();
    let (audio_track, tee_a) = s.track_into_tee("audio");
    let (video_track, tee_v) = s.track_into_tee("video");
    let audio = s.stream(None, None);
    let video = s.stream(None, None);
    let audio_added = count_signal(&audio, "addtrack");
    let video_added = count_signal(&video, "addtrack");
    s.add_track(&audio, &tee_a.request_pad_simple("src_%u").unwrap());
    s.add_track(&video, &tee_v.request_pad_simple("src_%u").unwrap());
    s.play();
    let audio_id = audio_track.property::<String>("track-id");
    let video_id = video_track.property::<String>("track-id");
    track::wait_until("each stream with its own track", || {
        count_id(&audio, &audio_id) == 1 && count_id(&video, &video_id) == 1
    });
    assert_eq!(count_id(&video, &audio_id), 0);
    s.add_track(&video, &tee_a.request_pad_simple("src_%u").unwrap());
    track::wait_until("the audio track in the video stream", || {
        count_id(&video, &audio_id) == 1
    });
    // Again: the track is already in the stream's track set.
    s.add_track(&video, &tee_a.request_pad_simple("src_%u").unwrap());
    s.add_track(&audio, &tee_v.request_pad_simple("src_%u").unwrap());
    track::wait_until("the video track in the audio stream", || {
        count_id(&audio, &video_id) == 1
    });
    assert_eq!(count_id(&video, &audio_id), 1, "still one audio track");
    assert_eq!(*audio_added.lock().unwrap(), 0, "no addtrack for addTrack");
    assert_eq!(*video_added.lock().unwrap(), 0, "no addtrack for addTrack");
}

/// MediaStream-removetrack.https.html, "Tests that a removal from a
/// MediaStream works as expected": two tracks, one removed, the other
/// removed, none left; removing another stream's track does not throw; no
/// `removetrack` on either stream for the application's own changes.
#[test]
fn mediastream_removetrack_tests_that_a_removal_from_a_mediastream_works_as_expected() {
    let s = Streams::new();
    let stream = s.stream(Some(r#"{"video": true, "audio": true}"#), None);
    let stream2 = s.stream(Some(r#"{"audio": true}"#), None);
    let removed = count_signal(&stream, "removetrack");
    let removed2 = count_signal(&stream2, "removetrack");
    s.play();
    assert_eq!(stream.property::<Vec<String>>("track-ids").len(), 2);
    let v = tracks_in(&stream, "video")[0].property::<String>("track-id");
    let a = tracks_in(&stream, "audio")[0].property::<String>("track-id");
    assert!(stream.emit_by_name::<bool>("remove-track", &[&v]));
    assert_eq!(stream.property::<Vec<String>>("track-ids").len(), 1);
    assert!(stream.emit_by_name::<bool>("remove-track", &[&a]));
    assert_eq!(stream.property::<Vec<String>>("track-ids").len(), 0);
    let other = tracks_in(&stream2, "audio")[0].property::<String>("track-id");
    // Not in the stream: nothing happens (no exception).
    stream.emit_by_name::<bool>("remove-track", &[&other]);
    assert_eq!(
        *removed.lock().unwrap(),
        0,
        "no removetrack for removeTrack"
    );
    assert_eq!(*removed2.lock().unwrap(), 0);
}

/// MediaStream-clone.https.html, "Tests that cloning MediaStream objects
/// works as expected": a clone has new track ids; stopping the original's
/// tracks leaves the clone active and live; a clone of a stream with an
/// ended track has that track ended; a clone of a stream whose tracks all
/// ended is inactive; every clone's ids differ.
#[test]
fn mediastream_clone_tests_that_cloning_mediastream_objects_works_as_expected() {
    let s = Streams::new();
    let stream = s.stream(Some(r#"{"video": true, "audio": true}"#), None);
    s.play();
    let clone_of = |ms: &gst::Element| -> gst::Element {
        let c = ms.emit_by_name::<gst::Element>("clone", &[]);
        let weak = s.pipeline.downgrade();
        c.connect_pad_added(move |_, pad| {
            if pad.direction() == gst::PadDirection::Src {
                track::fakesink_for(&weak.upgrade().unwrap(), pad);
            }
        });
        s.pipeline.add(&c).unwrap();
        c.sync_state_with_parent().unwrap();
        track::wait_until("the clone's tracks", || {
            c.property::<Vec<String>>("track-ids").len() == 2
        });
        c
    };
    let id = |ms: &gst::Element, kind: &str| tracks_in(ms, kind)[0].property::<String>("track-id");
    let state = |ms: &gst::Element, kind: &str| nick(&tracks_in(ms, kind)[0], "ready-state");
    let clone1 = clone_of(&stream);
    assert_eq!(tracks_in(&clone1, "audio").len(), 1);
    assert_eq!(tracks_in(&clone1, "video").len(), 1);
    assert_ne!(id(&stream, "audio"), id(&clone1, "audio"));
    assert_ne!(id(&stream, "video"), id(&clone1, "video"));
    for t in track::children_made_by(&stream, "mediastreamsrc") {
        t.emit_by_name::<()>("stop", &[]);
    }
    assert!(!stream.property::<bool>("active"));
    assert!(clone1.property::<bool>("active"));
    assert_eq!(state(&clone1, "audio"), "live");
    assert_eq!(state(&clone1, "video"), "live");
    tracks_in(&clone1, "audio")[0].emit_by_name::<()>("stop", &[]);
    assert!(clone1.property::<bool>("active"));
    assert_eq!(state(&clone1, "audio"), "ended");
    let clone2 = clone_of(&clone1);
    assert!(clone2.property::<bool>("active"));
    assert_eq!(state(&clone2, "audio"), "ended");
    assert_eq!(state(&clone2, "video"), "live");
    tracks_in(&clone1, "video")[0].emit_by_name::<()>("stop", &[]);
    tracks_in(&clone2, "video")[0].emit_by_name::<()>("stop", &[]);
    let clone3 = clone_of(&clone2);
    assert!(!clone3.property::<bool>("active"));
    assert_eq!(state(&clone3, "audio"), "ended");
    assert_eq!(state(&clone3, "video"), "ended");
    for kind in ["audio", "video"] {
        assert_ne!(id(&clone1, kind), id(&clone2, kind));
        assert_ne!(id(&clone2, kind), id(&clone3, kind));
        assert_ne!(id(&clone1, kind), id(&clone3, kind));
    }
}

// ---------------------------------------------------------------------
// docs/conformance.md against the tests (not a WPT case)
// ---------------------------------------------------------------------

/// The `#[test]` functions of a test file: (name, ignored).
fn tests_of(source: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut attrs: Vec<&str> = Vec::new();
    for line in source.lines() {
        let l = line.trim();
        if l.starts_with("#[") {
            attrs.push(l);
            continue;
        }
        if let Some(rest) = l.strip_prefix("fn ")
            && attrs.contains(&"#[test]")
        {
            let name = rest.split('(').next().unwrap().to_owned();
            if !name.starts_with('$') {
                out.push((name, attrs.iter().any(|a| a.starts_with("#[ignore"))));
            }
        }
        // A macro's `fn $name()` follows `#[test]` too: named by its invocation.
        if !l.starts_with("#[") && !l.starts_with("///") && !l.starts_with("#[doc") {
            attrs.clear();
        }
    }
    out
}

/// docs/conformance.md names every test of the two WPT files, and only
/// those; a test the doc says passes is not ignored and one it says fails
/// today is; the README's figures are the doc's.
#[test]
fn docs_conformance_md_names_every_wpt_test_with_its_result() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/conformance.md")).unwrap();
    let mut tests: std::collections::BTreeMap<String, bool> = Default::default();
    for file in ["wpt_mediacapture_streams.rs", "wpt_mediacapture_record.rs"] {
        let src = std::fs::read_to_string(root.join("tests").join(file)).unwrap();
        tests.extend(tests_of(&src));
        // The macro-made tests: `name: args;` lines inside the invocations.
        for line in src.lines() {
            let l = line.trim();
            if let Some((name, _)) = l.split_once(": ")
                && (name.starts_with("mediadevices_") || name.starts_with("mediastreamtrack_"))
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                tests.insert(name.to_owned(), false);
            }
        }
    }
    tests.remove("docs_conformance_md_names_every_wpt_test_with_its_result");
    let mut listed: std::collections::BTreeMap<String, String> = Default::default();
    for row in doc.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        if cells.len() == 5
            && let Some(name) = cells[3].strip_prefix('`').and_then(|c| c.strip_suffix('`'))
        {
            listed.insert(name.to_owned(), cells[4].to_owned());
        }
    }
    for (name, ignored) in &tests {
        let result = listed
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not in docs/conformance.md"));
        if *ignored {
            assert!(result.starts_with("fails today"), "{name}: {result}");
        } else {
            assert!(result.starts_with("passes"), "{name}: {result}");
        }
    }
    assert_eq!(tests.len(), listed.len());
    assert!(tests.len() > 150, "{} tests found", tests.len());
    for name in listed.keys() {
        assert!(
            tests.contains_key(name),
            "docs/conformance.md names {name}, which is no test"
        );
    }
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for part in doc.split("/: **").skip(1) {
        let figure = part.split(" applicable").next().unwrap();
        assert!(
            readme.contains(&format!("**{figure}")),
            "README lacks {figure}"
        );
    }
}

/// MediaStream-idl.https.html, "Tests that a MediaStream constructor follows
/// the algorithm set in the spec": `new MediaStream(...)` is an empty
/// `mediastream` whose `sink_%u` pads take the tracks (a track in several
/// streams through a tee per track, no queue, so that its end reaches
/// every stream at once). Ids differ from the original's; a stream made
/// from another has its tracks; a stopped clone ends at once without
/// `ended`; an ended track joins a stream and a stream of ended tracks only
/// is inactive; stopping the original's tracks makes every stream inactive
/// at once.
#[test]
fn mediastream_idl_tests_that_a_mediastream_constructor_follows_the_algorithm_set_in_the_spec() {
    let s = Streams::new();
    let p = s.pipeline.clone();
    // The original stream: each track into a tee, and on to a fakesink.
    let tees: Arc<Mutex<Vec<(String, gst::Element)>>> = Default::default();
    let stream = gst::ElementFactory::make("mediastream")
        .property("constraints", r#"{"video": true, "audio": true}"#)
        .build()
        .unwrap();
    p.add(&stream).unwrap();
    let (t, weak) = (tees.clone(), p.downgrade());
    stream.connect_pad_added(move |_, pad| {
        if pad.direction() != gst::PadDirection::Src {
            return;
        }
        let p = weak.upgrade().unwrap();
        let tee = gst::ElementFactory::make("tee").build().unwrap();
        track::add_fed_by(&p, &tee, pad);
        let branch = tee.request_pad_simple("src_%u").unwrap();
        track::fakesink_for(&p, &branch);
        let kind = if pad.name().starts_with("audio") {
            "audio"
        } else {
            "video"
        };
        t.lock().unwrap().push((kind.to_owned(), tee));
    });
    s.play();
    let tee = |kind: &str| {
        tees.lock()
            .unwrap()
            .iter()
            .find(|(k, _)| k == kind)
            .unwrap()
            .1
            .clone()
    };
    let empty = || {
        let ms = s.stream(None, None);
        ms.sync_state_with_parent().unwrap();
        ms
    };
    let add = |ms: &gst::Element, kind: &str| {
        s.add_track(ms, &tee(kind).request_pad_simple("src_%u").unwrap());
    };
    let has = |ms: &gst::Element, id: &str| {
        track::wait_until(&format!("the track {id} in the stream"), || {
            count_id(ms, id) == 1
        });
    };
    let audio1 = tracks_in(&stream, "audio").remove(0);
    let video = tracks_in(&stream, "video").remove(0);
    let (a1, v) = (
        audio1.property::<String>("track-id"),
        video.property::<String>("track-id"),
    );
    let stream1 = empty();
    assert_ne!(
        stream.property::<String>("id"),
        stream1.property::<String>("id")
    );
    let stream2 = empty();
    assert_ne!(
        stream.property::<String>("id"),
        stream2.property::<String>("id")
    );
    add(&stream2, "audio");
    add(&stream2, "video");
    has(&stream2, &a1);
    has(&stream2, &v);
    let stream4 = empty();
    add(&stream4, "audio");
    has(&stream4, &a1);
    // audioTrack2 = audioTrack1.clone() (into a tee of its own, as the
    // original's tracks), stopped: ended at once, no `ended`.
    let audio2 = audio1.emit_by_name::<gst::Element>("clone", &[]);
    let tee2 = gst::ElementFactory::make("tee").build().unwrap();
    p.add_many([&audio2, &tee2]).unwrap();
    audio2.link(&tee2).unwrap();
    track::fakesink_for(&p, &tee2.request_pad_simple("src_%u").unwrap());
    tee2.sync_state_with_parent().unwrap();
    audio2.sync_state_with_parent().unwrap();
    let ended = track::signal_channel(&audio2, "ended");
    audio2.emit_by_name::<()>("stop", &[]);
    assert_eq!(nick(&audio2, "ready-state"), "ended");
    let a2 = audio2.property::<String>("track-id");
    // stream3 = new MediaStream([audioTrack2, videoTrack]): the ended track
    // joins too.
    let stream3 = empty();
    s.add_track(&stream3, &tee2.request_pad_simple("src_%u").unwrap());
    add(&stream3, "video");
    has(&stream3, &v);
    has(&stream3, &a2);
    // stream5 = new MediaStream([audioTrack2]): it, and inactive.
    let stream5 = empty();
    s.add_track(&stream5, &tee2.request_pad_simple("src_%u").unwrap());
    has(&stream5, &a2);
    assert!(!stream5.property::<bool>("active"));
    audio1.emit_by_name::<()>("stop", &[]);
    assert_eq!(nick(&audio1, "ready-state"), "ended");
    video.emit_by_name::<()>("stop", &[]);
    assert_eq!(nick(&video, "ready-state"), "ended");
    for (name, ms) in [
        ("the original", &stream),
        ("stream1", &stream1),
        ("stream2", &stream2),
        ("stream3", &stream3),
        ("stream4", &stream4),
    ] {
        assert!(!ms.property::<bool>("active"), "{name} is inactive at once");
    }
    assert!(ended.try_recv().is_err(), "no ended for stop()");
}
