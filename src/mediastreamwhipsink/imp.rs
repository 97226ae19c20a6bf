// SPDX-License-Identifier: MPL-2.0

//! `mediastreamwhipsink`'s GObject glue and state machine. A request pad
//! per track, ghosting a `mediastreamrtpenc` that feeds a sink pad of the
//! bin's `webrtcbin` (which gives it the track's identity and holds its
//! frames back until the connection is up). imp/publish.rs speaks WHIP:
//! the offer once every track's caps reached webrtcbin, the answer, and
//! the DELETE at the end.
//!
//! State: `None` in NULL; made at NULL->READY (the webrtcbin), the WHIP
//! session from the answer to the DELETE.
//!
//! Lock order: `settings`, then `state`. No lock is held while calling
//! the server or webrtcbin, posting, or changing a child's state.

use super::CAT;
use crate::VideoCodec;
use crate::fault::Guarded;
use crate::lifeline::Gate;
use crate::webrtc::whip;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use parking_lot::Mutex;
use std::sync::LazyLock;
use std::sync::atomic::AtomicBool;

mod publish;

#[derive(Debug, Clone)]
pub(super) struct Settings {
    pub(super) endpoint: Option<String>,
    pub(super) token: Option<String>,
    pub(super) video_codec: VideoCodec,
    /// Send the stream's ids on a data channel (crate::webrtc::ids).
    pub(super) send_ids: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            endpoint: None,
            token: None,
            video_codec: VideoCodec::default(),
            send_ids: true,
        }
    }
}

/// A track's pad and its encoder.
pub(super) struct Track {
    pub(super) pad: gst::GhostPad,
    pub(super) enc: gst::Element,
    /// The webrtcbin sink pad it feeds.
    pub(super) webrtc_pad: gst::Pad,
    pub(super) ended: bool,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) webrtc: Option<gst::Element>,
    pub(super) tracks: Vec<Track>,
    /// The offer went out (or is on its way): once per session.
    pub(super) offered: bool,
    pub(super) client: Option<whip::Client>,
    pub(super) session: Option<whip::Session>,
    /// The data channel the ids go on (crate::webrtc::ids), and the clock
    /// id that repeats them.
    pub(super) ids_channel: Option<gst_webrtc::WebRTCDataChannel>,
    pub(super) ids_clock: Option<gst::PeriodicClockId>,
    /// Our EOS was posted.
    pub(super) eos_posted: bool,
}

#[derive(Default)]
pub struct MediaStreamWhipSink {
    pub(super) settings: Mutex<Settings>,
    pub(super) state: Mutex<State>,
    /// webrtcbin's notify and the pool reach the element through this
    /// gate, which dispose closes (crate::lifeline).
    pub(super) gate: Gate,
    failed: AtomicBool,
}

#[glib::object_subclass]
impl ObjectSubclass for MediaStreamWhipSink {
    const NAME: &'static str = "GstMediaStreamWhipSink";
    type Type = super::MediaStreamWhipSink;
    type ParentType = gst::Bin;
}

impl Guarded for MediaStreamWhipSink {
    fn failed(&self) -> &AtomicBool {
        &self.failed
    }
}

