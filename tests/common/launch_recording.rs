// SPDX-License-Identifier: MPL-2.0

//! A `gst-launch-1.0` line with a `mediarecorder name=r`, played to its
//! EOS, and the chunks its `dataavailable` delivered, concatenated.

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
    let chunks = Arc::new(Mutex::new(Vec::<u8>::new()));
    let c = chunks.clone();
    p.by_name("r")
        .expect("a mediarecorder named r")
        .connect("dataavailable", false, move |a| {
            c.lock()
                .unwrap()
                .extend(a[1].get::<gst::glib::Bytes>().unwrap().iter());
            None
        });
    p.set_state(gst::State::Playing).unwrap();
    let msg = p
        .bus()
        .unwrap()
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(30),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("the recording ends");
    assert_eq!(msg.type_(), gst::MessageType::Eos, "{msg:?}");
    let data = chunks.lock().unwrap().clone();
    (p, data)
}
