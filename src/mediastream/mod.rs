// SPDX-License-Identifier: MPL-2.0

//! `mediastream`: a bin that is a MediaStream; with `constraints` it is
//! getUserMedia in one element, one track per requested kind.

use gst::glib;
use gst::prelude::*;
use std::sync::LazyLock;

mod imp;
mod uri;

pub use uri::constraints_from_uri;

/// The element's debug category, for every part of it.
static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastream",
        gst::DebugColorFlags::empty(),
        Some("MediaStream bin"),
    )
});

/**
 * SECTION:element-mediastream
 *
 * A MediaStream: with `constraints` it is getUserMedia in one element (one
 * `mediastreamsrc` per requested kind, selected together, exposed as
 * `video_%u` / `audio_%u` on READY->PAUSED); request pads `sink_%u` add any
 * branch as a track (addTrack); `remove-track` removes one. Also the
 * `mediastream://` URI handler, so playbin plays a stream.
 *
 * ## Example launch line
 * |[
 * GST_MEDIASTREAM_FAKE_DEVICES=1 gst-launch-1.0 mediastream name=s constraints='{"video":true,"audio":true}' s. ! queue ! mediastreamtracksink sink="fakesink num-buffers=30" s. ! queue ! mediastreamtracksink sink="fakesink num-buffers=30"
 * ]|
 *
 * Since: 0.1
 */
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
