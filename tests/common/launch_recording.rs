// SPDX-License-Identifier: MPL-2.0

//! A `gst-launch-1.0` line with a `mediarecorder name=r`, played to its
//! EOS, and the chunks its `dataavailable` delivered, concatenated; and
//! the helpers of reading a recording back.

#![allow(dead_code)]

use gst::prelude::*;
use std::sync::{Arc, Mutex};

/// The pipeline (at EOS, still playing: the caller reads it, then sets it
/// to NULL) and the recording's chunks in order.
pub fn record_to_eos(line: &str) -> (gst::Pipeline, Vec<u8>) {
    let p = gst::parse::launch(line)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let chunks = collect_chunks(&p.by_name("r").expect("a mediarecorder named r"));
    p.set_state(gst::State::Playing).unwrap();
    let msg = eos_or_error(&p, 30, "the recording ends");
    assert_eq!(msg.type_(), gst::MessageType::Eos, "{msg:?}");
    let data = chunks.lock().unwrap().clone();
    (p, data)
}

/// The chunks `rec` (a `mediarecorder`) delivers from now on, concatenated.
pub fn collect_chunks(rec: &gst::Element) -> Arc<Mutex<Vec<u8>>> {
    let chunks = Arc::new(Mutex::new(Vec::<u8>::new()));
    let c = chunks.clone();
    rec.connect("dataavailable", false, move |a| {
        c.lock()
            .unwrap()
            .extend(a[1].get::<gst::glib::Bytes>().unwrap().iter());
        None
    });
    chunks
}

/// The first EOS or error on `p`'s bus within `secs`; else a panic saying
/// `what` did not happen.
pub fn eos_or_error(p: &gst::Pipeline, secs: u64, what: &str) -> gst::Message {
    p.bus()
        .unwrap()
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(secs),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .unwrap_or_else(|| panic!("{what}"))
}

/// Pushes `data` as one buffer into the `appsrc` `src`, then its end of
/// stream.
pub fn push_all(src: &gst::Element, data: &[u8]) {
    let _ = src
        .emit_by_name::<gst::FlowReturn>("push-buffer", &[&gst::Buffer::from_slice(data.to_vec())]);
    let _ = src.emit_by_name::<gst::FlowReturn>("end-of-stream", &[]);
}
