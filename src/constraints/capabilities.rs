// SPDX-License-Identifier: MPL-2.0

//! getCapabilities and getSupportedConstraints (docs/constraints.md), as JSON
//! shaped the way a browser returns them.

use super::device::{DeviceInfo, DeviceKind};
use super::parse::Property;
use serde_json::{Map, Value, json};

fn range(min: f64, max: f64, integer: bool) -> Value {
    if integer {
        json!({ "min": min as u64, "max": max as u64 })
    } else {
        json!({ "min": min, "max": max })
    }
}

fn fold_max(it: impl Iterator<Item = f64>) -> Option<f64> {
    it.fold(None, |m, v| Some(m.map_or(v, |m: f64| m.max(v))))
}

fn fold_min(it: impl Iterator<Item = f64>) -> Option<f64> {
    it.fold(None, |m, v| Some(m.map_or(v, |m: f64| m.min(v))))
}

/// InputDeviceInfo.getCapabilities() / MediaStreamTrack.getCapabilities().
///
/// Video sizes reach down to 1 and frame rates to 0, since the track can
/// crop, scale and decimate; resizeMode is always both values. Audio ranges
/// are the device's own; the processing flags can be `true` only when
/// `audio_processing` (the `webrtcdsp` element is installed).
pub fn capabilities(device: &DeviceInfo, audio_processing: bool) -> Value {
    if let Some(surface) = super::display::DisplaySurface::of(device) {
        return super::display::capabilities(&surface);
    }
    if device.is_system_audio() {
        return capabilities(&device.as_audio_input(), audio_processing);
    }
    let mut m = Map::new();
    m.insert("deviceId".into(), json!(device.device_id));
    m.insert("groupId".into(), json!(device.group_id));
    match device.kind {
        DeviceKind::VideoInput => {
            let usable = || {
                device
                    .video_modes()
                    .filter(|v| v.max_rate.to_f64() > 0.0 && v.width.max > 0 && v.height.max > 0)
            };
            let w = fold_max(usable().map(|v| v.width.max as f64));
            let h = fold_max(usable().map(|v| v.height.max as f64));
            let f = fold_max(usable().map(|v| v.max_rate.to_f64()));
            if let (Some(w), Some(h), Some(f)) = (w, h, f) {
                m.insert("width".into(), range(1.0, w, true));
                m.insert("height".into(), range(1.0, h, true));
                m.insert("aspectRatio".into(), range(1.0 / h, w, false));
                m.insert("frameRate".into(), range(0.0, f, false));
            }
            m.insert(
                "facingMode".into(),
                json!(device.facing_mode.iter().collect::<Vec<_>>()),
            );
            m.insert("resizeMode".into(), json!(["none", "crop-and-scale"]));
        }
        DeviceKind::AudioInput => {
            let modes = || {
                device
                    .audio_modes()
                    .filter(|a| a.rate.max > 0 && a.channels.max > 0)
            };
            if modes().next().is_some() {
                let rmin = fold_min(modes().map(|a| a.rate.min as f64)).unwrap_or(0.0);
                let rmax = fold_max(modes().map(|a| a.rate.max as f64)).unwrap_or(0.0);
                let smin = fold_min(modes().map(|a| a.sample_size as f64)).unwrap_or(0.0);
                let smax = fold_max(modes().map(|a| a.sample_size as f64)).unwrap_or(0.0);
                let cmin = fold_min(modes().map(|a| a.channels.min as f64)).unwrap_or(0.0);
                let cmax = fold_max(modes().map(|a| a.channels.max as f64)).unwrap_or(0.0);
                m.insert("sampleRate".into(), range(rmin, rmax, true));
                m.insert("sampleSize".into(), range(smin, smax, true));
                m.insert("channelCount".into(), range(cmin, cmax, true));
            }
            m.insert(
                "latency".into(),
                range(device.latency, device.latency, false),
            );
            let flags = if audio_processing {
                json!([false, true])
            } else {
                json!([false])
            };
            for name in ["echoCancellation", "autoGainControl", "noiseSuppression"] {
                m.insert(name.into(), flags.clone());
            }
        }
        // A display without a mode: nothing to say beyond its ids.
        DeviceKind::AudioOutput | DeviceKind::Display => {}
    }
    Value::Object(m)
}

/// MediaDevices.getSupportedConstraints(): every supported member, `true`.
pub fn supported_constraints() -> Value {
    Value::Object(
        Property::ALL
            .iter()
            .map(|p| (p.name().to_owned(), Value::Bool(true)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constraints::device::{AudioMode, Fraction, IntRange, NativeMode, VideoMode};

    fn camera() -> DeviceInfo {
        crate::constraints::device::test_camera(
            Some("user"),
            vec![
                NativeMode::Video(VideoMode {
                    width: IntRange::fixed(1280),
                    height: IntRange::fixed(720),
                    min_rate: Fraction::new(5, 1),
                    max_rate: Fraction::new(30, 1),
                    media_type: "video/x-raw".into(),
                    formats: vec!["I420".into()],
                    structure_index: 0,
                }),
                NativeMode::Video(VideoMode {
                    width: IntRange::fixed(640),
                    height: IntRange::fixed(480),
                    min_rate: Fraction::new(60, 1),
                    max_rate: Fraction::new(60, 1),
                    media_type: "video/x-raw".into(),
                    formats: vec!["I420".into()],
                    structure_index: 1,
                }),
            ],
        )
    }

    #[test]
    fn video_capabilities() {
        let c = capabilities(&camera(), true);
        assert_eq!(
            c,
            json!({
                "deviceId": "cam", "groupId": "g",
                "width": {"min": 1, "max": 1280},
                "height": {"min": 1, "max": 720},
                "aspectRatio": {"min": 1.0 / 720.0, "max": 1280.0},
                "frameRate": {"min": 0.0, "max": 60.0},
                "facingMode": ["user"],
                "resizeMode": ["none", "crop-and-scale"],
            })
        );
        let keys: Vec<_> = c.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys[2], "width");
    }

    #[test]
    fn audio_capabilities_follow_processing() {
        let mic = DeviceInfo {
            kind: DeviceKind::AudioInput,
            label: "Mic".into(),
            device_id: "mic".into(),
            group_id: "g".into(),
            facing_mode: None,
            is_default: true,
            latency: 0.01,
            modes: vec![NativeMode::Audio(AudioMode {
                rate: IntRange {
                    min: 8000,
                    max: 48000,
                },
                channels: IntRange { min: 1, max: 2 },
                sample_size: 16,
                format: "S16LE".into(),
                structure_index: 0,
            })],
            display: None,
        };
        let c = capabilities(&mic, false);
        assert_eq!(c["sampleRate"], json!({"min": 8000, "max": 48000}));
        assert_eq!(c["channelCount"], json!({"min": 1, "max": 2}));
        assert_eq!(c["sampleSize"], json!({"min": 16, "max": 16}));
        assert_eq!(c["latency"], json!({"min": 0.01, "max": 0.01}));
        assert_eq!(c["echoCancellation"], json!([false]));
        assert_eq!(
            capabilities(&mic, true)["noiseSuppression"],
            json!([false, true])
        );
    }

    #[test]
    fn supported_lists_every_member() {
        let s = supported_constraints();
        // The 15 of Media Capture and Streams, and Screen Capture's three.
        assert_eq!(s.as_object().unwrap().len(), 18);
        assert_eq!(s["cursor"], json!(true));
        assert_eq!(s["resizeMode"], json!(true));
        assert_eq!(s["echoCancellation"], json!(true));
    }
}
