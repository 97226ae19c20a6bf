// SPDX-License-Identifier: MPL-2.0

//! The track protocol the elements share: the sticky
//! `mediastream-track-state` event (written by `mediastreamsrc`, read by
//! `mediastreamtracksink` and anything downstream), the `mediastream-*`
//! element messages, a track's `GstStream`, settings read from caps, and
//! W3C errors as element errors. docs/overview.md describes the protocol.

use crate::constraints::caps::{error_details, error_domain};
use crate::constraints::{ConstraintError, ErrorName, Settings};
use gst::glib;
use gst::prelude::*;
use std::sync::LazyLock;

mod kind;
pub(crate) mod liveness;
pub use kind::{ReadyState, TrackKind};

/// Name of the sticky event and of the structure that carries track state.
pub const TRACK_STATE: &str = "mediastream-track-state";

/// What a track tells downstream about itself: MediaStreamTrack's
/// attributes and its settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackState {
    pub track_id: String,
    pub kind: TrackKind,
    pub label: String,
    pub enabled: bool,
    pub muted: bool,
    pub ready_state: ReadyState,
    /// The MediaTrackSettings structure, once selected.
    pub settings: Option<gst::Structure>,
    pub device_id: String,
    /// A remote track's codec on the wire (its RTP encoding name in lower
    /// case: `vp8`, `vp9`, `h264`, `opus`); a recorder with no type
    /// records that codec where the container holds it, as a browser's
    /// passthrough does. None for a local track.
    pub received_codec: Option<String>,
}

impl TrackState {
    /// The `mediastream-track-state` structure.
    pub fn to_structure(&self) -> gst::Structure {
        let mut s = gst::Structure::builder(TRACK_STATE)
            .field("track-id", &self.track_id)
            .field("kind", self.kind.as_str())
            .field("label", &self.label)
            .field("enabled", self.enabled)
            .field("muted", self.muted)
            .field("ready-state", self.ready_state.as_str())
            .field("device-id", &self.device_id)
            .build();
        if let Some(settings) = &self.settings {
            s.set("settings", settings);
        }
        if let Some(codec) = &self.received_codec {
            s.set("received-codec", codec);
        }
        s
    }

    /// The sticky event that carries it downstream.
    pub fn to_event(&self) -> gst::Event {
        gst::event::CustomDownstreamSticky::new(self.to_structure())
    }

    /// Reads a `mediastream-track-state` structure; `None` for any other.
    /// Fields a writer left out take the values of a live, enabled track.
    pub fn from_structure(s: &gst::StructureRef) -> Option<TrackState> {
        if s.name() != TRACK_STATE {
            return None;
        }
        let string = |field: &str| s.get::<String>(field).unwrap_or_default();
        Some(TrackState {
            track_id: string("track-id"),
            kind: match s.get::<&str>("kind") {
                Ok("audio") => TrackKind::Audio,
                _ => TrackKind::Video,
            },
            label: string("label"),
            enabled: s.get("enabled").unwrap_or(true),
            muted: s.get("muted").unwrap_or(false),
            ready_state: s
                .get::<&str>("ready-state")
                .ok()
                .and_then(ReadyState::from_name)
                .unwrap_or_default(),
            settings: s.get("settings").ok(),
            device_id: string("device-id"),
            received_codec: s.get("received-codec").ok(),
        })
    }

    /// The state a `mediastream-track-state` event carries; `None` for any
    /// other event.
    pub fn from_event(ev: &gst::EventRef) -> Option<TrackState> {
        match ev.view() {
            gst::EventView::CustomDownstreamSticky(e) => {
                e.structure().and_then(TrackState::from_structure)
            }
            _ => None,
        }
    }

    /// The state last sent down to `pad` (its sticky event), if any.
    pub fn on_pad(pad: &gst::Pad) -> Option<TrackState> {
        let mut found = None;
        pad.sticky_events_foreach(|ev| {
            if let Some(state) = TrackState::from_event(ev) {
                found = Some(state);
            }
            std::ops::ControlFlow::Continue(gst::EventForeachAction::Keep)
        });
        found
    }
}

/// MediaStreamTrack's events, as signals of the elements that are (or
/// show) a track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackEvent {
    Mute,
    Unmute,
    Ended,
}

