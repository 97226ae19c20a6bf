// SPDX-License-Identifier: MPL-2.0

//! `mediarecorder`: the GObject glue and MediaRecorder's state machine
//! (inactive -> recording <-> paused -> inactive).
//!
//! Each track arrives on a request ghost pad. While inactive the pad has no
//! target and a probe drops its buffers; `start` builds the recording
//! (encode.rs: an encoder branch per track, then the muxer, then a fakesink
//! whose pad probe hands the muxer's output to the chunker, chunker.rs) and
//! points each ghost pad at its branch. `stop` sends EOS into every branch,
//! each from the element's thread pool (call_async: a branch may be blocked
//! in the muxer until another one's EOS arrives); the muxer's EOS cuts the
//! last chunk and the recording is torn down, again through call_async.
//! Pause drops the tracks' buffers; resume gives the ghost pads' internal
//! pads an offset of minus the paused time, so the timeline skips it at no
//! cost per buffer.
//!
//! Here: the properties, signals and pads (the GObject glue) and the
//! state machine. The rooms: imp/pads.rs (the track pads and a stream's
//! auto-linking), imp/timeline.rs (which buffers a recording takes, pause
//! and resume), imp/recording.rs (start, build, the timeslice clock, stop
//! and finish), imp/outbox.rs (events and the file, in order).
//!
//! Lock order: `settings`, then `tracks`, then `state`, then `waiting`, then
//! `outbox`; `state`, then `retired`;
//! `file` alone. Events (signals and messages) go through `outbox` and are
//! delivered in order by one thread at a time with no lock held.

use super::CAT;

mod outbox;
mod pads;
mod recording;
mod timeline;
use super::RecorderState;
use super::bitrate::{self, Bitrates};
use super::chunker::Chunker;
use super::encode::EncodeBranch;
use super::mime::{MimeType, NotSupported};
use crate::constraints::ConstraintError;
use crate::excerpt::excerpt;
use crate::fault::Guarded;
use crate::track::{self, TrackKind};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use outbox::{Event, Outbox, Output};
use parking_lot::Mutex;
use recording::{default_bitrate, installed};
use std::sync::LazyLock;

const DEFAULT_TIMESLICE: u32 = 0;

#[derive(Debug)]
struct Settings {
    mime_type: String,
    /// The type recording uses once started (the full type with codecs
    /// when `mime_type` gave none); what `mime-type` reads then.
    effective: Option<String>,
    /// The bitrate options as given (bitrate.rs says what they read).
    bitrates: Bitrates,
    timeslice: u32,
    location: Option<String>,
    auto_start: bool,
    /// MediaRecorder(stream): a `mediastream` whose pads the recorder links
    /// itself, and its `pad-added` handler.
    stream: Option<(gst::Element, glib::SignalHandlerId)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mime_type: String::new(),
            effective: None,
            bitrates: Bitrates::default(),
            timeslice: DEFAULT_TIMESLICE,
            location: None,
            auto_start: true,
            stream: None,
        }
    }
}

/// A track on one of the recorder's pads.
struct Track {
    pad: gst::GhostPad,
    kind: TrackKind,
    /// EOS arrived: the track ended.
    ended: bool,
    segment: Option<gst::FormattedSegment<gst::ClockTime>>,
    /// The `mediastream` pad this pad was linked to, by name, after the
    /// stream took it away: a stream removes its pads at NULL and adds new
    /// ones, of the same names, at the next READY->PAUSED; the recorder
    /// links them again (links made once, as gst-launch-1.0's, would be
    /// lost).
    was: Option<(glib::WeakRef<gst::Element>, String)>,
}

impl Track {
    /// A pad that carries a track: an unlinked one (its stream's pad gone)
    /// is not part of the stream any more.
    fn linked(&self) -> bool {
        self.pad.is_linked()
    }
}

/// A track being recorded.
struct Branch {
    pad: gst::GhostPad,
    encode: EncodeBranch,
    /// EOS went into the branch (the track's, or stop's).
    ended: bool,
    /// The offset (ns) the pad's internal pad has: minus the paused time.
    offset: i64,
    /// Video: the size the recording keeps (encode::first_size), once known.
    size: Option<gst::Caps>,
    /// A buffer went into it. One that never had any is let go of at
    /// stop rather than ended: mp4mux waits for ever on a pad that gets
    /// EOS without caps.
    fed: bool,
}

