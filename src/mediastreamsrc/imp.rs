// SPDX-License-Identifier: MPL-2.0

//! `mediastreamsrc`'s GObject glue and state machine: properties, signals,
//! state changes, the end of a track. Its rooms, each in a file of its
//! own: `imp/lifecycle` (getUserMedia at NULL->READY, the chain built and
//! taken apart), `imp/stream` (what `mediastream` and clone() ask of a
//! track), `imp/sharing` (alone on an exclusive device or from its shared
//! capture), `imp/output` (what leaves the pad: identity, state event,
//! settings from caps), `imp/mute` (stall detection on the pipeline
//! clock), `imp/switch` (applyConstraints); beside them `capture` (the
//! device element and what reaches the chosen native mode), `chain` (crop,
//! scale, rate, processing), `blank` (a disabled track's frames); the
//! track protocol is `crate::track`.
//!
//! State: `None` in NULL; made on NULL->READY (getUserMedia) with the
//! chain built, dropped on READY->NULL. Its `Phase` is the track's life:
//! live, playing (mute checks on the pipeline clock), ended.
//!
//! Lock order: `chain_lock`, then `settings`, then `preselection`, then
//! `state`; `inherited`, `ended_clone` and `held` are taken alone; a
//! device's entry in the shared captures' registry comes before all of
//! them (shared_capture.rs). Only
//! `chain_lock` is held while changing a child's state (it serializes chain
//! changes: start, the switcher, the release of an ended track, teardown;
//! never taken by an application's call); no lock is held while posting a
//! message or emitting a signal of ours (the bin's own `element-added` /
//! `-removed` come under `chain_lock`).
//!
//! Threads: `mute` and `unmute` are emitted from the pipeline clock's
//! thread (mute) or the device's streaming thread (unmute), `ended` and
//! `notify::settings` from the streaming thread or the device layer's
//! thread; the release of an ended track and the applyConstraints switch
//! run on GStreamer's async pool (`call_async`). A handler may call
//! `apply-constraints` or `stop` (neither waits for the streaming thread),
//! but must not change the element's state from there.

use super::CAT;
use super::blank::Blank;
use crate::track::liveness::{DEFAULT_MUTE_TIMEOUT_MS, Liveness, MIN_MUTE_TIMEOUT_MS, MuteClock};

mod lifecycle;
mod mute;
mod output;
mod sharing;
mod stream;
mod switch;
use super::capture::Capture;
use super::chain::Chain;
use super::shared_capture::{self, Holders, SharedCapture, Tap};
use crate::constraints::caps::{capabilities_structure, settings_structure};
use crate::constraints::{
    ConstraintError, Kind, Settings, TrackConstraints, capabilities, select_on_device,
    supported_constraints,
};
use crate::devices::monitor::{MediaDevice, Subscription};
use crate::fault::Guarded;
use crate::track::{self, audio_processing};
use crate::track::{ReadyState, TrackKind};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use parking_lot::Mutex;
use sharing::move_capture;
use std::sync::Arc;
use std::sync::LazyLock;
use switch::{Switch, panicked_result};

/// The element's properties (what gst-plugins-rs calls `Settings`; here
/// `Settings` is the track's MediaTrackSettings).
#[derive(Debug, Clone)]
struct Props {
    kind: TrackKind,
    capture: super::Capture,
    /// The display surface's deviceId (`capture=display`); empty: chosen.
    display_surface: String,
    constraints: String,
    enabled: bool,
    mute_timeout_ms: u32,
}

impl Default for Props {
    fn default() -> Self {
        Props {
            kind: TrackKind::Video,
            capture: super::Capture::User,
            display_surface: String::new(),
            constraints: "{}".into(),
            enabled: true,
            mute_timeout_ms: DEFAULT_MUTE_TIMEOUT_MS,
        }
    }
}

