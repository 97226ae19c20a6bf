// SPDX-License-Identifier: MPL-2.0

//! `mediastreamrtpenc`: one track encoded for `webrtcbin`, carrying its
//! MediaStream identity (docs/webrtc.md).

use gst::glib;
use gst::prelude::*;

mod imp;

/**
 * SECTION:element-mediastreamrtpenc
 *
 * One track encoded for `webrtcbin`: VP8 (or H.264 with `openh264enc`,
 * by `video-codec`) for video, Opus for audio, payloaded with a payload
 * type of its own per codec. The `webrtcbin` sink pad it feeds gets the
 * track's MediaStream identity (`stream-id` from the stream collection
 * `mediastream` sends, `track-id` from stream-start), so the peer's
 * `ontrack` sees the same ids. Until the connection is up, encoded frames
 * are dropped, and video then starts from a key frame.
 *
 * ## Example launch line
 * |[
 * GST_MEDIASTREAM_FAKE_DEVICES=1 gst-launch-1.0 mediastream name=s constraints='{"video":true}' s.video_0 ! mediastreamrtpenc ! webrtcbin name=w
 * ]|
 *
 * Since: 0.1
 */
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