/// A recording, made by `start`, gone at the end of `stop`.
struct Recording {
    state: RecorderState,
    timeslice: u32,
    mux: gst::Element,
    sink: gst::Element,
    branches: Vec<Branch>,
    chunker: Chunker,
    timer: Option<gst::PeriodicClockId>,
    /// Running time of the pause in effect.
    paused_at: Option<gst::ClockTime>,
    /// The last pause, [pause, resume) in running time: late buffers from
    /// it are dropped too.
    cut: Option<(gst::ClockTime, gst::ClockTime)>,
    paused_total: gst::ClockTime,
    /// Largest running time passed: "now" when there is no clock.
    last_rt: Option<gst::ClockTime>,
    /// stop() was called (or the recording failed): EOS is on its way.
    stopping: bool,
    /// MP4 (mp4mux): branches that never had a buffer are let go of at
    /// stop instead of ended. The other muxers end them, and write their
    /// header even for an empty recording.
    mp4: bool,
    /// The W3C state is inactive (stop() or an error set it at once), while
    /// the encoders drain and the last chunk and `stopped` are still to
    /// come.
    inactive: bool,
    /// The spec's "discard any data that it has gathered" after an error.
    discarding: bool,
}

impl Recording {
    /// Downstream first: stopping a sink first releases a thread
    /// waiting in it.
    fn elements(&self) -> Vec<gst::Element> {
        let mut v = vec![self.sink.clone(), self.mux.clone()];
        v.extend(
            self.branches
                .iter()
                .flat_map(|b| b.encode.elements.iter().rev().cloned()),
        );
        v
    }

    /// The branch of the recorder's sink pad `pad`.
    fn branch_mut(&mut self, pad: &gst::GhostPad) -> Option<&mut Branch> {
        self.branches.iter_mut().find(|b| &b.pad == pad)
    }
}

#[derive(Default)]
pub struct MediaRecorder {
    failed: std::sync::atomic::AtomicBool,
    settings: Mutex<Settings>,
    tracks: Mutex<Vec<Track>>,
    state: Mutex<Option<Recording>>,
    /// start() called while the previous recording finishes (its
    /// timeslice): begun once that one's `stop` went out (Event::Restart),
    /// so its `start` follows. The state reads `recording` from the call on.
    waiting: Mutex<Option<Option<u32>>>,
    outbox: Mutex<Outbox>,
    file: Mutex<Option<Output>>,
    /// The elements of finished recordings, until they are removed: their
    /// errors are no recording's.
    retired: Mutex<Vec<gst::Element>>,
    /// The `mediastream`s whose new pads the recorder links back to its
    /// track pads (Track::was): each watched once.
    watched: Mutex<Vec<(glib::WeakRef<gst::Element>, glib::SignalHandlerId)>>,
    /// Our own EOS was posted (every track ended, nothing recording).
    eos_posted: std::sync::atomic::AtomicBool,
}

#[glib::object_subclass]
impl ObjectSubclass for MediaRecorder {
    const NAME: &'static str = "GstMediaRecorder";
    type Type = super::MediaRecorder;
    type ParentType = gst::Bin;
}