/// Where a started track is: MediaStreamTrack.readyState, and whether
/// the pipeline plays it.
enum Phase {
    /// Live, not playing (READY, PAUSED): a device that delivers nothing
    /// is not stalled.
    Live,
    /// Live and PLAYING: a stall is checked on the pipeline clock.
    Playing(MuteCheck),
    /// Stopped, or its device is gone: buffers are dropped, and nothing
    /// restarts it until NULL.
    Ended,
}

/// The mute check while the track plays.
struct MuteCheck {
    /// `None` without a pipeline clock: no stall is detected.
    clock: Option<MuteClock>,
    /// When the device is stalled.
    liveness: Liveness,
}

/// Where a track's media comes from.
enum Source {
    /// The device's element in the track's bin: the track is alone on it.
    Own(Box<Capture>),
    /// A capture shared with other tracks (`shared`), through an appsrc.
    Shared(Tap),
}

/// How a track about to be built will capture.
enum CapturePlan {
    Own,
    /// From a shared capture, through a tap made when the track joined it.
    Shared(Tap),
}

/// The elements a track runs: its source, the track's chain after it, and
/// beside them the echo canceller's reference.
struct Elements {
    source: Source,
    /// The source's elements in the bin, in link order (the capture, or
    /// the appsrc of a shared one).
    head: Vec<gst::Element>,
    /// Crop, scale, rate, processing, the settings' capsfilter, and the
    /// echo reference beside them.
    chain: Chain,
}

impl Elements {
    /// Source and chain in link order.
    fn linked(&self) -> impl DoubleEndedIterator<Item = &gst::Element> {
        self.head.iter().chain(self.chain.elements())
    }

    fn own(&self) -> Option<&Capture> {
        match &self.source {
            Source::Own(c) => Some(c),
            Source::Shared(_) => None,
        }
    }

    fn shared(&self) -> Option<&Arc<SharedCapture>> {
        match &self.source {
            Source::Own(_) => None,
            Source::Shared(tap) => tap.capture(),
        }
    }

    fn all(&self) -> impl DoubleEndedIterator<Item = &gst::Element> {
        self.chain.reference().iter().chain(self.linked())
    }

    /// Locked, a state change of the pipeline in another thread cannot
    /// start (or restart) them.
    fn set_locked(&self, locked: bool) {
        for e in self.all() {
            e.set_locked_state(locked);
        }
    }
}

/// What leaves the pad besides the device's media.
#[derive(Default)]
struct Output {
    /// The state event must be (re)sent before the next buffer.
    dirty: bool,
    stream: Option<gst::Stream>,
    group_id: Option<gst::GroupId>,
    /// The `mediastream`'s collection, until it is sent after the
    /// stream-start.
    unsent_collection: Option<gst::StreamCollection>,
    /// What flows, for blank frames.
    caps: Option<gst::Caps>,
    /// applyConstraints changed the settings: the next caps tell of them
    /// (`notify::settings`, `settings-changed`), even caps equal to these.
    announce: bool,
    blank: Blank,
    /// Where the last media ended: a muted track's GAPs go on from there.
    last_end: Option<gst::ClockTime>,
}

/// A started track: made on NULL->READY (getUserMedia), dropped on
/// READY->NULL.
struct State {
    device: MediaDevice,
    constraints: TrackConstraints,
    settings: Settings,
    phase: Phase,
    /// `None` while the switcher restarts the device.
    elements: Option<Elements>,
    output: Output,
    switch: Switch,
    muted: bool,
    /// The device delivered media: a failure from now on ends the track
    /// instead of failing getUserMedia with NotReadableError.
    delivered: bool,
    /// The application sent EOS (e.g. `gst-launch-1.0 -e`): the EOS that
    /// follows is the end of the recording, not of the device.
    app_eos: bool,
    subscription: Option<Subscription>,
}

impl State {
    fn new(
        device: &MediaDevice,
        constraints: TrackConstraints,
        settings: &Settings,
        elements: Elements,
    ) -> State {
        State {
            device: device.clone(),
            constraints,
            settings: settings.clone(),
            phase: Phase::Live,
            elements: Some(elements),
            output: Output {
                dirty: true,
                ..Default::default()
            },
            switch: Switch::default(),
            muted: false,
            delivered: false,
            app_eos: false,
            subscription: None,
        }
    }

