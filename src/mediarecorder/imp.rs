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
//! Lock order: `settings`, then `tracks`, then `state`, then `waiting`, then
//! `outbox`;
//! `file` alone. Events (signals and messages) go through `outbox` and are
//! delivered in order by one thread at a time with no lock held.

use super::CAT;

mod outbox;
use super::RecorderState;
use super::bitrate::{self, Bitrates};
use super::chunker::Chunker;
use super::encode::{self, EncodeBranch};
use super::mime::{Container, MimeType, NotSupported, Plan};
use crate::constraints::ConstraintError;
use crate::excerpt::excerpt;
use crate::fault::Guarded;
use crate::track::{self, TrackKind, TrackState};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use outbox::{Event, Outbox, Output};
use parking_lot::Mutex;
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

/// The bitrate `kind`'s encoder runs at by default for `mime` (the
/// recorder's default type's encoder when `mime` names no codec of the
/// kind, or does not parse).
fn default_bitrate(kind: TrackKind, mime: &str, caps: Option<&gst::CapsRef>) -> u32 {
    let pick = |plan: &Plan| match kind {
        TrackKind::Video => plan.video,
        TrackKind::Audio => plan.audio,
    };
    let given = MimeType::parse(mime)
        .ok()
        .and_then(|m| m.plan(true, true, &installed).ok())
        .and_then(|p| pick(&p));
    let codec = given.or_else(|| {
        Plan::default_for(true, true, None, &installed)
            .ok()
            .and_then(|p| pick(&p))
    });
    codec.map_or(0, |c| encode::default_bitrate(c, caps, &installed))
}

