// SPDX-License-Identifier: MPL-2.0

//! A track's encoder branch: `videoconvertscale ! capsfilter ! encoder
//! [! parser] ! muxer` for video, `[audioconvert ! audioresample] ! encoder
//! ! muxer` for audio. The video scaler keeps the recording at the track's
//! first size (the capsfilter is fixed to it): while the track keeps that
//! size it is in passthrough, so on the native path the encoder's input
//! buffers are the track's own (no copy before the encoder, no queue, the
//! track's thread). The audio converters are put in only when the track's
//! caps are not ones the encoder takes.

use super::CAT;
use super::mime::{Codec, Container, Plan};
use gst::glib;
use gst::prelude::*;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::LazyLock;

/// One track's elements inside the recorder.
#[derive(Debug, Clone)]
pub struct EncodeBranch {
    /// In data order; the first one's sink pad is the ghost pad's target.
    pub elements: Vec<gst::Element>,
    /// Video: the capsfilter that holds the recording to the track's first
    /// size (`first_size`), its caps ANY until the first caps are known.
    pub size_filter: Option<gst::Element>,
    /// The encoder, whose bitrate the recorder's attribute reads while
    /// recording; and whether it is video.
    pub encoder: gst::Element,
    pub video: bool,
}

impl EncodeBranch {
    pub fn sink_pad(&self) -> gst::Pad {
        self.elements[0].static_pad("sink").expect("a sink pad")
    }

    /// The bitrate the encoder runs at now (`vp8enc` sets its own from the
    /// frame size and rate once the caps come, when none was given).
    pub fn bitrate(&self) -> Option<u32> {
        let factory = self.encoder.factory()?;
        read_bitrate(&self.encoder, bitrate_property(factory.name().as_str()))
    }
}

/// The unit of `enc`'s bitrate property, in bits per second.
fn unit_of(enc: &gst::Element) -> i128 {
    enc.factory()
        .map_or(1, |f| i128::from(bitrate_unit(f.name().as_str())))
}

/// An encoder's bitrate property in bits per second, whatever its integer
/// type and unit.
fn read_bitrate(enc: &gst::Element, property: &str) -> Option<u32> {
    enc.find_property(property)?;
    let v = enc.property_value(property);
    let bps = v
        .get::<i32>()
        .map(i128::from)
        .or_else(|_| v.get::<u32>().map(i128::from))
        .or_else(|_| v.get::<i64>().map(i128::from))
        .or_else(|_| v.get::<u64>().map(i128::from))
        .ok()?;
    u32::try_from((bps * unit_of(enc)).max(0)).ok()
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
    crate::fault::point("mediarecorder:encoder");
    if matches!(factory, "vp8enc" | "vp9enc") {
        // Real time: a recording must keep up with its track.
        enc.set_property("deadline", 1i64);
        if factory == "vp9enc" {
            enc.set_property("cpu-used", 8i32);
        }
    }
    if factory == "av1enc" {
        // libaom's real-time mode at its fastest, no frames held back.
        enc.set_property_from_str("usage-profile", "realtime");
        enc.set_property("cpu-used", 10i32);
        enc.set_property("lag-in-frames", 0u32);
    }
    if bits_per_second > 0 {
        set_bitrate(&enc, bitrate_property(factory), bits_per_second);
    }
    Ok(enc)
}

/// The encoder's bitrate property (bits per second in every encoder used).
/// Bits per second in one unit of the encoder's bitrate property: av1enc
/// takes kbit/s.
fn bitrate_unit(factory: &str) -> u32 {
    if factory == "av1enc" { 1000 } else { 1 }
}

fn bitrate_property(factory: &str) -> &'static str {
    match factory {
        "vp8enc" | "vp9enc" => "target-bitrate",
        _ => "bitrate",
    }
}

/// A new encoder's bitrate and bits per pixel.
type Fresh = (u32, Option<f64>);

