// SPDX-License-Identifier: MPL-2.0

//! No panic crosses into C: a panic injected at each kind of entry point
//! (property setter and getter, action signal, pad probe, the mute
//! check on the clock thread, a locked section) becomes a `Panicked` element error on the bus, the
//! element stops passing data, and the pipeline still goes to NULL.
//!
//! One test: an injected panic is process-wide.

#[path = "common/track.rs"]
mod track;

use gst::prelude::*;
use gstmediastream::fault::inject_panic;

/// The next error on the bus: it must be the panic at `site`, from `element`.
fn expect_panic_error(pipeline: &gst::Pipeline, element: &gst::Element, site: &str) {
    let msg = pipeline
        .bus()
        .unwrap()
        .timed_pop_filtered(gst::ClockTime::from_seconds(10), &[gst::MessageType::Error])
        .unwrap_or_else(|| panic!("{site}: no error on the bus"));
    let gst::MessageView::Error(e) = msg.view() else {
        unreachable!()
    };
    assert!(
        e.error().matches(gst::LibraryError::Failed),
        "{site}: {:?}",
        e.error()
    );
    let text = e.error().message().to_owned();
    assert_eq!(text, format!("Panicked: panic injected at {site}"));
    assert_eq!(
        msg.src().unwrap(),
        element.upcast_ref::<gst::Object>(),
        "{site}"
    );
}

fn stops(t: &track::Track) {
    assert_eq!(
        t.pipeline.set_state(gst::State::Null),
        Ok(gst::StateChangeSuccess::Success)
    );
}

#[test]
fn a_panic_becomes_an_element_error() {
    track::init_builtin();

    // Property setter: the value is not taken, the error says where.
    let t = track::track("video", "{}", "");
    t.play().unwrap();
    t.pull().unwrap();
    inject_panic("mediastreamsrc:set-property");
    t.src.set_property("enabled", false);
    expect_panic_error(&t.pipeline, &t.src, "mediastreamsrc:set-property");
    stops(&t);

    // Property getter: the default value comes back.
    let t = track::track("video", "{}", "");
    t.play().unwrap();
    inject_panic("mediastreamsrc:property");
    assert_eq!(t.src.property::<Option<gst::Structure>>("settings"), None);
    expect_panic_error(&t.pipeline, &t.src, "mediastreamsrc:property");
    stops(&t);

    // Action signal: applyConstraints fails with NotReadableError.
    let t = track::track("video", "{}", "");
    t.play().unwrap();
    inject_panic("mediastreamsrc:apply-constraints");
    let r = t
        .src
        .emit_by_name::<gst::Structure>("apply-constraints", &[&r#"{"width":320}"#]);
    assert!(!r.get::<bool>("success").unwrap(), "{r}");
    assert_eq!(r.get::<&str>("name").unwrap(), "NotReadableError", "{r}");
    expect_panic_error(&t.pipeline, &t.src, "mediastreamsrc:apply-constraints");
    stops(&t);

    // The track's pad probe, in the streaming thread: nothing more passes.
    let t = track::track("video", "{}", "");
    t.play().unwrap();
    t.pull().unwrap();
    inject_panic("mediastreamsrc:probe");
    expect_panic_error(&t.pipeline, &t.src, "mediastreamsrc:probe");
    while t
        .sink
        .emit_by_name::<Option<gst::Sample>>(
            "try-pull-sample",
            &[&gst::ClockTime::from_mseconds(300)],
        )
        .is_some()
    {}
    assert!(
        t.sink
            .emit_by_name::<Option<gst::Sample>>(
                "try-pull-sample",
                &[&gst::ClockTime::from_mseconds(300)]
            )
            .is_none(),
        "frames still pass after the panic"
    );
    stops(&t);
    // Back from NULL, the same element works again.
    t.play().unwrap();
    assert!(t.pull().is_some(), "no frames after a restart");
    stops(&t);

    // The mute check, on the clock's thread.
    let t = track::track("video", "{}", "");
    t.play().unwrap();
    inject_panic("mediastreamsrc:mute");
    expect_panic_error(&t.pipeline, &t.src, "mediastreamsrc:mute");
    stops(&t);

    // A panic while the track's state lock is held: the lock survives
    // it (parking_lot does not poison), so after NULL the same element
    // plays again instead of panicking at every later lock.
    let t = track::track("video", "{}", "");
    t.play().unwrap();
    t.pull().unwrap();
    inject_panic("mediastreamsrc:buffer-locked");
    expect_panic_error(&t.pipeline, &t.src, "mediastreamsrc:buffer-locked");
    stops(&t);
    assert!(t.src.property::<Option<String>>("device-id").is_none());
    t.play().unwrap();
    assert!(t.pull().is_some(), "no frames after a restart");
    assert_eq!(
        t.src.property::<Option<String>>("device-id").as_deref(),
        Some("fake-camera-front")
    );
    stops(&t);

    // A track sink's probe.
    let pipeline = gst::parse::launch(
        "mediastreamsrc kind=video ! mediastreamtracksink name=sink sink=fakesink",
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let sink = pipeline.by_name("sink").unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    inject_panic("mediastreamtracksink:probe");
    expect_panic_error(&pipeline, &sink, "mediastreamtracksink:probe");
    assert_eq!(
        pipeline.set_state(gst::State::Null),
        Ok(gst::StateChangeSuccess::Success)
    );

    // The MediaStream's removeTrack action and property getter.
    let pipeline = gst::parse::launch(
        r#"mediastream name=s constraints="{\"video\":true}" s.video_0 ! fakesink"#,
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let stream = pipeline.by_name("s").unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    inject_panic("mediastream:remove-track");
    assert!(!stream.emit_by_name::<bool>("remove-track", &[&"any"]));
    expect_panic_error(&pipeline, &stream, "mediastream:remove-track");
    assert_eq!(
        pipeline.set_state(gst::State::Null),
        Ok(gst::StateChangeSuccess::Success)
    );
    // Still the same process, still working: a new track plays.
    let t = track::track("audio", "{}", "");
    t.play().unwrap();
    assert!(t.pull().is_some());
    assert!(t.pull().is_some(), "and plays on");
    stops(&t);
}