impl ObjectImpl for MediaRecorder {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPS: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("mime-type")
                    .nick("MIME type")
                    .blurb("MediaRecorderOptions.mimeType, e.g. video/webm;codecs=vp8,opus (docs/mediarecorder.md lists the types). Empty: WebM with VP8 and Opus for the tracks present; once recording starts it reads back the full type with codecs, as MediaRecorder.mimeType does")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("video-bits-per-second")
                    .nick("Video bits per second")
                    .blurb("MediaRecorderOptions.videoBitsPerSecond / MediaRecorder.videoBitsPerSecond: the video encoder's target bitrate, clamped to the range the encoder takes (VP8/VP9: at most 2147483647). Not set, it reads the bitrate the encoder of the type runs at when left alone, which start sets (VP8/VP9: from the video track's size and rate, as vp8enc picks it, 256000 before its caps are known); 0 reads 0 and leaves the encoder at that value. Read at start")
                    .build(),
                glib::ParamSpecUInt::builder("audio-bits-per-second")
                    .nick("Audio bits per second")
                    .blurb("MediaRecorderOptions.audioBitsPerSecond / MediaRecorder.audioBitsPerSecond: the audio encoder's bitrate, clamped to the range the encoder takes (Opus: 4000-650000). Not set, it reads the encoder's default (Opus: 128000); 0 reads 0 and leaves the encoder at its default. Read at start")
                    .build(),
                glib::ParamSpecUInt::builder("bits-per-second")
                    .nick("Bits per second")
                    .blurb("MediaRecorderOptions.bitsPerSecond: a total for audio and video, split at once (audio a tenth, 6000-128000, video the rest, at least 10000), overriding video-bits-per-second and audio-bits-per-second; at start a stream of one kind gives that kind all of it and the other 0. Setting either kind's bitrate later forgets the total. 0 (the default): none given")
                    .build(),
                glib::ParamSpecUInt::builder("timeslice")
                    .nick("Timeslice")
                    .blurb("start(timeslice): milliseconds of recording per dataavailable chunk; 0 = one chunk at stop (and at request-data). The start action sets it too")
                    .default_value(DEFAULT_TIMESLICE)
                    .build(),
                glib::ParamSpecEnum::builder_with_default("state", RecorderState::Inactive)
                    .nick("State")
                    .blurb("MediaRecorder.state: inactive, recording or paused")
                    .read_only()
                    .build(),
                glib::ParamSpecString::builder("location")
                    .nick("Location")
                    .blurb("Also write the chunks to this file (truncated at start); unset: chunks only go to dataavailable")
                    .build(),
                glib::ParamSpecObject::builder::<gst::Element>("stream")
                    .nick("Stream")
                    .blurb("MediaRecorder(stream): a mediastream in the same bin whose tracks to record; the recorder links its src pads (and those it adds later) to its own pads. Anything but a mediastream is refused with a warning. Unset: link the tracks to the video_%u / audio_%u pads yourself")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("auto-start")
                    .nick("Auto start")
                    .blurb("Start recording when the pipeline goes to PLAYING (for gst-launch-1.0); false: the application calls the start action")
                    .default_value(true)
                    .build(),
            ]
        });
        PROPS.as_ref()
    }

    fn signals() -> &'static [glib::subclass::Signal] {
        static SIGNALS: LazyLock<Vec<glib::subclass::Signal>> = LazyLock::new(|| {
            vec![
                /**
                 * GstMediaRecorder::start:
                 * @timeslice: milliseconds per chunk, 0 = one chunk at stop
                 *
                 * MediaRecorder.start(timeslice): builds the recording for the
                 * tracks on the pads now and starts gathering data; `started`
                 * follows. Returns a `mediarecorder-result` structure:
                 * `success`, and when start throws, `name` (InvalidStateError:
                 * not inactive; NotSupportedError: the type cannot record these
                 * tracks, an element is missing, no live track) and `message`.
                 */
                glib::subclass::Signal::builder("start")
                    .action()
                    .param_types([u32::static_type()])
                    .return_type::<gst::Structure>()
                    .class_handler(|args| {
                        let obj = args[0].get::<super::MediaRecorder>().unwrap();
                        let timeslice = args[1].get::<u32>().unwrap_or(0);
                        let result = obj.imp().guard(panicked_result, |imp| {
                            crate::fault::point("mediarecorder:start");
                            imp.method("start", imp.start(Some(timeslice), false))
                        });
                        Some(result.to_value())
                    })
                    .build(),
                /**
                 * GstMediaRecorder::stop:
                 *
                 * MediaRecorder.stop(): the last chunk (`dataavailable`), then
                 * `stopped`, once the encoders and the muxer have finished.
                 * Does nothing when inactive. Returns a `mediarecorder-result`
                 * structure with `success` %TRUE.
                 */
                method_signal("stop", |imp| {
                    crate::fault::point("mediarecorder:stop");
                    imp.stop();
                    Ok(())
                }),
                /**
                 * GstMediaRecorder::pause:
                 *
                 * MediaRecorder.pause(): no data is gathered until `resume`,
                 * and the recording's timeline skips the paused time; `paused`
                 * follows. Returns a `mediarecorder-result` structure:
                 * `success`, or InvalidStateError (`name`, `message`) when
                 * inactive.
                 */
                method_signal("pause", MediaRecorder::pause),
                /**
                 * GstMediaRecorder::resume:
                 *
                 * MediaRecorder.resume(): gathering goes on; `resumed`
                 * follows. Returns a `mediarecorder-result` structure:
                 * `success`, or InvalidStateError when inactive.
                 */
                method_signal("resume", MediaRecorder::resume),
                /**
                 * GstMediaRecorder::request-data:
                 *
                 * MediaRecorder.requestData(): `dataavailable` now with what
                 * was gathered since the last chunk (possibly nothing); the
                 * timeslice goes on. Returns a `mediarecorder-result`
                 * structure: `success`, or InvalidStateError when inactive.
                 */
                method_signal("request-data", MediaRecorder::request_data),
                /**
                 * GstMediaRecorder::is-type-supported:
                 * @mime_type: a MIME type, e.g. `video/webm;codecs=vp9,opus`
                 *
                 * MediaRecorder.isTypeSupported(): %TRUE for an empty type (the
                 * default one) and exactly when the type is one the recorder
                 * writes and every element it needs (muxer, encoders, parsers)
                 * is installed.
                 */
                glib::subclass::Signal::builder("is-type-supported")
                    .action()
                    .param_types([String::static_type()])
                    .return_type::<bool>()
                    .class_handler(|args| {
                        let mime = args[1].get::<Option<String>>().ok().flatten().unwrap_or_default();
                        let ok = is_type_supported(&mime);
                        gst::debug!(CAT, "is-type-supported '{}': {ok}", excerpt(&mime));
                        Some(ok.to_value())
                    })
                    .build(),
                /**
                 * GstMediaRecorder::started:
                 * @mime_type: the full type being recorded
                 *
                 * The `start` event: recording began. Also the element message
                 * `mediarecorder-start` (field `mime-type`).
                 */
                glib::subclass::Signal::builder("started")
                    .param_types([String::static_type()])
                    .build(),
                /**
                 * GstMediaRecorder::dataavailable:
                 * @data: the chunk's bytes
                 * @timecode: BlobEvent.timecode: milliseconds from the
                 * recording's first data to this chunk's first data
                 *
                 * A BlobEvent: the bytes produced since the previous chunk;
                 * the first holds the container header, and all of them
                 * concatenated are the recording. Also the element message
                 * `mediarecorder-dataavailable` (fields `data`, `timecode`).
                 */
                glib::subclass::Signal::builder("dataavailable")
                    .param_types([glib::Bytes::static_type(), f64::static_type()])
                    .build(),
                /**
                 * GstMediaRecorder::paused:
                 *
                 * The `pause` event. Also the message `mediarecorder-pause`.
                 */
                glib::subclass::Signal::builder("paused").build(),
                /**
                 * GstMediaRecorder::resumed:
                 *
                 * The `resume` event. Also the message `mediarecorder-resume`.
                 */
                glib::subclass::Signal::builder("resumed").build(),
                /**
                 * GstMediaRecorder::error:
                 * @name: the W3C error name (InvalidModificationError when
                 * the stream's track set changed, UnknownError otherwise)
                 * @message: what happened
                 *
                 * The `error` event: recording failed and stops (a last
                 * `dataavailable`, then `stopped`). Also the message
                 * `mediarecorder-error` and an element error.
                 */
                glib::subclass::Signal::builder("error")
                    .param_types([String::static_type(), String::static_type()])
                    .build(),
                /**
                 * GstMediaRecorder::stopped:
                 *
                 * The `stop` event: the recording is complete, its last chunk
                 * delivered. Also the message `mediarecorder-stop`.
                 */
                glib::subclass::Signal::builder("stopped").build(),
            ]
        });
        SIGNALS.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        self.guard(
            || (),
            |_| {
                let mut s = self.settings.lock();
                match pspec.name() {
                    "mime-type" => {
                        s.mime_type = value.get::<Option<String>>().unwrap().unwrap_or_default();
                        s.effective = None;
                        gst::debug!(CAT, imp = self, "mime-type = '{}'", excerpt(&s.mime_type));
                        return;
                    }
                    "video-bits-per-second" => s.bitrates.set_video(value.get().unwrap()),
                    "audio-bits-per-second" => s.bitrates.set_audio(value.get().unwrap()),
                    "bits-per-second" => s.bitrates.set_total(value.get().unwrap()),
                    "timeslice" => s.timeslice = value.get().unwrap(),
                    "location" => s.location = value.get().unwrap(),
                    "auto-start" => s.auto_start = value.get().unwrap(),
                    "stream" => {
                        let stream = value.get::<Option<gst::Element>>().unwrap();
                        if let Some(other) = stream
                            .as_ref()
                            .filter(|e| !track::is_mediastream(e))
                        {
                            // As GObject does for a value of the wrong type:
                            // a warning, and the property keeps its value.
                            let what = format!(
                                "{}: stream must be a mediastream element, not '{}' ({}); the property keeps its value",
                                self.obj().name(),
                                other.name(),
                                other.type_().name()
                            );
                            gst::warning!(CAT, imp = self, "{what}");
                            glib::g_warning!("mediarecorder", "{what}");
                            return;
                        }
                        let old = s.stream.take();
                        drop(s);
                        if let Some((element, id)) = old {
                            element.disconnect(id);
                        }
                        if let Some(stream) = stream {
                            self.follow_stream(stream);
                        }
                        return;
                    }
                    _ => unimplemented!(),
                }
                gst::debug!(CAT, imp = self, "{} = {:?}", pspec.name(), value);
            },
        )
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        self.guard(
            || pspec.default_value().clone(),
            |_| match pspec.name() {
                "state" => self.recorder_state().to_value(),
                name => {
                    let s = self.settings.lock();
                    match name {
                        "mime-type" => s
                            .effective
                            .clone()
                            .unwrap_or(s.mime_type.clone())
                            .to_value(),
                        "video-bits-per-second" | "audio-bits-per-second" => {
                            let kind = if name.starts_with("video") {
                                TrackKind::Video
                            } else {
                                TrackKind::Audio
                            };
                            let given = match kind {
                                TrackKind::Video => s.bitrates.video,
                                TrackKind::Audio => s.bitrates.audio,
                            };
                            let mime = s.effective.clone().unwrap_or(s.mime_type.clone());
                            drop(s);
                            // While recording: the encoder's own (clamped,
                            // or set from the frame size); 0 stays 0.
                            let running = (given != Some(0))
                                .then(|| self.encoder_bitrate(kind))
                                .flatten();
                            running
                                .unwrap_or_else(|| {
                                    bitrate::read(given, || {
                                        let caps = self.caps_of_kind(kind);
                                        default_bitrate(kind, &mime, caps.as_deref())
                                    })
                                })
                                .to_value()
                        }
                        "bits-per-second" => s.bitrates.total.unwrap_or(0).to_value(),
                        "timeslice" => s.timeslice.to_value(),
                        "location" => s.location.to_value(),
                        "auto-start" => s.auto_start.to_value(),
                        "stream" => s.stream.as_ref().map(|(e, _)| e.clone()).to_value(),
                        _ => unimplemented!(),
                    }
                }
            },
        )
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        // A sink whether or not a recording's elements are inside.
        obj.set_suppressed_flags(gst::ElementFlags::SOURCE | gst::ElementFlags::SINK);
        obj.set_element_flags(gst::ElementFlags::SINK);
    }

    fn dispose(&self) {
        // The streams outlive their handlers into this recorder.
        let watched = std::mem::take(&mut *self.watched.lock());
        let followed = self.settings.lock().stream.take();
        for (stream, id) in watched
            .into_iter()
            .filter_map(|(w, id)| w.upgrade().map(|s| (s, id)))
            .chain(followed)
        {
            stream.disconnect(id);
        }
    }
}

