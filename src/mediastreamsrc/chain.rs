// SPDX-License-Identifier: MPL-2.0

//! The track's chain: what turns the device's native mode into the
//! selected settings (crop, scale, rate, audio processing) and the
//! capsfilter that fixes them.

use crate::constraints::share::device_rate;
use crate::constraints::{ConstraintError, NativeMode, ResizeMode, Settings};
use gst::prelude::*;

/// A GStreamer element the track needs; missing, it names the factory.
pub(super) fn make(factory: &str) -> Result<gst::Element, ConstraintError> {
    gst::ElementFactory::make(factory)
        .build()
        .map_err(|_| ConstraintError::missing_element(factory))
}

/// The track's chain after its source: what turns the native mode into
/// the settings, ending with the capsfilter that fixes them, and beside it
/// the echo canceller's reference (audio processing only).
pub(super) struct Chain {
    /// In link order.
    elements: Vec<gst::Element>,
    reference: Vec<gst::Element>,
}

impl Chain {
    /// The chain for `settings` from the native mode `mode`, not in a bin
    /// yet.
    pub(super) fn new(settings: &Settings, mode: &NativeMode) -> Result<Chain, ConstraintError> {
        Ok(Chain {
            elements: elements(settings, mode)?,
            reference: Vec::new(),
        })
    }

    pub(super) fn elements(&self) -> &[gst::Element] {
        &self.elements
    }

    /// The elements beside the chain (the echo canceller's reference).
    pub(super) fn reference(&self) -> &[gst::Element] {
        &self.reference
    }

    /// What the source links to.
    pub(super) fn sink_pad(&self) -> gst::Pad {
        self.elements[0].static_pad("sink").unwrap()
    }

    /// The settings' capsfilter when it is the whole chain: the native path.
    pub(super) fn only_filter(&self) -> Option<&gst::Element> {
        match &self.elements[..] {
            [filter] => Some(filter),
            _ => None,
        }
    }

    /// The echo canceller's reference, added to `bin` beside the chain
    /// (once the chain is in it).
    pub(super) fn add_echo_reference(
        &mut self,
        bin: &impl IsA<gst::Bin>,
        track_id: &str,
        settings: &Settings,
    ) -> Result<(), ConstraintError> {
        self.reference = echo_reference(bin, track_id, &self.elements, settings)?;
        Ok(())
    }
}

/// The caps that fix the chosen settings, formats left open among the mode's.
fn settings_caps(settings: &Settings, mode: &NativeMode) -> gst::Caps {
    match (settings, mode) {
        (Settings::Video(v), NativeMode::Video(m)) => {
            let mut b = gst::Structure::builder("video/x-raw")
                .field("width", v.width as i32)
                .field("height", v.height as i32)
                .field(
                    "framerate",
                    gst::Fraction::new(v.frame_rate_fraction.num, v.frame_rate_fraction.den),
                );
            if v.resize_mode == ResizeMode::None && !m.is_encoded() && !m.formats.is_empty() {
                b = b.field(
                    "format",
                    gst::List::new(m.formats.iter().map(|f| f.as_str())),
                );
            }
            if v.resize_mode == ResizeMode::CropAndScale {
                // The crop already has the target's shape: the scaler must
                // not make up the rounding with non-square pixels.
                b = b.field("pixel-aspect-ratio", gst::Fraction::new(1, 1));
            }
            gst::Caps::builder_full().structure(b.build()).build()
        }
        (Settings::Audio(a), NativeMode::Audio(m)) => {
            let format = if a.needs_processing() {
                "S16LE"
            } else {
                m.format.as_str()
            };
            gst::Caps::builder("audio/x-raw")
                .field("rate", a.sample_rate as i32)
                .field("channels", a.channel_count as i32)
                .field("format", format)
                .build()
        }
        _ => gst::Caps::new_any(),
    }
}