    fn ended(&self) -> bool {
        matches!(self.phase, Phase::Ended)
    }

    fn ready_state(&self) -> ReadyState {
        if self.ended() {
            ReadyState::Ended
        } else {
            ReadyState::Live
        }
    }

    fn playing(&self) -> bool {
        matches!(self.phase, Phase::Playing(_))
    }

    /// The shared capture the track taps, if it does.
    fn shared_capture(&self) -> Option<Arc<SharedCapture>> {
        self.elements.as_ref().and_then(Elements::shared).cloned()
    }

    /// Whether a switcher must start for the pending settings: the track
    /// plays and none runs (it is then marked running).
    fn claim_switcher(&mut self) -> bool {
        self.switch.pending.is_some()
            && self.playing()
            && !std::mem::replace(&mut self.switch.running, true)
    }
}

/// What a `mediastream` decided for this track before any device opened.
pub(crate) struct Preselection {
    pub device: MediaDevice,
    pub settings: Settings,
    pub mode_index: usize,
    /// The track's part of the stream's constraints, as its `constraints`
    /// property reads, and parsed (the stream parsed them once).
    pub constraints_json: String,
    pub constraints: TrackConstraints,
    pub stream: gst::Stream,
    pub group_id: gst::GroupId,
    pub collection: gst::StreamCollection,
}

/// A clone of an ended track (W3C: the clone of an ended track is ended):
/// it never opens a device, and played it sends only its identity, its
/// state (ended) and EOS.
#[derive(Default)]
struct EndedClone {
    /// Its `mediastream`'s GstStream, group id and collection, when one
    /// holds it.
    stream: Option<gst::Stream>,
    group_id: Option<gst::GroupId>,
    collection: Option<gst::StreamCollection>,
}

pub struct MediaStreamSrc {
    /// A panic happened (crate::fault): no more data until NULL.
    failed: std::sync::atomic::AtomicBool,
    srcpad: gst::GhostPad,
    track_id: String,
    /// Serializes changes of the chain (start, the switcher, teardown);
    /// taken before `settings` and `state`.
    chain_lock: Mutex<()>,
    /// The exclusive device this track holds alone (its entry in the
    /// shared captures' registry). Taken alone.
    held: Mutex<Option<String>>,
    settings: Mutex<Props>,
    /// A `mediastream`'s selection for this track, until it starts.
    preselection: Mutex<Option<Preselection>>,
    /// A clone's source device and settings, read until it starts (W3C:
    /// a clone has its source's settings at once). Taken alone.
    inherited: Mutex<Option<(MediaDevice, Settings)>>,
    /// Set by `clone_track` on a clone of an ended track, never cleared:
    /// such a track is ended whatever its state. Taken alone.
    ended_clone: Mutex<Option<EndedClone>>,
    /// `None` in NULL.
    state: Mutex<Option<State>>,
}

#[glib::object_subclass]
impl ObjectSubclass for MediaStreamSrc {
    const NAME: &'static str = "GstMediaStreamSrc";
    type Type = super::MediaStreamSrc;
    type ParentType = gst::Bin;

    fn with_class(klass: &Self::Class) -> Self {
        let templ = klass.pad_template("src").unwrap();
        let srcpad = gst::GhostPad::builder_from_template(&templ).build();
        MediaStreamSrc {
            srcpad,
            track_id: uuid::Uuid::new_v4().to_string(),
            chain_lock: Mutex::new(()),
            held: Mutex::default(),
            settings: Mutex::default(),
            failed: Default::default(),
            preselection: Mutex::default(),
            inherited: Mutex::default(),
            ended_clone: Mutex::default(),
            state: Mutex::default(),
        }
    }
}

