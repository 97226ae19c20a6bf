// SPDX-License-Identifier: MPL-2.0

//! What the constraints engine knows of a device: its identity and its native
//! modes (one per caps structure, lists expanded). Built from `gst::Caps` by
//! [`super::caps`], or directly in tests.

use super::parse::Kind;
use std::fmt;

/// MediaDeviceInfo.kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    VideoInput,
    AudioInput,
    AudioOutput,
    /// What getDisplayMedia captures (a screen, a window, or the system's
    /// sound: a monitor of an output): not a MediaDeviceKind, never listed
    /// by enumerateDevices, never chosen by getUserMedia.
    Display,
}

impl DeviceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::VideoInput => "videoinput",
            DeviceKind::AudioInput => "audioinput",
            DeviceKind::AudioOutput => "audiooutput",
            DeviceKind::Display => "display",
        }
    }

    pub fn from_name(s: &str) -> Option<DeviceKind> {
        match s {
            "videoinput" => Some(DeviceKind::VideoInput),
            "audioinput" => Some(DeviceKind::AudioInput),
            "audiooutput" => Some(DeviceKind::AudioOutput),
            "display" => Some(DeviceKind::Display),
            _ => None,
        }
    }

    /// The track kind an input device gives; `None` for outputs.
    pub fn track_kind(self) -> Option<Kind> {
        match self {
            DeviceKind::VideoInput | DeviceKind::Display => Some(Kind::Video),
            DeviceKind::AudioInput => Some(Kind::Audio),
            DeviceKind::AudioOutput => None,
        }
    }

    pub fn input_for(kind: Kind) -> DeviceKind {
        match kind {
            Kind::Video => DeviceKind::VideoInput,
            Kind::Audio => DeviceKind::AudioInput,
        }
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A frame rate as the caps give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fraction {
    pub num: i32,
    pub den: i32,
}

impl Fraction {
    pub const fn new(num: i32, den: i32) -> Fraction {
        Fraction { num, den }
    }

    pub fn to_f64(self) -> f64 {
        if self.den == 0 {
            0.0
        } else {
            self.num as f64 / self.den as f64
        }
    }

    /// The closest fraction to `v` with a small denominator (continued
    /// fractions), so a chosen rate like 29.97 becomes 2997/100 in caps.
    pub fn approximate(v: f64) -> Fraction {
        if !v.is_finite() || v <= 0.0 {
            return Fraction::new(0, 1);
        }
        let (mut h0, mut h1, mut k0, mut k1) = (0i64, 1i64, 1i64, 0i64);
        let mut x = v;
        for _ in 0..32 {
            let a = x.floor();
            let (h2, k2) = (a as i64 * h1 + h0, a as i64 * k1 + k0);
            if h2 > i32::MAX as i64 || k2 > i32::MAX as i64 {
                break;
            }
            (h0, h1, k0, k1) = (h1, h2, k1, k2);
            let frac = x - a;
            if frac < 1e-9 || ((h1 as f64 / k1 as f64) - v).abs() < 1e-9 * v {
                break;
            }
            x = 1.0 / frac;
        }
        if h1 == 0 {
            // Below 1/i32::MAX fps: the smallest rate caps can carry, not
            // 0/1 (which means "variable").
            return Fraction::new(1, i32::MAX);
        }
        Fraction::new(h1 as i32, k1 as i32)
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// An inclusive range of integers; `min == max` for a fixed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntRange {
    pub min: u32,
    pub max: u32,
}

impl IntRange {
    pub const fn new(min: u32, max: u32) -> IntRange {
        IntRange { min, max }
    }

    pub const fn fixed(v: u32) -> IntRange {
        IntRange { min: v, max: v }
    }
}

/// A video native mode: one caps structure with its lists expanded.
/// Width/height ranges (some V4L2 drivers) are kept as ranges.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoMode {
    pub width: IntRange,
    pub height: IntRange,
    pub min_rate: Fraction,
    pub max_rate: Fraction,
    /// Media type, e.g. `video/x-raw` or `image/jpeg`.
    pub media_type: String,
    /// Raw formats offered for this size and rate (empty: any / not raw).
    pub formats: Vec<String>,
    /// Index of the caps structure the mode comes from (ordering step 8).
    pub structure_index: usize,
}

impl VideoMode {
    /// Whether the mode needs a decoder (ordering step 8).
    pub fn is_encoded(&self) -> bool {
        self.media_type != "video/x-raw"
    }
}

/// An audio native mode.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioMode {
    pub rate: IntRange,
    pub channels: IntRange,
    /// Bits per sample of `format`.
    pub sample_size: u32,
    pub format: String,
    pub structure_index: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NativeMode {
    Video(VideoMode),
    Audio(AudioMode),
}

impl fmt::Display for IntRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            write!(f, "{}", self.min)
        } else {
            write!(f, "[{},{}]", self.min, self.max)
        }
    }
}