/// What a new instance of `factory` reads: its bitrate (not the param
/// spec's default: `vp8enc` says 0 there and starts at 256000) and, for
/// VP8/VP9, its `bits-per-pixel`. Looked up once per encoder.
fn fresh(factory: &'static str) -> Fresh {
    static KNOWN: LazyLock<Mutex<HashMap<&'static str, Fresh>>> = LazyLock::new(Default::default);
    if let Some(known) = KNOWN.lock().get(factory) {
        return *known;
    }
    let enc = gst::ElementFactory::make(factory).build().ok();
    let bps = enc
        .as_ref()
        .and_then(|enc| read_bitrate(enc, bitrate_property(factory)))
        .unwrap_or(0);
    let bpp = enc
        .filter(|enc| enc.find_property("bits-per-pixel").is_some())
        .and_then(|enc| enc.property_value("bits-per-pixel").get::<f32>().ok())
        .map(f64::from);
    gst::debug!(
        CAT,
        "{factory} starts at {bps} bits/s (bits per pixel: {bpp:?})"
    );
    KNOWN.lock().insert(factory, (bps, bpp));
    (bps, bpp)
}

/// The bitrate `codec`'s encoder runs at when none is given, for a track
/// with `caps`: VP8 and VP9 pick one from the frame size and rate once the
/// caps come (`bits-per-pixel` x width x height x frame rate, in whole
/// kbit/s, as vpxenc does: 1199000 at 1280x720 30 fps); the others keep
/// their starting value (Opus 64000, openh264enc 128000), also VP8/VP9
/// before any caps or at a variable frame rate. The recorder sets the
/// encoder to this value, so what the attribute reads is what it runs at,
/// and a recording equals the hand-written `vp8enc` pipeline. 0 when no
/// encoder is installed.
pub fn default_bitrate(
    codec: Codec,
    caps: Option<&gst::CapsRef>,
    installed: &dyn Fn(&str) -> bool,
) -> u32 {
    let Some(factory) = Plan::encoder(codec, installed) else {
        return 0;
    };
    let (start, bpp) = fresh(factory);
    let size = caps.and_then(|c| c.structure(0)).and_then(|s| {
        let fps = s.get::<gst::Fraction>("framerate").ok()?;
        Some((
            s.get::<i32>("width").ok()?,
            s.get::<i32>("height").ok()?,
            fps.numer(),
            fps.denom(),
        ))
    });
    match (bpp, size) {
        (Some(bpp), Some((w, h, n, d))) if w > 0 && h > 0 && n > 0 && d > 0 => {
            let bps = f64::from(w) * f64::from(h) * f64::from(n) / f64::from(d) * bpp;
            let kbps = (bps as u64) / 1000;
            u32::try_from(kbps * 1000).unwrap_or(u32::MAX)
        }
        _ => start,
    }
}

