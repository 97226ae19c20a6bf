// SPDX-License-Identifier: MPL-2.0

//! `mediarecorder`: MediaRecorder and BlobEvent (W3C MediaStream
//! Recording) as a sink bin fed by a stream's tracks (docs/mediarecorder.md).

use gst::glib;
use gst::prelude::*;
use std::sync::LazyLock;

pub mod bitrate;
pub mod chunker;
mod encode;
mod imp;
pub mod mime;

/// The element's debug category, for every part of it.
static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediarecorder",
        gst::DebugColorFlags::empty(),
        Some("MediaRecorder: records a stream's tracks in chunks"),
    )
});

/**
 * SECTION:element-mediarecorder
 *
 * MediaRecorder: records the tracks linked to its `video_%u` / `audio_%u`
 * pads (a `mediastream`'s pads, or any raw video and audio) into a
 * container, and hands the recording out in chunks: `dataavailable` with
 * the bytes (`GBytes`) and the BlobEvent timecode. The first chunk holds the
 * container header; the chunks concatenated are a file any player reads.
 * `start`, `stop`, `pause`, `resume`, `request-data` and `is-type-supported`
 * are MediaRecorder's methods; `location` also writes the chunks to a file.
 * With `auto-start` (the default) recording starts when the pipeline goes to
 * PLAYING, so a launch line records with no application code.
 *
 * ## Example launch line
 * |[
 * GST_MEDIASTREAM_FAKE_DEVICES=1 gst-launch-1.0 -e mediastream constraints='{"video":true,"audio":true}' name=s \
 *   s. ! queue ! r. s. ! queue ! r. mediarecorder name=r timeslice=1000 location=rec.webm
 * ]|
 *
 * Since: 0.1
 */
glib::wrapper! {
    pub struct MediaRecorder(ObjectSubclass<imp::MediaRecorder>)
        @extends gst::Bin, gst::Element, gst::Object,
        @implements gst::ChildProxy;
}

/// MediaRecorder.state (RecordingState).
#[derive(Debug, Eq, PartialEq, Clone, Copy, glib::Enum, Default)]
#[repr(u32)]
#[enum_type(name = "GstMediaRecorderState")]
pub enum RecorderState {
    #[default]
    #[enum_value(
        name = "Inactive: not recording (before start, after stop)",
        nick = "inactive"
    )]
    Inactive = 0,
    #[enum_value(name = "Recording: gathering data", nick = "recording")]
    Recording = 1,
    #[enum_value(
        name = "Paused: recording, but gathering nothing; the timeline skips this time",
        nick = "paused"
    )]
    Paused = 2,
}

impl RecorderState {
    pub fn as_str(self) -> &'static str {
        match self {
            RecorderState::Inactive => "inactive",
            RecorderState::Recording => "recording",
            RecorderState::Paused => "paused",
        }
    }
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "mediarecorder",
        gst::Rank::NONE,
        MediaRecorder::static_type(),
    )
}
