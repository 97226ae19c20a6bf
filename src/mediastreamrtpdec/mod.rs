// SPDX-License-Identifier: MPL-2.0

//! `mediastreamrtpdec`: one remote track from `webrtcbin`, decoded, with
//! the sender's track id and the state of a remote MediaStreamTrack
//! (docs/webrtc.md).

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct MediaStreamRtpDec(ObjectSubclass<imp::MediaStreamRtpDec>)
        @extends gst::Bin, gst::Element, gst::Object,
        @implements gst::ChildProxy;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "mediastreamrtpdec",
        gst::Rank::NONE,
        MediaStreamRtpDec::static_type(),
    )
}
