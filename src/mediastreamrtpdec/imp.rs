// SPDX-License-Identifier: MPL-2.0

//! `mediastreamrtpdec`: a bin that decodes one track `webrtcbin` receives
//! (VP8, VP9, H.264, Opus) and makes it a remote MediaStreamTrack: its
//! stream-start carries the sender's track id (from the remote
//! description's msid of the pad's media), the `mediastream-track-state`
//! event its state, and
//! - `muted` while no RTP packet arrived for `mute-timeout` ms of the
//!   pipeline clock (`mute` / `unmute` signals and messages), checked by
//!   `crate::track::liveness` while PLAYING: one single-shot clock id at
//!   the last packet + mute-timeout, so nothing wakes while packets flow;
//! - `ended` (signal, message, state event, then EOS: no error) when the
//!   sender stops sending this media in a new remote description
//!   (removeTrack) or the connection closes or fails, or when the peer is
//!   gone: nothing at all arrived from it for `peer-timeout` ms of the
//!   pipeline clock (then also a `mediastream-peer-gone` message and a
//!   warning).
//!
//! Why a watchdog of our own: `webrtcbin` 1.22 stays `connected` when the
//! peer vanishes (measured: 60 s and more after Chromium or a GStreamer
//! peer was SIGKILLed), its NiceAgent's RFC 7675 `consent-freshness` is
//! construct-only and off, and `keepalive-conncheck` alone took 47 to 66 s. So
//! everything the peer sends counts as a sign of life: linked to
//! `webrtcbin`, every buffer out of each `nicesrc` inside it (RTP and RTCP
//! of every media, DTLS, data channels; libnice keeps STUN to itself),
//! otherwise this track's RTP. A live peer sends RTCP even when none of
//! its tracks sends media (Chromium about every second per media, a
//! GStreamer peer at least every 7.5 s: rtpsession's 5 s minimum times
//! 1.5 at most), so the default of 15 s is twice the longest regular gap,
//! and half of RFC 7675's 30 s. One single-shot clock id at the last
//! arrival + peer-timeout, as for mute: nothing wakes while packets flow.
//!
//! Here: the GObject glue and the track's state machine. The rooms:
//! imp/chain.rs (the decoding chain and its caps), imp/peer.rs (the
//! webrtcbin and the peer watched), imp/checks.rs (mute and peer-gone on
//! the pipeline clock).
//!
//! Lock order: `state` before `mute_timeout`, `peer_timeout` and
//! `given_ids` (each taken alone otherwise); no lock is held while
//! emitting, posting or pushing.

use crate::fault::Guarded;
use crate::lifeline::Gate;
use crate::track::liveness::{DEFAULT_MUTE_TIMEOUT_MS, Liveness, MIN_MUTE_TIMEOUT_MS, MuteClock};
use crate::track::{self, TrackState};
use crate::track::{ReadyState, TrackKind};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use parking_lot::Mutex;
use std::sync::LazyLock;
use std::sync::atomic::AtomicBool;

use super::CAT;
use chain::encoding_of;

mod chain;
mod checks;
mod peer;

const DEFAULT_PEER_TIMEOUT_MS: u32 = 15_000;

#[derive(Default)]
struct State {
    stream_id: Option<String>,
    track_id: Option<String>,
    mid: Option<String>,
    kind: Option<TrackKind>,
    /// The decoding chain and the RTP encoding it decodes (upper case),
    /// once the first caps came; a renegotiated codec replaces it.
    chain: Option<(String, Vec<gst::Element>)>,
    /// READY -> PAUSED until PAUSED -> READY: an end is announced only
    /// then. Stopping first, the bin's own shutdown closes webrtcbin after
    /// it, and that close is no end of a running track: announced from the
    /// async pool it would reach the enclosing bin while the application
    /// lets it go.
    running: bool,
    muted: bool,
    ended: bool,
    /// The state event must go out before the next buffer.
    dirty: bool,
    settings: Option<gst::Structure>,
    /// When the track mutes: no packet for mute-timeout (counted from
    /// PLAYING), while the mute check runs.
    liveness: Option<Liveness>,
    /// The next mute check, on the pipeline clock, while PLAYING.
    mute: Option<MuteClock>,
    /// Clock time of the last thing that arrived from the peer (or of
    /// PLAYING), while the peer check runs.
    last_arrival: Option<gst::ClockTime>,
    /// The peer check on the pipeline clock, while PLAYING (nothing
    /// pending with peer-timeout 0, or once ended).
    peer: Option<MuteClock>,
    webrtc: Option<(gst::Element, Vec<glib::SignalHandlerId>)>,
    /// The probes on the src pads of the `nicesrc` elements inside the
    /// webrtcbin watched.
    transport_probes: Vec<(gst::Pad, gst::PadProbeId)>,
}