impl ObjectImpl for MediaStreamSrc {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPS: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecEnum::builder_with_default("kind", TrackKind::Video)
                    .nick("Kind")
                    .blurb("MediaStreamTrack.kind: capture a camera (video) or a microphone (audio)")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("capture", super::Capture::User)
                    .nick("Capture")
                    .blurb("What the track captures: user (getUserMedia: a camera or a microphone, by kind) or display (getDisplayMedia: a screen or a window; video only; constraints then follow the Screen Capture rules: no min, exact or advanced, downscale and decimation only)")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("display-surface")
                    .nick("Display surface")
                    .blurb("capture=display: the deviceId of the screen or window to capture (a browser asks the user; here this chooses). Empty: the first surface of the displaySurface constraint's type, else the default screen. gst-device-monitor-1.0 Video/Source/Display lists them")
                    .default_value(Some(""))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("constraints")
                    .nick("Constraints")
                    .blurb("MediaTrackConstraints as JSON, e.g. {\"width\": {\"ideal\": 1280}, \"frameRate\": 30}. The device and settings are selected on NULL->READY (getUserMedia); set while playing it is applyConstraints")
                    .default_value(Some("{}"))
                    .mutable_playing()
                    .build(),
                glib::ParamSpecString::builder("track-id")
                    .nick("Track id")
                    .blurb("MediaStreamTrack.id: a UUID made at construction; also the stream-id of the track's stream-start")
                    .read_only()
                    .build(),
                glib::ParamSpecString::builder("device-id")
                    .nick("Device id")
                    .blurb("deviceId of the device the track captures from (after selection)")
                    .read_only()
                    .build(),
                glib::ParamSpecString::builder("label")
                    .nick("Label")
                    .blurb("MediaStreamTrack.label: the device's name (after selection)")
                    .read_only()
                    .build(),
                glib::ParamSpecBoolean::builder("enabled")
                    .nick("Enabled")
                    .blurb("MediaStreamTrack.enabled: when false the track keeps its timing and caps but carries black frames or silence")
                    .default_value(true)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("muted")
                    .nick("Muted")
                    .blurb("MediaStreamTrack.muted: the device delivered nothing for mute-timeout")
                    .default_value(false)
                    .read_only()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("ready-state", ReadyState::Live)
                    .nick("Ready state")
                    .blurb("MediaStreamTrack.readyState")
                    .read_only()
                    .build(),
                glib::ParamSpecBoxed::builder::<gst::Structure>("settings")
                    .nick("Settings")
                    .blurb("MediaStreamTrack.getSettings() as a MediaTrackSettings structure (width, height, frameRate, deviceId, ...): what flows on src")
                    .read_only()
                    .build(),
                glib::ParamSpecBoxed::builder::<gst::Structure>("capabilities")
                    .nick("Capabilities")
                    .blurb("MediaStreamTrack.getCapabilities() of the track's device as a MediaTrackCapabilities structure")
                    .read_only()
                    .build(),
                glib::ParamSpecBoxed::builder::<gst::Structure>("supported-constraints")
                    .nick("Supported constraints")
                    .blurb("MediaDevices.getSupportedConstraints(): the constraint names this element understands")
                    .read_only()
                    .build(),
                glib::ParamSpecUInt::builder("mute-timeout")
                    .nick("Mute timeout")
                    .blurb("Milliseconds a live device may deliver nothing before the track is muted")
                    .minimum(MIN_MUTE_TIMEOUT_MS)
                    .default_value(DEFAULT_MUTE_TIMEOUT_MS)
                    .mutable_playing()
                    .build(),
            ]
        });
        PROPS.as_ref()
    }

    fn signals() -> &'static [glib::subclass::Signal] {
        static SIGNALS: LazyLock<Vec<glib::subclass::Signal>> = LazyLock::new(|| {
            vec![
                /**
                 * GstMediaStreamSrc::mute:
                 *
                 * The device delivered nothing for mute-timeout.
                 */
                glib::subclass::Signal::builder("mute").build(),
                /**
                 * GstMediaStreamSrc::unmute:
                 *
                 * Media flows again after a mute.
                 */
                glib::subclass::Signal::builder("unmute").build(),
                /**
                 * GstMediaStreamSrc::ended:
                 *
                 * The device is gone or failed: EOS follows (not after `stop`).
                 */
                glib::subclass::Signal::builder("ended").build(),
                /**
                 * GstMediaStreamSrc::overconstrained:
                 *
                 * applyConstraints failed with an OverconstrainedError:
                 * (constraint, message). Other failures are only
                 * `apply-constraints-error`.
                 */
                glib::subclass::Signal::builder("overconstrained")
                    .param_types([String::static_type(), String::static_type()])
                    .build(),
                /**
                 * GstMediaStreamSrc::apply-constraints-error:
                 *
                 * applyConstraints failed, for any reason (the rejected
                 * promise): (error name: OverconstrainedError, TypeError or
                 * InvalidStateError; constraint, empty unless
                 * OverconstrainedError; message).
                 */
                glib::subclass::Signal::builder("apply-constraints-error")
                    .param_types([
                        String::static_type(),
                        String::static_type(),
                        String::static_type(),
                    ])
                    .build(),
                /**
                 * GstMediaStreamSrc::stop:
                 *
                 * Action: MediaStreamTrack.stop().
                 */
                glib::subclass::Signal::builder("stop")
                    .action()
                    .class_handler(|args| {
                        let obj = args[0].get::<super::MediaStreamSrc>().unwrap();
                        obj.imp().guard(
                            || (),
                            |imp| {
                                crate::fault::point("mediastreamsrc:stop");
                                imp.stop()
                            },
                        );
                        None
                    })
                    .build(),
                /**
                 * GstMediaStreamSrc::clone:
                 *
                 * Action: MediaStreamTrack.clone() -> a new `mediastreamsrc`,
                 * a new track (its own track-id, enabled, constraints and
                 * stop) on the same device with the same constraints,
                 * enabled and mute-timeout. Put it in any bin or pipeline:
                 * once both run, they share one capture of the device.
                 */
                glib::subclass::Signal::builder("clone")
                    .action()
                    .return_type::<super::MediaStreamSrc>()
                    .class_handler(|args| {
                        let obj = args[0].get::<super::MediaStreamSrc>().unwrap();
                        let clone = obj.imp().guard(|| None, |imp| Some(imp.clone_track()));
                        clone.map(|c| c.to_value())
                    })
                    .build(),
                /**
                 * GstMediaStreamSrc::apply-constraints:
                 *
                 * Action: applyConstraints(JSON) -> result structure
                 * (`mediastream-apply-result`: success, and on failure the
                 * error's name, constraint and message).
                 */
                glib::subclass::Signal::builder("apply-constraints")
                    .action()
                    .param_types([String::static_type()])
                    .return_type::<gst::Structure>()
                    .class_handler(|args| {
                        let obj = args[0].get::<super::MediaStreamSrc>().unwrap();
                        let json = args[1].get::<String>().unwrap_or_default();
                        let result = obj.imp().guard(panicked_result, |imp| {
                            crate::fault::point("mediastreamsrc:apply-constraints");
                            imp.apply_constraints_result(&json)
                        });
                        Some(result.to_value())
                    })
                    .build(),
            ]
        });
        SIGNALS.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        self.guard(
            || (),
            |_| {
                crate::fault::point("mediastreamsrc:set-property");
                match pspec.name() {
                    "kind" => self.set_kind(value.get().unwrap()),
                    "capture" => self.settings.lock().capture = value.get().unwrap(),
                    "display-surface" => {
                        self.settings.lock().display_surface =
                            value.get::<Option<String>>().unwrap().unwrap_or_default()
                    }
                    "constraints" => {
                        let json = value
                            .get::<Option<String>>()
                            .unwrap()
                            .unwrap_or_else(|| "{}".into());
                        let live = self.state.lock().is_some();
                        if live {
                            // applyConstraints: failures are reported by signal and message.
                            let _ = self.apply_constraints(&json);
                        } else {
                            self.settings.lock().constraints = json;
                        }
                    }
                    "enabled" => {
                        let enabled = value.get().unwrap();
                        let changed = {
                            let mut s = self.settings.lock();
                            std::mem::replace(&mut s.enabled, enabled) != enabled
                        };
                        if changed && let Some(state) = self.state.lock().as_mut() {
                            state.output.dirty = true;
                        }
                    }
                    "mute-timeout" => self.settings.lock().mute_timeout_ms = value.get().unwrap(),
                    _ => unimplemented!(),
                }
            },
        )
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        self.guard(
            || pspec.default_value().clone(),
            |_| {
                crate::fault::point("mediastreamsrc:property");
                match pspec.name() {
                    "kind" => self.settings.lock().kind.to_value(),
                    "capture" => self.settings.lock().capture.to_value(),
                    "display-surface" => self.settings.lock().display_surface.to_value(),
                    "constraints" => self.settings.lock().constraints.to_value(),
                    "track-id" => self.track_id.to_value(),
                    "device-id" => self.selected(|d, _| d.info.device_id.clone()).to_value(),
                    "label" => self.device_label().to_value(),
                    "enabled" => self.settings.lock().enabled.to_value(),
                    "muted" => self
                        .state
                        .lock()
                        .as_ref()
                        .is_some_and(|s| s.muted)
                        .to_value(),
                    "ready-state" => self.ready_state().to_value(),
                    "settings" => self
                        .selected(|_, settings| settings_structure(settings))
                        .to_value(),
                    "capabilities" => self
                        .selected(|d, _| {
                            capabilities_structure(&capabilities(&d.info, audio_processing()))
                        })
                        .to_value(),
                    "supported-constraints" => crate::constraints::caps::json_to_structure(
                        "MediaTrackSupportedConstraints",
                        &supported_constraints(),
                    )
                    .to_value(),
                    "mute-timeout" => self.settings.lock().mute_timeout_ms.to_value(),
                    _ => unimplemented!(),
                }
            },
        )
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.add_pad(&self.srcpad).unwrap();
        track::register_local(&self.track_id, obj.upcast_ref());
        obj.set_suppressed_flags(gst::ElementFlags::SOURCE | gst::ElementFlags::SINK);
        obj.set_element_flags(gst::ElementFlags::SOURCE);
    }
}

