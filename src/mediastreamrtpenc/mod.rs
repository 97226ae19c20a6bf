// SPDX-License-Identifier: MPL-2.0

//! `mediastreamrtpenc`: one track encoded for `webrtcbin`, carrying its
//! MediaStream identity (docs/webrtc.md).

use gst::glib;
use gst::prelude::*;
use std::sync::LazyLock;

mod imp;

/// The element's debug category, for every part of it.
static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastreamrtpenc",
        gst::DebugColorFlags::empty(),
        Some("MediaStreamTrack encoder for webrtcbin"),
    )
});

/**
 * SECTION:element-mediastreamrtpenc
 *
 * One track encoded for `webrtcbin`: VP8 (or VP9, or H.264 with
 * `openh264enc`, by `video-codec`, an enum: `vp8`, `vp9`, `h264`) for video at `video-bitrate`
 * (clamped to what the encoder takes), Opus for audio, payloaded with a
 * payload type of its own per codec. The `webrtcbin` sink pad it feeds gets the
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

/// `video-codec`: the codec of a video track. An enum, so that an unknown
/// name (`av1`, `nonsense`) is refused where it is set: `gst-launch-1.0`
/// says "could not set property" at parse time, `gst-inspect-1.0` lists
/// the values. No value is 0: GStreamer reads an empty string as the
/// number 0, so `video-codec=""` is refused too instead of meaning VP8.
#[derive(Debug, Eq, PartialEq, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstMediaStreamRtpEncVideoCodec")]
pub enum VideoCodec {
    /// `vp8enc` (realtime, CBR), `rtpvp8pay`.
    #[default]
    #[enum_value(name = "VP8 (vp8enc)", nick = "vp8")]
    Vp8 = 1,
    /// `openh264enc` (constrained baseline), `h264parse`, `rtph264pay`.
    #[enum_value(name = "H.264 constrained baseline (openh264enc)", nick = "h264")]
    H264 = 2,
    /// `vp9enc` (realtime, CBR, profile 0), `rtpvp9pay`.
    #[enum_value(name = "VP9 profile 0 (vp9enc)", nick = "vp9")]
    Vp9 = 3,
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    VideoCodec::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    gst::Element::register(
        Some(plugin),
        "mediastreamrtpenc",
        gst::Rank::NONE,
        MediaStreamRtpEnc::static_type(),
    )
}