pub struct MediaStreamRtpDec {
    sinkpad: gst::GhostPad,
    srcpad: gst::GhostPad,
    mute_timeout: Mutex<u32>,
    peer_timeout: Mutex<u32>,
    /// The ids given before linking (a signalling that carries the
    /// sender's ids itself): they win over the remote description's.
    given_ids: Mutex<(Option<String>, Option<String>)>,
    state: Mutex<State>,
    /// Set by a panic, cleared at NULL (crate::fault::Guarded).
    failed: AtomicBool,
    /// Closures on threads this element does not own (pad probes,
    /// webrtcbin's notify handlers, clock callbacks) reach it only through
    /// this gate, which dispose closes (crate::lifeline).
    gate: Gate,
}

#[glib::object_subclass]
impl ObjectSubclass for MediaStreamRtpDec {
    const NAME: &'static str = "GstMediaStreamRtpDec";
    type Type = super::MediaStreamRtpDec;
    type ParentType = gst::Bin;

    fn with_class(klass: &Self::Class) -> Self {
        let sinkpad = gst::GhostPad::builder_from_template(&klass.pad_template("sink").unwrap())
            .event_function(|pad, parent, event| {
                crate::fault::pad_function(
                    parent,
                    || false,
                    |imp: &MediaStreamRtpDec| imp.sink_event(pad, event),
                )
            })
            .query_function(|pad, parent, query| {
                crate::fault::pad_function(
                    parent,
                    || false,
                    |imp: &MediaStreamRtpDec| imp.sink_query(pad, query),
                )
            })
            .build();
        let srcpad =
            gst::GhostPad::builder_from_template(&klass.pad_template("src").unwrap()).build();
        MediaStreamRtpDec {
            sinkpad,
            srcpad,
            mute_timeout: Mutex::new(DEFAULT_MUTE_TIMEOUT_MS),
            peer_timeout: Mutex::new(DEFAULT_PEER_TIMEOUT_MS),
            given_ids: Mutex::default(),
            state: Mutex::default(),
            failed: AtomicBool::new(false),
            gate: Gate::default(),
        }
    }
}

impl Guarded for MediaStreamRtpDec {
    fn failed(&self) -> &AtomicBool {
        &self.failed
    }
}