impl GstObjectImpl for MediaRecorder {}

impl ElementImpl for MediaRecorder {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "MediaRecorder",
                "Sink/Video;Sink/Audio;Codec/Muxer",
                "Records a stream's tracks (MediaRecorder): WebM, Matroska, Ogg or fragmented MP4 in chunks (dataavailable), with pause, resume and request-data",
                "gst-mediastream developers",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            vec![
                // A video track (a mediastream's video_%u pad, any raw video).
                gst::PadTemplate::new(
                    "video_%u",
                    gst::PadDirection::Sink,
                    gst::PadPresence::Request,
                    &gst::Caps::builder("video/x-raw").build(),
                )
                .unwrap(),
                // An audio track.
                gst::PadTemplate::new(
                    "audio_%u",
                    gst::PadDirection::Sink,
                    gst::PadPresence::Request,
                    &gst::Caps::builder("audio/x-raw").build(),
                )
                .unwrap(),
            ]
        });
        TEMPLATES.as_ref()
    }

    fn request_new_pad(
        &self,
        templ: &gst::PadTemplate,
        name: Option<&str>,
        _caps: Option<&gst::Caps>,
    ) -> Option<gst::Pad> {
        self.guard(|| None, |imp| imp.new_track_pad(templ, name))
    }

    fn release_pad(&self, pad: &gst::Pad) {
        self.guard(
            || (),
            |imp| {
                gst::debug!(CAT, imp = imp, "releasing {}", pad.name());
                imp.track_left(pad, "released");
                imp.tracks
                    .lock()
                    .retain(|t| t.pad.upcast_ref::<gst::Pad>() != pad);
                let _ = pad.set_active(false);
                let _ = imp.obj().remove_pad(pad);
            },
        )
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        gst::debug!(CAT, imp = self, "{transition:?}");
        if transition == gst::StateChange::ReadyToNull {
            // NULL clears an earlier panic: the element works again.
            self.reset_failed();
        }
        // Guarded here, not by gstreamer-rs: its panic flag is never
        // cleared, fails every later state change and makes the bin's
        // dispose loop for ever on children it refuses to remove.
        let down = matches!(
            transition,
            gst::StateChange::PlayingToPaused
                | gst::StateChange::PausedToReady
                | gst::StateChange::ReadyToNull
        );
        let ret = self.guard(
            || {
                if down {
                    // After a panic the children still go down.
                    self.parent_change_state(transition)
                } else {
                    Err(gst::StateChangeError)
                }
            },
            |imp| imp.change_state_guarded(transition),
        );
        if transition == gst::StateChange::ReadyToNull {
            self.guard(|| (), |imp| imp.clear_leftovers());
        }
        ret
    }
}

