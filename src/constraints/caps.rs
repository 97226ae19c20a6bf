// SPDX-License-Identifier: MPL-2.0

//! The GStreamer edge of the constraints engine: native modes from
//! `gst::Caps`, and settings / capabilities as `gst::Structure`s.
//! Everything else in [`super`] is plain Rust.

use super::device::{AudioMode, Fraction, IntRange, NativeMode, VideoMode, sample_size_of_format};
use super::parse::{Property, ValueType};
use gst::glib;
use gst::glib::translate::ToGlibPtr;
use gst::prelude::*;
use serde_json::Value;

/// The alternatives a caps field offers: a single value, or each value of
/// a list; `one` reads a single value (a fixed value or a range).
fn alternatives<T>(
    s: &gst::StructureRef,
    field: &str,
    one: fn(&glib::SendValue) -> Option<T>,
) -> Vec<T> {
    fn walk<T>(v: &glib::SendValue, one: fn(&glib::SendValue) -> Option<T>, out: &mut Vec<T>) {
        if let Ok(list) = v.get::<gst::List>() {
            for x in list.iter() {
                walk(x, one, out);
            }
        } else if let Some(t) = one(v) {
            out.push(t);
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = s.value(field) {
        walk(v, one, &mut out);
    }
    out
}

/// A positive int or int range.
fn int_value(v: &glib::SendValue) -> Option<IntRange> {
    if let Ok(i) = v.get::<i32>() {
        return (i > 0).then(|| IntRange::fixed(i as u32));
    }
    let (min, max) = int_range(v)?;
    (max > 0 && min < max).then(|| IntRange {
        min: min.max(1) as u32,
        max: max as u32,
    })
}

// GStreamer's caps parser accepts ranges its own setters reject, such as
// `[2,2]` or `[30/1,5/1]` (with a critical warning), and the Rust bindings'
// range readers assert on them. A device's caps must never panic the
// application, so ranges are read with the C getters and checked here.

fn int_range(v: &glib::SendValue) -> Option<(i32, i32)> {
    if v.type_() != <gst::IntRange<i32>>::static_type() {
        return None;
    }
    let v = v.to_glib_none().0;
    // SAFETY: `v` is a live GValue holding a GstIntRange (checked above).
    unsafe {
        Some((
            gst::ffi::gst_value_get_int_range_min(v),
            gst::ffi::gst_value_get_int_range_max(v),
        ))
    }
}

/// A fraction or fraction range, as (min, max); `None` for an empty range
/// (a valid GStreamer range has min < max)
/// or a zero denominator.
fn fraction_value(v: &glib::SendValue) -> Option<(Fraction, Fraction)> {
    if v.type_() == gst::Fraction::static_type() {
        let f = fraction_of(v.to_glib_none().0)?;
        return Some((f, f));
    }
    if v.type_() != gst::FractionRange::static_type() {
        return None;
    }
    let v = v.to_glib_none().0;
    // SAFETY: `v` is a live GValue holding a GstFractionRange, whose ends
    // are GValues holding fractions.
    let (min, max) = unsafe {
        (
            fraction_of(gst::ffi::gst_value_get_fraction_range_min(v))?,
            fraction_of(gst::ffi::gst_value_get_fraction_range_max(v))?,
        )
    };
    (min.to_f64() < max.to_f64()).then_some((min, max))
}

fn fraction_of(v: *const glib::gobject_ffi::GValue) -> Option<Fraction> {
    if v.is_null() {
        return None;
    }
    // SAFETY: `v` is a live GValue holding a GstFraction.
    let (n, d) = unsafe {
        (
            gst::ffi::gst_value_get_fraction_numerator(v),
            gst::ffi::gst_value_get_fraction_denominator(v),
        )
    };
    (d > 0 && n >= 0).then(|| Fraction::new(n, d))
}

fn string_value(v: &glib::SendValue) -> Option<String> {
    v.get::<String>().ok()
}

/// Native modes of a device's caps: one per caps structure, lists expanded
/// (width x height x frame rate for video, rate x channels x format for
/// audio). Structures that give no size, rate or channel count yield no mode.
pub fn modes_from_caps(caps: &gst::CapsRef) -> Vec<NativeMode> {
    let mut modes = Vec::new();
    for (index, s) in caps.iter().enumerate() {
        let name = s.name().as_str();
        if name.starts_with("video/") || name.starts_with("image/") {
            let formats = alternatives(s, "format", string_value);
            for w in alternatives(s, "width", int_value) {
                for h in alternatives(s, "height", int_value) {
                    for (min_rate, max_rate) in alternatives(s, "framerate", fraction_value) {
                        modes.push(NativeMode::Video(VideoMode {
                            width: w,
                            height: h,
                            min_rate,
                            max_rate,
                            media_type: name.to_owned(),
                            formats: formats.clone(),
                            structure_index: index,
                        }));
                    }
                }
            }
        } else if name == "audio/x-raw" {
            for format in alternatives(s, "format", string_value) {
                let Some(sample_size) = sample_size_of_format(&format) else {
                    continue;
                };
                for rate in alternatives(s, "rate", int_value) {
                    for channels in alternatives(s, "channels", int_value) {
                        modes.push(NativeMode::Audio(AudioMode {
                            rate,
                            channels,
                            sample_size,
                            format: format.clone(),
                            structure_index: index,
                        }));
                    }
                }
            }
        }
    }
    modes
}

fn json_number(name: &str, v: &serde_json::Number) -> glib::SendValue {
    let integer = Property::from_name(name).is_some_and(|p| p.value_type() == ValueType::ULong);
    match v.as_i64() {
        Some(i) if integer && i32::try_from(i).is_ok() => (i as i32).to_send_value(),
        _ => v.as_f64().unwrap_or(0.0).to_send_value(),
    }
}

/// A `GstDoubleRange` value; gstreamer-rs has no type for it.
fn double_range(min: f64, max: f64) -> glib::SendValue {
    use glib::translate::{FromGlib, ToGlibPtrMut, UnsafeFrom};
    // SAFETY: a fresh GValue of the double-range type is set through the
    // GStreamer API; it holds two doubles, so it may cross threads.
    unsafe {
        let mut v =
            glib::Value::from_type(glib::Type::from_glib(gst::ffi::gst_double_range_get_type()));
        gst::ffi::gst_value_set_double_range(v.to_glib_none_mut().0, min, max);
        glib::SendValue::unsafe_from(v.into_raw())
    }
}

fn json_to_value(name: &str, v: &Value) -> Option<glib::SendValue> {
    use gst::prelude::*;
    Some(match v {
        Value::Bool(b) => b.to_send_value(),
        Value::String(s) => s.to_send_value(),
        Value::Number(n) => json_number(name, n),
        // A list of nothing (no facingMode) says nothing: leave the field out.
        Value::Array(items) if items.is_empty() => return None,
        Value::Array(items) => {
            gst::List::new(items.iter().filter_map(|i| json_to_value(name, i))).to_send_value()
        }
        Value::Object(m) => {
            let (min, max) = (m.get("min")?, m.get("max")?);
            let (a, b) = (
                json_number(name, min.as_number()?),
                json_number(name, max.as_number()?),
            );
            // GStreamer ranges need min < max: a one-value range is the value.
            match (a.get::<i32>(), b.get::<i32>()) {
                (Ok(x), Ok(y)) if x == y => a,
                (Ok(x), Ok(y)) => gst::IntRange::new(x, y).to_send_value(),
                _ if min.as_f64()? == max.as_f64()? => min.as_f64()?.to_send_value(),
                _ => double_range(min.as_f64()?, max.as_f64()?),
            }
        }
        Value::Null => return None,
    })
}

/// A JSON object of W3C members (settings or capabilities) as a structure
/// with the same field names: integers as `int`, other numbers as `double`,
/// `{min, max}` as ranges, arrays as lists.
pub fn json_to_structure(name: &str, v: &Value) -> gst::Structure {
    let mut s = gst::Structure::new_empty(name);
    if let Value::Object(m) = v {
        for (k, x) in m {
            if let Some(val) = json_to_value(k, x) {
                s.set_value(k.as_str(), val);
            }
        }
    }
    s
}

/// The `mediastream-error` details structure of an element error
/// (docs/errors.md): `name`, `constraint` (OverconstrainedError) and
/// `message`.
pub fn error_details(e: &super::ConstraintError) -> gst::Structure {
    let mut s = gst::Structure::builder("mediastream-error")
        .field("name", e.name())
        .field("message", e.message())
        .build();
    if let Some(c) = e.constraint() {
        s.set("constraint", c);
    }
    s
}

/// The GStreamer error an element posts for a W3C error.
pub fn error_domain(e: &super::ConstraintError) -> gst::ResourceError {
    match e.error_name() {
        super::ErrorName::NotFoundError => gst::ResourceError::NotFound,
        super::ErrorName::NotReadableError => gst::ResourceError::OpenRead,
        _ => gst::ResourceError::Settings,
    }
}

/// `MediaTrackSettings` as a structure.
pub fn settings_structure(settings: &super::Settings) -> gst::Structure {
    json_to_structure("MediaTrackSettings", &settings.to_json())
}

/// `MediaTrackCapabilities` as a structure.
pub fn capabilities_structure(capabilities: &Value) -> gst::Structure {
    json_to_structure("MediaTrackCapabilities", capabilities)
}

use gst::prelude::ToSendValue;

impl super::Kind {
    /// The kind every structure of `caps` is of; `None` for ANY, empty or
    /// mixed caps.
    pub fn of_caps(caps: &gst::CapsRef) -> Option<super::Kind> {
        let kind_of = |s: &gst::StructureRef| {
            let name = s.name();
            if name.starts_with("audio/") {
                Some(super::Kind::Audio)
            } else if name.starts_with("video/") || name.starts_with("image/") {
                Some(super::Kind::Video)
            } else {
                None
            }
        };
        if caps.is_any() {
            return None;
        }
        let mut kinds = caps.iter().map(kind_of);
        let first = kinds.next()??;
        kinds.all(|k| k == Some(first)).then_some(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn caps_lists_and_ranges_become_modes() {
        gst::init().unwrap();
        let caps = gst::Caps::from_str(
            "video/x-raw,format={I420,YUY2},width=1920,height=1080,framerate={30/1,60/1}; \
             image/jpeg,width=[1,640],height=480,framerate=[5/1,30/1]; \
             audio/x-raw,format={S16LE,F32LE},rate=48000,channels=[1,2]; \
             video/x-raw,format=I420",
        )
        .unwrap();
        let modes = modes_from_caps(&caps);
        assert_eq!(modes.len(), 5);
        let NativeMode::Video(v) = &modes[1] else {
            panic!()
        };
        assert_eq!(v.max_rate, Fraction::new(60, 1));
        assert_eq!(v.formats, ["I420", "YUY2"]);
        let NativeMode::Video(j) = &modes[2] else {
            panic!()
        };
        assert!(j.is_encoded());
        assert_eq!(j.width, IntRange { min: 1, max: 640 });
        assert_eq!(
            (j.min_rate, j.max_rate),
            (Fraction::new(5, 1), Fraction::new(30, 1))
        );
        assert_eq!(j.structure_index, 1);
        let NativeMode::Audio(a) = &modes[4] else {
            panic!()
        };
        assert_eq!(
            (a.sample_size, a.channels),
            (32, IntRange { min: 1, max: 2 })
        );
    }

    /// Found by the device_file fuzz target: GStreamer's parser accepts
    /// empty ranges such as `[2,2]` (leaving them unset, with a critical
    /// warning) and the Rust bindings' range readers panicked on them. Such
    /// a structure offers no mode; the others still count.
    #[test]
    fn empty_ranges_and_negative_rates_give_no_mode() {
        gst::init().unwrap();
        let caps = gst::Caps::from_str(
            "audio/x-raw,format=S16LE,rate=[8000,8000],channels=[2,2]; \
             video/x-raw,format=I420,width=[640,640],height=480,framerate=30/1; \
             video/x-raw,format=I420,width=640,height=480,framerate=[30/1,5/1]; \
             video/x-raw,format=I420,width=[800,10],height=480,framerate=30/1; \
             video/x-raw,format=I420,width=320,height=240,framerate=-30/1; \
             video/x-raw,format=I420,width=320,height=240,framerate=15/1",
        )
        .unwrap();
        let modes = modes_from_caps(&caps);
        assert_eq!(modes.len(), 1, "{modes:?}");
        let NativeMode::Video(v) = &modes[0] else {
            panic!("{modes:?}")
        };
        assert_eq!(
            (v.width, v.max_rate),
            (IntRange::fixed(320), Fraction::new(15, 1))
        );
    }

    #[test]
    fn structures_use_w3c_names_and_types() {
        gst::init().unwrap();
        let caps = serde_json::json!({
            "deviceId": "cam", "width": {"min": 1, "max": 1920},
            "frameRate": {"min": 0.0, "max": 60.0}, "resizeMode": ["none", "crop-and-scale"],
        });
        let s = capabilities_structure(&caps);
        assert_eq!(s.name(), "MediaTrackCapabilities");
        assert_eq!(
            s.to_string(),
            "MediaTrackCapabilities, deviceId=(string)cam, width=(int)[ 1, 1920 ], \
             frameRate=(double)[ 0, 60 ], resizeMode=(string){ none, crop-and-scale };"
        );
    }
}
