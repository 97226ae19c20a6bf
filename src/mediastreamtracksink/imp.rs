//! `mediastreamtracksink`: a bin around the element that renders (by
//! default `autovideosink` or `autoaudiosink`, chosen from the caps), with
//! the track's state read from the stream.
//!
//! Lock order: `settings` before `state`. No lock is held while posting a
//! message, emitting a signal or notifying.

use crate::devices::monitor::MediaDevices;
use crate::fault::Guarded;
use crate::mediastreamsrc::ReadyState;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use std::sync::{LazyLock, Mutex};

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

#[derive(Default, Clone)]
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
                    .blurb("The track's id (its stream-id)")
                    .read_only()
                    .build(),
                glib::ParamSpecString::builder("kind")
                    .nick("Kind")
                    .blurb("audio or video")
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
                    .blurb("Buffers rendered")
                    .read_only()
                    .build(),
            ]
        });
        PROPS.as_ref()
    }

    fn signals() -> &'static [glib::subclass::Signal] {
        static SIGNALS: LazyLock<Vec<glib::subclass::Signal>> = LazyLock::new(|| {
            vec![
                // The track was muted upstream.
                glib::subclass::Signal::builder("mute").build(),
                // The track was unmuted upstream.
                glib::subclass::Signal::builder("unmute").build(),
                // The track ended (EOS reached the sink).
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
                let mut s = self.settings.lock().unwrap();
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
                        let configured = self.settings.lock().unwrap().sink.clone();
                        configured
                            .or_else(|| self.state.lock().unwrap().renderer.clone())
                            .to_value()
                    }
                    "sink-id" => self.settings.lock().unwrap().sink_id.to_value(),
                    name => {
                        let state = self.state.lock().unwrap();
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
                    || false,
                    |imp| {
                        crate::fault::point("mediastreamtracksink:probe");
                        imp.probe(info);
                        true
                    },
                );
                if passed {
                    gst::PadProbeReturn::Ok
                } else {
                    crate::fault::drop_item(info)
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
        if transition == gst::StateChange::ReadyToNull {
            self.reset_failed();
        }
        if transition == gst::StateChange::NullToReady {
            self.setup().map_err(|msg| {
                gst::element_imp_error!(self, gst::CoreError::MissingPlugin, ("{}", msg));
                gst::StateChangeError
            })?;
        }
        let ret = self.parent_change_state(transition)?;
        if transition == gst::StateChange::ReadyToNull {
            let renderer = self.state.lock().unwrap().renderer.take();
            let _ = self.sinkpad.set_target(None::<&gst::Pad>);
            if let Some(r) = renderer {
                let _ = r.set_state(gst::State::Null);
                let _ = self.obj().remove(&r);
            }
        }
        Ok(ret)
    }
}

impl BinImpl for MediaStreamTrackSink {}

impl MediaStreamTrackSink {
    /// Picks and adds the renderer: the `sink` property, the `sink-id`
    /// output device, or an auto sink for the kind upstream offers.
    fn setup(&self) -> Result<(), String> {
        let (sink, sink_id) = {
            let s = self.settings.lock().unwrap();
            (s.sink.clone(), s.sink_id.clone())
        };
        let renderer = match (sink, sink_id) {
            (Some(sink), _) => sink,
            (None, Some(id)) if !id.is_empty() => {
                let device = MediaDevices::get()
                    .devices()?
                    .into_iter()
                    .find(|d| {
                        d.info.device_id == id
                            && d.info.kind == crate::constraints::DeviceKind::AudioOutput
                    })
                    .ok_or_else(|| {
                        format!("NotFoundError: no audiooutput device with deviceId '{id}'")
                    })?;
                device
                    .create_element(None)
                    .map_err(|e| format!("cannot open '{}': {e}", device.info.label))?
            }
            _ => {
                let peer = self.sinkpad.peer_query_caps(None);
                let audio = !peer.is_any() && peer.iter().all(|s| s.name().starts_with("audio/"));
                let factory = if audio {
                    "autoaudiosink"
                } else {
                    "autovideosink"
                };
                gst::ElementFactory::make(factory)
                    .build()
                    .map_err(|_| format!("the element '{factory}' is missing"))?
            }
        };
        gst::debug!(CAT, imp = self, "rendering with {}", renderer.name());
        let obj = self.obj();
        let added = renderer.parent().is_none();
        if added {
            obj.add(&renderer).map_err(|e| e.to_string())?;
        }
        let target = renderer
            .static_pad("sink")
            .ok_or_else(|| format!("the sink '{}' has no sink pad", renderer.name()))
            .and_then(|pad| {
                self.sinkpad
                    .set_target(Some(&pad))
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = target {
            // Not left in the bin to pile up with each retry.
            if added {
                let _ = obj.remove(&renderer);
            }
            return Err(e);
        }
        self.state.lock().unwrap().renderer = Some(renderer);
        Ok(())
    }

    fn probe(&self, info: &gst::PadProbeInfo) {
        match &info.data {
            Some(gst::PadProbeData::Buffer(_)) => self.state.lock().unwrap().frames += 1,
            Some(gst::PadProbeData::BufferList(l)) => {
                self.state.lock().unwrap().frames += l.len() as u64
            }
            Some(gst::PadProbeData::Event(ev)) => self.on_event(ev),
            _ => {}
        }
    }

    fn on_event(&self, ev: &gst::Event) {
        let (before, after) = {
            let mut state = self.state.lock().unwrap();
            let before = state.track.clone();
            match ev.view() {
                gst::EventView::CustomDownstreamSticky(e) => {
                    let Some(s) = e
                        .structure()
                        .filter(|s| s.name() == crate::mediastreamsrc::TRACK_STATE)
                    else {
                        return;
                    };
                    state.from_track_event = true;
                    let t = &mut state.track;
                    t.track_id = s.get("track-id").ok();
                    t.kind = s.get("kind").ok();
                    t.label = s.get("label").ok();
                    t.enabled = s.get("enabled").unwrap_or(true);
                    t.muted = s.get("muted").unwrap_or(false);
                    t.ready_state = match s.get::<&str>("ready-state") {
                        Ok("ended") => ReadyState::Ended,
                        _ => ReadyState::Live,
                    };
                    t.settings = s.get("settings").ok();
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
                        state.track.settings = Some(settings_from_caps(s));
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
            events.push(if after.muted { "mute" } else { "unmute" });
        }
        if before.ready_state != after.ready_state && after.ready_state == ReadyState::Ended {
            events.push("ended");
        }
        for name in events {
            obj.emit_by_name::<()>(name, &[]);
            let s = gst::Structure::builder(format!("mediastream-track-{name}"))
                .field("track-id", after.track_id.clone().unwrap_or_default())
                .build();
            let _ = obj.post_message(gst::message::Element::builder(s).src(&*obj).build());
        }
    }
}

/// MediaTrackSettings from caps, for a track that is not a mediastreamsrc.
fn settings_from_caps(s: &gst::StructureRef) -> gst::Structure {
    let mut out = gst::Structure::new_empty("MediaTrackSettings");
    if s.name().starts_with("audio/") {
        if let Ok(r) = s.get::<i32>("rate") {
            out.set("sampleRate", r);
        }
        if let Ok(c) = s.get::<i32>("channels") {
            out.set("channelCount", c);
        }
    } else {
        let w = s.get::<i32>("width").ok();
        let h = s.get::<i32>("height").ok();
        if let (Some(w), Some(h)) = (w, h) {
            out.set("width", w);
            out.set("height", h);
            if h > 0 {
                out.set("aspectRatio", (w as f64 / h as f64 * 1e10).round() / 1e10);
            }
        }
        if let Ok(f) = s.get::<gst::Fraction>("framerate") {
            out.set("frameRate", f.numer() as f64 / f.denom().max(1) as f64);
        }
    }
    out
}

impl Guarded for MediaStreamTrackSink {
    fn failed(&self) -> &std::sync::atomic::AtomicBool {
        &self.failed
    }
}