impl fmt::Display for NativeMode {
    /// `video/x-raw 1280x720 [5/1,30/1] (structure 0)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NativeMode::Video(v) => {
                write!(f, "{} {}x{} ", v.media_type, v.width, v.height)?;
                if v.min_rate == v.max_rate {
                    write!(f, "{}", v.max_rate)?;
                } else {
                    write!(f, "[{},{}]", v.min_rate, v.max_rate)?;
                }
                write!(f, " (structure {})", v.structure_index)
            }
            NativeMode::Audio(a) => write!(
                f,
                "audio/x-raw {} {} Hz {} ch (structure {})",
                a.format, a.rate, a.channels, a.structure_index
            ),
        }
    }
}

/// A camera for the unit tests: "Cam", id "cam", the default, with `modes`.
#[cfg(test)]
pub(crate) fn test_camera(facing_mode: Option<&str>, modes: Vec<NativeMode>) -> DeviceInfo {
    DeviceInfo {
        kind: DeviceKind::VideoInput,
        label: "Cam".into(),
        device_id: "cam".into(),
        group_id: "g".into(),
        facing_mode: facing_mode.map(str::to_owned),
        is_default: true,
        latency: 0.0,
        modes,
        display: None,
    }
}

/// A device as the engine sees it (MediaDeviceInfo plus its native modes).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInfo {
    pub kind: DeviceKind,
    pub label: String,
    pub device_id: String,
    pub group_id: String,
    pub facing_mode: Option<String>,
    pub is_default: bool,
    /// Audio latency in seconds.
    pub latency: f64,
    pub modes: Vec<NativeMode>,
    /// A display surface's traits (kind [`DeviceKind::Display`]).
    pub display: Option<super::display::DisplayTraits>,
}

impl DeviceInfo {
    /// A display device that carries the system's sound (a monitor of an
    /// output): getDisplayMedia's audio.
    pub fn is_system_audio(&self) -> bool {
        self.kind == DeviceKind::Display
            && self.display.is_none()
            && self.audio_modes().next().is_some()
    }

    /// The system's sound seen as a microphone, for the audio engine.
    pub fn as_audio_input(&self) -> DeviceInfo {
        DeviceInfo {
            kind: DeviceKind::AudioInput,
            ..self.clone()
        }
    }

    pub fn video_modes(&self) -> impl Iterator<Item = &VideoMode> {
        self.modes.iter().filter_map(|m| match m {
            NativeMode::Video(v) => Some(v),
            NativeMode::Audio(_) => None,
        })
    }

    pub fn audio_modes(&self) -> impl Iterator<Item = &AudioMode> {
        self.modes.iter().filter_map(|m| match m {
            NativeMode::Audio(a) => Some(a),
            NativeMode::Video(_) => None,
        })
    }
}

/// Sample size in bits of a GStreamer raw audio format name.
pub fn sample_size_of_format(format: &str) -> Option<u32> {
    let digits: String = format
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let bits: u32 = digits.parse().ok()?;
    // S24_32LE is 24 significant bits in 32-bit containers.
    matches!(bits, 8 | 16 | 18 | 20 | 24 | 32 | 64).then_some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approximate_fraction() {
        assert_eq!(Fraction::approximate(30.0), Fraction::new(30, 1));
        assert_eq!(Fraction::approximate(24.0), Fraction::new(24, 1));
        assert_eq!(Fraction::approximate(29.97), Fraction::new(2997, 100));
        assert_eq!(
            Fraction::approximate(30000.0 / 1001.0),
            Fraction::new(30000, 1001)
        );
        assert_eq!(Fraction::approximate(0.5), Fraction::new(1, 2));
        assert_eq!(Fraction::approximate(0.0), Fraction::new(0, 1));
        assert_eq!(Fraction::approximate(1e-10), Fraction::new(1, i32::MAX));
    }

    #[test]
    fn sample_sizes() {
        assert_eq!(sample_size_of_format("S16LE"), Some(16));
        assert_eq!(sample_size_of_format("F32LE"), Some(32));
        assert_eq!(sample_size_of_format("U8"), Some(8));
        assert_eq!(sample_size_of_format("S24_32LE"), Some(24));
        assert_eq!(sample_size_of_format("F64BE"), Some(64));
        assert_eq!(sample_size_of_format("weird"), None);
    }
}
