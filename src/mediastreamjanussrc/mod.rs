// SPDX-License-Identifier: MPL-2.0

//! `mediastreamjanussrc`: a remote MediaStream subscribed from a Janus
//! VideoRoom (docs/webrtc.md, "The SFU").

use gst::glib;
use gst::prelude::*;
use std::sync::LazyLock;

mod imp;

/// The element's debug category, for every part of it.
static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastreamjanussrc",
        gst::DebugColorFlags::empty(),
        Some("Remote MediaStream from a Janus VideoRoom"),
    )
});

/**
 * SECTION:element-mediastreamjanussrc
 *
 * Subscribes to one publisher of a Janus VideoRoom (by `feed`, by
 * `display` name, or the first to publish) and exposes what it sends as a
 * remote MediaStream: one src pad per track (`video_%u` / `audio_%u`,
 * decoded), the tracks' ids (`stream` is the inner `mediastream`: its
 * `id`, `track-ids`, its signals), mute while no packets come, and the
 * end of the tracks (signal, message, EOS; no error) when the publisher
 * leaves. The signalling (Janus's WebSocket API, keepalives) is inside
 * the element; a server that cannot be reached, a room or feed that does
 * not exist, a wrong pin are element errors that say so.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 mediastreamjanussrc url=ws://127.0.0.1:8188 room=1234 name=j \
 *   j.video_0 ! videoconvert ! autovideosink j.audio_0 ! audioconvert ! autoaudiosink
 * ]|
 *
 * Since: 0.1
 */
glib::wrapper! {
    pub struct MediaStreamJanusSrc(ObjectSubclass<imp::MediaStreamJanusSrc>)
        @extends gst::Bin, gst::Element, gst::Object,
        @implements gst::ChildProxy;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "mediastreamjanussrc",
        gst::Rank::NONE,
        MediaStreamJanusSrc::static_type(),
    )
}
