// SPDX-License-Identifier: MPL-2.0

//! `mediastream`: a bin that is a MediaStream; with `constraints` it is
//! getUserMedia in one element, one track per requested kind.

use gst::glib;
use gst::prelude::*;

mod imp;

pub use imp::constraints_from_uri;

glib::wrapper! {
    pub struct MediaStream(ObjectSubclass<imp::MediaStream>)
        @extends gst::Bin, gst::Element, gst::Object,
        @implements gst::ChildProxy, gst::URIHandler;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "mediastream",
        gst::Rank::NONE,
        MediaStream::static_type(),
    )
}