impl TrackEvent {
    /// The signal's name, and the message's `mediastream-track-<name>`.
    pub fn name(self) -> &'static str {
        match self {
            TrackEvent::Mute => "mute",
            TrackEvent::Unmute => "unmute",
            TrackEvent::Ended => "ended",
        }
    }

    /// `mute` or `unmute`.
    pub fn muted(muted: bool) -> TrackEvent {
        if muted {
            TrackEvent::Mute
        } else {
            TrackEvent::Unmute
        }
    }
}

/// `event` of the track `track_id`: `element`'s signal, then its
/// `mediastream-track-*` message. With no lock held (handlers may call
/// back). The property notifications (`muted`, `ready-state`) are the
/// caller's: not every change has an event.
pub(crate) fn announce(element: &impl IsA<gst::Element>, event: TrackEvent, track_id: &str) {
    element.emit_by_name::<()>(event.name(), &[]);
    post(element, track_message(event.name(), track_id).build());
}

/// The local tracks (`mediastreamsrc`) by id. A stream that holds a track
/// through a `sink_%u` pad (`new MediaStream([track])`) finds the track
/// here and follows its `ready-state` at once, as a browser's stream holds
/// the track object itself; the track's EOS reaches the stream later,
/// through the pipeline.
static LOCAL_TRACKS: LazyLock<parking_lot::Mutex<Vec<LocalTrack>>> =
    LazyLock::new(Default::default);

/// A local track's id and element.
type LocalTrack = (String, glib::WeakRef<gst::Element>);

/// Makes `element`, a local track of id `id`, findable by [`local_track`].
pub fn register_local(id: &str, element: &gst::Element) {
    let mut tracks = LOCAL_TRACKS.lock();
    tracks.retain(|(_, w)| w.upgrade().is_some());
    tracks.push((id.to_owned(), element.downgrade()));
}

/// The local track of id `id`, while it exists.
pub fn local_track(id: &str) -> Option<gst::Element> {
    LOCAL_TRACKS
        .lock()
        .iter()
        .find(|(i, _)| i == id)
        .and_then(|(_, w)| w.upgrade())
}

/// The local track `pad` carries: upstream through elements with one sink
/// pad (a queue, a tee) to a registered track.
pub fn local_track_upstream(pad: &gst::Pad) -> Option<gst::Element> {
    upstream_element(pad.parent_element()?, |element| {
        LOCAL_TRACKS
            .lock()
            .iter()
            .any(|(_, w)| w.upgrade().as_ref() == Some(element))
    })
}

/// Whether `element` is a `mediastream` (a MediaStream): by its type's
/// name, so the track layer and the elements beside `mediastream` need no
/// import of it.
pub fn is_mediastream(element: &gst::Element) -> bool {
    element.type_().name() == "GstMediaStream"
}

/// The first element from `start` upstream, through elements with one
/// sink pad (a queue, a tee, a converter), that is `wanted`: how an
/// element finds the track or the stream it is fed from. Gives up after
/// 32 elements (a loop) and at an element with several sink pads.
pub fn upstream_element(
    start: gst::Element,
    wanted: impl Fn(&gst::Element) -> bool,
) -> Option<gst::Element> {
    let mut element = start;
    for _ in 0..32 {
        if wanted(&element) {
            return Some(element);
        }
        let sinks = element.sink_pads();
        let [sink] = sinks.as_slice() else {
            return None;
        };
        element = sink.peer()?.parent_element()?;
    }
    None
}

/// Name of the event a `mediastream` sends down a track's pad when
/// `remove-track` takes the track out of the stream, just before the track
/// is stopped: downstream (a recorder) tells a removal from the track's end.
pub const TRACK_REMOVED: &str = "mediastream-track-removed";

/// The `mediastream-track-removed` event (serialized with the data, not
/// sticky).
pub fn removed_event(track_id: &str) -> gst::Event {
    gst::event::CustomDownstream::new(
        gst::Structure::builder(TRACK_REMOVED)
            .field("track-id", track_id)
            .build(),
    )
}

/// `ev` is a `mediastream-track-removed` event.
pub fn is_removed_event(ev: &gst::EventRef) -> bool {
    matches!(ev.view(), gst::EventView::CustomDownstream(e)
        if e.structure().is_some_and(|s| s.name() == TRACK_REMOVED))
}

