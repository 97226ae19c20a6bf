// SPDX-License-Identifier: MPL-2.0

//! What each fuzz target does with one input. Shared by the cargo-fuzz
//! targets (`fuzz/fuzz_targets/`) and by `tests/fuzz_corpus.rs`, which
//! replays the committed corpus on every `cargo test`.
//!
//! Every body asserts what the user is promised: a result or an error that
//! names what is wrong, never a panic.

#![allow(dead_code)]

use arbitrary::{Result as AResult, Unstructured};
use gstmediastream::constraints::{
    AudioMode, ConstraintError, DeviceInfo, DeviceKind, Fraction, IntRange, Kind, NativeMode,
    SelectOptions, StreamConstraints, TrackConstraints, VideoMode, select_on_device, select_stream,
    select_track,
};
use gstmediastream::devices::file::{BUILTIN_JSON, device_infos, parse_devices};
use serde_json::{Map, Value, json};
use std::sync::LazyLock;

static BUILTIN: LazyLock<Vec<DeviceInfo>> = LazyLock::new(|| {
    gst::init().unwrap();
    let specs = parse_devices(BUILTIN_JSON, "builtin").unwrap();
    device_infos(&specs, "builtin").unwrap()
});

fn check_error(e: &ConstraintError) {
    assert!(
        !e.message().trim().is_empty(),
        "{} without a message",
        e.name()
    );
    if e.name() == "OverconstrainedError" {
        assert!(
            e.constraint().is_some(),
            "OverconstrainedError names no constraint: {e}"
        );
    }
}

fn check_outcome(
    kind: Kind,
    devices: &[DeviceInfo],
    r: &Result<gstmediastream::constraints::Selection, ConstraintError>,
) {
    match r {
        Ok(s) => {
            let d = &devices[s.device_index];
            assert_eq!(
                d.kind,
                DeviceKind::input_for(kind),
                "chose a {} for {kind}",
                d.kind
            );
            assert!(
                s.mode_index < d.modes.len(),
                "mode {} of {}",
                s.mode_index,
                d.modes.len()
            );
            assert_eq!(s.settings.device_id(), d.device_id);
        }
        Err(e) => check_error(e),
    }
}

/// Constraints text: MediaStreamConstraints and MediaTrackConstraints
/// parsing, then getUserMedia over the built-in fake devices.
pub fn constraints(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match StreamConstraints::parse(&text) {
        Ok(c) => match select_stream(&c, &BUILTIN, &SelectOptions::default()) {
            Ok(sel) => {
                assert!(sel.audio.is_some() || sel.video.is_some());
                let _ = sel.to_json();
            }
            Err(e) => check_error(&e),
        },
        Err(e) => check_error(&e),
    }
    match TrackConstraints::parse(&text) {
        Ok(c) => {
            for kind in [Kind::Audio, Kind::Video] {
                let r = select_track(kind, &c, &BUILTIN, &SelectOptions::default());
                check_outcome(kind, &BUILTIN, &r);
            }
        }
        Err(e) => check_error(&e),
    }
}

/// Arbitrary constraints against arbitrary device lists: getUserMedia
/// (any device) and applyConstraints (one device) for both kinds.
pub fn selection(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok((devices, constraints, opts)) = selection_input(&mut u) else {
        return;
    };
    let text = constraints.to_string();
    let parsed = match TrackConstraints::parse(&text) {
        Ok(c) => c,
        Err(e) => return check_error(&e),
    };
    for kind in [Kind::Audio, Kind::Video] {
        let r = select_track(kind, &parsed, &devices, &opts);
        check_outcome(kind, &devices, &r);
        if let Ok(s) = &r {
            let _ = s.settings.to_json();
        }
        for d in &devices {
            let r = select_on_device(kind, &parsed, d, &opts);
            check_outcome(kind, std::slice::from_ref(d), &r);
        }
    }
}

/// A fake-device file: parsed, then its caps turned into native modes.
pub fn device_file(data: &[u8]) {
    LazyLock::force(&BUILTIN);
    let text = String::from_utf8_lossy(data);
    match parse_devices(&text, "fuzz.json") {
        Ok(specs) => match device_infos(&specs, "fuzz.json") {
            Ok(infos) => {
                assert_eq!(infos.len(), specs.len());
                let _ = select_track(
                    Kind::Video,
                    &TrackConstraints::default(),
                    &infos,
                    &SelectOptions::default(),
                );
            }
            Err(e) => assert!(e.to_string().starts_with("fuzz.json: device "), "{e}"),
        },
        Err(e) => {
            assert!(e.to_string().starts_with("fuzz.json"), "{e}");
            assert!(!e.message.is_empty());
        }
    }
}

/// A `mediastream://` URI, as playbin or `uridecodebin` hands it over.
pub fn uri(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for uri in [text.to_string(), format!("mediastream://?{text}")] {
        match gstmediastream::constraints_from_uri(&uri) {
            Ok(json) => {
                StreamConstraints::parse(&json).expect("an accepted URI gives valid constraints");
            }
            Err(msg) => assert!(!msg.trim().is_empty()),
        }
    }
}

const VIDEO_PROPS: &[&str] = &[
    "width",
    "height",
    "aspectRatio",
    "frameRate",
    "facingMode",
    "resizeMode",
    "deviceId",
    "groupId",
];
const AUDIO_PROPS: &[&str] = &[
    "sampleRate",
    "sampleSize",
    "channelCount",
    "latency",
    "echoCancellation",
    "autoGainControl",
    "noiseSuppression",
    "deviceId",
    "groupId",
];
const STRINGS: &[&str] = &[
    "user",
    "environment",
    "none",
    "crop-and-scale",
    "cam-front",
    "mic-default",
    "g1",
    "",
];

