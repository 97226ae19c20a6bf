// SPDX-License-Identifier: MPL-2.0

//! `mediastreamjanussrc`'s GObject glue and state machine. The bin holds a
//! `webrtcbin` whose remote tracks become a remote `mediastream`
//! (crate::webrtc::receive_streams, the receive path every remote stream
//! takes); that stream's src pads are ghosted out as the bin's own.
//! imp/subscribe.rs talks to Janus: the subscription made at
//! READY->PAUSED (on GStreamer's thread pool: it waits for the server),
//! and what Janus says later.
//!
//! State: `None` in NULL; the `webrtcbin` is made at NULL->READY; the
//! Janus connection lives from the subscription to PAUSED->READY.
//!
//! Lock order: `settings`, then `state`. No lock is held while calling
//! into Janus or webrtcbin, posting or changing a child's state.

use super::CAT;
use crate::fault::Guarded;
use crate::lifeline::Gate;
use crate::webrtc::ids::Ids;
use crate::webrtc::janus::Connection;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

mod subscribe;

const DEFAULT_URL: &str = "ws://127.0.0.1:8188";
const DEFAULT_ROOM: u64 = 1234;
const DEFAULT_PUBLISHER_TIMEOUT_MS: u32 = 10_000;
const DEFAULT_GONE_TIMEOUT_MS: u32 = 15_000;

#[derive(Debug, Clone)]
pub(super) struct Settings {
    pub(super) url: String,
    pub(super) room: u64,
    pub(super) feed: u64,
    pub(super) display: Option<String>,
    pub(super) pin: Option<String>,
    pub(super) publisher_timeout_ms: u32,
    pub(super) gone_timeout_ms: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            url: DEFAULT_URL.into(),
            room: DEFAULT_ROOM,
            feed: 0,
            display: None,
            pin: None,
            publisher_timeout_ms: DEFAULT_PUBLISHER_TIMEOUT_MS,
            gone_timeout_ms: DEFAULT_GONE_TIMEOUT_MS,
        }
    }
}

pub(super) struct State {
    pub(super) webrtc: gst::Element,
    /// The remote stream, once its first track came.
    pub(super) stream: Option<gst::Element>,
    /// The Janus session, once subscribed.
    pub(super) conn: Option<Connection>,
    /// The feed subscribed to.
    pub(super) feed: u64,
    /// PAUSED->READY began: what Janus says from now on is not news.
    pub(super) stopping: bool,
    /// The tracks were ended (the publisher left, the session ended).
    pub(super) ended: bool,
    /// The tracks muted now, by id, and the clock id that takes the
    /// publisher for gone when every track stays muted (`gone-timeout`).
    pub(super) muted: Vec<String>,
    pub(super) gone: Option<gst::SingleShotClockId>,
}

/// What the subscription tells the tracks about their ids: Janus's
/// streams (our mid, the publisher's mid), and the publisher's own ids
/// from its data channel (crate::webrtc::ids) when it sends them.
#[derive(Default)]
pub(super) struct Heard {
    pub(super) mids: Vec<(String, String)>,
    /// The feed has a data channel: its ids are worth waiting for.
    pub(super) data: bool,
    pub(super) ids: Option<Ids>,
    /// Stopping: nobody waits any more.
    pub(super) closed: bool,
}

#[derive(Default)]
pub(super) struct IdsSlot {
    pub(super) heard: Mutex<Heard>,
    pub(super) changed: Condvar,
}

/// How long a new track waits for the publisher's ids on the data channel
/// (they come every second) before it takes the ids Janus gives.
const IDS_WAIT: Duration = Duration::from_secs(3);

#[derive(Default)]
pub struct MediaStreamJanusSrc {
    pub(super) settings: Mutex<Settings>,
    pub(super) state: Mutex<Option<State>>,
    /// Taken alone (the tracks' threads wait on it).
    pub(super) ids: Arc<IdsSlot>,
    /// Janus's thread, webrtcbin's and the pool reach the element through
    /// this gate, which dispose closes (crate::lifeline).
    pub(super) gate: Gate,
    failed: AtomicBool,
}

#[glib::object_subclass]
impl ObjectSubclass for MediaStreamJanusSrc {
    const NAME: &'static str = "GstMediaStreamJanusSrc";
    type Type = super::MediaStreamJanusSrc;
    type ParentType = gst::Bin;
}