impl GstObjectImpl for MediaStreamSrc {}

impl ElementImpl for MediaStreamSrc {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "MediaStreamTrack source",
                "Source/Video;Source/Audio",
                "A live MediaStreamTrack from the capture device that W3C constraints select (getUserMedia for one track)",
                "gst-mediastream developers",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = gst::Caps::builder_full()
                .structure(gst::Structure::new_empty("video/x-raw"))
                .structure(gst::Structure::new_empty("audio/x-raw"))
                .build();
            vec![
                gst::PadTemplate::new(
                    "src",
                    gst::PadDirection::Src,
                    gst::PadPresence::Always,
                    &caps,
                )
                .unwrap(),
            ]
        });
        TEMPLATES.as_ref()
    }

    fn send_event(&self, event: gst::Event) -> bool {
        if event.type_() == gst::EventType::Eos
            && let Some(state) = self.state.lock().as_mut()
        {
            state.app_eos = true;
            if state.ended() {
                // The track already sent its EOS when it ended; its device
                // is stopped or gone, and a dead pipewiresrc crashes on an
                // event.
                return true;
            }
        }
        self.parent_send_event(event)
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        gst::debug!(CAT, imp = self, "{transition:?}");
        if transition == gst::StateChange::ReadyToNull {
            self.reset_failed();
        }
        match transition {
            gst::StateChange::NullToReady => self.start()?,
            gst::StateChange::ReadyToPaused => {
                // Settings applied in READY: at once, nothing streams yet.
                self.apply_next_switch(false);
            }
            gst::StateChange::PlayingToPaused => {
                // A paused device delivers nothing: that is not a stall.
                if let Some(state) = self.state.lock().as_mut()
                    && state.playing()
                {
                    state.phase = Phase::Live;
                }
            }
            _ => {}
        }
        let ret = self.parent_change_state(transition);
        if ret.is_err() && transition == gst::StateChange::NullToReady {
            // The device could not start: release what selection set up.
            self.teardown();
        }
        match transition {
            gst::StateChange::PausedToPlaying if ret.is_ok() => {
                self.start_mute_checks();
                self.resume_switches()
            }
            gst::StateChange::ReadyToPaused if ret.is_ok() && self.is_ended_clone() => {
                self.announce_ended()
            }
            gst::StateChange::ReadyToNull => self.teardown(),
            _ => {}
        }
        let ret = ret.inspect_err(|_| gst::warning!(CAT, imp = self, "{transition:?} failed"))?;
        // A live source does not preroll.
        if matches!(
            transition,
            gst::StateChange::ReadyToPaused | gst::StateChange::PlayingToPaused
        ) {
            return Ok(gst::StateChangeSuccess::NoPreroll);
        }
        Ok(ret)
    }
}

