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
//! Here: the GObject glue and the state; imp/chain.rs builds the
//! encoding chain, imp/peer.rs follows the webrtcbin fed.
//!
//! Lock order: `settings` before `state`; no lock is held while calling
//! into webrtcbin, the encoder or the pads.

use super::VideoCodec;
use crate::fault::Guarded;
use crate::lifeline::Gate;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use parking_lot::Mutex;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};

use super::CAT;
use peer::upstream_stream_id;

mod chain;
mod peer;

const DEFAULT_VIDEO_BITRATE: u32 = 1_500_000;

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
        // webrtcbin 1.22 sends every track of a bundle through one
        // rtpfunnel, whose output ends at the first EOS of any of its
        // inputs: one track's stop() would end every other track of the
        // connection (measured: the microphone's source got EOS 5 ms after
        // the camera track stopped). A stopped track sends nothing more, as
        // a browser's does; its EOS stays here. The encoder drained first.
        self.srcpad
            .add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, |pad, info| {
                let eos = matches!(&info.data, Some(gst::PadProbeData::Event(e)) if e.type_() == gst::EventType::Eos);
                if eos && pad.peer().is_some_and(|p| crate::webrtc::is_webrtcbin_sink_pad(&p)) {
                    gst::debug!(CAT, obj = pad, "the track ended: its EOS stays out of webrtcbin");
                    return gst::PadProbeReturn::Drop;
                }
                gst::PadProbeReturn::Ok
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
}