impl BinImpl for MediaRecorder {
    fn handle_message(&self, msg: gst::Message) {
        let fallback = msg.clone();
        self.guard(
            || {
                // A child's EOS is never the recorder's, panic or not.
                if fallback.type_() != gst::MessageType::Eos {
                    self.parent_handle_message(fallback)
                }
            },
            |imp| imp.handle_child_message(msg),
        )
    }
}

/// An action signal that runs a MediaRecorder method without parameters
/// and returns its `mediarecorder-result`.
fn method_signal(
    name: &'static str,
    run: fn(&MediaRecorder) -> Result<(), ConstraintError>,
) -> glib::subclass::Signal {
    glib::subclass::Signal::builder(name)
        .action()
        .return_type::<gst::Structure>()
        .class_handler(move |args| {
            let obj = args[0].get::<super::MediaRecorder>().unwrap();
            let result = obj
                .imp()
                .guard(panicked_result, |imp| imp.method(name, run(imp)));
            Some(result.to_value())
        })
        .build()
}

/// What an action returns after a panic (crate::fault).
fn panicked_result() -> gst::Structure {
    gst::Structure::builder("mediarecorder-result")
        .field("success", false)
        .field("name", "UnknownError")
        .field(
            "message",
            "UnknownError: the recorder panicked (see the bus)",
        )
        .build()
}