impl ObjectImpl for MediaStreamRtpDec {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPS: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("stream-id")
                    .nick("Stream id")
                    .blurb("The sender's MediaStream.id: the msid of the webrtcbin src pad this element is linked to. Unset until linked to webrtcbin; a value set before linking (the id a signalling carried) is kept instead")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("track-id")
                    .nick("Track id")
                    .blurb("The sender's MediaStreamTrack.id, from the remote description's msid of this pad's media. Also the stream-id of the decoded stream. Unset until linked to webrtcbin; a value set before linking (the id a signalling carried) is kept instead")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("muted")
                    .nick("Muted")
                    .blurb("MediaStreamTrack.muted: true while no RTP packet has arrived for mute-timeout ms of the pipeline clock (notified; mute and unmute signals)")
                    .read_only()
                    .build(),
                glib::ParamSpecEnum::builder::<ReadyState>("ready-state")
                    .nick("Ready state")
                    .blurb("MediaStreamTrack.readyState: live, then ended once the sender removed the track or the connection closed or failed (EOS follows)")
                    .read_only()
                    .build(),
                glib::ParamSpecUInt::builder("mute-timeout")
                    .nick("Mute timeout")
                    .blurb("Milliseconds of the pipeline clock without an RTP packet, while PLAYING, after which the track is muted")
                    .minimum(MIN_MUTE_TIMEOUT_MS)
                    .default_value(DEFAULT_MUTE_TIMEOUT_MS)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("peer-timeout")
                    .nick("Peer timeout")
                    .blurb("Milliseconds of the pipeline clock, while PLAYING, in which nothing at all arrived from the peer (linked to webrtcbin: no RTP or RTCP of any media, no DTLS, on any of its nicesrc elements; else no RTP packet of this track), after which the peer is gone: mediastream-peer-gone message, a warning, and the track ends (EOS). 0: never")
                    .default_value(DEFAULT_PEER_TIMEOUT_MS)
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
                 * GstMediaStreamRtpDec::mute:
                 *
                 * No RTP packet arrived for `mute-timeout` ms of the
                 * pipeline clock while PLAYING: the remote track is muted.
                 * An element message `mute` with the track id is posted
                 * too.
                 */
                glib::subclass::Signal::builder("mute").build(),
                /**
                 * GstMediaStreamRtpDec::unmute:
                 *
                 * A packet arrived after a mute; emitted on the streaming
                 * thread, before the packet is decoded.
                 */
                glib::subclass::Signal::builder("unmute").build(),
                /**
                 * GstMediaStreamRtpDec::ended:
                 *
                 * The sender removed the track (a new remote description
                 * no longer sends this media) or the connection closed or
                 * failed. EOS follows, not an error.
                 */
                glib::subclass::Signal::builder("ended").build(),
            ]
        });
        SIGNALS.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        match pspec.name() {
            "mute-timeout" => *self.mute_timeout.lock() = value.get().unwrap(),
            "stream-id" => self.given_ids.lock().0 = value.get().unwrap(),
            "track-id" => self.given_ids.lock().1 = value.get().unwrap(),
            "peer-timeout" => {
                *self.peer_timeout.lock() = value.get().unwrap();
                // While playing: due again from the last arrival.
                self.arm_peer();
            }
            _ => unimplemented!(),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let state = self.state.lock();
        match pspec.name() {
            "stream-id" => state
                .stream_id
                .clone()
                .or_else(|| self.given_ids.lock().0.clone())
                .to_value(),
            "track-id" => state
                .track_id
                .clone()
                .or_else(|| self.given_ids.lock().1.clone())
                .to_value(),
            "muted" => state.muted.to_value(),
            "ready-state" => if state.ended {
                ReadyState::Ended
            } else {
                ReadyState::Live
            }
            .to_value(),
            "mute-timeout" => self.mute_timeout.lock().to_value(),
            "peer-timeout" => self.peer_timeout.lock().to_value(),
            _ => unimplemented!(),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.add_pad(&self.sinkpad).unwrap();
        obj.add_pad(&self.srcpad).unwrap();
        let life = self.gate.lifeline(&*obj);
        self.sinkpad.connect_linked(move |_, peer| {
            life.with(|obj| obj.imp().guard(|| (), |imp| imp.linked(peer)));
        });
        let life = self.gate.lifeline(&*obj);
        self.sinkpad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
            move |_, _| {
                life.with(|obj| obj.imp().guard(|| (), |imp| imp.packet()));
                gst::PadProbeReturn::Ok
            },
        );
        // An ended track says so just before its EOS leaves the chain (on
        // the inside: once EOS is on the src pad nothing more goes out).
        let life = self.gate.lifeline(&*obj);
        self.srcpad.internal().unwrap().add_probe(
            gst::PadProbeType::EVENT_DOWNSTREAM,
            move |_, info| {
                if let Some(gst::PadProbeData::Event(ev)) = &info.data
                    && ev.type_() == gst::EventType::Eos
                {
                    life.with(|obj| obj.imp().guard(|| (), |imp| imp.before_eos()));
                }
                gst::PadProbeReturn::Ok
            },
        );
        let life = self.gate.lifeline(&*obj);
        self.srcpad.add_probe(
            gst::PadProbeType::BUFFER
                | gst::PadProbeType::BUFFER_LIST
                | gst::PadProbeType::EVENT_DOWNSTREAM,
            move |pad, info| match life.with(|obj| {
                obj.imp()
                    .guard(|| None, |imp| Some(imp.src_probe(pad.upcast_ref(), info)))
            }) {
                Some(Some(ret)) => ret,
                // After a panic nothing passes.
                Some(None) => crate::fault::drop_item(info),
                None => gst::PadProbeReturn::Ok,
            },
        );
    }

    fn dispose(&self) {
        self.gate.close();
        self.unwatch();
    }
}