impl ObjectImpl for MediaStreamWhipSink {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPS: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("whip-endpoint")
                    .nick("WHIP endpoint")
                    .blurb("The WHIP endpoint's URL (http:// or https://): the offer is POSTed there")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("auth-token")
                    .nick("Bearer token")
                    .blurb("Sent as `Authorization: Bearer <token>` with every request (never read back)")
                    .write_only()
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder::<VideoCodec>("video-codec")
                    .nick("Video codec")
                    .blurb("The codec video tracks are encoded in (what the server's room takes: Janus's default VideoRoom takes VP8)")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("send-ids")
                    .nick("Send ids")
                    .blurb("Send the stream id and the track ids on a data channel (`mediastream-ids`), once a second, for subscribers whose server drops the msid (Janus); mediastreamjanussrc reads them")
                    .default_value(true)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("resource")
                    .nick("Resource")
                    .blurb("The WHIP session's URL (the answer's Location), while published")
                    .read_only()
                    .build(),
            ]
        });
        PROPS.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        self.guard(
            || (),
            |imp| {
                let mut s = imp.settings.lock();
                match pspec.name() {
                    "whip-endpoint" => s.endpoint = value.get().unwrap(),
                    "auth-token" => s.token = value.get().unwrap(),
                    "video-codec" => s.video_codec = value.get().unwrap(),
                    "send-ids" => s.send_ids = value.get().unwrap(),
                    _ => unimplemented!(),
                }
                if pspec.name() != "auth-token" {
                    gst::debug!(CAT, imp = imp, "{} = {value:?}", pspec.name());
                }
            },
        )
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        self.guard(
            || pspec.default_value().clone(),
            |imp| match pspec.name() {
                "whip-endpoint" => imp.settings.lock().endpoint.to_value(),
                "video-codec" => imp.settings.lock().video_codec.to_value(),
                "send-ids" => imp.settings.lock().send_ids.to_value(),
                "resource" => imp
                    .state
                    .lock()
                    .session
                    .as_ref()
                    .map(|s| s.resource.clone())
                    .to_value(),
                _ => pspec.default_value().clone(),
            },
        )
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.set_suppressed_flags(gst::ElementFlags::SOURCE | gst::ElementFlags::SINK);
        obj.set_element_flags(gst::ElementFlags::SINK);
    }

    fn dispose(&self) {
        self.gate.close();
    }
}

impl GstObjectImpl for MediaStreamWhipSink {}

impl ElementImpl for MediaStreamWhipSink {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "MediaStream WHIP publisher",
                "Sink/Network/WebRTC",
                "Publishes a MediaStream's tracks to a WHIP endpoint (a media server: Janus, LiveKit, MediaMTX, Cloudflare)",
                "gst-mediastream developers",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            crate::plumbing::track_pad_templates(gst::PadDirection::Sink, gst::PadPresence::Request)
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
                let track = {
                    let mut state = imp.state.lock();
                    let i = state
                        .tracks
                        .iter()
                        .position(|t| t.pad.upcast_ref::<gst::Pad>() == pad);
                    i.map(|i| state.tracks.remove(i))
                };
                let obj = imp.obj();
                if let Some(t) = track {
                    if let Some(webrtc) = imp.state.lock().webrtc.clone() {
                        webrtc.release_request_pad(&t.webrtc_pad);
                    }
                    crate::plumbing::discard_all(*CAT, &*obj, &[t.enc], &[&t.pad]);
                }
                let _ = pad.set_active(false);
                let _ = obj.remove_pad(pad);
            },
        )
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        self.guard(
            || Err(gst::StateChangeError),
            |imp| {
                gst::debug!(CAT, imp = imp, "{transition:?}");
                if transition == gst::StateChange::PausedToReady {
                    imp.leave("the element stops");
                }
                let ret = imp.parent_change_state(transition)?;
                if transition == gst::StateChange::ReadyToPaused {
                    let mut state = imp.state.lock();
                    state.eos_posted = false;
                    for t in &mut state.tracks {
                        t.ended = false;
                    }
                }
                Ok(ret)
            },
        )
    }
}

impl BinImpl for MediaStreamWhipSink {
    fn handle_message(&self, msg: gst::Message) {
        // webrtcbin is no sink of ours: the element posts its own EOS.
        if let gst::MessageView::Eos(_) = msg.view() {
            gst::debug!(CAT, imp = self, "dropping a child's EOS");
            return;
        }
        self.parent_handle_message(msg)
    }
}