impl Guarded for MediaStreamJanusSrc {
    fn failed(&self) -> &AtomicBool {
        &self.failed
    }
}

impl ObjectImpl for MediaStreamJanusSrc {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPS: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("url")
                    .nick("Janus URL")
                    .blurb("The Janus server's WebSocket API (ws:// or wss://; Janus's default port is 8188)")
                    .default_value(Some(DEFAULT_URL))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt64::builder("room")
                    .nick("Room")
                    .blurb("The VideoRoom to join")
                    .default_value(DEFAULT_ROOM)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt64::builder("feed")
                    .nick("Feed")
                    .blurb("The publisher to subscribe to, by its feed id; 0: by `display`, else the first publisher in the room (waiting up to publisher-timeout for one)")
                    .default_value(0)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("display")
                    .nick("Display")
                    .blurb("The publisher to subscribe to, by its display name (a WHIP publisher's: its endpoint's label), when feed is 0")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("pin")
                    .nick("Pin")
                    .blurb("The room's pin, for a room that has one (never read back)")
                    .write_only()
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("publisher-timeout")
                    .nick("Publisher timeout")
                    .blurb("How long to wait (ms) for the publisher to appear in the room before an error")
                    .default_value(DEFAULT_PUBLISHER_TIMEOUT_MS)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("gone-timeout")
                    .nick("Gone timeout")
                    .blurb("When no track received a packet for this long (ms), the publisher is taken for gone and the tracks end, as when it leaves: Janus itself may take a minute or more to notice a publisher that vanished. 0: wait for Janus")
                    .default_value(DEFAULT_GONE_TIMEOUT_MS)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt64::builder("feed-id")
                    .nick("Feed id")
                    .blurb("The feed subscribed to (0 until subscribed)")
                    .read_only()
                    .build(),
                glib::ParamSpecObject::builder::<gst::Element>("stream")
                    .nick("Stream")
                    .blurb("The remote MediaStream (a `mediastream`: its id, track-ids, addtrack/removetrack; its tracks' mute, unmute and ended on the bus), once its first track came")
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
                    "url" => {
                        s.url = value
                            .get::<Option<String>>()
                            .unwrap()
                            .unwrap_or_else(|| DEFAULT_URL.into())
                    }
                    "room" => s.room = value.get().unwrap(),
                    "feed" => s.feed = value.get().unwrap(),
                    "display" => s.display = value.get().unwrap(),
                    "pin" => s.pin = value.get().unwrap(),
                    "publisher-timeout" => s.publisher_timeout_ms = value.get().unwrap(),
                    "gone-timeout" => s.gone_timeout_ms = value.get().unwrap(),
                    _ => unimplemented!(),
                }
                if pspec.name() != "pin" {
                    gst::debug!(CAT, imp = imp, "{} = {value:?}", pspec.name());
                }
            },
        )
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        self.guard(
            || pspec.default_value().clone(),
            |imp| {
                let s = imp.settings.lock();
                match pspec.name() {
                    "url" => s.url.to_value(),
                    "room" => s.room.to_value(),
                    "feed" => s.feed.to_value(),
                    "display" => s.display.to_value(),
                    "publisher-timeout" => s.publisher_timeout_ms.to_value(),
                    "gone-timeout" => s.gone_timeout_ms.to_value(),
                    "feed-id" => imp
                        .state
                        .lock()
                        .as_ref()
                        .map_or(0u64, |st| st.feed)
                        .to_value(),
                    "stream" => imp
                        .state
                        .lock()
                        .as_ref()
                        .and_then(|st| st.stream.clone())
                        .to_value(),
                    _ => pspec.default_value().clone(),
                }
            },
        )
    }

    fn constructed(&self) {
        self.parent_constructed();
        // A source: webrtcbin's nicesinks inside would make the bin a sink
        // the pipeline waits for at EOS.
        let obj = self.obj();
        obj.set_suppressed_flags(gst::ElementFlags::SOURCE | gst::ElementFlags::SINK);
        obj.set_element_flags(gst::ElementFlags::SOURCE);
    }

    fn dispose(&self) {
        self.gate.close();
    }
}