impl GstObjectImpl for MediaStreamRtpDec {}

impl ElementImpl for MediaStreamRtpDec {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Remote MediaStreamTrack from webrtcbin",
                "Codec/Decoder/Network/WebRTC",
                "Decodes a track webrtcbin receives (VP8, VP9, H.264, Opus) as a remote MediaStreamTrack: the sender's track id, muted while no packets arrive, ended (EOS, no error) when the sender removes it or the connection closes",
                "gst-mediastream developers",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let raw = gst::Caps::builder_full()
                .structure(gst::Structure::new_empty("video/x-raw"))
                .structure(gst::Structure::new_empty("audio/x-raw"))
                .build();
            vec![
                gst::PadTemplate::new(
                    "sink",
                    gst::PadDirection::Sink,
                    gst::PadPresence::Always,
                    &gst::Caps::new_empty_simple("application/x-rtp"),
                )
                .unwrap(),
                gst::PadTemplate::new(
                    "src",
                    gst::PadDirection::Src,
                    gst::PadPresence::Always,
                    &raw,
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
        match transition {
            gst::StateChange::PlayingToPaused => self.stop_check(),
            gst::StateChange::ReadyToPaused => self.state.lock().running = true,
            gst::StateChange::PausedToReady => self.state.lock().running = false,
            _ => (),
        }
        let ret = self.parent_change_state(transition)?;
        match transition {
            gst::StateChange::PausedToPlaying => self.guard(|| (), |imp| imp.start_check()),
            // After a panic, NULL gives the element back.
            gst::StateChange::ReadyToNull => self.reset_failed(),
            _ => (),
        }
        Ok(ret)
    }
}

impl BinImpl for MediaStreamRtpDec {}

impl MediaStreamRtpDec {
    fn sink_event(&self, pad: &gst::GhostPad, event: gst::Event) -> bool {
        if let gst::EventView::Caps(c) = event.view() {
            let encoding = encoding_of(c.caps());
            let built = self.state.lock().chain.as_ref().map(|(e, _)| e.clone());
            if built.as_ref() != Some(&encoding) {
                if let Some(old) = built {
                    // A renegotiation changed the codec (RTCRtpTransceiver
                    // setCodecPreferences): the track goes on, decoded by
                    // a new chain. Under the pad's stream lock (this is its
                    // streaming thread): nothing is inside the old one.
                    gst::info!(
                        CAT,
                        imp = self,
                        "the codec changed from {old} to {encoding}"
                    );
                    self.take_chain();
                }
                if let Err(e) = self.build(c.caps()) {
                    self.post_error_message(e);
                    return false;
                }
                crate::plumbing::forward_sticky(*CAT, pad);
            }
        }
        if self.state.lock().chain.is_none() && event.is_sticky() {
            return true;
        }
        gst::Pad::event_default(pad, Some(&*self.obj()), event)
    }

    /// Caps: every encoding of the track's media it can decode, not only
    /// the one of the chain built, so that `webrtcbin` answers an offer
    /// that switches codec (it asks its src pad's peer).
    fn sink_query(&self, pad: &gst::GhostPad, query: &mut gst::QueryRef) -> bool {
        match query.view_mut() {
            gst::QueryViewMut::Caps(q) => {
                let caps = self.decodable_caps();
                let caps = match q.filter() {
                    Some(f) => f.intersect_with_mode(&caps, gst::CapsIntersectMode::First),
                    None => caps,
                };
                gst::log!(CAT, imp = self, "caps query: {caps}");
                q.set_result(&caps);
                true
            }
            // Asked before a caps event reaches the pad: any RTP, not only
            // the chain built (another codec's builds a new chain; one it
            // cannot decode is refused there, with an error naming it).
            gst::QueryViewMut::AcceptCaps(q) => {
                let ok = q.caps().can_intersect(&pad.pad_template_caps());
                gst::debug!(CAT, imp = self, "accept {}: {ok}", q.caps());
                q.set_result(ok);
                true
            }
            _ => gst::Pad::query_default(pad, Some(&*self.obj()), query),
        }
    }

