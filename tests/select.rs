// SPDX-License-Identifier: MPL-2.0

//! Selection behaviour the vectors cannot show: which native mode is used,
//! applyConstraints on one device, error messages, explain, structures.

mod common;

use gstmediastream::constraints::caps::{modes_from_caps, settings_structure};
use gstmediastream::constraints::{
    DeviceInfo, DeviceKind, Fraction, Kind, NativeMode, SelectOptions, Settings, StreamConstraints,
    TrackConstraints, select_on_device, select_stream, select_track,
};
use std::str::FromStr;

fn video(devices: &[DeviceInfo], json: &str) -> (usize, usize, Settings) {
    let c = TrackConstraints::parse(json).unwrap();
    let s = select_track(Kind::Video, &c, devices, &common::opts()).unwrap();
    (s.device_index, s.mode_index, s.settings)
}

fn mode(devices: &[DeviceInfo], d: usize, m: usize) -> String {
    devices[d].modes[m].to_string()
}

/// The webcam's selection for `width` x `height` (the webcam devices too).
fn webcam(width: u32, height: u32) -> (Vec<DeviceInfo>, usize, usize, Settings) {
    let devs = common::devices("webcam");
    let (d, m, s) = video(
        &devs,
        &format!(r#"{{"deviceId": "webcam", "width": {width}, "height": {height}}}"#),
    );
    (devs, d, m, s)
}

#[test]
fn step8_raw_before_encoded() {
    let (devs, d, m, s) = webcam(640, 480);
    assert_eq!(devs[d].device_id, "webcam");
    assert_eq!(mode(&devs, d, m), "video/x-raw 640x480 30/1 (structure 3)");
    let Settings::Video(v) = s else { panic!() };
    assert_eq!((v.width, v.height, v.frame_rate), (640, 480, 30.0));
}

#[test]
fn step1_prefers_mjpeg_at_full_rate_over_slow_raw() {
    let (devs, d, m, _) = webcam(1920, 1080);
    assert_eq!(mode(&devs, d, m), "image/jpeg 1920x1080 30/1 (structure 0)");
}

#[test]
fn step8_earlier_caps_structure() {
    gst::init().unwrap();
    let caps = gst::Caps::from_str(
        "video/x-raw,format=NV12,width=640,height=480,framerate=30/1; \
         video/x-raw,format=I420,width=640,height=480,framerate=30/1",
    )
    .unwrap();
    let mut devs = common::devices("two-cameras");
    devs[0].modes = modes_from_caps(&caps);
    let (_, m, _) = video(&devs, r#"{"deviceId": {"exact": "vga"}}"#);
    assert_eq!(m, 0);
}

#[test]
fn step7_smaller_native_mode_for_crop() {
    let devs = common::devices("builtin");
    let (d, m, s) = video(&devs, r#"{"width": 1000}"#);
    assert_eq!(devs[d].device_id, "fake-camera-front");
    assert_eq!(
        mode(&devs, d, m),
        "video/x-raw 1280x720 [5/1,30/1] (structure 0)"
    );
    let Settings::Video(v) = s else { panic!() };
    assert_eq!((v.width, v.height), (1000, 563));
}

fn size(devices: &[DeviceInfo], json: &str) -> (u32, u32, String) {
    let (d, m, s) = video(devices, json);
    let Settings::Video(v) = s else { panic!() };
    (v.width, v.height, mode(devices, d, m))
}

/// The size `json` selects, and the native mode it comes from.
fn assert_size(devices: &[DeviceInfo], json: &str, want: (u32, u32, &str)) {
    assert_eq!(
        size(devices, json),
        (want.0, want.1, want.2.to_string()),
        "{json}"
    );
}

const HD: &str = "video/x-raw 1280x720 [5/1,30/1] (structure 0)";
const VGA: &str = "video/x-raw 640x480 [5/1,30/1] (structure 1)";

#[test]
fn step4_counts_in_whole_pixels() {
    let devs = common::devices("builtin");
    // 106 * 16/9 = 188.4: the rounded 16:9 width, not 176x99 (exact 16:9).
    assert_size(&devs, r#"{"height": {"max": 106}}"#, (188, 106, HD));
    // 1000 * 9/16 = 562.5, rounded up; 563 * 16/9 rounds to 1001, so a
    // free width takes 1001 (both sides rounded partners), a pinned one 1000.
    assert_size(&devs, r#"{"width": {"exact": 1000}}"#, (1000, 563, HD));
    assert_size(
        &devs,
        r#"{"width": {"min": 1000}, "resizeMode": "crop-and-scale"}"#,
        (1001, 563, HD),
    );
    // Across native modes the shape still counts: 640x360 is cut from the
    // 16:9 mode, not cropped out of 4:3 (step 7 would take the smaller).
    assert_size(
        &devs,
        r#"{"width": {"exact": 640}, "height": {"exact": 360}}"#,
        (640, 360, HD),
    );
    assert_size(&devs, r#"{"width": {"exact": 480}}"#, (480, 360, VGA));
}

#[test]
fn step4_takes_the_exact_ratio_under_an_aspect_constraint() {
    // A rounded native shape can be an accident of scale (3x2 is 4:3 in
    // whole pixels, 356x200 is 16:9): under an aspectRatio constraint the
    // ratio is compared exactly, so the size is not lost to it.
    let devs = common::devices("builtin");
    assert_size(&devs, r#"{"aspectRatio": {"exact": 1.5}}"#, (639, 426, VGA));
    assert_size(&devs, r#"{"aspectRatio": 1.78}"#, (801, 450, HD));
    assert_size(&devs, r#"{"aspectRatio": {"min": 1.78}}"#, (801, 450, HD));
    // An advanced set that applies counts too.
    assert_eq!(
        size(
            &devs,
            r#"{"height": {"max": 106}, "advanced": [{"aspectRatio": {"min": 1.5}}]}"#
        )
        .0,
        176
    );
}

#[test]
fn step4_finds_the_closest_ratio_inside_an_aspect_bound() {
    // Issue 22: no native mode is as narrow as 0.942, so a crop of the
    // square 112x112 mode wins, and step 4 wants the ratio nearest 1 at
    // most 0.942 that fits in 112x112: 81/86 (0.94186), far from any
    // value the constraints name (96x102, 0.94118, was taken before).
    let devs = common::devices("webkit-mock");
    const SQUARE: &str = "video/x-raw 112x112 [5/1,30/1] (structure 2)";
    assert_size(
        &devs,
        r#"{"frameRate": 30, "aspectRatio": {"max": 0.942}, "resizeMode": "none"}"#,
        (81, 86, SQUARE),
    );
    // The same bound from an advanced set that applies.
    assert_size(
        &devs,
        r#"{"advanced": [{"aspectRatio": {"max": 0.942}}]}"#,
        (81, 86, SQUARE),
    );
    // At most 60 wide, the closest ratio is 16/17, and step 5 takes its
    // largest multiple (nearest 640x480).
    assert_size(
        &devs,
        r#"{"aspectRatio": {"max": 0.942}, "width": {"max": 60}}"#,
        (48, 51, SQUARE),
    );
}

#[test]
fn step1_best_size_along_a_ratio_bound() {
    // Ideals 23x7 on a 22x9 camera, ratio at most 2.4: the height 7 allows
    // 16 wide (distance 7/23 + 0), the height 8 allows 19 (4/23 + 1/8,
    // smaller), a size no constraint names.
    gst::init().unwrap();
    let caps =
        gst::Caps::from_str("video/x-raw,format=I420,width=22,height=9,framerate=30/1").unwrap();
    let mut devs = common::devices("two-cameras");
    devs.truncate(1);
    devs[0].modes = modes_from_caps(&caps);
    let (_, _, s) = video(
        &devs,
        r#"{"width": 23, "height": 7, "aspectRatio": {"min": 1, "max": 2.4}}"#,
    );
    let Settings::Video(v) = s else { panic!() };
    assert_eq!((v.width, v.height), (19, 8));
}

#[test]
fn ten_thousand_advanced_sets() {
    // Issue 22: step 2 over 10000 sets, most skipped (no camera is 10000
    // wide; a device other than the one chosen), most of the others
    // narrowing the frame rate, then a size only a crop gives.
    let devs = common::devices("webkit-mock");
    let sets: Vec<String> = (0..10_000)
        .map(|i| match i {
            7777 => r#"{"deviceId": "mock-video-2"}"#.to_owned(),
            8000 => r#"{"deviceId": "mock-video-1"}"#.to_owned(),
            9999 => r#"{"width": 1000, "height": 500}"#.to_owned(),
            i if i < 5000 => format!(r#"{{"width": {{"exact": {}}}}}"#, 10_000 + i),
            i => format!(
                r#"{{"frameRate": {{"min": {}}}}}"#,
                (i - 5000) as f64 * 0.012
            ),
        })
        .collect();
    let json = format!(r#"{{"advanced": [{}]}}"#, sets.join(", "));
    let c = TrackConstraints::parse(&json).unwrap();
    let opts = SelectOptions {
        explain: true,
        ..common::opts()
    };
    let s = select_track(Kind::Video, &c, &devs, &opts).unwrap();
    let Settings::Video(v) = &s.settings else {
        panic!()
    };
    assert_eq!(
        (
            v.device_id.as_str(),
            v.width,
            v.height,
            v.resize_mode.as_str()
        ),
        ("mock-video-2", 1000, 500, "crop-and-scale")
    );
    // The last minimum, 4998 * 0.012 (step 5's default 30 is below it).
    assert!((v.frame_rate - 59.976).abs() < 1e-9, "{}", v.frame_rate);
    assert_eq!(
        mode(&devs, s.device_index, s.mode_index),
        "video/x-raw 1280x720 [3/1,120/1] (structure 2)"
    );
    let applied = s.explain.unwrap()["advancedSetsApplied"].clone();
    let applied: Vec<bool> = serde_json::from_value(applied).unwrap();
    let skipped: Vec<usize> = (0..applied.len()).filter(|&i| !applied[i]).collect();
    assert_eq!(applied.len(), 10_000);
    assert_eq!(skipped.len(), 5001);
    assert!(skipped[..5000].iter().copied().eq(0..5000));
    assert_eq!(skipped[5000], 8000);
}

#[test]
fn device_order_beats_raw_mode() {
    // The front camera's 1920x1080 is MJPEG only; it is still the default
    // device, and step 2 comes before step 8.
    let devs = common::devices("builtin");
    let (d, m, _) = video(
        &devs,
        r#"{"width": {"exact": 1920}, "height": {"exact": 1080}, "resizeMode": {"exact": "none"}}"#,
    );
    assert_eq!(devs[d].device_id, "fake-camera-front");
    let NativeMode::Video(v) = &devs[d].modes[m] else {
        panic!()
    };
    assert!(v.is_encoded());
}

#[test]
fn frame_rate_fractions() {
    let devs = common::devices("builtin");
    let rate = |json: &str| match video(&devs, json).2 {
        Settings::Video(v) => v.frame_rate_fraction,
        _ => unreachable!(),
    };
    assert_eq!(rate(r#"{"frameRate": 24}"#), Fraction::new(24, 1));
    assert_eq!(rate(r#"{"frameRate": 29.97}"#), Fraction::new(2997, 100));
    assert_eq!(
        rate(r#"{"frameRate": {"exact": 60}}"#),
        Fraction::new(60, 1)
    );
}

#[test]
fn apply_constraints_on_one_device() {
    let devs = common::devices("builtin");
    let front = &devs[0];
    let c =
        TrackConstraints::parse(r#"{"width": {"exact": 640}, "height": {"exact": 360}}"#).unwrap();
    let s = select_on_device(Kind::Video, &c, front, &common::opts()).unwrap();
    let Settings::Video(v) = s.settings else {
        panic!()
    };
    assert_eq!(
        (v.width, v.height, v.resize_mode.as_str()),
        (640, 360, "crop-and-scale")
    );
    assert_eq!(v.device_id, "fake-camera-front");

    // 3840 exists on the back camera only: getUserMedia finds it, the front
    // track cannot switch to it.
    let c = TrackConstraints::parse(r#"{"width": {"exact": 3840}}"#).unwrap();
    assert!(select_track(Kind::Video, &c, &devs, &common::opts()).is_ok());
    let e = select_on_device(Kind::Video, &c, front, &common::opts()).unwrap_err();
    assert_eq!(e.name(), "OverconstrainedError");
    assert_eq!(e.constraint(), Some("width"));
    assert_eq!(
        e.to_string(),
        "OverconstrainedError: width: the device 'Fake front camera' cannot deliver width = 3840 (available: 1 to 1920)"
    );
    let e = select_on_device(
        Kind::Audio,
        &TrackConstraints::default(),
        front,
        &common::opts(),
    )
    .unwrap_err();
    assert_eq!(e.name(), "NotFoundError");
}

#[test]
fn error_messages_name_what_failed() {
    let devs = common::devices("chrome-fake");
    let err = |json: &str| {
        common::gum(&devs, json)["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        err(r#"{"video": {"width": {"min": 100000000}}}"#),
        "width: no device can deliver width >= 100000000 (largest: 3840)"
    );
    assert_eq!(
        err(r#"{"video": {"width": {"exact": 639}, "resizeMode": {"exact": "none"}}}"#),
        "width: no device can deliver width = 639 together with resizeMode = \"none\""
    );
    assert_eq!(
        err(r#"{"video": {"frameRate": {"max": 0}}}"#),
        "frameRate: no device can deliver frameRate <= 0 (smallest: above 0)"
    );
    assert_eq!(
        err(r#"{"video": {"facingMode": {"exact": ["left", "right"]}}}"#),
        "facingMode: no device can deliver facingMode one of [\"left\", \"right\"] (no device reports a facingMode)"
    );
    assert_eq!(
        err(r#"{"audio": {"sampleRate": {"min": 96000, "max": 192000}}}"#),
        "sampleRate: no device can deliver sampleRate between 96000 and 192000 (available: 48000)"
    );
    let builtin = common::devices("builtin");
    assert_eq!(
        common::gum(
            &builtin,
            r#"{"video": {"width": {"min": 3000}, "facingMode": {"exact": "user"}, "frameRate": {"min": 60}}}"#
        )["error"]["message"],
        "facingMode: no device can deliver facingMode = \"user\" together with width >= 3000"
    );
    let mic_only = common::devices("microphone-only");
    assert_eq!(
        common::gum(&mic_only, r#"{"video": true}"#)["error"]["message"],
        "no videoinput device found (requested video)"
    );
}

#[test]
fn messages_cut_a_long_value() {
    // Issue 22: a 1 MB value or input is quoted as an excerpt with its
    // length, and the message still says where and what.
    let devs = common::devices("chrome-fake");
    let big = "x".repeat(1 << 20);
    let cut = format!("\"{}…\" (1048576 characters)", "x".repeat(100));
    let short = |e: &gstmediastream::constraints::ConstraintError| {
        assert!(e.message().len() <= 300, "{} bytes", e.message().len());
        e.message().to_owned()
    };
    let gum = |json: String| {
        StreamConstraints::parse(&json).and_then(|c| select_stream(&c, &devs, &common::opts()))
    };

    let e = gum(format!(
        r#"{{"video": {{"deviceId": {{"exact": "{big}"}}}}}}"#
    ))
    .unwrap_err();
    assert_eq!(e.name(), "OverconstrainedError");
    // Over 500 characters no id can match (docs/constraints.md): said with
    // the length, not the value.
    assert_eq!(
        short(&e),
        "deviceId: a value of 1048576 characters (at most 500: no device has such an id)"
    );
    assert_eq!(e.constraint(), Some("deviceId"));
    let e = gum(format!(
        r#"{{"video": {{"facingMode": {{"exact": ["{big}", "{big}y", "z"]}}}}}}"#
    ))
    .unwrap_err();
    assert_eq!(
        short(&e),
        format!(
            "facingMode: no device can deliver facingMode one of [{cut}, and 2 more] (no device reports a facingMode)"
        )
    );

    let e = gum(format!(r#"{{"video": {{"width": {{"min": "{big}"}}}}}}"#)).unwrap_err();
    assert_eq!(e.name(), "TypeError");
    assert_eq!(
        short(&e),
        "video.width.min: expected a non-negative integer, got a string"
    );
    let e = gum(format!(
        r#"{{"video": {{"height": 1{}}}}}"#,
        "0".repeat(300)
    ))
    .unwrap_err();
    assert_eq!(
        short(&e),
        "video.height: expected a non-negative integer (0 to 4294967295), got 1e300"
    );
    // Malformed JSON 1 MB long: the position, not the input.
    let e = gum(format!("{{\"video\": {{\"deviceId\": \"{big}\",}}}}")).unwrap_err();
    assert_eq!(e.name(), "TypeError");
    assert_eq!(
        short(&e),
        "malformed JSON at line 1, column 1048603: trailing comma"
    );

    // The mediastream:// URI quotes its parameters the same way.
    let e =
        gstmediastream::constraints_from_uri(&format!("mediastream://?video={big}")).unwrap_err();
    assert!(e.len() <= 300, "{} bytes", e.len());
    assert!(
        e.starts_with(&format!(
            "video: '{}… (1048576 characters)' is not true, false",
            "x".repeat(100)
        )),
        "{e}"
    );
}

#[test]
fn device_without_usable_modes_is_not_found() {
    gst::init().unwrap();
    let mut devs = common::devices("two-cameras");
    for d in &mut devs {
        d.modes = modes_from_caps(&gst::Caps::from_str("video/x-raw,format=I420").unwrap());
        assert!(d.modes.is_empty());
    }
    let c = TrackConstraints::default();
    let e = select_track(Kind::Video, &c, &devs, &common::opts()).unwrap_err();
    assert_eq!(e.name(), "NotFoundError");
    assert!(e.message().contains("usable video mode"), "{e}");
}

#[test]
fn processing_flags_need_webrtcdsp() {
    let devs = common::devices("builtin");
    let c =
        StreamConstraints::parse(r#"{"audio": {"echoCancellation": {"exact": true}}}"#).unwrap();
    let without = SelectOptions {
        audio_processing: false,
        explain: false,
    };
    let e = select_stream(&c, &devs, &without).unwrap_err();
    assert_eq!(e.constraint(), Some("echoCancellation"));
    assert!(select_stream(&c, &devs, &common::opts()).is_ok());
}

#[test]
fn explain_names_the_deciding_step() {
    let devs = common::devices("two-cameras");
    let c = StreamConstraints::parse(r#"{"video": true}"#).unwrap();
    let opts = SelectOptions {
        audio_processing: true,
        explain: true,
    };
    let s = select_stream(&c, &devs, &opts).unwrap();
    let e = s.video.unwrap().explain.unwrap();
    assert_eq!(
        e["decidedBy"],
        "step 3: resizeMode \"none\" before \"crop-and-scale\""
    );
    assert_eq!(e["best"][0]["settings"]["deviceId"], "vga");
    assert_eq!(e["best"][0]["distance"], 0.0);
    let c = StreamConstraints::parse(r#"{"video": {"height": {"exact": 360}}}"#).unwrap();
    let e = select_stream(&c, &devs, &opts)
        .unwrap()
        .video
        .unwrap()
        .explain
        .unwrap();
    assert_eq!(
        e["decidedBy"],
        "step 2: earlier device (default first, then listed order)"
    );
    // Step 4's value: sides that are rounded native-ratio partners, and the
    // deviation; only the deviation under an aspectRatio constraint.
    let explain = |json: &str| {
        let c = StreamConstraints::parse(json).unwrap();
        select_stream(&c, &common::devices("builtin"), &opts)
            .unwrap()
            .video
            .unwrap()
            .explain
            .unwrap()
    };
    let close = |v: &serde_json::Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-12;
    let e = explain(r#"{"video": {"width": {"exact": 1000}}}"#);
    let fit = &e["best"][0]["aspectFit"];
    assert_eq!(e["best"][0]["settings"]["height"], 563);
    assert_eq!(fit["matchedSides"], 1);
    assert!(
        close(&fit["deviation"], 1.0 - (1000.0 / 563.0) / (16.0 / 9.0)),
        "{fit}"
    );
    let e = explain(r#"{"video": {"height": {"max": 106}}}"#);
    assert_eq!(
        e["best"][0]["aspectFit"],
        serde_json::json!({"matchedSides": 2, "deviation": 0.0})
    );
    let e = explain(r#"{"video": {"aspectRatio": {"exact": 1.5}}}"#);
    let fit = &e["best"][0]["aspectFit"];
    assert_eq!(fit.as_object().unwrap().len(), 1, "{fit}");
    assert!(close(&fit["deviation"], (1.5 - 4.0 / 3.0) / 1.5), "{fit}");
    let e = explain(r#"{"video": {"deviceId": "fake-camera-back", "width": 1920}}"#);
    assert!(e["best"][0]["aspectFit"].is_null(), "{e}");
}

#[test]
fn settings_structure_has_w3c_fields() {
    let devs = common::devices("builtin");
    let (_, _, s) = video(&devs, r#"{"width": 1000}"#);
    let st = settings_structure(&s);
    assert_eq!(st.name(), "MediaTrackSettings");
    assert_eq!(st.get::<i32>("width").unwrap(), 1000);
    assert_eq!(st.get::<i32>("height").unwrap(), 563);
    assert_eq!(st.get::<f64>("frameRate").unwrap(), 30.0);
    assert_eq!(st.get::<f64>("aspectRatio").unwrap(), 1.7761989343);
    assert_eq!(st.get::<&str>("resizeMode").unwrap(), "crop-and-scale");
    assert_eq!(st.get::<&str>("facingMode").unwrap(), "user");
}

#[test]
fn capabilities_of_builtin_devices() {
    let devs = common::devices("builtin");
    let caps: Vec<_> = devs
        .iter()
        .filter(|d| d.kind != DeviceKind::AudioOutput)
        .map(|d| gstmediastream::constraints::capabilities(d, true))
        .collect();
    assert_eq!(caps[0]["width"], serde_json::json!({"min": 1, "max": 1920}));
    assert_eq!(
        caps[0]["frameRate"],
        serde_json::json!({"min": 0.0, "max": 30.0})
    );
    assert_eq!(
        caps[1]["height"],
        serde_json::json!({"min": 1, "max": 2160})
    );
    assert_eq!(caps[1]["facingMode"], serde_json::json!(["environment"]));
    assert_eq!(
        caps[2]["sampleRate"],
        serde_json::json!({"min": 48000, "max": 48000})
    );
}

#[test]
fn builtin_set_matches_the_shared_copy() {
    let embedded = gstmediastream::devices::file::parse_devices(
        gstmediastream::devices::file::BUILTIN_JSON,
        "builtin",
    )
    .unwrap();
    let copy =
        gstmediastream::devices::file::load_devices_file(&common::data("devices/builtin.json"))
            .unwrap();
    assert_eq!(embedded, copy);
}

#[test]
fn capabilities_structure_of_one_value_ranges_and_empty_lists() {
    use gstmediastream::constraints::caps::capabilities_structure;
    let devs = common::devices("builtin");
    let mic = capabilities_structure(&gstmediastream::constraints::capabilities(&devs[2], true));
    // GStreamer ranges need min < max: a single value stays a value.
    assert_eq!(mic.get::<i32>("sampleRate").unwrap(), 48000);
    assert_eq!(mic.get::<i32>("channelCount").unwrap(), 1);
    assert_eq!(mic.get::<f64>("latency").unwrap(), 0.01);
    let chrome = common::devices("chrome-fake");
    let cam = capabilities_structure(&gstmediastream::constraints::capabilities(&chrome[0], true));
    assert!(!cam.has_field("facingMode"), "{cam}");
    assert_eq!(
        cam.get::<gst::IntRange<i32>>("width").unwrap(),
        gst::IntRange::new(1, 3840)
    );
}
