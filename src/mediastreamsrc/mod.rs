// SPDX-License-Identifier: MPL-2.0

//! `mediastreamsrc`: one live MediaStreamTrack from a capture device chosen
//! by W3C constraints (docs/overview.md, docs/mediastreamsrc.md).

use gst::glib;
use gst::prelude::*;

mod blank;
mod capture;
mod chain;
mod imp;

pub use crate::track::TRACK_STATE;
pub(crate) use imp::Preselection;

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

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "mediastreamsrc",
        gst::Rank::NONE,
        MediaStreamSrc::static_type(),
    )
}