impl BinImpl for MediaStreamSrc {
    fn handle_message(&self, msg: gst::Message) {
        // A failing or ending device ends the track; it is not the
        // pipeline's error (docs/overview.md, ended: muxers must finish their files).
        if let gst::MessageView::Error(e) = msg.view() {
            let (from_device, ended, delivered) = {
                let state = self.state.lock();
                let Some(state) = state.as_ref() else {
                    return self.parent_handle_message(msg);
                };
                let from_device = msg.src().is_some_and(|src| {
                    state
                        .elements
                        .as_ref()
                        .and_then(Elements::own)
                        .is_some_and(|c| c.is_source_of(src))
                });
                (from_device, state.ended(), state.delivered)
            };
            if from_device && ended {
                // The track already ended: what the dying device says after
                // (e.g. "Internal data stream error") is not news.
                gst::debug!(CAT, imp = self, "ignoring the ended device's error");
                return;
            }
            // A resource error is the device failing or gone; a stream
            // error (negotiation, flow) is the pipeline's and goes up.
            if from_device && e.error().is::<gst::ResourceError>() {
                gst::warning!(
                    CAT,
                    imp = self,
                    "device failed: {} ({:?})",
                    e.error(),
                    e.debug()
                );
                if delivered {
                    self.end(&format!("the device failed: {}", e.error()));
                } else {
                    let label = self.device_label().unwrap_or_default();
                    self.post_error(&ConstraintError::not_readable(format!(
                        "could not start the device '{label}': {}",
                        e.error().message()
                    )));
                }
                return;
            }
        }
        self.parent_handle_message(msg)
    }
}

