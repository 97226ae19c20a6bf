// SPDX-License-Identifier: MPL-2.0

//! `mediastreamrtpenc`: one track encoded for `webrtcbin`, carrying its
//! MediaStream identity (docs/webrtc.md).

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct MediaStreamRtpEnc(ObjectSubclass<imp::MediaStreamRtpEnc>)
        @extends gst::Bin, gst::Element, gst::Object,
        @implements gst::ChildProxy;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "mediastreamrtpenc",
        gst::Rank::NONE,
        MediaStreamRtpEnc::static_type(),
    )
}