/// Sets `property` (an integer of any width: int, uint, int64...) to
/// `bps` clamped to the range its param spec allows: the property accepts
/// up to 4294967295 while `vp8enc` takes at most 2147483647 and `opusenc`
/// 4000-650000.
fn set_bitrate(enc: &gst::Element, property: &str, bps: u32) {
    let Some(pspec) = enc.find_property(property) else {
        gst::warning!(
            CAT,
            obj = enc,
            "no property {property}: the bitrate is not set"
        );
        return;
    };
    // In the property's unit (av1enc: kbit/s), at least 1 of it.
    let want = (i128::from(bps) / unit_of(enc)).max(1);
    let (min, max): (i128, i128) = if let Some(p) = pspec.downcast_ref::<glib::ParamSpecInt>() {
        (p.minimum().into(), p.maximum().into())
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecUInt>() {
        (p.minimum().into(), p.maximum().into())
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecInt64>() {
        (p.minimum().into(), p.maximum().into())
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecUInt64>() {
        (p.minimum().into(), p.maximum().into())
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecLong>() {
        (p.minimum().into(), p.maximum().into())
    } else if let Some(p) = pspec.downcast_ref::<glib::ParamSpecULong>() {
        (p.minimum().into(), p.maximum().into())
    } else {
        gst::warning!(CAT, obj = enc, "{property} is not an integer: not set");
        return;
    };
    let value = want.clamp(min, max);
    if value != want {
        gst::debug!(
            CAT,
            obj = enc,
            "{property}: {bps} is outside {min}-{max}: {value}"
        );
    }
    // Exact: `value` is within the property's own range.
    let v = match pspec.value_type() {
        t if t == glib::Type::I32 => (value as i32).to_value(),
        t if t == glib::Type::U32 => (value as u32).to_value(),
        t if t == glib::Type::I64 => (value as i64).to_value(),
        t if t == glib::Type::U64 => (value as u64).to_value(),
        t if t == glib::Type::I_LONG => glib::ILong(value as std::ffi::c_long).to_value(),
        t if t == glib::Type::U_LONG => glib::ULong(value as std::ffi::c_ulong).to_value(),
        _ => return,
    };
    enc.set_property_from_value(property, &v);
}

/// Builds and links (not yet added to a bin: `add` does) a branch from a
/// track with upstream caps `upstream` into `mux`.
pub fn build(
    bin: &gst::Bin,
    codec: Codec,
    bits_per_second: u32,
    upstream: &gst::Caps,
    (mux, container): (&gst::Element, Container),
    installed: &dyn Fn(&str) -> bool,
) -> Result<EncodeBranch, String> {
    let enc = encoder(codec, bits_per_second, installed)?;
    let mut elements = Vec::new();
    let mut size_filter = None;
    if codec.is_video() {
        // Always there, in passthrough while the track keeps its first
        // size: a track that changes size mid-recording is scaled back to
        // it, so the encoder and the container's header keep one size.
        elements.push(make("videoconvertscale")?);
        let filter = make("capsfilter")?;
        if let Some(caps) = first_size(upstream) {
            filter.set_property("caps", caps);
        }
        elements.push(filter.clone());
        size_filter = Some(filter);
    } else {
        let enc_caps = enc
            .static_pad("sink")
            .map(|p| p.query_caps(None))
            .unwrap_or_else(gst::Caps::new_any);
        // The native path: the track's caps are ones the encoder takes.
        let native = !upstream.is_empty() && !upstream.is_any() && upstream.is_subset(&enc_caps);
        if !native {
            elements.push(make("audioconvert")?);
            elements.push(make("audioresample")?);
        }
    }
    elements.push(enc.clone());
    if let Some(parser) = codec.parser(container) {
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
        Ok(()) => Ok(EncodeBranch {
            elements,
            size_filter,
            encoder: enc,
            video: codec.is_video(),
        }),
        Err(e) => {
            crate::plumbing::discard_all(*CAT, bin, &elements, &[]);
            Err(e)
        }
    }
}

/// What a video recording is held to once it has seen `caps`: their width,
/// height and pixel aspect ratio (1/1 when not given). None for caps that
/// are not fixed raw video.
pub fn first_size(caps: &gst::CapsRef) -> Option<gst::Caps> {
    if !caps.is_fixed() {
        return None;
    }
    let s = caps.structure(0)?;
    let width = s.get::<i32>("width").ok()?;
    let height = s.get::<i32>("height").ok()?;
    let par = s
        .get::<gst::Fraction>("pixel-aspect-ratio")
        .unwrap_or(gst::Fraction::new(1, 1));
    Some(
        gst::Caps::builder("video/x-raw")
            .field("width", width)
            .field("height", height)
            .field("pixel-aspect-ratio", par)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(factory: &str) -> Option<gst::Element> {
        gst::init().unwrap();
        gst::ElementFactory::make(factory).build().ok()
    }

    #[test]
    fn bitrates_are_clamped_to_the_encoders_range() {
        // int, 4000-650000
        let opus = make("opusenc").expect("opusenc (scripts/setup installs it)");
        set_bitrate(&opus, "bitrate", u32::MAX);
        assert_eq!(opus.property::<i32>("bitrate"), 650_000);
        set_bitrate(&opus, "bitrate", 1);
        assert_eq!(opus.property::<i32>("bitrate"), 4000);
        set_bitrate(&opus, "bitrate", 96_000);
        assert_eq!(opus.property::<i32>("bitrate"), 96_000);
        // int, 0-2147483647 (kept in kbit/s)
        let vp8 = make("vp8enc").expect("vp8enc (scripts/setup installs it)");
        set_bitrate(&vp8, "target-bitrate", u32::MAX);
        assert_eq!(
            vp8.property::<i32>("target-bitrate"),
            i32::MAX / 1000 * 1000
        );
        // uint: the whole range is taken as it is.
        let h264 = make("openh264enc").expect("openh264enc (scripts/setup installs it)");
        set_bitrate(&h264, "bitrate", u32::MAX);
        assert_eq!(h264.property::<u32>("bitrate"), u32::MAX);
    }
}