impl MediaStreamSrc {
    fn kind(&self) -> Kind {
        self.settings.lock().kind
    }

    fn post_error(&self, e: &ConstraintError) {
        track::post_error(&*self.obj(), e);
    }

    /// `kind` chooses the device class: once a device is selected it is
    /// what the track is, and a new value is refused.
    fn set_kind(&self, kind: TrackKind) {
        let selected = self.preselection.lock().is_some() || self.state.lock().is_some();
        let mut settings = self.settings.lock();
        if selected && settings.kind != kind {
            let current = settings.kind;
            drop(settings);
            gst::warning!(
                CAT,
                imp = self,
                "kind refused: a {current:?} device is selected"
            );
            glib::g_warning!(
                "mediastreamsrc",
                "{}: kind cannot change once a device is selected (the track is {}): set it in NULL state, before the track starts",
                self.obj().name(),
                current.as_str()
            );
            return;
        }
        gst::debug!(CAT, imp = self, "kind: {kind:?}");
        settings.kind = kind;
    }

    /// The device's label, once selected.
    fn device_label(&self) -> Option<String> {
        self.selected(|d, _| d.info.label.clone())
    }

    /// `f` of the track's device and settings: those it runs, else the
    /// stream's selection for it, else (a clone) its source's; `None`
    /// before any selection.
    fn selected<T>(&self, f: impl Fn(&MediaDevice, &Settings) -> T) -> Option<T> {
        if let Some(s) = self.state.lock().as_ref() {
            return Some(f(&s.device, &s.settings));
        }
        if let Some(p) = self.preselection.lock().as_ref() {
            return Some(f(&p.device, &p.settings));
        }
        self.inherited.lock().as_ref().map(|(d, s)| f(d, s))
    }

