// SPDX-License-Identifier: MPL-2.0

//! MediaTrackSettings: what a selection chose (docs/constraints.md).

use super::device::Fraction;
use serde_json::{Map, Value, json};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResizeMode {
    None,
    CropAndScale,
}

impl ResizeMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ResizeMode::None => "none",
            ResizeMode::CropAndScale => "crop-and-scale",
        }
    }
}

impl fmt::Display for ResizeMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct VideoSettings {
    pub device_id: String,
    pub group_id: String,
    pub width: u32,
    pub height: u32,
    pub frame_rate: f64,
    /// `frame_rate` as the caps fraction: the native mode's own fraction when
    /// the rate is one of its ends, else the closest small fraction.
    pub frame_rate_fraction: Fraction,
    pub facing_mode: Option<String>,
    pub resize_mode: ResizeMode,
    /// A display track's (getDisplayMedia): what surface, which cursor.
    pub display: Option<super::display::DisplaySettings>,
}

impl VideoSettings {
    /// width/height rounded to 10 decimals, as a browser reports it.
    pub fn aspect_ratio(&self) -> f64 {
        round10(self.width as f64 / self.height as f64)
    }
}

pub(crate) fn round10(v: f64) -> f64 {
    (v * 1e10).round() / 1e10
}

#[derive(Debug, Clone, PartialEq)]
pub struct AudioSettings {
    pub device_id: String,
    pub group_id: String,
    pub sample_rate: u32,
    pub sample_size: u32,
    pub channel_count: u32,
    pub latency: f64,
    pub echo_cancellation: bool,
    pub auto_gain_control: bool,
    pub noise_suppression: bool,
}

impl AudioSettings {
    /// Whether the track needs the audio-processing element.
    pub fn needs_processing(&self) -> bool {
        self.echo_cancellation || self.auto_gain_control || self.noise_suppression
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Settings {
    Video(VideoSettings),
    Audio(AudioSettings),
}

impl Settings {
    pub fn kind(&self) -> super::Kind {
        match self {
            Settings::Video(_) => super::Kind::Video,
            Settings::Audio(_) => super::Kind::Audio,
        }
    }

    pub fn device_id(&self) -> &str {
        match self {
            Settings::Video(v) => &v.device_id,
            Settings::Audio(a) => &a.device_id,
        }
    }

    /// The settings as a browser's getSettings() returns them, members in
    /// the spec's order.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        match self {
            Settings::Video(v) => {
                m.insert("deviceId".into(), json!(v.device_id));
                m.insert("groupId".into(), json!(v.group_id));
                m.insert("width".into(), json!(v.width));
                m.insert("height".into(), json!(v.height));
                m.insert("aspectRatio".into(), json!(v.aspect_ratio()));
                m.insert("frameRate".into(), json!(v.frame_rate));
                if let Some(f) = &v.facing_mode {
                    m.insert("facingMode".into(), json!(f));
                }
                m.insert("resizeMode".into(), json!(v.resize_mode.as_str()));
                if let Some(d) = &v.display {
                    m.insert("displaySurface".into(), json!(d.surface.as_str()));
                    m.insert("logicalSurface".into(), json!(d.logical_surface));
                    m.insert("cursor".into(), json!(d.cursor.as_str()));
                }
            }
            Settings::Audio(a) => {
                m.insert("deviceId".into(), json!(a.device_id));
                m.insert("groupId".into(), json!(a.group_id));
                m.insert("sampleRate".into(), json!(a.sample_rate));
                m.insert("sampleSize".into(), json!(a.sample_size));
                m.insert("channelCount".into(), json!(a.channel_count));
                m.insert("latency".into(), json!(a.latency));
                m.insert("echoCancellation".into(), json!(a.echo_cancellation));
                m.insert("autoGainControl".into(), json!(a.auto_gain_control));
                m.insert("noiseSuppression".into(), json!(a.noise_suppression));
            }
        }
        Value::Object(m)
    }
}
