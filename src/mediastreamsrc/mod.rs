// SPDX-License-Identifier: MPL-2.0

//! `mediastreamsrc`: one live MediaStreamTrack from a capture device chosen
//! by W3C constraints (docs/overview.md, docs/mediastreamsrc.md).

use gst::glib;
use gst::prelude::*;

mod blank;
mod capture;
mod chain;
mod imp;
mod mute;

pub use crate::track::TRACK_STATE;
pub(crate) use imp::Preselection;

glib::wrapper! {
    pub struct MediaStreamSrc(ObjectSubclass<imp::MediaStreamSrc>)
        @extends gst::Bin, gst::Element, gst::Object,
        @implements gst::ChildProxy;
}

/// MediaStreamTrack.kind.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum, Default)]
#[repr(u32)]
#[enum_type(name = "GstMediaStreamTrackKind")]
pub enum TrackKind {
    #[enum_value(name = "Audio: a microphone track", nick = "audio")]
    Audio = 0,
    #[default]
    #[enum_value(name = "Video: a camera track", nick = "video")]
    Video = 1,
}

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

impl From<crate::constraints::Kind> for TrackKind {
    fn from(kind: crate::constraints::Kind) -> TrackKind {
        match kind {
            crate::constraints::Kind::Audio => TrackKind::Audio,
            crate::constraints::Kind::Video => TrackKind::Video,
        }
    }
}

impl From<TrackKind> for crate::constraints::Kind {
    fn from(kind: TrackKind) -> crate::constraints::Kind {
        match kind {
            TrackKind::Audio => crate::constraints::Kind::Audio,
            TrackKind::Video => crate::constraints::Kind::Video,
        }
    }
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

impl TrackKind {
    /// `audio` or `video`, as MediaStreamTrack.kind.
    pub fn as_str(self) -> &'static str {
        match self {
            TrackKind::Audio => "audio",
            TrackKind::Video => "video",
        }
    }

    /// The kind every structure of `caps` is of; `None` for ANY, empty or
    /// mixed caps.
    pub fn of_caps(caps: &gst::CapsRef) -> Option<TrackKind> {
        let kind_of = |s: &gst::StructureRef| {
            let name = s.name();
            if name.starts_with("audio/") {
                Some(TrackKind::Audio)
            } else if name.starts_with("video/") || name.starts_with("image/") {
                Some(TrackKind::Video)
            } else {
                None
            }
        };
        if caps.is_any() {
            return None;
        }
        let mut kinds = caps.iter().map(kind_of);
        let first = kinds.next()??;
        kinds.all(|k| k == Some(first)).then_some(first)
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
