// SPDX-License-Identifier: MPL-2.0

//! `mediastreamtracksink`: a bin around the element that renders (by
//! default `autovideosink` or `autoaudiosink`, chosen by the kind upstream
//! sends: from its caps query once it is started, else from the first
//! caps), with the track's state read from the stream.
//!
//! Lock order: `settings` before `state`. No lock is held while posting a
//! message, emitting a signal or notifying.

use crate::fault::Guarded;
use crate::track;
use crate::track::ReadyState;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use parking_lot::Mutex;
use std::sync::LazyLock;

use super::CAT;

mod renderer;

#[derive(Default)]
struct Settings {
    sink: Option<gst::Element>,
    sink_id: Option<String>,
}

/// The track as this sink sees it: from the `mediastream-track-state`
/// event (track::TrackState) when one came, else read from stream-start
/// and caps (a plain GStreamer source: no kind or state until then).
#[derive(Default, Clone, Debug, PartialEq)]
struct Observed {
    track_id: Option<String>,
    kind: Option<String>,
    label: Option<String>,
    enabled: bool,
    muted: bool,
    ready_state: ReadyState,
    settings: Option<gst::Structure>,
}

#[derive(Default)]
struct State {
    track: Observed,
    /// A `mediastream-track-state` event was seen: it is the source of truth.
    from_track_event: bool,
    frames: u64,
    renderer: Option<gst::Element>,
}

pub struct MediaStreamTrackSink {
    /// A panic happened (crate::fault): no more data until NULL.
    failed: std::sync::atomic::AtomicBool,
    sinkpad: gst::GhostPad,
    settings: Mutex<Settings>,
    state: Mutex<State>,
}

#[glib::object_subclass]
impl ObjectSubclass for MediaStreamTrackSink {
    const NAME: &'static str = "GstMediaStreamTrackSink";
    type Type = super::MediaStreamTrackSink;
    type ParentType = gst::Bin;

    fn with_class(klass: &Self::Class) -> Self {
        let templ = klass.pad_template("sink").unwrap();
        let sinkpad = gst::GhostPad::builder_from_template(&templ).build();
        MediaStreamTrackSink {
            sinkpad,
            settings: Mutex::default(),
            failed: Default::default(),
            state: Mutex::new(State {
                track: Observed {
                    enabled: true,
                    ..Default::default()
                },
                ..Default::default()
            }),
        }
    }
}

