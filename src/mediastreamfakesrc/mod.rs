// SPDX-License-Identifier: MPL-2.0

//! `mediastreamfakesrc`: the capture element of a fake device. A live
//! `videotestsrc` / `audiotestsrc` limited to the device's declared caps
//! (an `image/jpeg` mode is encoded with `jpegenc`), which fails like an
//! unplugged camera when its device disappears from the device file.
//! Pattern `square` ([`square`]) draws a shape of known geometry.

use gst::glib;
use gst::prelude::*;

mod imp;
pub mod square;

glib::wrapper! {
    pub struct MediaStreamFakeSrc(ObjectSubclass<imp::MediaStreamFakeSrc>)
        @extends gst::Bin, gst::Element, gst::Object,
        @implements gst::ChildProxy;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "mediastreamfakesrc",
        gst::Rank::NONE,
        MediaStreamFakeSrc::static_type(),
    )
}
