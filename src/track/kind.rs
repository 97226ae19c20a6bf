// SPDX-License-Identifier: MPL-2.0

//! The track's vocabulary every element shares: MediaStreamTrack.kind and
//! MediaStreamTrack.readyState.

use gst::glib;

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
