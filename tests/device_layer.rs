// SPDX-License-Identifier: MPL-2.0

//! The device layer in-process, over the built-in fake devices: selection
//! over MediaDevices and the element of the chosen device. The variable is
//! set before anything runs; this binary holds this one test only.

mod common;

use gst::prelude::*;
use gstmediastream::constraints::{SelectOptions, Settings, StreamConstraints};
use gstmediastream::devices::monitor::MediaDevices;

#[test]
fn select_and_capture_from_a_fake_device() {
    // SAFETY: the only test of this binary, before any other thread exists.
    unsafe { std::env::set_var("GST_MEDIASTREAM_FAKE_DEVICES", "1") };
    gst::init().unwrap();
    let media = MediaDevices::get();
    let ids: Vec<String> = media
        .devices()
        .unwrap()
        .into_iter()
        .map(|d| d.info.device_id)
        .collect();
    assert_eq!(
        ids,
        [
            "fake-microphone",
            "fake-camera-front",
            "fake-camera-back",
            "fake-speaker"
        ]
    );

    let c = StreamConstraints::parse(
        r#"{"video": {"facingMode": {"exact": "environment"}}, "audio": true}"#,
    )
    .unwrap();
    let (sel, devices) = media.select_stream(&c, &SelectOptions::default()).unwrap();
    let video = sel.video.unwrap();
    let Settings::Video(v) = &video.settings else {
        panic!()
    };
    assert_eq!(
        (v.device_id.as_str(), v.width, v.height),
        ("fake-camera-back", 1920, 1080)
    );
    assert_eq!(
        devices[video.device_index].info.device_id,
        "fake-camera-back"
    );
    assert_eq!(sel.audio.unwrap().settings.device_id(), "fake-microphone");

    // The chosen device's element captures with the selected caps.
    let element = devices[video.device_index]
        .create_element(Some("camera"))
        .unwrap();
    assert_eq!(element.factory().unwrap().name(), "mediastreamfakesrc");
    let pipeline = gst::Pipeline::new();
    let filter = gst::ElementFactory::make("capsfilter")
        .property(
            "caps",
            gst::Caps::builder("video/x-raw")
                .field("width", 1920)
                .field("framerate", gst::Fraction::new(60, 1))
                .build(),
        )
        .build()
        .unwrap();
    let sink = gst::ElementFactory::make("appsink").build().unwrap();
    pipeline.add_many([&element, &filter, &sink]).unwrap();
    gst::Element::link_many([&element, &filter, &sink]).unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let sample = sink
        .emit_by_name::<Option<gst::Sample>>(
            "try-pull-sample",
            &[&gst::ClockTime::from_seconds(10)],
        )
        .expect("a frame within 10 s");
    let caps = sample.caps().unwrap();
    let s = caps.structure(0).unwrap();
    assert_eq!(
        s.get::<gst::Fraction>("framerate").unwrap(),
        gst::Fraction::new(60, 1)
    );
    pipeline.set_state(gst::State::Null).unwrap();

    assert!(media.find("fake-speaker").is_some());
    assert!(media.find("nope").is_none());
    assert_eq!(media.problem(), None);
}