/// A `mediastream-track-EVENT` message structure for `track_id`; the
/// caller adds its own fields.
pub fn track_message(event: &str, track_id: &str) -> gst::structure::Builder {
    gst::Structure::builder(format!("mediastream-track-{event}")).field("track-id", track_id)
}

/// Posts `s` as an element message of `element` (no lock may be held).
pub fn post(element: &impl IsA<gst::Element>, s: gst::Structure) {
    let element = element.upcast_ref::<gst::Element>();
    // Fails only without a bus (an element outside any pipeline): nobody
    // would read it.
    let _ = element.post_message(gst::message::Element::builder(s).src(element).build());
}

/// A track's `GstStream`: its id, type and, when known, caps and the
/// device's label as the title tag.
pub fn new_stream(
    track_id: &str,
    kind: Option<TrackKind>,
    caps: Option<&gst::Caps>,
    label: Option<&str>,
) -> gst::Stream {
    let stream_type = match kind {
        Some(TrackKind::Audio) => gst::StreamType::AUDIO,
        Some(TrackKind::Video) => gst::StreamType::VIDEO,
        None => gst::StreamType::UNKNOWN,
    };
    let stream = gst::Stream::new(Some(track_id), caps, stream_type, gst::StreamFlags::empty());
    if let Some(label) = label {
        let mut tags = gst::TagList::new();
        tags.get_mut()
            .unwrap()
            .add::<gst::tags::Title>(&label, gst::TagMergeMode::Replace);
        stream.set_tags(Some(&tags));
    }
    stream
}

/// MediaTrackSettings from caps, for a track that is not a
/// `mediastreamsrc` (no state event to read them from).
pub fn settings_from_caps(s: &gst::StructureRef) -> gst::Structure {
    let media = CapsMedia::of(s);
    let mut out = gst::Structure::new_empty("MediaTrackSettings");
    if media.audio {
        if let Some(r) = media.sample_rate {
            out.set("sampleRate", r);
        }
        if let Some(c) = media.channels {
            out.set("channelCount", c);
        }
    } else {
        if let (Some(w), Some(h)) = (media.width, media.height) {
            out.set("width", w);
            out.set("height", h);
            if h > 0 {
                out.set("aspectRatio", (w as f64 / h as f64 * 1e10).round() / 1e10);
            }
        }
        if let Some(f) = media.frame_rate {
            out.set("frameRate", fps(f));
        }
    }
    out
}

/// A local track's settings follow what flows (the negotiated size, rate,
/// channels), read from its caps as [`settings_from_caps`] reads them.
pub fn settings_follow_caps(settings: &mut Settings, s: &gst::StructureRef) {
    let media = CapsMedia::of(s);
    match settings {
        Settings::Video(v) => {
            if let Some(w) = media.width {
                v.width = w as u32;
            }
            if let Some(h) = media.height {
                v.height = h as u32;
            }
            if let Some(f) = media.frame_rate {
                v.frame_rate = fps(f);
                v.frame_rate_fraction = crate::constraints::Fraction::new(f.numer(), f.denom());
            }
        }
        Settings::Audio(a) => {
            if let Some(r) = media.sample_rate {
                a.sample_rate = r as u32;
            }
            if let Some(c) = media.channels {
                a.channel_count = c as u32;
            }
        }
    }
}

/// The MediaTrackSettings members caps carry.
struct CapsMedia {
    audio: bool,
    width: Option<i32>,
    height: Option<i32>,
    frame_rate: Option<gst::Fraction>,
    sample_rate: Option<i32>,
    channels: Option<i32>,
}

impl CapsMedia {
    fn of(s: &gst::StructureRef) -> CapsMedia {
        CapsMedia {
            audio: s.name().starts_with("audio/"),
            width: s.get("width").ok(),
            height: s.get("height").ok(),
            frame_rate: s.get("framerate").ok(),
            sample_rate: s.get("rate").ok(),
            channels: s.get("channels").ok(),
        }
    }
}

fn fps(f: gst::Fraction) -> f64 {
    f.numer() as f64 / f.denom().max(1) as f64
}

/// Whether audio processing (`webrtcdsp`) is installed: it decides the
/// processing flags' capabilities and candidates.
pub fn audio_processing() -> bool {
    gst::ElementFactory::find("webrtcdsp").is_some()
}

