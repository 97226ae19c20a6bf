// SPDX-License-Identifier: MPL-2.0

//! A track's encoder branch: `[convert] ! encoder [! parser] ! muxer`. A
//! converter is put in only when the track's caps are not ones the encoder
//! takes, so on the native path the encoder's input buffers are the
//! track's own (no copy before the encoder, no queue, the track's thread).

use super::mime::{Codec, Container, Plan};
use gst::prelude::*;

/// One track's elements inside the recorder.
#[derive(Debug, Clone)]
pub struct EncodeBranch {
    /// In data order; the first one's sink pad is the ghost pad's target.
    pub elements: Vec<gst::Element>,
}

impl EncodeBranch {
    pub fn sink_pad(&self) -> gst::Pad {
        self.elements[0].static_pad("sink").expect("a sink pad")
    }
}

fn make(factory: &str) -> Result<gst::Element, String> {
    gst::ElementFactory::make(factory)
        .build()
        .map_err(|_| format!("the element '{factory}' is not installed"))
}

/// The muxer for a recording, set up so its output is a stream of chunks
/// that concatenate into a playable file: no seeking back to rewrite
/// headers (streamable), timestamps from zero.
pub fn muxer(container: Container, timeslice_ms: u32) -> Result<gst::Element, String> {
    let mux = make(container.muxer())?;
    match container {
        Container::Webm | Container::Matroska => {
            mux.set_property("streamable", true);
            mux.set_property("offset-to-zero", true);
        }
        Container::Mp4 => {
            // Fragments short enough that every timeslice has data.
            let fragment = if timeslice_ms == 0 {
                1000
            } else {
                (timeslice_ms / 2).clamp(100, 1000)
            };
            mux.set_property("fragment-duration", fragment);
            mux.set_property("streamable", true);
        }
        Container::Ogg => {
            // Pages out within 100 ms, so chunks carry what was recorded.
            mux.set_property("max-delay", 100_000_000u64);
            mux.set_property("max-page-delay", 100_000_000u64);
        }
    }
    Ok(mux)
}

/// The encoder for `codec` with the recorder's settings: real-time speed
/// and the bitrate (0 = the encoder's default).
pub fn encoder(
    codec: Codec,
    bits_per_second: u32,
    installed: &dyn Fn(&str) -> bool,
) -> Result<gst::Element, String> {
    let factory = Plan::encoder(codec, installed)
        .ok_or_else(|| format!("no {} encoder is installed", codec.name()))?;
    let enc = make(factory)?;
    let bps = bits_per_second;
    match factory {
        "vp8enc" | "vp9enc" => {
            // Real time: a recording must keep up with its track.
            enc.set_property("deadline", 1i64);
            if factory == "vp9enc" {
                enc.set_property("cpu-used", 8i32);
            }
            if bps > 0 {
                enc.set_property("target-bitrate", bps as i32);
            }
        }
        // Property types differ (int, uint, int64): set from a string.
        "openh264enc" | "avenc_aac" | "fdkaacenc" if bps > 0 => {
            enc.set_property_from_str("bitrate", &bps.to_string())
        }
        "opusenc" if bps > 0 => enc.set_property("bitrate", bps.clamp(4000, 650_000) as i32),
        "voaacenc" if bps > 0 => enc.set_property("bitrate", bps.clamp(32000, 320_000) as i32),
        _ => {}
    }
    Ok(enc)
}

/// Builds and links (not yet added to a bin: `add` does) a branch from a
/// track with upstream caps `upstream` into `mux`.
pub fn build(
    bin: &gst::Bin,
    codec: Codec,
    bits_per_second: u32,
    upstream: &gst::Caps,
    mux: &gst::Element,
    installed: &dyn Fn(&str) -> bool,
) -> Result<EncodeBranch, String> {
    let enc = encoder(codec, bits_per_second, installed)?;
    let enc_caps = enc
        .static_pad("sink")
        .map(|p| p.query_caps(None))
        .unwrap_or_else(gst::Caps::new_any);
    let mut elements = Vec::new();
    // The native path: the track's caps are ones the encoder takes.
    let native = !upstream.is_empty() && !upstream.is_any() && upstream.is_subset(&enc_caps);
    if !native {
        if codec.is_video() {
            elements.push(make("videoconvert")?);
        } else {
            elements.push(make("audioconvert")?);
            elements.push(make("audioresample")?);
        }
    }
    elements.push(enc);
    if let Some(parser) = codec.parser() {
        elements.push(make(parser)?);
    }
    bin.add_many(&elements)
        .map_err(|e| format!("cannot add the encoder branch: {e}"))?;
    let linked = gst::Element::link_many(&elements)
        .map_err(|e| format!("cannot link the encoder branch: {e}"))
        .and_then(|_| {
            let src = elements.last().unwrap().static_pad("src").unwrap();
            let templ = if codec.is_video() {
                "video_%u"
            } else {
                "audio_%u"
            };
            let mux_pad = mux
                .request_pad_simple(templ)
                .or_else(|| mux.request_pad_simple("sink_%u"))
                .or_else(|| mux.request_pad_simple("sink_%d"))
                .ok_or_else(|| {
                    format!(
                        "the muxer '{}' gives no pad for {}",
                        mux.name(),
                        codec.name()
                    )
                })?;
            src.link(&mux_pad)
                .map_err(|e| format!("cannot link {} to the muxer: {e:?}", codec.name()))?;
            Ok(())
        });
    match linked {
        Ok(()) => Ok(EncodeBranch { elements }),
        Err(e) => {
            let _ = bin.remove_many(&elements);
            Err(e)
        }
    }
}