fn installed(factory: &str) -> bool {
    gst::ElementFactory::find(factory).is_some()
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
                            .filter(|e| !e.is::<crate::mediastream::MediaStream>())
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

    fn new_track_pad(&self, templ: &gst::PadTemplate, name: Option<&str>) -> Option<gst::Pad> {
        let kind = if templ.name_template().starts_with("audio") {
            TrackKind::Audio
        } else {
            TrackKind::Video
        };
        let obj = self.obj();
        let prefix = if kind == TrackKind::Audio {
            "audio"
        } else {
            "video"
        };
        let name = match name {
            Some(n) => n.to_owned(),
            None => (0..)
                .map(|i| format!("{prefix}_{i}"))
                .find(|n| obj.static_pad(n).is_none())
                .unwrap(),
        };
        let pad = gst::GhostPad::builder_from_template(templ)
            .name(name.as_str())
            .build();
        let weak = obj.downgrade();
        pad.add_probe(
            gst::PadProbeType::BUFFER
                | gst::PadProbeType::BUFFER_LIST
                | gst::PadProbeType::EVENT_DOWNSTREAM
                | gst::PadProbeType::QUERY_DOWNSTREAM,
            move |pad, info| {
                let Some(obj) = weak.upgrade() else {
                    return gst::PadProbeReturn::Ok;
                };
                let pad = pad.downcast_ref::<gst::GhostPad>().unwrap();
                let verdict = obj.imp().guard(
                    || None,
                    |imp| {
                        crate::fault::point("mediarecorder:probe");
                        Some(imp.track_probe(pad, info))
                    },
                );
                match verdict {
                    Some(r) => r,
                    None => crate::fault::drop_item(info),
                }
            },
        );
        let weak = obj.downgrade();
        pad.connect_unlinked(move |pad, peer| {
            if let Some(obj) = weak.upgrade() {
                obj.imp().guard(
                    || (),
                    |imp| {
                        imp.track_left(pad.upcast_ref(), "unlinked");
                        imp.remember_stream_pad(pad, peer);
                    },
                );
            }
        });
        self.tracks.lock().push(Track {
            pad: pad.clone(),
            kind,
            ended: false,
            segment: None,
            was: None,
        });
        pad.set_active(true).ok()?;
        obj.add_pad(&pad).ok()?;
        gst::debug!(CAT, imp = self, "track pad {name}");
        let recording = self.state.lock().as_ref().is_some_and(|r| !r.stopping);
        if recording {
            self.fail(ConstraintError::invalid_modification(format!(
                "a track was added to the stream while recording (pad {name})"
            )));
        }
        Some(pad.upcast())
    }

    /// MediaRecorder(stream): links the stream's src pads, now and as they
    /// come, to new pads of their kind.
    fn follow_stream(&self, stream: gst::Element) {
        let weak = self.obj().downgrade();
        let id = stream.connect_pad_added(move |_, pad| {
            if let Some(obj) = weak.upgrade() {
                obj.imp().guard(|| (), |imp| imp.link_stream_pad(pad));
            }
        });
        for pad in stream.src_pads() {
            self.link_stream_pad(&pad);
        }
        gst::debug!(CAT, imp = self, "recording the tracks of {}", stream.name());
        self.settings.lock().stream = Some((stream, id));
    }

    fn link_stream_pad(&self, pad: &gst::Pad) {
        if pad.direction() != gst::PadDirection::Src || pad.is_linked() || self.relink(pad) {
            return;
        }
        let templ = if pad.name().starts_with("audio") {
            "audio_%u"
        } else {
            "video_%u"
        };
        let linked = self
            .obj()
            .request_pad_simple(templ)
            .map(|sink| pad.link(&sink));
        gst::debug!(CAT, imp = self, "stream pad {}: {linked:?}", pad.name());
    }

    /// A track pad lost its link to a `mediastream`'s pad: the stream may
    /// give a pad of that name again (after a NULL cycle), to be linked
    /// back to this one.
    fn remember_stream_pad(&self, pad: &gst::GhostPad, peer: &gst::Pad) {
        let Some(stream) = peer
            .parent_element()
            .filter(|e| e.is::<crate::mediastream::MediaStream>())
        else {
            return;
        };
        let name = peer.name().to_string();
        gst::debug!(
            CAT,
            imp = self,
            "{}: links again to {}'s next {name}",
            pad.name(),
            stream.name()
        );
        if let Some(t) = self.tracks.lock().iter_mut().find(|t| &t.pad == pad) {
            t.was = Some((stream.downgrade(), name));
        }
        let mut watched = self.watched.lock();
        watched.retain(|(w, _)| w.upgrade().is_some());
        if watched
            .iter()
            .any(|(w, _)| w.upgrade().as_ref() == Some(&stream))
        {
            return;
        }
        let weak = self.obj().downgrade();
        let id = stream.connect_pad_added(move |_, pad| {
            if let Some(obj) = weak.upgrade() {
                obj.imp().guard(
                    || (),
                    |imp| {
                        imp.relink(pad);
                    },
                );
            }
        });
        watched.push((stream.downgrade(), id));
    }

    /// Links a stream's new pad to the track pad that had its name, if
    /// that one is still unlinked: whether it did.
    fn relink(&self, pad: &gst::Pad) -> bool {
        let Some(stream) = pad.parent_element() else {
            return false;
        };
        let target =
            self.tracks
                .lock()
                .iter_mut()
                .find(|t| {
                    t.was.as_ref().is_some_and(|(s, n)| {
                        s.upgrade().as_ref() == Some(&stream) && *n == pad.name()
                    }) && !t.pad.is_linked()
                })
                .map(|t| {
                    t.was = None;
                    t.pad.clone()
                });
        let Some(target) = target else {
            return false;
        };
        if pad.is_linked() {
            return false;
        }
        let linked = pad.link(&target);
        gst::debug!(
            CAT,
            imp = self,
            "{}'s new {} -> {}: {linked:?}",
            stream.name(),
            pad.name(),
            target.name()
        );
        let recording = self.state.lock().as_ref().is_some_and(|r| !r.stopping);
        if linked.is_ok() && recording {
            // A track joined the stream, as through a new pad.
            self.fail(ConstraintError::invalid_modification(format!(
                "a track was added to the stream while recording (pad {})",
                target.name()
            )));
        }
        linked.is_ok()
    }

    /// A track's pad went (released, or its link broken by the stream's
    /// remove-track) while recording: the spec's track-set change, even
    /// for a track that had ended (the stream may send EOS before it
    /// removes the pad).
    fn track_left(&self, pad: &gst::Pad, how: &str) {
        let recorded = self.state.lock().as_ref().is_some_and(|r| {
            !r.stopping
                && r.branches
                    .iter()
                    .any(|b| b.pad.upcast_ref::<gst::Pad>() == pad)
        });
        gst::debug!(
            CAT,
            imp = self,
            "pad {} {how}; recorded: {recorded}",
            pad.name()
        );
        if recorded {
            self.fail(ConstraintError::invalid_modification(format!(
                "a track was removed from the stream while recording (pad {} {how})",
                pad.name()
            )));
        }
    }

    /// What passes a track pad: buffers only into a recording that is not
    /// paused; events on (a lone EOS is swallowed); queries answered from
    /// the template while there is no recording to answer them.
    fn track_probe(
        &self,
        pad: &gst::GhostPad,
        info: &mut gst::PadProbeInfo,
    ) -> gst::PadProbeReturn {
        match &mut info.data {
            Some(gst::PadProbeData::Buffer(b)) => {
                let pts = b.pts();
                self.verdict(self.pass_buffer(pad, pts), info)
            }
            Some(gst::PadProbeData::BufferList(l)) => {
                let pts = l.get(0).and_then(|b| b.pts());
                self.verdict(self.pass_buffer(pad, pts), info)
            }
            Some(gst::PadProbeData::Event(ev)) => match ev.view() {
                gst::EventView::Segment(s) => {
                    if let Ok(seg) = s.segment().clone().downcast::<gst::ClockTime>()
                        && let Some(t) = self.tracks.lock().iter_mut().find(|t| &t.pad == pad)
                    {
                        t.segment = Some(seg);
                    }
                    gst::PadProbeReturn::Ok
                }
                gst::EventView::Eos(_) => {
                    let pass = self.track_eos(pad);
                    self.verdict(pass, info)
                }
                gst::EventView::Caps(c) => {
                    self.track_caps(pad, c.caps());
                    gst::PadProbeReturn::Ok
                }
                // remove-track on the stream: a change of the track set,
                // not the track's end (the EOS that follows).
                _ if crate::track::is_removed_event(ev) => {
                    self.track_left(pad.upcast_ref(), "removed from the stream");
                    gst::PadProbeReturn::Ok
                }
                _ => gst::PadProbeReturn::Ok,
            },
            Some(gst::PadProbeData::Query(q)) => {
                if pad.target().is_some() {
                    return gst::PadProbeReturn::Ok;
                }
                let templ = pad.pad_template_caps();
                match q.view_mut() {
                    gst::QueryViewMut::Caps(c) => {
                        let caps = match c.filter() {
                            Some(f) => f.intersect_with_mode(&templ, gst::CapsIntersectMode::First),
                            None => templ,
                        };
                        c.set_result(&caps);
                        gst::PadProbeReturn::Handled
                    }
                    gst::QueryViewMut::AcceptCaps(a) => {
                        let ok = a.caps().can_intersect(&templ);
                        a.set_result(ok);
                        gst::PadProbeReturn::Handled
                    }
                    _ => gst::PadProbeReturn::Ok,
                }
            }
            _ => gst::PadProbeReturn::Ok,
        }
    }

    /// A video track's caps: the first ones fix the recording's size (when
    /// the branch was built before any); later ones of another size are
    /// scaled to it by the branch's `videoconvertscale`.
    fn track_caps(&self, pad: &gst::GhostPad, caps: &gst::CapsRef) {
        let set = {
            let mut state = self.state.lock();
            let Some(b) = state
                .as_mut()
                .and_then(|r| r.branches.iter_mut().find(|b| &b.pad == pad))
            else {
                return;
            };
            let Some(filter) = b.encode.size_filter.clone() else {
                return;
            };
            let Some(size) = encode::first_size(caps) else {
                return;
            };
            match &b.size {
                None => {
                    gst::debug!(CAT, imp = self, "{}: recording at {size}", pad.name());
                    b.size = Some(size.clone());
                    Some((filter, size))
                }
                Some(first) if first != &size => {
                    gst::debug!(
                        CAT,
                        imp = self,
                        "{}: the track is now {size}: scaled to {first}",
                        pad.name()
                    );
                    None
                }
                Some(_) => None,
            }
        };
        // No lock held: the capsfilter asks upstream to renegotiate.
        if let Some((filter, size)) = set {
            filter.set_property("caps", size);
        }
    }

    /// Passes the item, or consumes it (crate::fault::drop_item).
    fn verdict(&self, pass: bool, info: &mut gst::PadProbeInfo) -> gst::PadProbeReturn {
        if pass {
            gst::PadProbeReturn::Ok
        } else {
            crate::fault::drop_item(info)
        }
    }

    fn pass_buffer(&self, pad: &gst::GhostPad, pts: Option<gst::ClockTime>) -> bool {
        let segment = self
            .tracks
            .lock()
            .iter()
            .find(|t| &t.pad == pad)
            .and_then(|t| t.segment.clone());
        let rt = pts.and_then(|pts| segment.as_ref().and_then(|s| s.to_running_time(pts)));
        let mut state = self.state.lock();
        let Some(rec) = state.as_mut() else {
            return false;
        };
        if rec.stopping {
            return false;
        }
        if let Some(p) = rec.paused_at
            && rt.is_none_or(|rt| rt >= p)
        {
            return false;
        }
        if let (Some(rt), Some((p, r))) = (rt, rec.cut)
            && rt >= p
            && rt < r
        {
            return false;
        }
        let want = -(rec.paused_total.nseconds() as i64);
        let after_cut = match (rt, rec.cut) {
            (Some(rt), Some((_, r))) => rt >= r,
            _ => true,
        };
        if let Some(rt) = rt {
            rec.last_rt = Some(rec.last_rt.map_or(rt, |l| l.max(rt)));
        }
        let Some(branch) = rec.branches.iter_mut().find(|b| &b.pad == pad) else {
            return false;
        };
        if branch.ended {
            return false;
        }
        if branch.offset != want && after_cut {
            gst::debug!(
                CAT,
                imp = self,
                "{}: offset {want} ns from {rt:?}",
                pad.name()
            );
            // The internal pad re-sends the segment with the new offset
            // before this buffer.
            if let Some(internal) = pad.internal() {
                internal.set_offset(want);
            }
            branch.offset = want;
        }
        branch.fed = true;
        true
    }

    /// A track's EOS: into its branch when recording (the muxer finishes
    /// that stream), swallowed otherwise; when every track has ended and
    /// nothing records, the recorder's own EOS.
    fn track_eos(&self, pad: &gst::GhostPad) -> bool {
        {
            let mut tracks = self.tracks.lock();
            if let Some(t) = tracks.iter_mut().find(|t| &t.pad == pad) {
                t.ended = true;
            }
        }
        let into_branch = {
            let mut state = self.state.lock();
            match state
                .as_mut()
                .and_then(|r| r.branches.iter_mut().find(|b| &b.pad == pad))
            {
                Some(b) if !b.ended => {
                    b.ended = true;
                    true
                }
                _ => false,
            }
        };
        gst::debug!(
            CAT,
            imp = self,
            "{}: the track ended; into the recording: {into_branch}",
            pad.name()
        );
        if !into_branch {
            self.maybe_post_eos();
        }
        into_branch
    }

    /// Posts the recorder's EOS once every track ended and no recording
    /// is left to finish.
    fn maybe_post_eos(&self) {
        let all_ended = {
            let tracks = self.tracks.lock();
            let mut linked = tracks.iter().filter(|t| t.linked()).peekable();
            linked.peek().is_some() && linked.all(|t| t.ended)
        };
        if all_ended
            && self.state.lock().is_none()
            && self.waiting.lock().is_none()
            && !self
                .eos_posted
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            gst::debug!(CAT, imp = self, "every track ended: EOS");
            let obj = self.obj();
            let _ = obj.post_message(gst::message::Eos::builder().src(&*obj).build());
        }
    }

    /// Running time now: the pipeline clock's, or the last buffer's.
    fn now(&self, rec: &Recording) -> gst::ClockTime {
        let obj = self.obj();
        if obj.current_state() == gst::State::Playing
            && let (Some(clock), Some(base)) = (obj.clock(), obj.base_time())
        {
            return clock.time().saturating_sub(base);
        }
        rec.last_rt.unwrap_or(gst::ClockTime::ZERO)
    }

    /// The caps of the first live track of `kind` linked to the recorder:
    /// what a recording started now would encode.
    fn caps_of_kind(&self, kind: TrackKind) -> Option<gst::Caps> {
        let pad = self
            .tracks
            .lock()
            .iter()
            .find(|t| t.kind == kind && !t.ended && t.linked())
            .map(|t| t.pad.clone())?;
        pad.current_caps()
    }

    /// The bitrate the recording's encoder of `kind` runs at, if one runs.
    fn encoder_bitrate(&self, kind: TrackKind) -> Option<u32> {
        let video = kind == TrackKind::Video;
        // Read with no lock of ours held: the encoder takes its own, which
        // its streaming thread holds while it pushes into the recorder.
        let branch = {
            let state = self.state.lock();
            let rec = state.as_ref()?;
            rec.branches
                .iter()
                .find(|b| b.encode.video == video)
                .map(|b| b.encode.clone())?
        };
        branch.bitrate()
    }

    /// W3C start(). `resumed`: the start that waited for the previous
    /// recording's end (`waiting`), begun now.
    fn start(&self, timeslice: Option<u32>, resumed: bool) -> Result<(), ConstraintError> {
        let mut settings = {
            let mut s = self.settings.lock();
            if let Some(t) = timeslice {
                s.timeslice = t;
            }
            Settings {
                mime_type: s.mime_type.clone(),
                effective: None,
                bitrates: s.bitrates,
                timeslice: s.timeslice,
                location: s.location.clone(),
                auto_start: s.auto_start,
                stream: None,
            }
        };
        let tracks: Vec<(gst::GhostPad, TrackKind)> = self
            .tracks
            .lock()
            .iter()
            .filter(|t| !t.ended && t.linked())
            .map(|t| (t.pad.clone(), t.kind))
            .collect();
        let mut state = self.state.lock();
        {
            let mut waiting = self.waiting.lock();
            if resumed {
                if waiting.take().is_none() {
                    gst::debug!(CAT, imp = self, "the waiting start was called off");
                    return Ok(());
                }
            } else if waiting.is_some() {
                return Err(ConstraintError::invalid_state(
                    "the recorder is recording (it starts once the previous recording's stop event went out); stop it before starting again",
                ));
            } else if state.as_ref().is_some_and(|r| r.inactive) {
                gst::debug!(
                    CAT,
                    imp = self,
                    "start: the previous recording is finishing; this one begins after its stop event"
                );
                *waiting = Some(timeslice);
                drop(waiting);
                drop(state);
                self.obj().notify("state");
                return Ok(());
            }
        }
        if let Some(rec) = state.as_ref() {
            return Err(ConstraintError::invalid_state(format!(
                "the recorder is {}, not inactive; stop it before starting again",
                rec.state.as_str()
            )));
        }
        if tracks.is_empty() {
            return Err(ConstraintError::not_supported(
                "the stream has no live track to record: link a mediastream's pads (or raw video/audio) to the recorder first",
            ));
        }
        let has_video = tracks.iter().any(|(_, k)| *k == TrackKind::Video);
        let has_audio = tracks.iter().any(|(_, k)| *k == TrackKind::Audio);
        settings.bitrates = settings.bitrates.for_tracks(has_video, has_audio);
        let (plan, mime) = if settings.mime_type.is_empty() {
            // A remote video track's codec on the wire, if it has one.
            let received = tracks
                .iter()
                .filter(|(_, k)| *k == TrackKind::Video)
                .find_map(|(pad, _)| TrackState::on_pad(pad.upcast_ref())?.received_codec);
            let plan = Plan::default_for(has_video, has_audio, received.as_deref(), &installed)?;
            (plan, plan.mime_type())
        } else {
            let parsed = MimeType::parse(&settings.mime_type)?;
            let plan = parsed.plan(has_video, has_audio, &installed)?;
            let mime = if parsed.codecs_given {
                settings.mime_type.clone()
            } else {
                plan.mime_type()
            };
            (plan, mime)
        };
        gst::debug!(
            CAT,
            imp = self,
            "recording {} track(s) as {} ({plan:?})",
            tracks.len(),
            excerpt(&mime)
        );
        let file = match &settings.location {
            Some(path) if !path.is_empty() => Some(Output {
                file: std::fs::File::create(path).map_err(|e| {
                    ConstraintError::unknown(format!("cannot write '{}': {e}", excerpt(path)))
                })?,
                path: path.clone(),
                len: 0,
            }),
            _ => None,
        };
        let rec = self
            .build(&plan, &settings, &tracks)
            .map_err(ConstraintError::not_supported)?;
        *self.file.lock() = file;
        *state = Some(rec);
        // Before any chunk of this recording.
        self.push(Event::Start(mime));
        drop(state);
        self.settings.lock().bitrates = settings.bitrates;
        self.arm_timer(false);
        self.obj().notify("state");
        // The start event before start() returns (a GStreamer signal has
        // no later task to wait for: docs/conformance.md); mime-type reads
        // the full type from the event on.
        self.drain();
        Ok(())
    }

    /// The recording's elements, in the bin and running, the pads aimed
    /// at them.
    fn build(
        &self,
        plan: &Plan,
        settings: &Settings,
        tracks: &[(gst::GhostPad, TrackKind)],
    ) -> Result<Recording, String> {
        let obj = self.obj();
        let bin = obj.upcast_ref::<gst::Bin>();
        let mux = encode::muxer(plan.container, settings.timeslice)?;
        let sink = gst::ElementFactory::make("fakesink")
            .property("sync", false)
            .property("async", false)
            .property("enable-last-sample", false)
            .build()
            .map_err(|_| "the element 'fakesink' is missing".to_string())?;
        bin.add_many([&mux, &sink]).map_err(|e| e.to_string())?;
        let mut branches = Vec::new();
        let cleanup = |branches: &[Branch]| {
            let mut all: Vec<gst::Element> = branches
                .iter()
                .flat_map(|b| b.encode.elements.iter().cloned())
                .collect();
            all.extend([mux.clone(), sink.clone()]);
            crate::plumbing::discard_all(*CAT, bin, &all, &[]);
        };
        if let Err(e) = mux.link(&sink) {
            cleanup(&branches);
            return Err(format!("cannot link the muxer: {e}"));
        }
        let sinkpad = sink.static_pad("sink").unwrap();
        let weak = obj.downgrade();
        sinkpad.add_probe(
            gst::PadProbeType::BUFFER
                | gst::PadProbeType::BUFFER_LIST
                | gst::PadProbeType::EVENT_DOWNSTREAM,
            move |pad, info| {
                if let Some(obj) = weak.upgrade() {
                    let element = pad.parent_element();
                    obj.imp().guard(
                        || (),
                        |imp| {
                            crate::fault::point("mediarecorder:output");
                            imp.on_output(element.as_ref(), info)
                        },
                    );
                }
                gst::PadProbeReturn::Ok
            },
        );
        for (pad, kind) in tracks {
            let (codec, bps) = match kind {
                TrackKind::Video => (plan.video, bitrate::target(settings.bitrates.video)),
                TrackKind::Audio => (plan.audio, bitrate::target(settings.bitrates.audio)),
            };
            let Some(codec) = codec else { continue };
            let upstream = pad
                .current_caps()
                .unwrap_or_else(|| pad.peer_query_caps(None));
            gst::debug!(
                CAT,
                imp = self,
                "{}: {} from {upstream}",
                pad.name(),
                codec.name()
            );
            // Not given: the encoder's starting value, set, so it stays
            // what the attribute reads (vp8enc would pick its own from the
            // frame size once the caps come).
            let bps =
                bps.unwrap_or_else(|| encode::default_bitrate(codec, Some(&upstream), &installed));
            match encode::build(
                bin,
                codec,
                bps,
                &upstream,
                (&mux, plan.container),
                &installed,
            ) {
                Ok(encode) => branches.push(Branch {
                    pad: pad.clone(),
                    size: encode
                        .size_filter
                        .as_ref()
                        .and_then(|_| encode::first_size(&upstream)),
                    encode,
                    ended: false,
                    offset: 0,
                    fed: false,
                }),
                Err(e) => {
                    cleanup(&branches);
                    return Err(e);
                }
            }
        }
        for b in &branches {
            gst::debug!(
                CAT,
                imp = self,
                "{} -> {}",
                b.pad.name(),
                b.encode
                    .elements
                    .iter()
                    .map(|e| e
                        .factory()
                        .map(|f| f.name().to_string())
                        .unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(" ! ")
            );
            if let Some(internal) = b.pad.internal() {
                internal.set_offset(0);
            }
            if let Err(e) = b.pad.set_target(Some(&b.encode.sink_pad())) {
                cleanup(&branches);
                return Err(format!("cannot link {}: {e}", b.pad.name()));
            }
        }
        // Downstream first, so nothing pushes into an element not started.
        let mut order = vec![sink.clone(), mux.clone()];
        for b in &branches {
            order.extend(b.encode.elements.iter().rev().cloned());
        }
        for e in &order {
            if e.sync_state_with_parent().is_err() {
                for b in &branches {
                    crate::plumbing::clear_target(&b.pad);
                }
                cleanup(&branches);
                return Err(format!("the element '{}' failed to start", e.name()));
            }
        }
        Ok(Recording {
            state: RecorderState::Recording,
            timeslice: settings.timeslice,
            mp4: plan.container == Container::Mp4,
            mux,
            sink,
            branches,
            chunker: Chunker::new(),
            timer: None,
            paused_at: None,
            cut: None,
            paused_total: gst::ClockTime::ZERO,
            last_rt: None,
            stopping: false,
            inactive: false,
            discarding: false,
        })
    }

    /// The timeslice clock, once there is a clock (PLAYING; `playing`:
    /// on the way there, before the state is committed).
    fn arm_timer(&self, playing: bool) {
        let obj = self.obj();
        let playing = playing || obj.current_state() == gst::State::Playing;
        let (Some(clock), true) = (obj.clock(), playing) else {
            return;
        };
        let mut state = self.state.lock();
        let Some(rec) = state.as_mut() else { return };
        if rec.timer.is_some() || rec.timeslice == 0 || rec.stopping {
            return;
        }
        let interval = gst::ClockTime::from_mseconds(rec.timeslice as u64);
        let id = clock.new_periodic_id(clock.time() + interval, interval);
        let weak = obj.downgrade();
        let armed = id.wait_async(move |_, _, _| {
            if let Some(obj) = weak.upgrade() {
                obj.imp().guard(|| (), |imp| imp.on_timeslice());
            }
        });
        gst::debug!(CAT, imp = self, "timeslice {} ms: {armed:?}", rec.timeslice);
        rec.timer = Some(id);
    }

    /// A timeslice elapsed: the chunk so far, if there is one.
    fn on_timeslice(&self) {
        {
            let mut state = self.state.lock();
            let Some(rec) = state.as_mut() else { return };
            if rec.stopping || rec.chunker.pending_bytes() == 0 {
                return;
            }
            let chunk = rec.chunker.take();
            gst::debug!(
                CAT,
                imp = self,
                "timeslice: {} bytes at {} ms",
                chunk.data.len(),
                chunk.timecode
            );
            self.push(Event::Data(chunk));
        }
        // Delivered from the thread pool, not the clock's thread.
        self.obj()
            .call_async(|obj| obj.imp().guard(|| (), |imp| imp.drain()));
    }

    /// The muxer's output: into the chunker; its EOS ends the recording.
    fn on_output(&self, sink: Option<&gst::Element>, info: &gst::PadProbeInfo) {
        let mut state = self.state.lock();
        let Some(rec) = state.as_mut().filter(|r| Some(&r.sink) == sink) else {
            return;
        };
        match &info.data {
            Some(gst::PadProbeData::Buffer(b)) if !rec.discarding => rec.chunker.push(b.clone()),
            Some(gst::PadProbeData::BufferList(l)) if !rec.discarding => {
                for b in l.iter_owned() {
                    rec.chunker.push(b);
                }
            }
            Some(gst::PadProbeData::Event(ev)) if ev.type_() == gst::EventType::Eos => {
                drop(state);
                gst::debug!(CAT, imp = self, "the muxer finished");
                self.finish(false);
            }
            _ => {}
        }
    }

    fn stop(&self) {
        let (pads, newly_inactive, fed, unfed): (Vec<gst::GhostPad>, bool, bool, Vec<gst::Pad>) = {
            let mut state = self.state.lock();
            if self.waiting.lock().take().is_some() {
                // The start that waited: never begun, no events.
                gst::debug!(CAT, imp = self, "stop: the waiting start is called off");
                drop(state);
                self.obj().notify("state");
                return;
            }
            let Some(rec) = state.as_mut() else {
                gst::debug!(CAT, imp = self, "stop: inactive, nothing to do");
                return;
            };
            // Inactive at once (W3C stop()); the last chunk and `stop`
            // follow once the encoders have drained.
            let was_inactive = std::mem::replace(&mut rec.inactive, true);
            if rec.stopping {
                return;
            }
            rec.stopping = true;
            if let Some(t) = rec.timer.take() {
                t.unschedule();
            }
            // Branches that never had a buffer leave the muxer instead of
            // ending in it (none can get one now: `stopping`).
            let mut unfed = Vec::new();
            let mp4 = rec.mp4;
            for b in rec
                .branches
                .iter_mut()
                .filter(|b| mp4 && !b.ended && !b.fed)
            {
                b.ended = true;
                if let Some(mux_pad) = b
                    .encode
                    .elements
                    .last()
                    .and_then(|e| e.static_pad("src"))
                    .and_then(|p| p.peer())
                {
                    unfed.push(mux_pad);
                }
            }
            let pads = rec
                .branches
                .iter()
                .filter(|b| !b.ended)
                .map(|b| b.pad.clone())
                .collect();
            // In MP4, stop() before any buffer went in finishes at once:
            // mp4mux given EOS on pads that never had caps never ends.
            let fed = rec.branches.iter().any(|b| b.fed);
            (pads, !was_inactive, fed || !rec.mp4, unfed)
        };
        if newly_inactive {
            self.obj().notify("state");
        }
        let running = self.obj().current_state() >= gst::State::Paused;
        gst::debug!(
            CAT,
            imp = self,
            "stop: EOS into {} branch(es), running: {running}",
            pads.len()
        );
        if !running {
            self.finish(true);
            return;
        }
        if !fed {
            // Nothing went in: no EOS to wait for (the muxer may have
            // nothing to end); the last chunk is what it wrote, if anything.
            gst::debug!(CAT, imp = self, "stop before any data: finished now");
            self.finish(false);
            return;
        }
        for mux_pad in unfed {
            if let Some(mux) = mux_pad.parent_element() {
                gst::debug!(CAT, imp = self, "{}: no data, let go of", mux_pad.name());
                mux.release_request_pad(&mux_pad);
            }
        }
        if pads.is_empty() {
            // Every branch has its EOS: the muxer's is on its way.
            return;
        }
        for pad in pads {
            self.obj().call_async(move |obj| {
                obj.imp().guard(|| (), |imp| imp.end_branch(&pad));
            });
        }
    }

    /// EOS into a branch, serialized with the track's data: under the
    /// pad's stream lock no buffer is between the probe (which now drops)
    /// and the encoder.
    fn end_branch(&self, pad: &gst::GhostPad) {
        let _stream = pad.stream_lock();
        let target = {
            let mut state = self.state.lock();
            let Some(b) = state
                .as_mut()
                .and_then(|r| r.branches.iter_mut().find(|b| &b.pad == pad))
            else {
                return;
            };
            if b.ended {
                return;
            }
            b.ended = true;
            b.encode.sink_pad()
        };
        let sent = target.send_event(gst::event::Eos::new());
        gst::debug!(CAT, imp = self, "{}: EOS sent: {sent}", pad.name());
    }

    /// The end of a recording: the last chunk, `stopped`, the elements
    /// gone. `now`: from a state change (tear down here), else through
    /// call_async (this may be a streaming thread of the recording).
    fn finish(&self, now: bool) {
        let rec = {
            let mut state = self.state.lock();
            let Some(mut rec) = state.take() else {
                return;
            };
            if let Some(t) = rec.timer.take() {
                t.unschedule();
            }
            let chunk = rec.chunker.take();
            gst::debug!(
                CAT,
                imp = self,
                "finished: last chunk {} bytes, {} bytes in {} chunks",
                chunk.data.len(),
                rec.chunker.bytes,
                rec.chunker.chunks
            );
            // Queued under the state lock, as every chunk is: events keep
            // the order in which chunks were cut.
            self.push(Event::Data(chunk));
            self.push(Event::Stop);
            // A start that waited for this end begins after `stop` went
            // out; a state change calls it off.
            let mut waiting = self.waiting.lock();
            if now {
                *waiting = None;
            } else if waiting.is_some() {
                self.push(Event::Restart);
            }
            rec
        };
        let pads: Vec<(gst::GhostPad, gst::Pad)> = rec
            .branches
            .iter()
            .map(|b| (b.pad.clone(), b.encode.sink_pad()))
            .collect();
        let elements = rec.elements();
        let teardown = move |obj: &super::MediaRecorder| {
            {
                // Under the state lock, as a new recording's build aims the
                // pads: one started meanwhile keeps its targets and offsets.
                let _state = obj.imp().state.lock();
                for (pad, target) in &pads {
                    if pad.target().as_ref() == Some(target) {
                        let _ = pad.set_target(None::<&gst::Pad>);
                        if let Some(internal) = pad.internal() {
                            internal.set_offset(0);
                        }
                    }
                }
            }
            crate::plumbing::discard_all(*CAT, obj, &elements, &[]);
        };
        if now {
            teardown(&self.obj());
        } else {
            self.obj().call_async(move |obj| teardown(obj));
        }
        self.obj().notify("state");
        self.drain();
        self.maybe_post_eos();
    }

    /// The start that waited for the previous recording's end, once that
    /// one's last chunk and `stop` went out: begun now. Should it fail now
    /// (a track ended meanwhile), `error` and `stop` fire: the start had
    /// already been accepted.
    fn begin_waiting(&self) {
        gst::debug!(CAT, imp = self, "the start that waited begins");
        let timeslice = self.waiting.lock().unwrap_or(None);
        if let Err(e) = self.start(timeslice, true) {
            gst::warning!(CAT, imp = self, "the waiting start failed: {}", e.message());
            self.push(Event::Error(e.name().to_owned(), e.message().to_owned()));
            self.push(Event::Stop);
            self.obj().notify("state");
            self.drain();
            self.post_error(&e);
            self.maybe_post_eos();
        }
    }

    /// The recording fails: the error, what was gathered is dropped, then
    /// the last (empty) chunk and `stopped`, as the spec orders them.
    fn fail(&self, e: ConstraintError) {
        {
            let mut state = self.state.lock();
            let Some(rec) = state.as_mut() else { return };
            rec.chunker.discard();
            rec.discarding = true;
            // W3C: inactive, then error, the last chunk and stop.
            rec.inactive = true;
            *self.waiting.lock() = None;
            gst::debug!(CAT, imp = self, "{}: {}", e.name(), e.message());
            self.push(Event::Error(e.name().to_owned(), e.message().to_owned()));
        }
        self.obj().notify("state");
        self.drain();
        self.post_error(&e);
        self.stop();
    }

    fn pause(&self) -> Result<(), ConstraintError> {
        {
            let mut state = self.state.lock();
            let rec = self.active(&mut state)?;
            if rec.state == RecorderState::Paused {
                return Ok(());
            }
            let now = self.now(rec);
            gst::debug!(CAT, imp = self, "pause at {now}");
            rec.paused_at = Some(now);
            rec.state = RecorderState::Paused;
            self.push(Event::Pause);
        }
        self.obj().notify("state");
        self.drain();
        Ok(())
    }

    fn resume(&self) -> Result<(), ConstraintError> {
        {
            let mut state = self.state.lock();
            let rec = self.active(&mut state)?;
            let Some(p) = rec.paused_at.take() else {
                return Ok(());
            };
            let r = self.now(rec).max(p);
            rec.paused_total += r - p;
            rec.cut = Some((p, r));
            rec.state = RecorderState::Recording;
            gst::debug!(
                CAT,
                imp = self,
                "resume at {r}: {} paused in all",
                rec.paused_total
            );
            self.push(Event::Resume);
        }
        self.obj().notify("state");
        self.drain();
        Ok(())
    }

    fn request_data(&self) -> Result<(), ConstraintError> {
        {
            let mut state = self.state.lock();
            let rec = self.active(&mut state)?;
            let chunk = rec.chunker.take();
            gst::debug!(CAT, imp = self, "request-data: {} bytes", chunk.data.len());
            self.push(Event::Data(chunk));
        }
        self.drain();
        Ok(())
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
