// SPDX-License-Identifier: MPL-2.0

//! `mediastreamsrc`: one live MediaStreamTrack from a capture device chosen
//! by W3C constraints (docs/overview.md, docs/mediastreamsrc.md).

use gst::glib;
use gst::prelude::*;

mod blank;
mod capture;
mod chain;
mod imp;
mod shared;

pub use crate::track::TRACK_STATE;
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

/// MediaStreamTrack.kind: the constraints engine's own kind.
pub use crate::constraints::Kind as TrackKind;

/// MediaStreamTrack.readyState.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum, Default)]
#[repr(u32)]
#[enum_type(name = "GstMediaStreamTrackReadyState")]
pub enum ReadyState {
    #[default]
    #[enum_value(
        name = "Live: the track delivers media (or will, once playing)",
        nick = "live"
    )]
    Live = 0,
    #[enum_value(
        name = "Ended: stopped, or its device is gone; it will not deliver again",
        nick = "ended"
    )]
    Ended = 1,
}

impl ReadyState {
    /// `live` or `ended`, as MediaStreamTrack.readyState.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadyState::Live => "live",
            ReadyState::Ended => "ended",
        }
    }

    pub fn from_name(s: &str) -> Option<ReadyState> {
        match s {
            "live" => Some(ReadyState::Live),
            "ended" => Some(ReadyState::Ended),
            _ => None,
        }
    }
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
