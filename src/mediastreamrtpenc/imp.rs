// SPDX-License-Identifier: MPL-2.0

//! `mediastreamrtpenc`: a bin that encodes one track for `webrtcbin`
//! (VP8, VP9, or H.264 with `openh264enc`, for video; Opus for audio) and gives
//! the `webrtcbin` sink pad it feeds the track's MediaStream identity
//! (crate::webrtc::set_sender_identity): the stream id from the stream
//! collection `mediastream` sends down its pads, the track id from
//! stream-start.
//!
//! The chain is built on the first caps (the kind is the caps' media
//! type): `videoconvert ! vp8enc ! rtpvp8pay` and the like, no queue. While
//! the `webrtcbin` it feeds is not connected, encoded frames are dropped
//! before the payloader, so nothing captured before the connection reaches
//! the peer and the track's thread never waits in webrtcbin's transport;
//! once it is connected, the encoder is asked for a key frame and video
//! flows from that key frame on.
//!
//! `video-bitrate` is clamped to the range the encoder's own property
//! accepts (vp8enc's `target-bitrate` is a gint: at most 2147483647), read
//! from its param spec, so no value of ours is refused by it; for
//! `openh264enc` also to what OpenH264 itself starts with (288 Mbit/s).
//!
//! Entry points run inside `crate::fault::Guarded`: a panic is an element
//! error, and NULL makes the element usable again.
//!
//! Lock order: `settings` before `state`; no lock is held while calling
//! into webrtcbin, the encoder or the pads.

use super::VideoCodec;
use crate::fault::Guarded;
use crate::lifeline::Gate;
use crate::webrtc;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use parking_lot::Mutex;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastreamrtpenc",
        gst::DebugColorFlags::empty(),
        Some("MediaStreamTrack encoder for webrtcbin"),
    )
});

const DEFAULT_VIDEO_BITRATE: u32 = 1_500_000;
/// One RTP payload type per codec (Chromium's numbers for Opus and H.264).
/// Every payloader defaults to 96; with `bundle-policy=max-bundle` an
/// offer's audio and video then shared 96, and when the peer sent media
/// back on those m-lines, `webrtcbin` decoded its audio as VP8.
const PT_VP8: u32 = 96;
const PT_VP9: u32 = 98;
const PT_H264: u32 = 102;
const PT_OPUS: u32 = 111;
/// The highest bitrate OpenH264 takes: the limit of H.264 level 5.2
/// (240 Mbit/s, times 1.2 as OpenH264 computes it). `openh264enc`'s
/// `bitrate` is a guint, but above this OpenH264 refuses to start
/// ("MaxSpatialBitrate (288000000) should be larger than SpatialBitrate")
/// and the track produced nothing.
const OPENH264_MAX_BITRATE: u32 = 288_000_000;

#[derive(Debug, Clone)]
struct Settings {
    video_codec: VideoCodec,
    video_bitrate: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            video_codec: VideoCodec::default(),
            video_bitrate: DEFAULT_VIDEO_BITRATE,
        }
    }
}

#[derive(Default)]
struct State {
    stream_id: Option<String>,
    track_id: Option<String>,
    video: bool,
    /// The codec of the video chain built.
    codec: Option<VideoCodec>,
    /// The payloader's sink pad: frames are dropped there until connected.
    pay_sink: Option<gst::Pad>,
    /// The webrtcbin fed and our handler of its `notify::connection-state`.
    webrtc: Option<(gst::Element, glib::SignalHandlerId)>,
}

pub struct MediaStreamRtpEnc {
    sinkpad: gst::GhostPad,
    srcpad: gst::GhostPad,
    settings: Mutex<Settings>,
    state: Mutex<State>,
    /// Frames may go out: the webrtcbin fed is connected (or we feed
    /// something else).
    connected: AtomicBool,
    /// Video waits for a key frame (after connecting).
    need_key: AtomicBool,
    /// `video-codec` was set: the next frame checks whether the chain's
    /// codec is still the one wanted (no lock per frame otherwise).
    codec_set: AtomicBool,
    /// Set by a panic, cleared at NULL (crate::fault::Guarded).
    failed: AtomicBool,
    /// Other threads (pad link signals, webrtcbin's notify) reach the
    /// element through this gate, which dispose closes (crate::lifeline).
    gate: Gate,
}

