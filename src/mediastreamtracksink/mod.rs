// SPDX-License-Identifier: MPL-2.0

//! `mediastreamtracksink`: the consumer of one track, as a `<video>` or
//! `<audio>` element is in a browser: renders it and exposes its state.

use gst::glib;
use gst::prelude::*;
use std::sync::LazyLock;

mod imp;

/// The element's debug category, for every part of it.
static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastreamtracksink",
        gst::DebugColorFlags::empty(),
        Some("MediaStreamTrack consumer"),
    )
});

/**
 * SECTION:element-mediastreamtracksink
 *
 * The consumer of one track, as a `<video>` or `<audio>` element: renders
 * into `sink` (default: `autoaudiosink` or `autovideosink` by the kind that
 * arrives; `sink-id` plays audio on an output device) and exposes the
 * track's state read from the stream (`enabled`, `muted`, `ready-state`,
 * `settings`), with `mute`, `unmute` and `ended`.
 *
 * ## Example launch line
 * |[
 * GST_MEDIASTREAM_FAKE_DEVICES=1 gst-launch-1.0 mediastreamsrc kind=audio ! mediastreamtracksink sink="fakesink num-buffers=30"
 * ]|
 *
 * Since: 0.1
 */
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