impl GstObjectImpl for MediaStreamJanusSrc {}

impl ElementImpl for MediaStreamJanusSrc {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "MediaStream from a Janus VideoRoom",
                "Source/Network/WebRTC",
                "Subscribes to a publisher of a Janus VideoRoom: its tracks as a remote MediaStream",
                "gst-mediastream developers",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            crate::plumbing::track_pad_templates(
                gst::PadDirection::Src,
                gst::PadPresence::Sometimes,
            )
        });
        TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        self.guard(
            || Err(gst::StateChangeError),
            |imp| imp.change_state_guarded(transition),
        )
    }
}

impl BinImpl for MediaStreamJanusSrc {
    fn handle_message(&self, msg: gst::Message) {
        if let gst::MessageView::Element(e) = msg.view()
            && let Some(s) = e.structure()
            && let Ok(id) = s.get::<String>("track-id")
        {
            match s.name().as_str() {
                "mediastream-track-mute" => self.guard(|| (), |imp| imp.track_muted(id, true)),
                "mediastream-track-unmute" => self.guard(|| (), |imp| imp.track_muted(id, false)),
                _ => {}
            }
        }
        self.parent_handle_message(msg)
    }
}

impl MediaStreamJanusSrc {
    fn change_state_guarded(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        gst::debug!(CAT, imp = self, "{transition:?}");
        match transition {
            gst::StateChange::NullToReady => self.prepare()?,
            gst::StateChange::PausedToReady => self.unsubscribe(),
            _ => {}
        }
        let mut ret = self.parent_change_state(transition)?;
        match transition {
            gst::StateChange::ReadyToPaused => {
                // A live source: nothing to preroll; the subscription
                // goes on in the pool, and the tracks come as pads.
                ret = gst::StateChangeSuccess::NoPreroll;
                self.obj().call_async(|obj| {
                    obj.imp().guard(|| (), |imp| imp.subscribe());
                });
            }
            gst::StateChange::PlayingToPaused => ret = gst::StateChangeSuccess::NoPreroll,
            gst::StateChange::ReadyToNull => self.release(),
            _ => {}
        }
        Ok(ret)
    }

    /// NULL->READY: the webrtcbin, its tracks received as a remote stream
    /// whose pads become ours.
    fn prepare(&self) -> Result<(), gst::StateChangeError> {
        let webrtc = gst::ElementFactory::make("webrtcbin")
            .property_from_str("bundle-policy", "max-bundle")
            .build()
            .map_err(|_| {
                gst::element_imp_error!(
                    self,
                    gst::CoreError::MissingPlugin,
                    ["the element 'webrtcbin' is missing (gstreamer1.0-plugins-bad, gstreamer1.0-nice)"]
                );
                gst::StateChangeError
            })?;
        let obj = self.obj();
        obj.add(&webrtc).map_err(|_| gst::StateChangeError)?;
        *self.ids.heard.lock() = Heard::default();
        let slot = self.ids.clone();
        webrtc.connect("on-data-channel", false, move |args| {
            let channel = args[1].get::<gst_webrtc::WebRTCDataChannel>().ok()?;
            listen_for_ids(&slot, &channel);
            None
        });
        let slot = self.ids.clone();
        let life = self.gate.lifeline(&*obj);
        crate::webrtc::receive_streams_named(
            &webrtc,
            move |pad| publisher_ids(&slot, pad),
            move |stream| {
                let life = life.clone();
                life.with(|obj| {
                    obj.imp()
                        .guard(|| (), |imp| imp.stream_added(stream, life.clone()))
                });
            },
        );
        *self.state.lock() = Some(State {
            webrtc,
            stream: None,
            conn: None,
            feed: 0,
            stopping: false,
            ended: false,
            muted: Vec::new(),
            gone: None,
        });
        Ok(())
    }

    /// The remote stream: each of its src pads is ghosted out.
    fn stream_added(
        &self,
        stream: &gst::Element,
        life: crate::lifeline::Lifeline<super::MediaStreamJanusSrc>,
    ) {
        gst::debug!(
            CAT,
            imp = self,
            "remote stream {}",
            stream.property::<String>("id")
        );
        if let Some(st) = self.state.lock().as_mut() {
            st.stream = Some(stream.clone());
        }
        self.obj().notify("stream");
        let added = life.clone();
        stream.connect_pad_added(move |_, pad| {
            added.with(|obj| obj.imp().guard(|| (), |imp| imp.expose(pad)));
        });
        stream.connect_pad_removed(move |_, pad| {
            life.with(|obj| obj.imp().guard(|| (), |imp| imp.unexpose(pad)));
        });
        for pad in stream.src_pads() {
            self.expose(&pad);
        }
    }