/// isTypeSupported on this machine.
pub fn is_type_supported(mime: &str) -> bool {
    // W3C: "If type is an empty string, return true" (the default type).
    if mime.is_empty() {
        return true;
    }
    MimeType::parse(mime)
        .and_then(|m| m.supported(&installed))
        .is_ok()
}

impl MediaRecorder {
    fn change_state_guarded(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        if transition == gst::StateChange::ReadyToPaused {
            self.eos_posted
                .store(false, std::sync::atomic::Ordering::SeqCst);
            for t in self.tracks.lock().iter_mut() {
                t.ended = false;
                t.segment = None;
            }
        }
        let ret = self.parent_change_state(transition)?;
        if transition == gst::StateChange::PausedToReady {
            // Nothing runs any more (the children are in READY: no thread is
            // blocked in them): the recording ends here, with what it has.
            self.finish(true);
        }
        if transition == gst::StateChange::PausedToPlaying {
            let auto = self.settings.lock().auto_start;
            let inactive = self.state.lock().is_none();
            let tracks = self.tracks.lock().iter().any(Track::linked);
            if auto && inactive && tracks {
                gst::debug!(CAT, imp = self, "auto-start on PLAYING");
                if let Err(e) = self.start(None, false) {
                    self.post_error(&e);
                }
            }
            self.arm_timer(true);
        }
        Ok(ret)
    }