fn number(u: &mut Unstructured) -> AResult<Value> {
    Ok(match u.int_in_range(0..=4)? {
        0 => json!(u.int_in_range(0u32..=4000)?),
        1 => json!(*u.choose(&[0.0, 0.5, 1.0, 1.7777777, 30.0, 48000.0, 1e300, -1.0])?),
        2 => json!(u.arbitrary::<i64>()?),
        3 => json!(u.arbitrary::<f64>()?),
        _ => json!(u.int_in_range(0u32..=100)? as f64 / 7.0),
    })
}

fn bare(u: &mut Unstructured) -> AResult<Value> {
    Ok(match u.int_in_range(0..=5)? {
        0 | 1 => number(u)?,
        2 => json!(u.arbitrary::<bool>()?),
        3 => json!(*u.choose(STRINGS)?),
        4 => {
            let n = u.int_in_range(0..=3)?;
            Value::Array(
                (0..n)
                    .map(|_| u.choose(STRINGS).map(|s| json!(s)))
                    .collect::<AResult<_>>()?,
            )
        }
        _ => Value::Null,
    })
}

fn value(u: &mut Unstructured) -> AResult<Value> {
    if u.ratio(1, 3)? {
        return bare(u);
    }
    let mut m = Map::new();
    for key in ["min", "max", "exact", "ideal"] {
        if u.arbitrary()? {
            m.insert(key.into(), bare(u)?);
        }
    }
    Ok(Value::Object(m))
}

fn set(u: &mut Unstructured) -> AResult<Map<String, Value>> {
    let mut m = Map::new();
    let n = u.int_in_range(0..=4)?;
    for _ in 0..n {
        let props = if u.arbitrary()? {
            VIDEO_PROPS
        } else {
            AUDIO_PROPS
        };
        let name = if u.ratio(1, 20)? {
            "unknownThing"
        } else {
            u.choose(props)?
        };
        m.insert(name.into(), value(u)?);
    }
    Ok(m)
}

fn constraints_value(u: &mut Unstructured) -> AResult<Value> {
    let mut m = set(u)?;
    if u.arbitrary()? {
        let n = u.int_in_range(0..=3)?;
        let adv = (0..n)
            .map(|_| set(u).map(Value::Object))
            .collect::<AResult<_>>()?;
        m.insert("advanced".into(), Value::Array(adv));
    }
    Ok(Value::Object(m))
}

fn range(u: &mut Unstructured, wide: bool) -> AResult<IntRange> {
    let hi = if wide { u32::MAX } else { 8192 };
    let a = u.int_in_range(0..=hi)?;
    Ok(if u.arbitrary()? {
        IntRange::fixed(a)
    } else {
        let b = u.int_in_range(0..=hi)?;
        IntRange::new(a.min(b), a.max(b))
    })
}

fn rate(u: &mut Unstructured) -> AResult<Fraction> {
    Ok(Fraction::new(
        u.int_in_range(0..=i32::MAX)?,
        u.int_in_range(1..=i32::MAX)?,
    ))
}

fn mode(u: &mut Unstructured, kind: DeviceKind, index: usize) -> AResult<NativeMode> {
    let wide = u.ratio(1, 8)?;
    Ok(if kind == DeviceKind::VideoInput {
        let (a, b) = (rate(u)?, rate(u)?);
        let (min_rate, max_rate) = if a.to_f64() <= b.to_f64() {
            (a, b)
        } else {
            (b, a)
        };
        let mut formats = Vec::new();
        for f in ["I420", "YUY2", "NV12", "RGB"] {
            if u.ratio(1, 3)? {
                formats.push(f.to_string());
            }
        }
        NativeMode::Video(VideoMode {
            width: range(u, wide)?,
            height: range(u, wide)?,
            min_rate,
            max_rate,
            media_type: u
                .choose(&["video/x-raw", "image/jpeg", "video/x-h264"])?
                .to_string(),
            formats,
            structure_index: index,
        })
    } else {
        let (format, sample_size) =
            *u.choose(&[("S16LE", 16), ("F32LE", 32), ("S24LE", 24), ("U8", 8)])?;
        NativeMode::Audio(AudioMode {
            rate: range(u, wide)?,
            channels: range(u, wide)?,
            sample_size,
            format: format.into(),
            structure_index: index,
        })
    })
}

fn selection_input(u: &mut Unstructured) -> AResult<(Vec<DeviceInfo>, Value, SelectOptions)> {
    let n = u.int_in_range(0..=5)?;
    let mut devices = Vec::with_capacity(n);
    for i in 0..n {
        let kind = *u.choose(&[
            DeviceKind::VideoInput,
            DeviceKind::AudioInput,
            DeviceKind::AudioOutput,
        ])?;
        let mode_count = u.int_in_range(0..=4)?;
        let modes = (0..mode_count)
            .map(|m| mode(u, kind, m))
            .collect::<AResult<_>>()?;
        devices.push(DeviceInfo {
            kind,
            label: format!("device {i}"),
            device_id: if u.ratio(1, 6)? {
                "cam-front".into()
            } else {
                format!("dev{i}")
            },
            group_id: format!("g{}", u.int_in_range(0..=2)?),
            facing_mode: u
                .choose(&[None, Some("user"), Some("environment"), Some("left")])?
                .map(str::to_owned),
            is_default: u.arbitrary()?,
            latency: *u.choose(&[0.0, 0.01, 0.2, f64::MAX])?,
            modes,
            display: None,
        });
    }
    let constraints = constraints_value(u)?;
    let opts = SelectOptions {
        audio_processing: u.arbitrary()?,
        explain: u.arbitrary()?,
    };
    Ok((devices, constraints, opts))
}