impl ObjectImpl for MediaStreamTrackSink {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPS: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecObject::builder::<gst::Element>("sink")
                    .nick("Sink")
                    .blurb("The element that renders (default: autovideosink or autoaudiosink, from the caps); fakesink or appsink for headless or application use")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("sink-id")
                    .nick("Sink id")
                    .blurb("HTMLMediaElement.setSinkId(): the deviceId of an audiooutput device to play on")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("track-id")
                    .nick("Track id")
                    .blurb("The track's id: its stream-id, from stream-start")
                    .read_only()
                    .build(),
                glib::ParamSpecString::builder("kind")
                    .nick("Kind")
                    .blurb("The track's kind: audio or video, from the track state or the caps")
                    .read_only()
                    .build(),
                glib::ParamSpecString::builder("label")
                    .nick("Label")
                    .blurb("The track's label (device name, or the stream's title tag)")
                    .read_only()
                    .build(),
                glib::ParamSpecBoolean::builder("enabled")
                    .nick("Enabled")
                    .blurb("Whether the track is enabled upstream (false: black frames or silence)")
                    .default_value(true)
                    .read_only()
                    .build(),
                glib::ParamSpecBoolean::builder("muted")
                    .nick("Muted")
                    .blurb("Whether the track's source delivers no media")
                    .default_value(false)
                    .read_only()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("ready-state", ReadyState::Live)
                    .nick("Ready state")
                    .blurb("live, or ended once the track ended (EOS)")
                    .read_only()
                    .build(),
                glib::ParamSpecBoxed::builder::<gst::Structure>("settings")
                    .nick("Settings")
                    .blurb("The track's MediaTrackSettings (from the track, or from the caps)")
                    .read_only()
                    .build(),
                glib::ParamSpecUInt64::builder("frames")
                    .nick("Frames")
                    .blurb("Buffers that reached the sink so far (each buffer of a list counts)")
                    .read_only()
                    .build(),
            ]
        });
        PROPS.as_ref()
    }

    fn signals() -> &'static [glib::subclass::Signal] {
        static SIGNALS: LazyLock<Vec<glib::subclass::Signal>> = LazyLock::new(|| {
            vec![
                /**
                 * GstMediaStreamTrackSink::mute:
                 *
                 * The track was muted upstream.
                 */
                glib::subclass::Signal::builder("mute").build(),
                /**
                 * GstMediaStreamTrackSink::unmute:
                 *
                 * The track was unmuted upstream.
                 */
                glib::subclass::Signal::builder("unmute").build(),
                /**
                 * GstMediaStreamTrackSink::ended:
                 *
                 * The track ended (EOS reached the sink).
                 */
                glib::subclass::Signal::builder("ended").build(),
            ]
        });
        SIGNALS.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        self.guard(
            || (),
            |_| {
                crate::fault::point("mediastreamtracksink:set-property");
                let mut s = self.settings.lock();
                match pspec.name() {
                    "sink" => s.sink = value.get().unwrap(),
                    "sink-id" => s.sink_id = value.get().unwrap(),
                    _ => unimplemented!(),
                }
            },
        )
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        self.guard(
            || pspec.default_value().clone(),
            |_| {
                crate::fault::point("mediastreamtracksink:property");
                match pspec.name() {
                    "sink" => {
                        let configured = self.settings.lock().sink.clone();
                        configured
                            .or_else(|| self.state.lock().renderer.clone())
                            .to_value()
                    }
                    "sink-id" => self.settings.lock().sink_id.to_value(),
                    name => {
                        let state = self.state.lock();
                        let t = &state.track;
                        match name {
                            "track-id" => t.track_id.to_value(),
                            "kind" => t.kind.to_value(),
                            "label" => t.label.to_value(),
                            "enabled" => t.enabled.to_value(),
                            "muted" => t.muted.to_value(),
                            "ready-state" => t.ready_state.to_value(),
                            "settings" => t.settings.to_value(),
                            "frames" => state.frames.to_value(),
                            _ => unimplemented!(),
                        }
                    }
                }
            },
        )
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.add_pad(&self.sinkpad).unwrap();
        obj.set_suppressed_flags(gst::ElementFlags::SOURCE | gst::ElementFlags::SINK);
        obj.set_element_flags(gst::ElementFlags::SINK);
        let weak = obj.downgrade();
        self.sinkpad.add_probe(
            gst::PadProbeType::BUFFER
                | gst::PadProbeType::BUFFER_LIST
                | gst::PadProbeType::EVENT_DOWNSTREAM,
            move |_, info| {
                let Some(obj) = weak.upgrade() else {
                    return gst::PadProbeReturn::Ok;
                };
                let passed = obj.imp().guard(
                    || None,
                    |imp| {
                        crate::fault::point("mediastreamtracksink:probe");
                        Some(imp.probe(info))
                    },
                );
                match passed {
                    Some(true) => gst::PadProbeReturn::Ok,
                    // Refused caps (the error is posted: upstream's push
                    // fails as not-negotiated), or a panic.
                    _ => crate::fault::drop_item(info),
                }
            },
        );
    }
}

impl GstObjectImpl for MediaStreamTrackSink {}

impl ElementImpl for MediaStreamTrackSink {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "MediaStreamTrack sink",
                "Sink/Video;Sink/Audio",
                "Renders one track, like a <video> or <audio> element, and exposes its state (enabled, muted, ended, settings)",
                "gst-mediastream developers",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            vec![
                gst::PadTemplate::new(
                    "sink",
                    gst::PadDirection::Sink,
                    gst::PadPresence::Always,
                    &gst::Caps::new_any(),
                )
                .unwrap(),
            ]
        });
        TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        gst::debug!(CAT, imp = self, "{transition:?}");
        if transition == gst::StateChange::ReadyToNull {
            self.reset_failed();
        }
        let setup = match transition {
            gst::StateChange::NullToReady => Some(self.setup()),
            // Upstream's devices start on NULL -> READY: by now a track
            // usually says its kind.
            gst::StateChange::ReadyToPaused => Some(self.setup_by_peer()),
            _ => None,
        };
        if let Some(Err(failure)) = setup {
            self.post_failure(failure);
            return Err(gst::StateChangeError);
        }
        let ret = self.parent_change_state(transition)?;
        if transition == gst::StateChange::ReadyToNull {
            let renderer = self.state.lock().renderer.take();
            let renderer: Vec<gst::Element> = renderer.into_iter().collect();
            crate::plumbing::discard_all(*CAT, &*self.obj(), &renderer, &[&self.sinkpad]);
        }
        Ok(ret)
    }
}

