// SPDX-License-Identifier: MPL-2.0

//! `mediastreamtracksink`: a bin around the element that renders (by
//! default `autovideosink` or `autoaudiosink`, chosen by the kind upstream
//! sends: from its caps query once it is started, else from the first
//! caps), with the track's state read from the stream.
//!
//! Lock order: `settings` before `state`. No lock is held while posting a
//! message, emitting a signal or notifying.

use crate::constraints::ConstraintError;
use crate::devices::monitor::MediaDevices;
use crate::fault::Guarded;
use crate::track;
use crate::track::{ReadyState, TrackKind};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use parking_lot::Mutex;
use std::sync::LazyLock;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastreamtracksink",
        gst::DebugColorFlags::empty(),
        Some("MediaStreamTrack consumer"),
    )
});

#[derive(Default)]
struct Settings {
    sink: Option<gst::Element>,
    sink_id: Option<String>,
}

#[derive(Default, Clone, Debug, PartialEq)]
struct TrackState {
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
    track: TrackState,
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
                track: TrackState {
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

/// Why the renderer cannot be set up: a W3C error (sink-id), posted with
/// its details, or a GStreamer one.
enum Failure {
    W3c(ConstraintError),
    Gst(gst::ErrorMessage),
}

/// A renderer that cannot render the track's kind.
fn wrong_type(msg: String) -> Failure {
    Failure::Gst(gst::error_msg!(gst::StreamError::WrongType, ("{}", msg)))
}

/// The auto sink for a kind.
fn auto_sink(kind: TrackKind) -> Result<gst::Element, Failure> {
    let factory = match kind {
        TrackKind::Audio => "autoaudiosink",
        TrackKind::Video => "autovideosink",
    };
    gst::ElementFactory::make(factory).build().map_err(|_| {
        Failure::Gst(gst::error_msg!(
            gst::CoreError::MissingPlugin,
            ("the element '{factory}' is missing")
        ))
    })
}

/// Whether `element` renders: flagged a sink (a bin is, once it holds one),
/// or without any source pad to push into.
fn is_a_sink(element: &gst::Element) -> bool {
    element.element_flags().contains(gst::ElementFlags::SINK)
        || (element.src_pads().is_empty()
            && !element
                .pad_template_list()
                .iter()
                .any(|t| t.direction() == gst::PadDirection::Src))
}

impl MediaStreamTrackSink {
    /// The renderer the settings name: the `sink` property, or the
    /// `sink-id` output device. `None`: chosen by the track's kind.
    fn configured_renderer(&self) -> Result<Option<gst::Element>, Failure> {
        let (sink, sink_id) = {
            let s = self.settings.lock();
            (s.sink.clone(), s.sink_id.clone())
        };
        match (sink, sink_id) {
            (Some(sink), _) => Ok(Some(sink)),
            (None, Some(id)) if !id.is_empty() => {
                let device = MediaDevices::get()
                    .devices()
                    .map_err(|e| Failure::W3c(ConstraintError::not_found(e)))?
                    .into_iter()
                    .find(|d| {
                        d.info.device_id == id
                            && d.info.kind == crate::constraints::DeviceKind::AudioOutput
                    })
                    .ok_or_else(|| {
                        Failure::W3c(ConstraintError::not_found(format!(
                            "no audiooutput device with deviceId '{id}'"
                        )))
                    })?;
                gst::debug!(CAT, imp = self, "sink-id {id}: '{}'", device.info.label);
                let element = device.create_element(None).map_err(|e| {
                    Failure::W3c(ConstraintError::not_readable(format!(
                        "cannot open '{}': {e}",
                        device.info.label
                    )))
                })?;
                Ok(Some(element))
            }
            _ => Ok(None),
        }
    }

    /// NULL -> READY: the configured renderer, if any. Otherwise the
    /// choice waits for upstream to say its kind (READY -> PAUSED, or the
    /// first caps).
    fn setup(&self) -> Result<(), Failure> {
        match self.configured_renderer()? {
            Some(renderer) => self.install(renderer, false),
            None => Ok(()),
        }
    }

    /// READY -> PAUSED: with no renderer yet, the auto sink for the kind
    /// upstream's caps query names, if it names one kind only (a source
    /// not yet started answers anything); with one, a check that it can
    /// render that kind.
    fn setup_by_peer(&self) -> Result<(), Failure> {
        let peer = self.sinkpad.peer_query_caps(None);
        let Some(kind) = TrackKind::of_caps(&peer) else {
            gst::debug!(
                CAT,
                imp = self,
                "upstream offers {peer}: kind not known yet"
            );
            return Ok(());
        };
        gst::debug!(CAT, imp = self, "upstream sends {}", kind.as_str());
        let renderer = self.state.lock().renderer.clone();
        match renderer {
            Some(renderer) => self.check_renderer(&renderer, kind, &peer),
            None => self.install(auto_sink(kind)?, false),
        }
    }

    /// Adds `renderer` (unless it is in the bin already) and targets the
    /// sink pad at it; `sync` brings it to the bin's state (added while
    /// running).
    fn install(&self, renderer: gst::Element, sync: bool) -> Result<(), Failure> {
        gst::debug!(CAT, imp = self, "rendering with {}", renderer.name());
        let obj = self.obj();
        let name = renderer.name();
        let added = renderer.parent().is_none();
        if added {
            obj.add(&renderer).map_err(|e| {
                Failure::Gst(gst::error_msg!(
                    gst::CoreError::Failed,
                    ("cannot add the sink '{name}': {e}")
                ))
            })?;
        }
        let target = match renderer.static_pad("sink") {
            // A property value the element cannot use.
            None => Err(gst::error_msg!(
                gst::ResourceError::Settings,
                ("the sink '{name}' has no sink pad")
            )),
            // A filter (identity, a converter) would push into nothing and
            // fail later with a bare not-linked.
            Some(_) if !is_a_sink(&renderer) => Err(gst::error_msg!(
                gst::ResourceError::Settings,
                (
                    "the sink '{name}'{} is not a sink: it has a source pad, whose output would go nowhere; set sink to a sink element (fakesink, appsink, autovideosink) or a bin that ends in one",
                    renderer
                        .factory()
                        .map(|f| format!(" ({})", f.name()))
                        .unwrap_or_default()
                )
            )),
            Some(pad) => self.sinkpad.set_target(Some(&pad)).map_err(|e| {
                gst::error_msg!(
                    gst::CoreError::Pad,
                    ("cannot link to the sink '{name}': {e}")
                )
            }),
        };
        if let Err(e) = target {
            // Not left in the bin to pile up with each retry.
            if added {
                crate::plumbing::discard(*CAT, &*obj, &renderer);
            }
            return Err(Failure::Gst(e));
        }
        if sync && renderer.sync_state_with_parent().is_err() {
            return Err(Failure::Gst(gst::error_msg!(
                gst::CoreError::StateChange,
                ("the sink '{name}' failed to start")
            )));
        }
        self.state.lock().renderer = Some(renderer);
        Ok(())
    }

    /// Posts a failure: a W3C error with its details, else as it is.
    fn post_failure(&self, failure: Failure) {
        match failure {
            Failure::W3c(e) => track::post_error(&*self.obj(), &e),
            Failure::Gst(m) => self.post_error_message(m),
        }
    }

    /// Caps arrive: the renderer is chosen now if it was not, else checked
    /// against the track's kind. Whether the caps may go on.
    fn on_caps(&self, caps: &gst::CapsRef) -> bool {
        let Some(kind) = TrackKind::of_caps(caps) else {
            return true;
        };
        let renderer = self.state.lock().renderer.clone();
        let result = match renderer {
            None => {
                gst::debug!(
                    CAT,
                    imp = self,
                    "{} caps, no sink yet: the auto sink",
                    kind.as_str()
                );
                auto_sink(kind).and_then(|sink| self.install(sink, true))
            }
            Some(renderer) => self.check_renderer(&renderer, kind, caps),
        };
        match result {
            Ok(()) => true,
            Err(failure) => {
                self.post_failure(failure);
                false
            }
        }
    }

    /// A configured renderer that cannot take the track is an error that
    /// names both, before negotiation fails with a bare not-negotiated.
    fn check_renderer(
        &self,
        renderer: &gst::Element,
        kind: TrackKind,
        caps: &gst::CapsRef,
    ) -> Result<(), Failure> {
        let name = renderer.name();
        let (sink, sink_id) = {
            let s = self.settings.lock();
            (s.sink.clone(), s.sink_id.clone())
        };
        if let Some(id) = sink_id.filter(|id| !id.is_empty())
            && sink.is_none()
        {
            return match kind {
                TrackKind::Audio => Ok(()),
                TrackKind::Video => Err(wrong_type(format!(
                    "a video track cannot play on the audio output '{id}' (sink-id is for audio tracks): unset sink-id, or set sink to a video sink"
                ))),
            };
        }
        let accepts = renderer
            .static_pad("sink")
            .is_some_and(|pad| pad.query_caps(None).can_intersect(caps));
        if accepts {
            return Ok(());
        }
        gst::debug!(CAT, imp = self, "{name} refuses {caps}");
        Err(wrong_type(format!(
            "the sink '{name}' cannot render this {kind} track ({caps}): give {article} {kind} sink, or leave sink unset to pick one by the caps",
            kind = kind.as_str(),
            article = match kind {
                TrackKind::Audio => "an",
                TrackKind::Video => "a",
            },
        )))
    }

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
    fn announce(&self, before: &TrackState, after: &TrackState) {
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
