// SPDX-License-Identifier: MPL-2.0

//! The encoding chain: built on the first caps (`videoconvert ! vp8enc !
//! rtpvp8pay` and the like, no queue), the bitrate clamped to what the
//! encoder takes, rebuilt when `video-codec` changes, and the gate before
//! the payloader that drops frames until the peer is connected.

use super::MediaStreamRtpEnc;
use crate::fault::Guarded;
use crate::mediastreamrtpenc::{CAT, VideoCodec};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use std::sync::atomic::Ordering;

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

impl MediaStreamRtpEnc {
    /// The encoding chain for `caps`' kind, linked between the ghost pads.
    /// Errors: a missing element (CoreError::MissingPlugin), media it does
    /// not encode (StreamError::Format), and plumbing that failed (the
    /// chain is taken out again).
    pub(super) fn build(
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
    pub(super) fn set_bitrate(&self, enc: &gst::Element, name: &str, bps: u32) {
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
    pub(super) fn gate(&self, info: &mut gst::PadProbeInfo) -> gst::PadProbeReturn {
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

    /// A frame into the chain: when `video-codec` changed since the video
    /// chain was built, a chain of the new codec first (RTCRtpSender's
    /// codec switch; the peer learns it through a renegotiation). On the
    /// streaming thread, under the pad's stream lock: nothing is inside
    /// the old chain. Its sticky events go to the new chain again with
    /// the frame, as for any new link.
    pub(super) fn sink_buffer(&self, pad: &gst::GhostPad) {
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

    pub(super) fn teardown(&self) {
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