impl BinImpl for MediaStreamTrackSink {}

impl MediaStreamTrackSink {
    /// Whether the item may go on.
    fn probe(&self, info: &gst::PadProbeInfo) -> bool {
        if let Some(gst::PadProbeData::Event(ev)) = &info.data
            && let gst::EventView::Caps(c) = ev.view()
            && !self.on_caps(c.caps())
        {
            return false;
        }
        match &info.data {
            Some(gst::PadProbeData::Buffer(_)) => self.state.lock().frames += 1,
            Some(gst::PadProbeData::BufferList(l)) => self.state.lock().frames += l.len() as u64,
            Some(gst::PadProbeData::Event(ev)) => self.on_event(ev),
            _ => {}
        }
        true
    }

    fn on_event(&self, ev: &gst::Event) {
        let (before, after) = {
            let mut state = self.state.lock();
            let before = state.track.clone();
            match ev.view() {
                gst::EventView::CustomDownstreamSticky(_) => {
                    let Some(track) = track::TrackState::from_event(ev) else {
                        return;
                    };
                    state.from_track_event = true;
                    let t = &mut state.track;
                    t.track_id = Some(track.track_id);
                    t.kind = Some(track.kind.as_str().to_owned());
                    t.label = Some(track.label);
                    t.enabled = track.enabled;
                    t.muted = track.muted;
                    t.ready_state = track.ready_state;
                    t.settings = track.settings;
                }
                gst::EventView::StreamStart(e) if !state.from_track_event => {
                    state.track.track_id = Some(e.stream_id().to_owned());
                    if let Some(title) = e
                        .stream()
                        .and_then(|s| s.tags())
                        .and_then(|t| t.get::<gst::tags::Title>().map(|v| v.get().to_owned()))
                    {
                        state.track.label = Some(title);
                    }
                }
                gst::EventView::Caps(c) if !state.from_track_event => {
                    let caps = c.caps();
                    if let Some(s) = caps.structure(0) {
                        let kind = if s.name().starts_with("audio/") {
                            "audio"
                        } else {
                            "video"
                        };
                        state.track.kind = Some(kind.to_owned());
                        state.track.settings = Some(track::settings_from_caps(s));
                    }
                }
                gst::EventView::Eos(_) => state.track.ready_state = ReadyState::Ended,
                _ => return,
            }
            (before, state.track.clone())
        };
        self.announce(&before, &after);
    }

    /// Notifies what changed and fires the matching signals and messages.
    fn announce(&self, before: &Observed, after: &Observed) {
        if before == after {
            return;
        }
        gst::debug!(CAT, imp = self, "track state {after:?}");
        let obj = self.obj();
        for (name, changed) in [
            ("track-id", before.track_id != after.track_id),
            ("kind", before.kind != after.kind),
            ("label", before.label != after.label),
            ("enabled", before.enabled != after.enabled),
            ("muted", before.muted != after.muted),
            ("ready-state", before.ready_state != after.ready_state),
            ("settings", before.settings != after.settings),
        ] {
            if changed {
                obj.notify(name);
            }
        }
        let mut events = Vec::new();
        if before.muted != after.muted {
            events.push(track::TrackEvent::muted(after.muted));
        }
        if before.ready_state != after.ready_state && after.ready_state == ReadyState::Ended {
            events.push(track::TrackEvent::Ended);
        }
        let id = after.track_id.clone().unwrap_or_default();
        for event in events {
            track::announce(&*obj, event, &id);
        }
    }
}

impl Guarded for MediaStreamTrackSink {
    fn failed(&self) -> &std::sync::atomic::AtomicBool {
        &self.failed
    }
}
