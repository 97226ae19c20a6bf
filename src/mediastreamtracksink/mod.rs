// SPDX-License-Identifier: MPL-2.0

//! `mediastreamtracksink`: the consumer of one track, as a `<video>` or
//! `<audio>` element is in a browser: renders it and exposes its state.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct MediaStreamTrackSink(ObjectSubclass<imp::MediaStreamTrackSink>)
        @extends gst::Bin, gst::Element, gst::Object,
        @implements gst::ChildProxy;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "mediastreamtracksink",
        gst::Rank::NONE,
        MediaStreamTrackSink::static_type(),
    )
}
