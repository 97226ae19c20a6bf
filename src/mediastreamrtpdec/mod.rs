// SPDX-License-Identifier: MPL-2.0

//! `mediastreamrtpdec`: one remote track from `webrtcbin`, decoded, with
//! the sender's track id and the state of a remote MediaStreamTrack
//! (docs/webrtc.md).

use gst::glib;
use gst::prelude::*;
use std::sync::LazyLock;

mod imp;

/// The element's debug category, for every part of it.
static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastreamrtpdec",
        gst::DebugColorFlags::empty(),
        Some("Remote MediaStreamTrack from webrtcbin"),
    )
});

/**
 * SECTION:element-mediastreamrtpdec
 *
 * A remote MediaStreamTrack: link it to a `webrtcbin` src pad and it
 * decodes what the peer sends (VP8, VP9, H.264 with `openh264dec` or
 * `avdec_h264`, Opus), with the sender's ids (`stream-id`, `track-id`,
 * also the decoded stream's stream-id) and the track's state downstream
 * in the `mediastream-track-state` event. It mutes while no packet comes
 * for `mute-timeout` ms and ends (EOS, no error) when the sender removes
 * the track or the connection closes, or when nothing at all arrived from
 * the peer for `peer-timeout` ms (default 15 s: `webrtcbin` 1.22 stays
 * connected to a peer that vanished; then also a `mediastream-peer-gone`
 * element message and a warning).
 *
 * ## Example
 * In `webrtcbin`'s `pad-added`, link each new src pad to a new element
 * (examples/webrtc.rs does this):
 * |[
 * webrtcbin.src_0 ! mediastreamrtpdec ! mediastreamtracksink
 * ]|
 *
 * Since: 0.1
 */
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
