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

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "mediastreamsrc",
        gst::Rank::NONE,
        MediaStreamSrc::static_type(),
    )
}