#[glib::object_subclass]
impl ObjectSubclass for MediaStreamRtpEnc {
    const NAME: &'static str = "GstMediaStreamRtpEnc";
    type Type = super::MediaStreamRtpEnc;
    type ParentType = gst::Bin;

    fn with_class(klass: &Self::Class) -> Self {
        let sinkpad = gst::GhostPad::builder_from_template(&klass.pad_template("sink").unwrap())
            .chain_function(|pad, parent, buffer| {
                crate::fault::pad_function(
                    parent,
                    || Err(gst::FlowError::Error),
                    |imp: &MediaStreamRtpEnc| {
                        imp.sink_buffer(pad);
                        gst::ProxyPad::chain_default(pad, Some(&*imp.obj()), buffer)
                    },
                )
            })
            .event_function(|pad, parent, event| {
                crate::fault::pad_function(
                    parent,
                    || false,
                    |imp: &MediaStreamRtpEnc| imp.sink_event(pad, event),
                )
            })
            .build();
        let srcpad =
            gst::GhostPad::builder_from_template(&klass.pad_template("src").unwrap()).build();
        MediaStreamRtpEnc {
            sinkpad,
            srcpad,
            settings: Mutex::default(),
            state: Mutex::default(),
            connected: AtomicBool::new(true),
            need_key: AtomicBool::new(false),
            codec_set: AtomicBool::new(false),
            failed: AtomicBool::new(false),
            gate: Gate::default(),
        }
    }
}

impl ObjectImpl for MediaStreamRtpEnc {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPS: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecEnum::builder::<VideoCodec>("video-codec")
                    .nick("Video codec")
                    .blurb("Codec of a video track: vp8 (vp8enc), vp9 (vp9enc, profile 0) or h264 (openh264enc, constrained baseline). Audio is always Opus. Set while a video track runs, the encoder changes at the next frame (a codec switch: renegotiate once webrtcbin's pad has the new caps), the RTP stream going on with the same SSRC")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("video-bitrate")
                    .nick("Video bitrate")
                    .blurb("Target bitrate of a video track's encoder, in bits per second, clamped to the range the encoder accepts (vp8enc, vp9enc: at most 2147483647). Ignored for audio")
                    .minimum(10_000)
                    .default_value(DEFAULT_VIDEO_BITRATE)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("stream-id")
                    .nick("Stream id")
                    .blurb("The MediaStream.id the peer sees (the msid of the webrtcbin sink pad this element feeds), taken from the stream collection upstream: the id of the mediastream bin the track comes from")
                    .read_only()
                    .build(),
                glib::ParamSpecString::builder("track-id")
                    .nick("Track id")
                    .blurb("The MediaStreamTrack.id the peer sees, taken from the upstream stream-start (the track's id)")
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
                crate::fault::point("mediastreamrtpenc:set-property");
                let mut settings = imp.settings.lock();
                match pspec.name() {
                    // A video chain of another codec is replaced at its
                    // next frame (sink_buffer).
                    "video-codec" => {
                        settings.video_codec = value.get().unwrap();
                        imp.codec_set.store(true, Ordering::Release);
                    }
                    "video-bitrate" => settings.video_bitrate = value.get().unwrap(),
                    _ => unimplemented!(),
                }
                gst::debug!(CAT, imp = imp, "{} = {value:?}", pspec.name());
            },
        )
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        self.guard(
            || pspec.default_value().clone(),
            |imp| match pspec.name() {
                "video-codec" => imp.settings.lock().video_codec.to_value(),
                "video-bitrate" => imp.settings.lock().video_bitrate.to_value(),
                "stream-id" => imp.state.lock().stream_id.to_value(),
                "track-id" => imp.state.lock().track_id.to_value(),
                _ => unimplemented!(),
            },
        )
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.add_pad(&self.sinkpad).unwrap();
        obj.add_pad(&self.srcpad).unwrap();
        let life = self.gate.lifeline(&*obj);
        self.srcpad.connect_linked(move |_, peer| {
            life.with(|obj| obj.imp().guard(|| (), |imp| imp.linked(Some(peer))));
        });
        let life = self.gate.lifeline(&*obj);
        self.srcpad.connect_unlinked(move |_, _| {
            life.with(|obj| obj.imp().guard(|| (), |imp| imp.linked(None)));
        });
    }

    fn dispose(&self) {
        self.gate.close();
        self.watch(None);
    }
}