impl MediaStreamWhipSink {
    /// The bin's webrtcbin, made with the first track.
    fn webrtc(&self) -> Option<gst::Element> {
        if let Some(w) = self.state.lock().webrtc.clone() {
            return Some(w);
        }
        let webrtc = gst::ElementFactory::make("webrtcbin")
            .property_from_str("bundle-policy", "max-bundle")
            .build();
        let Ok(webrtc) = webrtc else {
            gst::element_imp_error!(
                self,
                gst::CoreError::MissingPlugin,
                ("the element 'webrtcbin' is missing (gstreamer1.0-plugins-bad, gstreamer1.0-nice)")
            );
            return None;
        };
        self.obj().add(&webrtc).ok()?;
        let _ = webrtc.sync_state_with_parent();
        self.state.lock().webrtc = Some(webrtc.clone());
        Some(webrtc)
    }

    fn new_track_pad(&self, templ: &gst::PadTemplate, name: Option<&str>) -> Option<gst::Pad> {
        let obj = self.obj();
        let name = crate::plumbing::track_pad_name(obj.upcast_ref(), templ, name);
        if self.state.lock().offered {
            gst::element_imp_warning!(
                self,
                gst::CoreError::Negotiation,
                ("a track ({name}) cannot join after the stream was published: WHIP has no renegotiation")
            );
            return None;
        }
        let webrtc = self.webrtc()?;
        let enc = gst::ElementFactory::make("mediastreamrtpenc")
            .property("video-codec", self.settings.lock().video_codec)
            .build()
            .ok()?;
        obj.add(&enc).ok()?;
        let webrtc_pad = webrtc.request_pad_simple("sink_%u")?;
        enc.static_pad("src")?.link(&webrtc_pad).ok()?;
        let pad = gst::GhostPad::builder_from_template_with_target(templ, &enc.static_pad("sink")?)
            .ok()?
            .name(name.as_str())
            .build();
        let life = self.gate.lifeline(&*obj);
        pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |pad, info| {
            if let Some(gst::PadProbeData::Event(ev)) = &info.data
                && ev.type_() == gst::EventType::Eos
            {
                let pad = pad.clone();
                life.with(|obj| {
                    obj.imp()
                        .guard(|| (), |imp| imp.track_ended(pad.upcast_ref()))
                });
            }
            gst::PadProbeReturn::Ok
        });
        // Each track's caps at webrtcbin: the offer goes once all have them.
        let life = self.gate.lifeline(&*obj);
        webrtc_pad.connect_notify(Some("caps"), move |_, _| {
            life.with(|obj| obj.imp().guard(|| (), |imp| imp.maybe_offer()));
        });
        self.state.lock().tracks.push(Track {
            pad: pad.clone(),
            enc: enc.clone(),
            webrtc_pad,
            ended: false,
        });
        let _ = enc.sync_state_with_parent();
        pad.set_active(true).ok()?;
        obj.add_pad(&pad).ok()?;
        gst::debug!(CAT, imp = self, "track pad {name}");
        Some(pad.upcast())
    }

    /// A track's EOS: once every track ended, the session is left and the
    /// element posts its EOS.
    fn track_ended(&self, pad: &gst::Pad) {
        let all = {
            let mut state = self.state.lock();
            match state
                .tracks
                .iter_mut()
                .find(|t| t.pad.upcast_ref::<gst::Pad>() == pad)
            {
                Some(t) if !t.ended => t.ended = true,
                // Seen already (a sticky EOS sent again), or not ours.
                _ => return,
            }
            let all = state.tracks.iter().all(|t| t.ended) && !state.eos_posted;
            if all {
                state.eos_posted = true;
            }
            all
        };
        gst::debug!(CAT, imp = self, "{} ended (all: {all})", pad.name());
        if all {
            self.obj().call_async(|obj| {
                obj.imp().guard(
                    || (),
                    |imp| {
                        imp.leave("every track ended");
                        let eos = gst::message::Eos::builder().src(&*imp.obj()).build();
                        let _ = imp.obj().post_message(eos);
                    },
                )
            });
        }
    }
}