    /// In NULL nothing runs and no recording is left: one that a panic
    /// interrupted (its elements half built, or never torn down) is
    /// finished and its elements removed, so the next start begins afresh.
    fn clear_leftovers(&self) {
        if self.state.lock().is_some() {
            gst::debug!(CAT, imp = self, "a recording was left: finishing it");
            self.finish(true);
        }
        let obj = self.obj();
        let leftovers = obj.children();
        if !leftovers.is_empty() {
            gst::debug!(
                CAT,
                imp = self,
                "removing {} leftover elements",
                leftovers.len()
            );
        }
        crate::plumbing::discard_all(*CAT, &*obj, &leftovers, &[]);
        *self.file.lock() = None;
    }

    /// A child's message: its EOS is the recording's business, its
    /// error fails the recording and goes on to the bus.
    fn handle_child_message(&self, msg: gst::Message) {
        match msg.view() {
            // The recording's sink ends with each recording; the recorder
            // posts its own EOS once every track has ended.
            gst::MessageView::Eos(_) => {
                gst::debug!(CAT, imp = self, "dropping a child's EOS");
            }
            gst::MessageView::Error(err) => {
                let retired = msg.src().is_some_and(|src| {
                    self.retired
                        .lock()
                        .iter()
                        .any(|e| src == e.upcast_ref::<gst::Object>() || src.has_as_ancestor(e))
                });
                if retired {
                    // A finished recording's element, on its way out: that
                    // recording was delivered whole, and the one running now
                    // is none of its business.
                    gst::warning!(
                        CAT,
                        imp = self,
                        "dropping an error of a finished recording's element: {}",
                        err.error()
                    );
                    return;
                }
                let recording = self.state.lock().as_ref().is_some_and(|r| !r.stopping);
                if recording {
                    // The element and its debug text say what failed
                    // ("Could not multiplex stream." alone does not).
                    let from = msg.src().map(|s| s.name().to_string()).unwrap_or_default();
                    let text = match err.debug() {
                        Some(d) => format!("{} ({from}: {})", err.error(), excerpt(&d)),
                        None => format!("{} ({from})", err.error()),
                    };
                    gst::debug!(CAT, imp = self, "recording failed: {text}");
                    self.push(Event::Error("UnknownError".into(), text));
                    self.finish(false);
                }
                self.parent_handle_message(msg)
            }
            _ => self.parent_handle_message(msg),
        }
    }

    fn recorder_state(&self) -> RecorderState {
        let state = self.state.lock();
        if self.waiting.lock().is_some() {
            return RecorderState::Recording;
        }
        match state.as_ref() {
            Some(r) if !r.inactive => r.state,
            _ => RecorderState::Inactive,
        }
    }

    /// The recording pause, resume and request-data act on: not one that
    /// stop() or an error made inactive (nor the start that waits for it).
    fn active<'a>(
        &self,
        state: &'a mut Option<Recording>,
    ) -> Result<&'a mut Recording, ConstraintError> {
        if self.waiting.lock().is_some() {
            return Err(ConstraintError::invalid_state(
                "the recorder is starting: the previous recording is still finishing (its stop event comes first)",
            ));
        }
        match state.as_mut() {
            Some(r) if !r.inactive => Ok(r),
            _ => Err(ConstraintError::invalid_state(
                "the recorder is inactive: start it first",
            )),
        }
    }

    /// A method's outcome, as `apply-constraints` gives its own: a
    /// `mediarecorder-result` structure, `success`, and for an exception
    /// the W3C `name` and the `message` (nothing is posted: the caller is
    /// the one to act).
    fn method(&self, what: &str, result: Result<(), ConstraintError>) -> gst::Structure {
        let b = gst::Structure::builder("mediarecorder-result");
        match result {
            Ok(()) => b.field("success", true).build(),
            Err(e) => {
                gst::debug!(
                    CAT,
                    imp = self,
                    "{what} throws {}: {}",
                    e.name(),
                    e.message()
                );
                b.field("success", false)
                    .field("name", e.name())
                    .field("message", format!("{}: {what}: {}", e.name(), e.message()))
                    .build()
            }
        }
    }

    /// An error that stops a recording (or prevents auto-start).
    fn post_error(&self, e: &ConstraintError) {
        track::post_error(&*self.obj(), e);
    }
}

impl Guarded for MediaRecorder {
    fn failed(&self) -> &std::sync::atomic::AtomicBool {
        &self.failed
    }
}

impl From<NotSupported> for ConstraintError {
    fn from(e: NotSupported) -> ConstraintError {
        ConstraintError::not_supported(e.message).missing_element_too(e.missing)
    }
}
