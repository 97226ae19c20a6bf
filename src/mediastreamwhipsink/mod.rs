// SPDX-License-Identifier: MPL-2.0

//! `mediastreamwhipsink`: a MediaStream published with WHIP (RFC 9725)
//! to a media server (docs/webrtc.md, "The SFU").

use gst::glib;
use gst::prelude::*;
use std::sync::LazyLock;

mod imp;

/// The element's debug category, for every part of it.
static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastreamwhipsink",
        gst::DebugColorFlags::empty(),
        Some("MediaStream published with WHIP"),
    )
});

/**
 * SECTION:element-mediastreamwhipsink
 *
 * Publishes the tracks linked to its `video_%u` / `audio_%u` pads (a
 * `mediastream`'s pads) to a WHIP endpoint: each track encoded by a
 * `mediastreamrtpenc` into one `webrtcbin`, the offer (with every ICE
 * candidate) POSTed with the bearer token once every track's format is
 * known, the answer applied. The session's resource (`resource`) is
 * DELETEd when every track ended (EOS) or the element stops. The
 * server's refusals are element errors with its status and body.
 *
 * ## Example launch line
 * |[
 * GST_MEDIASTREAM_FAKE_DEVICES=1 gst-launch-1.0 -e mediastream constraints='{"video":true,"audio":true}' name=s \
 *   s. ! w. s. ! w. mediastreamwhipsink name=w whip-endpoint=http://127.0.0.1:7080/whip/endpoint/cam1 auth-token=s3cret
 * ]|
 *
 * Since: 0.1
 */
glib::wrapper! {
    pub struct MediaStreamWhipSink(ObjectSubclass<imp::MediaStreamWhipSink>)
        @extends gst::Bin, gst::Element, gst::Object,
        @implements gst::ChildProxy;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "mediastreamwhipsink",
        gst::Rank::NONE,
        MediaStreamWhipSink::static_type(),
    )
}
