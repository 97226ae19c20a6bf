// SPDX-License-Identifier: MPL-2.0

//! The track's chain: what turns the device's native mode into the
//! selected settings (crop, scale, rate, audio processing) and the
//! capsfilter that fixes them.

use super::capture::device_rate;
use crate::constraints::{ConstraintError, NativeMode, ResizeMode, Settings};
use gst::prelude::*;

/// A GStreamer element the track needs; missing, it names the factory.
pub(super) fn make(factory: &str) -> Result<gst::Element, ConstraintError> {
    gst::ElementFactory::make(factory)
        .build()
        .map_err(|_| ConstraintError::missing_element(factory))
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
pub(super) fn elements(
    settings: &Settings,
    mode: &NativeMode,
) -> Result<Vec<gst::Element>, ConstraintError> {
    let mut chain = Vec::new();
    match (settings, mode) {
        (Settings::Video(v), NativeMode::Video(m)) if v.resize_mode == ResizeMode::CropAndScale => {
            let (nw, nh) = (m.width.max as u64, m.height.max as u64);
            let (w, h) = (v.width as u64, v.height as u64);
            if nw * h != nh * w {
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
            chain.push(make("videoconvertscale")?);
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