    /// The decoded stream: stream-start carries the track id; the state
    /// event goes out before the first buffer and after each change.
    fn src_probe(&self, pad: &gst::Pad, info: &mut gst::PadProbeInfo) -> gst::PadProbeReturn {
        match &mut info.data {
            Some(gst::PadProbeData::Event(ev)) => {
                match ev.view() {
                    gst::EventView::StreamStart(s) => {
                        let track_id = self.state.lock().track_id.clone();
                        if let Some(id) = track_id
                            && s.stream_id() != id
                        {
                            let mut b = gst::event::StreamStart::builder(&id);
                            if let Some(g) = s.group_id() {
                                b = b.group_id(g);
                            }
                            *ev = b.build();
                        }
                    }
                    gst::EventView::Caps(c) => {
                        let settings = c.caps().structure(0).map(track::settings_from_caps);
                        let mut state = self.state.lock();
                        state.settings = settings;
                        state.dirty = true;
                    }
                    _ => {}
                }
                gst::PadProbeReturn::Ok
            }
            Some(_) => {
                let event = {
                    let mut state = self.state.lock();
                    std::mem::take(&mut state.dirty).then(|| self.track_state(&state))
                };
                if let Some(ev) = event {
                    pad.push_event(ev);
                }
                gst::PadProbeReturn::Ok
            }
            None => gst::PadProbeReturn::Ok,
        }
    }

    fn track_state(&self, state: &State) -> gst::Event {
        TrackState {
            track_id: state.track_id.clone().unwrap_or_default(),
            kind: state.kind.unwrap_or(TrackKind::Video),
            label: "remote".into(),
            enabled: true,
            muted: state.muted,
            ready_state: if state.ended {
                ReadyState::Ended
            } else {
                ReadyState::Live
            },
            settings: state.settings.clone(),
            device_id: String::new(),
            received_codec: state
                .chain
                .as_ref()
                .map(|(encoding, _)| encoding.to_ascii_lowercase()),
        }
        .to_event()
    }

    /// ended: the signal and message, then the state event and EOS, from
    /// GStreamer's async pool (not webrtcbin's thread or the clock's).
    fn end(&self, why: &str) {
        {
            let mut state = self.state.lock();
            if !state.running {
                gst::debug!(CAT, imp = self, "stopped: no end announced ({why})");
                return;
            }
            if state.ended {
                return;
            }
            state.ended = true;
        }
        // The peer check stays (it may be the caller, on its clock id's
        // callback): ended, it schedules nothing more.
        let mute = self.state.lock().mute.take();
        drop(mute);
        gst::info!(CAT, imp = self, "ended: {why}");
        self.obj().call_async(|obj| {
            obj.imp().guard(
                || (),
                |imp| {
                    let (id, running) = {
                        let state = imp.state.lock();
                        (state.track_id.clone().unwrap_or_default(), state.running)
                    };
                    if !running {
                        gst::debug!(CAT, obj = obj, "stopped meanwhile: end not announced");
                        return;
                    }
                    obj.notify("ready-state");
                    track::announce(obj, track::TrackEvent::Ended, &id);
                    // Into the chain, so the decoder drains before EOS goes out;
                    // the src probe sends the ended state just before it (sent
                    // into the chain, a decoder held it as an event of a next
                    // frame that never came). Not taken: downstream is flushing,
                    // unlinked or already at EOS; the application saw `ended`
                    // either way.
                    let built = imp.state.lock().chain.is_some();
                    let sent = match imp.sinkpad.internal() {
                        Some(internal) if built => internal.push_event(gst::event::Eos::new()),
                        _ => {
                            imp.before_eos();
                            imp.srcpad.push_event(gst::event::Eos::new())
                        }
                    };
                    gst::debug!(
                        CAT,
                        obj = obj,
                        "ended: state and EOS sent downstream: {sent}"
                    );
                },
            );
        });
    }

    /// EOS is about to leave: an ended track's state goes first.
    fn before_eos(&self) {
        let ev = {
            let state = self.state.lock();
            state.ended.then(|| self.track_state(&state))
        };
        if let Some(ev) = ev
            && !self.srcpad.push_event(ev)
        {
            gst::debug!(CAT, imp = self, "the ended state event was not taken");
        }
    }

    fn announce(&self, event: track::TrackEvent, track_id: &str) {
        self.obj().notify("muted");
        track::announce(&*self.obj(), event, track_id);
    }
}
