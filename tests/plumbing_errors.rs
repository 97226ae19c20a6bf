// SPDX-License-Identifier: MPL-2.0

//! A track whose elements cannot be put together (GStreamer plumbing, not
//! the device nor the constraints) fails getUserMedia with AbortError in
//! GStreamer's core domain, and the element can start again.
//!
//! One test: an injected failure is process-wide.

#[path = "common/track.rs"]
mod track;

use gst::prelude::*;
use gstmediastream::fault::inject_failure;

#[test]
fn a_plumbing_failure_is_an_abort_error_in_the_core_domain() {
    track::init_builtin();
    let t = track::track("video", "{}", "");
    inject_failure("mediastreamsrc:link");
    assert!(t.play().is_err(), "getUserMedia fails");
    let (error, details) = track::error_details(&t.pipeline);
    assert!(error.matches(gst::CoreError::Failed), "{error:?}");
    assert_eq!(details.get::<&str>("name").unwrap(), "AbortError");
    assert!(
        details
            .get::<&str>("message")
            .unwrap()
            .contains("cannot link"),
        "{details}"
    );
    // Nothing of the failed start is left in the bin.
    assert_eq!(
        t.src.downcast_ref::<gst::Bin>().unwrap().children().len(),
        0
    );
    t.pipeline.set_state(gst::State::Null).unwrap();
    // The failure was once: the same element starts.
    t.play().unwrap();
    assert!(t.pull().is_some());
    t.pipeline.set_state(gst::State::Null).unwrap();
}
