// SPDX-License-Identifier: MPL-2.0

//! `mediastreamsrc`: one live MediaStreamTrack from a capture device chosen
//! by W3C constraints (docs/overview.md, docs/mediastreamsrc.md).

use gst::glib;
use gst::prelude::*;
use std::sync::LazyLock;

mod blank;
mod capture;
mod chain;
mod imp;
mod shared_capture;

/// The element's debug category, for every part of it.
static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastreamsrc",
        gst::DebugColorFlags::empty(),
        Some("MediaStreamTrack source"),
    )
});

pub(crate) use imp::Preselection;

/**
 * SECTION:element-mediastreamsrc
 *
 * A live MediaStreamTrack: on NULL->READY it selects a capture device and
 * settings by W3C constraints (getUserMedia for one track) and holds the
 * device's element and only what the settings need behind one `src` pad.
 * On the native path the buffers on `src` are the device's own. The track's
 * identity and state travel downstream (stream-start, the sticky
 * `mediastream-track-state` event); `enabled`, `stop` and
 * `apply-constraints` are MediaStreamTrack's.
 *
 * ## Example launch line
 * |[
 * GST_MEDIASTREAM_FAKE_DEVICES=1 gst-launch-1.0 mediastreamsrc constraints='{"width":{"exact":480}}' ! fakesink num-buffers=30
 * ]|
 *
 * Since: 0.1
 */
glib::wrapper! {
    pub struct MediaStreamSrc(ObjectSubclass<imp::MediaStreamSrc>)
        @extends gst::Bin, gst::Element, gst::Object,
        @implements gst::ChildProxy;
}

impl MediaStreamSrc {
    /// What the track tells downstream about itself now.
    pub(crate) fn track_state(&self) -> crate::track::TrackState {
        use gst::subclass::prelude::ObjectSubclassIsExt;
        self.imp().track_state()
    }
}

/// `capture`: what the track captures, and so which W3C call selects it.
#[derive(Debug, Eq, PartialEq, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstMediaStreamSrcCapture")]
pub enum Capture {
    /// getUserMedia: a camera or a microphone.
    #[default]
    #[enum_value(name = "getUserMedia: a camera or a microphone", nick = "user")]
    User = 0,
    /// getDisplayMedia: a screen or a window (docs/display.md).
    #[enum_value(name = "getDisplayMedia: a screen or a window", nick = "display")]
    Display = 1,
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    Capture::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    gst::Element::register(
        Some(plugin),
        "mediastreamsrc",
        gst::Rank::NONE,
        MediaStreamSrc::static_type(),
    )
}