impl GstObjectImpl for MediaStreamRtpEnc {}

impl ElementImpl for MediaStreamRtpEnc {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "MediaStreamTrack RTP encoder for webrtcbin",
                "Codec/Encoder/Network/WebRTC",
                "Encodes a track (VP8, VP9 or H.264 video, Opus audio) for webrtcbin and gives the webrtcbin sink pad it feeds the track's MediaStream id and track id, so the peer's ontrack sees them; drops frames until the connection is up",
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
                    &raw,
                )
                .unwrap(),
                gst::PadTemplate::new(
                    "src",
                    gst::PadDirection::Src,
                    gst::PadPresence::Always,
                    &gst::Caps::new_empty_simple("application/x-rtp"),
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
        let ret = self.parent_change_state(transition)?;
        if transition == gst::StateChange::ReadyToNull {
            self.teardown();
            // After an error or a panic, NULL gives a fresh element: the
            // next caps build the chain again.
            self.reset_failed();
        }
        Ok(ret)
    }
}

impl BinImpl for MediaStreamRtpEnc {}

impl Guarded for MediaStreamRtpEnc {
    fn failed(&self) -> &AtomicBool {
        &self.failed
    }
}

impl MediaStreamRtpEnc {
    fn sink_event(&self, pad: &gst::GhostPad, event: gst::Event) -> bool {
        match event.view() {
            gst::EventView::StreamStart(s) => {
                // The stream id is needed before caps reach webrtcbin (an
                // encoder may send its caps before the stream collection
                // comes): the mediastream upstream has it already.
                let upstream = upstream_stream_id(pad.upcast_ref());
                gst::debug!(
                    CAT,
                    imp = self,
                    "track {}, stream {upstream:?} from upstream",
                    s.stream_id()
                );
                {
                    let mut state = self.state.lock();
                    state.track_id = Some(s.stream_id().to_string());
                    if upstream.is_some() {
                        state.stream_id = upstream;
                    }
                }
                self.obj().notify("track-id");
                self.obj().notify("stream-id");
                self.apply_identity();
            }
            gst::EventView::StreamCollection(c) => {
                let id = c.stream_collection().upstream_id().map(|s| s.to_string());
                gst::debug!(CAT, imp = self, "stream collection of stream {id:?}");
                if id.is_some() {
                    self.state.lock().stream_id = id;
                    self.obj().notify("stream-id");
                    self.apply_identity();
                }
            }
            gst::EventView::Caps(c) if self.state.lock().pay_sink.is_none() => {
                if let Err(e) = self.build(c.caps(), None) {
                    self.post_error_message(e);
                    return false;
                }
                // The events stored before the chain existed (stream-start,
                // the track's state) go to it first, in order.
                crate::plumbing::forward_sticky(*CAT, pad);
            }
            _ => {}
        }
        if self.state.lock().pay_sink.is_none() && event.is_sticky() {
            // Kept on the pad until the chain exists.
            return true;
        }
        gst::Pad::event_default(pad, Some(&*self.obj()), event)
    }