    fn expose(&self, pad: &gst::Pad) {
        if pad.direction() != gst::PadDirection::Src {
            return;
        }
        let obj = self.obj();
        let name = pad.name();
        if obj.static_pad(&name).is_some() {
            return;
        }
        let templ = if name.starts_with("audio") {
            "audio_%u"
        } else {
            "video_%u"
        };
        let ghost = gst::GhostPad::builder_from_template_with_target(
            &obj.pad_template(templ).unwrap(),
            pad,
        )
        .map(|b| b.name(name.as_str()).build());
        match ghost {
            Ok(ghost) => {
                let _ = ghost.set_active(true);
                match obj.add_pad(&ghost) {
                    Ok(()) => gst::debug!(CAT, imp = self, "track pad {name}"),
                    Err(e) => gst::warning!(CAT, imp = self, "cannot add pad {name}: {e}"),
                }
            }
            Err(e) => gst::warning!(CAT, imp = self, "cannot ghost {name}: {e}"),
        }
    }

    fn unexpose(&self, pad: &gst::Pad) {
        let obj = self.obj();
        if let Some(ghost) = obj.static_pad(&pad.name()) {
            let _ = ghost.set_active(false);
            let _ = obj.remove_pad(&ghost);
        }
    }

    /// READY->NULL: the webrtcbin and the stream go.
    fn release(&self) {
        let Some(state) = self.state.lock().take() else {
            return;
        };
        drop(state.conn);
        let obj = self.obj();
        for pad in obj.src_pads() {
            let _ = pad.set_active(false);
            let _ = obj.remove_pad(&pad);
        }
        let children = obj.children();
        crate::plumbing::discard_all(*CAT, &*obj, &children, &[]);
    }
}

/// A new track's ids as its publisher sent them on the data channel
/// (waiting up to [`IDS_WAIT`] for them when the feed has one); `None`:
/// the ids Janus gives (the offer's msid, see subscribe.rs).
fn publisher_ids(slot: &IdsSlot, pad: &gst::Pad) -> Option<(String, String)> {
    let mid = pad
        .property::<Option<gst_webrtc::WebRTCRTPTransceiver>>("transceiver")?
        .mid()?;
    let mut heard = slot.heard.lock();
    let publisher_mid = heard
        .mids
        .iter()
        .find(|(ours, _)| *ours == mid)
        .map(|(_, theirs)| theirs.clone())?;
    if heard.data && heard.ids.is_none() && !heard.closed {
        gst::debug!(CAT, obj = pad, "waiting for the publisher's ids");
        let _ = slot
            .changed
            .wait_while_for(&mut heard, |h| h.ids.is_none() && !h.closed, IDS_WAIT);
    }
    let ids = heard.ids.as_ref()?;
    let track = ids.tracks.get(&publisher_mid)?;
    gst::debug!(CAT, obj = pad, "mid {mid}: the publisher's track {track}");
    Some((ids.stream.clone(), track.clone()))
}

/// The publisher's ids from `channel`. Any channel: Janus 1.1.2 relays a
/// publisher's data on a channel it opens, labelled with the feed id, not
/// the publisher's label; a message that is not the ids is ignored
/// (Ids::from_message).
pub(super) fn listen_for_ids(slot: &Arc<IdsSlot>, channel: &gst_webrtc::WebRTCDataChannel) {
    gst::debug!(CAT, "data channel {:?}", channel.label());
    let slot = slot.clone();
    channel.connect_on_message_string(move |_, text| {
        if let Some(heard) = text.and_then(Ids::from_message) {
            let mut h = slot.heard.lock();
            if h.ids.as_ref() != Some(&heard) {
                gst::debug!(CAT, "the publisher's ids: {heard:?}");
                h.ids = Some(heard);
                slot.changed.notify_all();
            }
        }
    });
}