/// The elements after the device capture for the settings: nothing on the
/// native path but a capsfilter. Crop-and-scale is a centred crop of the
/// chosen mode to the target's aspect ratio, then a scale
/// (docs/mediastreamsrc.md).
fn elements(settings: &Settings, mode: &NativeMode) -> Result<Vec<gst::Element>, ConstraintError> {
    let mut chain = Vec::new();
    match (settings, mode) {
        (Settings::Video(v), NativeMode::Video(m)) if v.resize_mode == ResizeMode::CropAndScale => {
            let (nw, nh) = (m.width.max as u64, m.height.max as u64);
            let (w, h) = (v.width as u64, v.height as u64);
            let display = v.display.is_some();
            if nw * h != nh * w && !display {
                // Crop the middle to the target's aspect ratio, then
                // scale: never letterbox, never stretch.
                let crop = make("videocrop")?;
                if nw * h > nh * w {
                    let keep = (nh * w + h / 2) / h;
                    let left = (nw - keep) / 2;
                    crop.set_property("left", left as i32);
                    crop.set_property("right", (nw - keep - left) as i32);
                } else {
                    let keep = (nw * h + w / 2) / w;
                    let top = (nh - keep) / 2;
                    crop.set_property("top", top as i32);
                    crop.set_property("bottom", (nh - keep - top) as i32);
                }
                chain.push(crop);
            }
            let scale = make("videoconvertscale")?;
            if display {
                // Screen Capture: never crop. The size keeps the surface's
                // shape to the nearest pixel; that pixel is stretched, not
                // bordered.
                scale.set_property("add-borders", false);
            }
            chain.push(scale);
            let rate = device_rate(v, m);
            if v.frame_rate < rate.to_f64() - 1e-9 {
                chain.push(make("videorate")?);
            }
        }
        (Settings::Audio(a), NativeMode::Audio(_)) if a.needs_processing() => {
            chain.push(make("audioconvert")?);
            let dsp = make("webrtcdsp")?;
            dsp.set_property("echo-cancel", a.echo_cancellation);
            dsp.set_property("gain-control", a.auto_gain_control);
            dsp.set_property("noise-suppression", a.noise_suppression);
            chain.push(dsp);
        }
        _ => {}
    }
    let filter = make("capsfilter")?;
    filter.set_property("caps", settings_caps(settings, mode));
    chain.push(filter);
    Ok(chain)
}

/// The echo canceller needs the audio played out as its reference: a
/// `webrtcechoprobe` where the far end plays. Until a sink in the
/// process provides one, the track gives it a silent reference of its
/// own, so noise suppression and gain control work and cancellation has
/// nothing to remove.
fn echo_reference(
    bin: &impl IsA<gst::Bin>,
    track_id: &str,
    chain: &[gst::Element],
    settings: &Settings,
) -> Result<Vec<gst::Element>, ConstraintError> {
    let Settings::Audio(a) = settings else {
        return Ok(Vec::new());
    };
    let Some(dsp) = chain
        .iter()
        .find(|e| e.factory().is_some_and(|f| f.name() == "webrtcdsp"))
    else {
        return Ok(Vec::new());
    };
    if !a.echo_cancellation {
        return Ok(Vec::new());
    }
    let name = format!("mediastream-echo-reference-{}", track_id);
    let src = make("audiotestsrc")?;
    src.set_property_from_str("wave", "silence");
    src.set_property("is-live", true);
    let caps = make("capsfilter")?;
    caps.set_property(
        "caps",
        gst::Caps::builder("audio/x-raw")
            .field("format", "S16LE")
            .field("layout", "interleaved")
            .field("rate", a.sample_rate as i32)
            .field("channels", a.channel_count as i32)
            .build(),
    );
    let probe = make("webrtcechoprobe")?;
    probe.set_property("name", &name);
    let sink = make("fakesink")?;
    sink.set_property("sync", true);
    sink.set_property("async", false);
    let extras = vec![src, caps, probe, sink];
    // Locked until linked, as the chain (see `build`).
    for e in &extras {
        e.set_locked_state(true);
    }
    bin.add_many(&extras)
        .map_err(|e| ConstraintError::not_readable(e.to_string()))?;
    if let Err(e) = gst::Element::link_many(&extras) {
        crate::plumbing::discard_all(*super::CAT, bin, &extras, &[]);
        return Err(ConstraintError::not_readable(format!(
            "echo reference: {e}"
        )));
    }
    for e in &extras {
        e.set_locked_state(false);
    }
    dsp.set_property("probe", &name);
    Ok(extras)
}