    /// The encoding chain for `caps`' kind, linked between the ghost pads.
    /// Errors: a missing element (CoreError::MissingPlugin), media it does
    /// not encode (StreamError::Format), and plumbing that failed (the
    /// chain is taken out again).
    fn build(
        &self,
        caps: &gst::CapsRef,
        continued: Option<&gst::StructureRef>,
    ) -> Result<(), gst::ErrorMessage> {
        crate::fault::point("mediastreamrtpenc:build");
        let settings = self.settings.lock().clone();
        let media = caps
            .structure(0)
            .map(|s| s.name().to_string())
            .unwrap_or_default();
        let video = media.starts_with("video/");
        let make = |factory: &str| {
            gst::ElementFactory::make(factory).build().map_err(|_| {
                gst::error_msg!(
                    gst::CoreError::MissingPlugin,
                    ("mediastreamrtpenc needs the GStreamer element '{factory}'")
                )
            })
        };
        let elements: Vec<gst::Element> = if video && settings.video_codec == VideoCodec::H264 {
            let enc = make("openh264enc")?;
            enc.set_property_from_str("usage-type", "camera");
            enc.set_property_from_str("complexity", "low");
            if settings.video_bitrate > OPENH264_MAX_BITRATE {
                gst::info!(
                    CAT,
                    imp = self,
                    "video-bitrate {} clamped to OpenH264's {OPENH264_MAX_BITRATE}",
                    settings.video_bitrate
                );
            }
            self.set_bitrate(
                &enc,
                "bitrate",
                settings.video_bitrate.min(OPENH264_MAX_BITRATE),
            );
            enc.set_property("gop-size", 3000u32);
            let pay = make("rtph264pay")?;
            pay.set_property("pt", PT_H264);
            pay.set_property("config-interval", -1i32);
            pay.set_property_from_str("aggregate-mode", "zero-latency");
            let filter = make("capsfilter")?;
            filter.set_property(
                "caps",
                gst::Caps::builder("video/x-h264")
                    .field("profile", "constrained-baseline")
                    .build(),
            );
            vec![make("videoconvert")?, enc, filter, make("h264parse")?, pay]
        } else if video {
            // libvpx in real time, CBR, no frames held back; cpu-used -6
            // for VP8, 8 (its fastest real-time setting, as the recorder
            // has it) for VP9.
            let (encoder, payloader, pt, cpu_used) = match settings.video_codec {
                VideoCodec::Vp9 => ("vp9enc", "rtpvp9pay", PT_VP9, 8i32),
                _ => ("vp8enc", "rtpvp8pay", PT_VP8, -6i32),
            };
            let enc = make(encoder)?;
            enc.set_property("deadline", 1i64);
            enc.set_property("cpu-used", cpu_used);
            self.set_bitrate(&enc, "target-bitrate", settings.video_bitrate);
            enc.set_property_from_str("end-usage", "cbr");
            enc.set_property("keyframe-max-dist", 3000i32);
            enc.set_property_from_str("error-resilient", "default");
            enc.set_property("lag-in-frames", 0i32);
            let pay = make(payloader)?;
            pay.set_property("pt", pt);
            pay.set_property_from_str("picture-id-mode", "15-bit");
            vec![make("videoconvert")?, enc, pay]
        } else if media.starts_with("audio/") {
            vec![
                make("audioconvert")?,
                make("audioresample")?,
                make("opusenc")?,
                {
                    let pay = make("rtpopuspay")?;
                    pay.set_property("pt", PT_OPUS);
                    pay
                },
            ]
        } else {
            return Err(gst::error_msg!(
                gst::StreamError::Format,
                ("mediastreamrtpenc takes raw video or audio, not {media}")
            ));
        };
        let obj = self.obj();
        let pay = elements.last().unwrap();
        if let Some(stats) = continued {
            // The RTP stream goes on: its SSRC, sequence numbers and
            // timestamps carry on across the codec switch, as a
            // browser's sender keeps them.
            if let Ok(ssrc) = stats.get::<u32>("ssrc") {
                pay.set_property("ssrc", ssrc);
            }
            if let Ok(seqnum) = stats.get::<u32>("seqnum") {
                pay.set_property("seqnum-offset", ((seqnum + 1) & 0xffff) as i32);
            }
            if let Ok(offset) = stats.get::<u32>("timestamp-offset") {
                pay.set_property("timestamp-offset", offset);
            }
        }
        let pay_sink = pay.static_pad("sink").unwrap();
        let weak = obj.downgrade();
        pay_sink.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
            move |_, info| match weak.upgrade() {
                Some(obj) => {
                    match obj.imp().guard(|| None, |imp| Some(imp.gate(info))) {
                        Some(ret) => ret,
                        // After a panic nothing passes.
                        None => crate::fault::drop_item(info),
                    }
                }
                None => gst::PadProbeReturn::Ok,
            },
        );
        crate::plumbing::install(
            *CAT,
            &*obj,
            &elements,
            &self.sinkpad,
            &self.srcpad,
            "the encoding chain",
        )?;
        {
            let mut state = self.state.lock();
            state.video = video;
            state.codec = video.then_some(settings.video_codec);
            state.pay_sink = Some(pay_sink);
        }
        gst::debug!(
            CAT,
            imp = self,
            "built {} chain for {media}",
            if video { "video" } else { "audio" }
        );
        Ok(())
    }

    /// Sets the encoder's bitrate property `name` to `bps`, clamped to the
    /// range of its param spec (an out-of-range value would be refused
    /// with a panic in the bindings).
    fn set_bitrate(&self, enc: &gst::Element, name: &str, bps: u32) {
        let Some(pspec) = enc.find_property(name) else {
            gst::warning!(CAT, imp = self, "{} has no property {name}", enc.name());
            return;
        };
        let value = if let Some(p) = pspec.downcast_ref::<glib::ParamSpecInt>() {
            let v = i64::from(bps).clamp(p.minimum().into(), p.maximum().into());
            if v != i64::from(bps) {
                gst::info!(CAT, imp = self, "video-bitrate {bps} clamped to {name}={v}");
            }
            // In the gint range: clamped to it.
            (v as i32).to_value()
        } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecUInt>() {
            let v = bps.clamp(p.minimum(), p.maximum());
            if v != bps {
                gst::info!(CAT, imp = self, "video-bitrate {bps} clamped to {name}={v}");
            }
            v.to_value()
        } else {
            gst::warning!(
                CAT,
                imp = self,
                "{}'s {name} is a {}: bitrate not set",
                enc.name(),
                pspec.value_type()
            );
            return;
        };
        enc.set_property_from_value(name, &value);
    }

    /// The pay sink probe: nothing before the connection; video from a key
    /// frame on.
    fn gate(&self, info: &mut gst::PadProbeInfo) -> gst::PadProbeReturn {
        // Dropped by taking the data and answering Handled (Drop made
        // gst_pad_push unref a NULL buffer under gstreamer-rs 0.25).
        let drop = |info: &mut gst::PadProbeInfo| {
            info.data.take();
            gst::PadProbeReturn::Handled
        };
        if !self.connected.load(Ordering::Acquire) {
            gst::trace!(CAT, imp = self, "not connected: frame dropped");
            return drop(info);
        }
        if self.need_key.load(Ordering::Acquire) {
            let delta = match &info.data {
                Some(gst::PadProbeData::Buffer(b)) => {
                    b.flags().contains(gst::BufferFlags::DELTA_UNIT)
                }
                Some(gst::PadProbeData::BufferList(l)) => l
                    .get(0)
                    .is_some_and(|b| b.flags().contains(gst::BufferFlags::DELTA_UNIT)),
                _ => false,
            };
            if delta {
                gst::trace!(CAT, imp = self, "waiting for a key frame: delta dropped");
                return drop(info);
            }
            self.need_key.store(false, Ordering::Release);
            gst::debug!(CAT, imp = self, "first key frame after connecting");
        }
        gst::PadProbeReturn::Ok
    }

    fn linked(&self, peer: Option<&gst::Pad>) {
        let webrtc = peer.and_then(webrtc::webrtcbin_of);
        self.watch(webrtc);
        self.apply_identity();
    }

    /// Follows `webrtc`'s connection state (or none: frames pass).
    fn watch(&self, webrtc: Option<gst::Element>) {
        let old = self.state.lock().webrtc.take();
        if let Some((element, id)) = old {
            element.disconnect(id);
        }
        let Some(webrtc) = webrtc else {
            gst::debug!(CAT, imp = self, "not feeding webrtcbin: frames pass");
            self.connected.store(true, Ordering::Release);
            return;
        };
        gst::debug!(CAT, imp = self, "following {}'s connection", webrtc.name());
        // A peer that vanished fails the connection (in about a minute)
        // instead of leaving it connected for ever: then frames stop.
        let life = self.gate.lifeline(&*self.obj());
        let (id, now) = webrtc::follow_connection(&webrtc, move |_, state| {
            life.with(|obj| obj.imp().guard(|| (), |imp| imp.connection_changed(state)));
        });
        self.state.lock().webrtc = Some((webrtc, id));
        self.connection_changed(now);
    }

    fn connection_changed(&self, state: gst_webrtc::WebRTCPeerConnectionState) {
        let connected = state == gst_webrtc::WebRTCPeerConnectionState::Connected;
        let was = self.connected.swap(connected, Ordering::AcqRel);
        gst::debug!(CAT, imp = self, "webrtcbin connection-state {state:?}");
        if connected && !was {
            let (video, pay_sink) = {
                let state = self.state.lock();
                (state.video, state.pay_sink.clone())
            };
            if video {
                self.need_key.store(true, Ordering::Release);
                if let Some(pad) = pay_sink {
                    let ev = gst_video::UpstreamForceKeyUnitEvent::builder()
                        .all_headers(true)
                        .build();
                    let asked = pad.push_event(ev);
                    gst::info!(CAT, imp = self, "connected: key frame asked for ({asked})");
                }
            } else {
                gst::info!(CAT, imp = self, "connected: audio flows");
            }
        } else if !connected && was {
            gst::info!(CAT, imp = self, "not connected ({state:?}): frames dropped");
        }
    }

    /// Gives the webrtcbin sink pad fed its identity, once both ids are
    /// known.
    fn apply_identity(&self) {
        let (stream, track) = {
            let state = self.state.lock();
            (state.stream_id.clone(), state.track_id.clone())
        };
        let Some(peer) = self.srcpad.peer() else {
            return;
        };
        if !webrtc::is_webrtcbin_sink_pad(&peer) {
            return;
        }
        let (Some(stream), Some(track)) = (stream, track) else {
            gst::debug!(CAT, imp = self, "identity not known yet");
            return;
        };
        gst::debug!(
            CAT,
            imp = self,
            "{}: msid {stream}, track {track}",
            peer.name()
        );
        if !webrtc::set_sender_identity(&peer, &stream, &track) {
            gst::element_imp_warning!(
                self,
                gst::CoreError::Negotiation,
                (
                    "could not give webrtcbin's pad {} the track id {track}",
                    peer.name()
                )
            );
        }
    }

    /// A frame into the chain: when `video-codec` changed since the video
    /// chain was built, a chain of the new codec first (RTCRtpSender's
    /// codec switch; the peer learns it through a renegotiation). On the
    /// streaming thread, under the pad's stream lock: nothing is inside
    /// the old chain. Its sticky events go to the new chain again with
    /// the frame, as for any new link.
    fn sink_buffer(&self, pad: &gst::GhostPad) {
        if !self.codec_set.swap(false, Ordering::AcqRel) {
            return;
        }
        // A value set before (or while) the chain was built is the
        // chain's codec already: nothing to do.
        let wanted = self.settings.lock().video_codec;
        let built = self.state.lock().codec;
        let Some(built) = built.filter(|c| *c != wanted) else {
            return;
        };
        let Some(caps) = pad.current_caps() else {
            self.codec_set.store(true, Ordering::Release);
            return;
        };
        gst::info!(CAT, imp = self, "video codec {built:?} -> {wanted:?}");
        let stats = self
            .state
            .lock()
            .pay_sink
            .as_ref()
            .and_then(|p| p.parent_element())
            .map(|pay| pay.property::<gst::Structure>("stats"));
        gst::debug!(CAT, imp = self, "the RTP stream goes on from {stats:?}");
        self.teardown();
        if let Err(e) = self.build(&caps, stats.as_deref()) {
            self.post_error_message(e);
        }
    }

    fn teardown(&self) {
        let pay_sink = {
            let mut state = self.state.lock();
            state.codec = None;
            state.pay_sink.take()
        };
        if pay_sink.is_none() {
            return;
        }
        gst::debug!(CAT, imp = self, "chain torn down");
        let obj = self.obj();
        crate::plumbing::discard_all(*CAT, &*obj, &obj.children(), &[&self.sinkpad, &self.srcpad]);
    }
}

/// The `id` of the `mediastream` upstream of `pad`, through elements with
/// one sink pad (a queue, a tee).
fn upstream_stream_id(pad: &gst::Pad) -> Option<String> {
    let start = pad.peer()?.parent_element()?;
    crate::track::upstream_element(start, |e| {
        e.factory().is_some_and(|f| f.name() == "mediastream")
    })
    .map(|stream| stream.property::<String>("id"))
}
