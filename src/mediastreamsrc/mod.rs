//! `mediastreamsrc`: one live MediaStreamTrack from a capture device chosen
//! by W3C constraints (DESIGN sections 4 to 8).

use gst::glib;
use gst::prelude::*;

mod imp;

pub(crate) use imp::Preselection;
pub use imp::TRACK_STATE;

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

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "mediastreamsrc",
        gst::Rank::NONE,
        MediaStreamSrc::static_type(),
    )
}
