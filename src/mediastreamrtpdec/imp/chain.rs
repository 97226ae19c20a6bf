// SPDX-License-Identifier: MPL-2.0

//! The decoding chain: built on the first RTP caps (and again on a new
//! encoding: a codec switch), what the element decodes, and the caps
//! queries answered with it.

use super::MediaStreamRtpDec;
use crate::mediastreamrtpdec::CAT;
use crate::track::TrackKind;
use gst::prelude::*;
use gst::subclass::prelude::*;

impl MediaStreamRtpDec {
    /// The RTP caps of every encoding of the track's media it decodes.
    pub(super) fn decodable_caps(&self) -> gst::Caps {
        let kind = self.state.lock().kind;
        let mut caps = gst::Caps::new_empty();
        for (encoding, media, clock_rate) in ENCODINGS {
            let same_kind = match kind {
                Some(TrackKind::Video) => media == "video",
                Some(TrackKind::Audio) => media == "audio",
                None => true,
            };
            if same_kind && decodable(encoding) {
                caps.get_mut().unwrap().append_structure(
                    gst::Structure::builder("application/x-rtp")
                        .field("media", media)
                        .field("clock-rate", clock_rate)
                        .field("encoding-name", encoding)
                        .build(),
                );
            }
        }
        caps
    }

    /// Takes the decoding chain out of the bin.
    pub(super) fn take_chain(&self) {
        let Some((_, elements)) = self.state.lock().chain.take() else {
            return;
        };
        crate::plumbing::discard_all(
            *CAT,
            &*self.obj(),
            &elements,
            &[&self.sinkpad, &self.srcpad],
        );
    }

    /// The decoding chain for the RTP caps' encoding. Errors: a missing
    /// element (CoreError::MissingPlugin), an encoding it does not decode
    /// (StreamError::CodecNotFound), and plumbing that failed (the chain is
    /// taken out again).
    pub(super) fn build(&self, caps: &gst::CapsRef) -> Result<(), gst::ErrorMessage> {
        let s = caps
            .structure(0)
            .ok_or_else(|| gst::error_msg!(gst::StreamError::Format, ("empty caps")))?;
        let encoding = encoding_of(caps);
        let media = s.get::<&str>("media").unwrap_or_default();
        let make = |factory: &str| {
            gst::ElementFactory::make(factory).build().map_err(|_| {
                gst::error_msg!(
                    gst::CoreError::MissingPlugin,
                    ("mediastreamrtpdec needs the GStreamer element '{factory}'")
                )
            })
        };
        let h264_decoder = || {
            ["openh264dec", "avdec_h264"]
                .into_iter()
                .find(|f| gst::ElementFactory::find(f).is_some())
                .ok_or_else(|| {
                    gst::error_msg!(
                        gst::CoreError::MissingPlugin,
                        ("mediastreamrtpdec needs openh264dec or avdec_h264 for H.264")
                    )
                })
                .and_then(make)
        };
        let (elements, kind) = match encoding.as_str() {
            "VP8" => (
                vec![make("rtpvp8depay")?, make("vp8dec")?],
                TrackKind::Video,
            ),
            "VP9" => (
                vec![make("rtpvp9depay")?, make("vp9dec")?],
                TrackKind::Video,
            ),
            "H264" => (
                vec![make("rtph264depay")?, make("h264parse")?, h264_decoder()?],
                TrackKind::Video,
            ),
            "OPUS" => (
                vec![make("rtpopusdepay")?, make("opusdec")?],
                TrackKind::Audio,
            ),
            other => {
                return Err(gst::error_msg!(
                    gst::StreamError::CodecNotFound,
                    ("mediastreamrtpdec cannot decode {media} '{other}' (VP8, VP9, H264, OPUS)")
                ));
            }
        };
        if kind == TrackKind::Video {
            // As a browser's receiver: after a loss (or the first packets
            // of a codec switched to, sent before the answer) the decoder
            // gets nothing until a key frame, and the sender is asked for
            // one (PLI), instead of decoding garbage or failing.
            let depay = &elements[0];
            for property in ["wait-for-keyframe", "request-keyframe"] {
                if depay.find_property(property).is_some() {
                    depay.set_property(property, true);
                }
            }
        }
        crate::plumbing::install(
            *CAT,
            &*self.obj(),
            &elements,
            &self.sinkpad,
            &self.srcpad,
            "the decoding chain",
        )?;
        let mut state = self.state.lock();
        state.chain = Some((encoding.clone(), elements));
        state.kind = Some(kind);
        state.dirty = true;
        gst::debug!(CAT, imp = self, "decoding {encoding}");
        Ok(())
    }
}
/// The elements that decode `encoding` are installed.
pub(super) fn decodable(encoding: &str) -> bool {
    let have = |f: &str| gst::ElementFactory::find(f).is_some();
    match encoding {
        "VP8" => have("rtpvp8depay") && have("vp8dec"),
        "VP9" => have("rtpvp9depay") && have("vp9dec"),
        "H264" => {
            have("rtph264depay") && have("h264parse") && (have("openh264dec") || have("avdec_h264"))
        }
        "OPUS" => have("rtpopusdepay") && have("opusdec"),
        _ => false,
    }
}

/// The RTP caps' encoding name, upper case (`VP9`); empty when not given.
pub(super) fn encoding_of(caps: &gst::CapsRef) -> String {
    caps.structure(0)
        .and_then(|s| s.get::<&str>("encoding-name").ok())
        .unwrap_or_default()
        .to_ascii_uppercase()
}

/// The encodings a remote track decodes: name, media, clock rate.
const ENCODINGS: [(&str, &str, i32); 4] = [
    ("VP8", "video", 90000),
    ("VP9", "video", 90000),
    ("H264", "video", 90000),
    ("OPUS", "audio", 48000),
];