/// Posts a W3C error as the element's error: `NAME: message` and the
/// `mediastream-error` details (docs/errors.md). The one mapping of the
/// crate's W3C errors to GStreamer's: an element not installed is
/// `CORE_ERROR_MISSING_PLUGIN`, a file not written `RESOURCE_ERROR_WRITE`,
/// AbortError `CORE_ERROR_FAILED`, NotSupportedError
/// `CORE_ERROR_NOT_IMPLEMENTED`, InvalidModificationError and UnknownError
/// `STREAM_ERROR_FAILED`, the capture errors their resource domain.
pub fn post_error(element: &impl IsA<gst::Element>, e: &ConstraintError) {
    let element = element.upcast_ref::<gst::Element>();
    let details = error_details(e);
    if e.missing().is_some() {
        gst::element_error!(element, gst::CoreError::MissingPlugin, ("{}", e), details: details);
    } else if e.is_write_failure() {
        gst::element_error!(
            element,
            gst::ResourceError::Write,
            ("{}", e),
            ["the recording stopped; the file holds every chunk delivered before the failure, whole"],
            details: details
        );
    } else {
        match e.error_name() {
            ErrorName::AbortError => {
                gst::element_error!(element, gst::CoreError::Failed, ("{}", e), details: details)
            }
            ErrorName::NotSupportedError => gst::element_error!(
                element,
                gst::CoreError::NotImplemented,
                ("{}", e),
                details: details
            ),
            ErrorName::InvalidModificationError => gst::element_error!(
                element,
                gst::StreamError::Failed,
                ("{}", e),
                ["the stream's track set changed while recording; stop the recorder before adding or removing tracks"],
                details: details
            ),
            ErrorName::UnknownError => {
                gst::element_error!(element, gst::StreamError::Failed, ("{}", e), details: details)
            }
            _ => gst::element_error!(element, error_domain(e), ("{}", e), details: details),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_upstream_is_found_through_one_sink_pad_elements_only() {
        gst::init().unwrap();
        crate::ensure_registered();
        let make = |f: &str| gst::ElementFactory::make(f).build().unwrap();
        let stream = make("mediastream");
        assert!(is_mediastream(&stream));
        let (queue, tee, sink) = (make("queue"), make("tee"), make("fakesink"));
        assert!(!is_mediastream(&queue));
        let bin = gst::Bin::new();
        bin.add_many([&stream, &queue, &tee, &sink]).unwrap();
        let src = stream.request_pad_simple("sink_%u").unwrap();
        gst::Element::link_many([&queue, &tee, &sink]).unwrap();
        let found =
            |pad: &gst::Pad| upstream_element(pad.parent_element().unwrap(), is_mediastream);
        // queue ! tee ! fakesink: no stream upstream.
        assert_eq!(found(&sink.static_pad("sink").unwrap()), None);
        // The stream itself, from its own pad.
        assert_eq!(found(&src), Some(stream.clone()));
        // An element with two sink pads stops the walk.
        let mixer = make("funnel");
        bin.add(&mixer).unwrap();
        for _ in 0..2 {
            mixer.request_pad_simple("sink_%u").unwrap();
        }
        assert_eq!(found(&mixer.static_pad("src").unwrap()), None);
    }

    #[test]
    fn a_missing_element_is_a_missing_plugin_with_its_w3c_name() {
        gst::init().unwrap();
        let pipeline = gst::Pipeline::new();
        let element = gst::Bin::new().upcast::<gst::Element>();
        pipeline.add(&element).unwrap();
        let bus = pipeline.bus().unwrap();
        for (e, missing) in [
            (ConstraintError::missing_element("jpegdec"), true),
            (ConstraintError::not_readable("busy"), false),
        ] {
            post_error(&element, &e);
            let msg = bus.pop_filtered(&[gst::MessageType::Error]).unwrap();
            let gst::MessageView::Error(err) = msg.view() else {
                unreachable!()
            };
            assert_eq!(
                err.error().matches(gst::CoreError::MissingPlugin),
                missing,
                "{:?}",
                err.error()
            );
            assert_eq!(err.error().matches(gst::ResourceError::OpenRead), !missing);
            let details = err.details().unwrap();
            assert_eq!(details.get::<&str>("name").unwrap(), "NotReadableError");
        }
    }

    #[test]
    fn every_w3c_error_has_one_gstreamer_error() {
        gst::init().unwrap();
        let pipeline = gst::Pipeline::new();
        let element = gst::Bin::new().upcast::<gst::Element>();
        pipeline.add(&element).unwrap();
        let bus = pipeline.bus().unwrap();
        let domain = |e: ConstraintError| {
            post_error(&element, &e);
            let msg = bus.pop_filtered(&[gst::MessageType::Error]).unwrap();
            let gst::MessageView::Error(err) = msg.view() else {
                unreachable!()
            };
            let details = err.details().unwrap();
            assert_eq!(details.get::<&str>("name").unwrap(), e.name());
            assert_eq!(err.error().message(), e.to_string());
            err.error()
        };
        assert!(domain(ConstraintError::not_found("x")).matches(gst::ResourceError::NotFound));
        assert!(domain(ConstraintError::not_readable("x")).matches(gst::ResourceError::OpenRead));
        assert!(domain(ConstraintError::abort("x")).matches(gst::CoreError::Failed));
        assert!(
            domain(ConstraintError::not_supported("x")).matches(gst::CoreError::NotImplemented)
        );
        assert!(
            domain(ConstraintError::not_supported("x").missing_element_too(Some("vp9enc".into())))
                .matches(gst::CoreError::MissingPlugin)
        );
        assert!(
            domain(ConstraintError::invalid_modification("x")).matches(gst::StreamError::Failed)
        );
        assert!(domain(ConstraintError::unknown("x")).matches(gst::StreamError::Failed));
        assert!(domain(ConstraintError::write_failed("x")).matches(gst::ResourceError::Write));
    }

    #[test]
    fn settings_follow_the_caps_as_a_remote_track_reads_them() {
        use crate::constraints::{Fraction, ResizeMode, VideoSettings};
        gst::init().unwrap();
        let caps = gst::Caps::builder("video/x-raw")
            .field("width", 320)
            .field("height", 240)
            .field("framerate", gst::Fraction::new(30000, 1001))
            .build();
        let s = caps.structure(0).unwrap();
        let mut settings = Settings::Video(VideoSettings {
            device_id: "cam".into(),
            group_id: "g".into(),
            width: 640,
            height: 480,
            frame_rate: 30.0,
            frame_rate_fraction: Fraction::new(30, 1),
            facing_mode: None,
            resize_mode: ResizeMode::None,
            display: None,
        });
        settings_follow_caps(&mut settings, s);
        let Settings::Video(v) = &settings else {
            unreachable!()
        };
        assert_eq!((v.width, v.height), (320, 240));
        assert_eq!(v.frame_rate_fraction, Fraction::new(30000, 1001));
        let remote = settings_from_caps(s);
        assert_eq!(remote.get::<i32>("width").unwrap(), 320);
        assert_eq!(remote.get::<f64>("frameRate").unwrap(), v.frame_rate);
        assert_eq!(remote.get::<f64>("aspectRatio").unwrap(), v.aspect_ratio());
        let audio = gst::Caps::builder("audio/x-raw")
            .field("rate", 16000)
            .field("channels", 2)
            .build();
        let remote = settings_from_caps(audio.structure(0).unwrap());
        assert_eq!(remote.get::<i32>("sampleRate").unwrap(), 16000);
        assert_eq!(remote.get::<i32>("channelCount").unwrap(), 2);
    }

    #[test]
    fn the_state_structure_reads_back() {
        gst::init().unwrap();
        let state = TrackState {
            track_id: "t".into(),
            kind: TrackKind::Audio,
            label: "Mic".into(),
            enabled: false,
            muted: true,
            ready_state: ReadyState::Ended,
            settings: Some(
                gst::Structure::builder("MediaTrackSettings")
                    .field("sampleRate", 48000)
                    .build(),
            ),
            device_id: "mic".into(),
            received_codec: None,
        };
        let remote = TrackState {
            received_codec: Some("vp9".into()),
            ..state.clone()
        };
        assert_eq!(TrackState::from_event(&remote.to_event()), Some(remote));
        let s = state.to_structure();
        assert_eq!(s.get::<&str>("ready-state").unwrap(), "ended");
        assert_eq!(s.get::<&str>("kind").unwrap(), "audio");
        assert_eq!(TrackState::from_structure(&s), Some(state.clone()));
        assert_eq!(TrackState::from_event(&state.to_event()), Some(state));
        let other = gst::Structure::new_empty("something-else");
        assert_eq!(TrackState::from_structure(&other), None);
    }
}