    /// MediaStreamTrack.readyState: the running track's, `ended` for a
    /// clone of an ended track, else (not started) `live`.
    fn ready_state(&self) -> ReadyState {
        if self.is_ended_clone() {
            return ReadyState::Ended;
        }
        self.state
            .lock()
            .as_ref()
            .map_or(ReadyState::Live, State::ready_state)
    }

    /// ready-state -> ended; with `lost`, the `ended` signal and message.
    fn mark_ended(&self, lost: bool) -> bool {
        {
            let mut state = self.state.lock();
            let Some(state) = state.as_mut().filter(|s| !s.ended()) else {
                return false;
            };
            // No more mute checks: the clock id goes with the phase.
            state.phase = Phase::Ended;
            state.muted = false;
        }
        gst::debug!(CAT, imp = self, "ready-state: ended (lost: {lost})");
        let obj = self.obj();
        obj.notify("ready-state");
        if lost {
            track::announce(&*obj, track::TrackEvent::Ended, &self.track_id);
        }
        true
    }

    /// The device is gone or failed: `ended`, EOS downstream, device released.
    fn end(&self, why: &str) {
        gst::info!(CAT, imp = self, "track ended: {why}");
        if self.mark_ended(true) {
            self.release();
        }
    }

    /// MediaStreamTrack.stop(): EOS, the device released at once, no `ended`.
    fn stop(&self) {
        gst::info!(CAT, imp = self, "stop()");
        if self.mark_ended(false) {
            self.release();
        }
    }

    /// After the end: the last state event and EOS downstream, then the
    /// device stopped (or the shared capture left).
    fn release(&self) {
        // Off the caller's thread (GStreamer's async pool): a push can block
        // (a paused sink holds it in preroll), and the caller may be the
        // application, the device layer's thread, or the device's streaming
        // thread.
        let state_event = self.track_state().to_event();
        gst::debug!(
            CAT,
            imp = self,
            "ending on the async pool: EOS, then the device released"
        );
        self.obj().call_async(move |obj| {
            let imp = obj.imp();
            let pushed =
                imp.srcpad.push_event(state_event) && imp.srcpad.push_event(gst::event::Eos::new());
            gst::debug!(CAT, obj = obj, "EOS sent downstream: {pushed}");
            // Serialized with the chain's other changes (teardown may have
            // removed it meanwhile: then this does nothing new); what the
            // source is now, as it may have been shared meanwhile.
            let chain = imp.chain_lock.lock();
            let (device, left) = match imp.state.lock().as_mut().and_then(|s| s.elements.as_mut()) {
                Some(el) => match &mut el.source {
                    Source::Own(c) => (Some(c.element().clone()), None),
                    Source::Shared(tap) => (None, tap.detach()),
                },
                None => (None, None),
            };
            if let Some(dev) = device {
                dev.set_locked_state(true);
                if dev.set_state(gst::State::Null).is_err() {
                    gst::warning!(CAT, obj = obj, "the device did not stop cleanly");
                }
                gst::debug!(CAT, obj = obj, "device released");
            }
            drop(chain);
            imp.release_hold();
            // The last track on a shared capture releases the device here.
            drop(left);
        });
    }
}

impl Guarded for MediaStreamSrc {
    fn failed(&self) -> &std::sync::atomic::AtomicBool {
        &self.failed
    }
}
