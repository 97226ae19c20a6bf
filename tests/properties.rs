// SPDX-License-Identifier: MPL-2.0

//! Property-based tests of the constraints engine: parsing never panics, the
//! chosen candidate is never beaten under the ordering, a success has a
//! finite distance.

use gstmediastream::constraints::select::brute_force_best;
use gstmediastream::constraints::{
    AudioMode, DeviceInfo, DeviceKind, Fraction, IntRange, Kind, NativeMode, SelectOptions,
    StreamConstraints, TrackConstraints, VideoMode, select_track,
};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The words of a constraint set in both word lists below.
const SET_WORDS: [&str; 6] = ["exact", "ideal", "min", "max", "advanced", "facingMode"];

/// Any one of `words` (the parts joined, in order):
/// `prop_oneof![Just(word), ...]` (more than ten arms: a weighted union of
/// one boxed `Just` each).
fn one_of(words: &[&[&'static str]]) -> proptest::strategy::Union<BoxedStrategy<&'static str>> {
    proptest::strategy::Union::new_weighted(
        words
            .concat()
            .into_iter()
            .map(|w| (1, Just(w).boxed()))
            .collect(),
    )
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        one_of(&[
            &["video", "audio", "width"][..],
            &SET_WORDS,
            &["user", "echoCancellation", "frameRate", "deviceId", ""],
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(
                (
                    one_of(&[
                        &["video", "audio", "width", "height"][..],
                        &SET_WORDS,
                        &[
                            "resizeMode",
                            "sampleRate",
                            "echoCancellation",
                            "latency",
                            "aspectRatio",
                            "groupId",
                            "bogus",
                        ],
                    ]),
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

fn number_constraint(lo: f64, hi: f64) -> impl Strategy<Value = Value> {
    let v = lo..hi;
    prop_oneof![
        v.clone().prop_map(|x| json!(x.round())),
        (
            prop::option::of(v.clone()),
            prop::option::of(v.clone()),
            prop::option::of(v.clone()),
            prop::option::of(v),
        )
            .prop_map(|(min, max, exact, ideal)| {
                let mut m = serde_json::Map::new();
                for (k, x) in [
                    ("min", min),
                    ("max", max),
                    ("exact", exact),
                    ("ideal", ideal),
                ] {
                    if let Some(x) = x {
                        m.insert(k.into(), json!(x.round()));
                    }
                }
                Value::Object(m)
            }),
    ]
}

fn string_constraint(values: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let pick = prop::sample::select(values);
    prop_oneof![
        pick.clone().prop_map(|s| json!(s)),
        pick.clone().prop_map(|s| json!({ "exact": s })),
        pick.prop_map(|s| json!({ "ideal": s })),
    ]
}

fn video_set() -> BoxedStrategy<Value> {
    (
        prop::option::of(number_constraint(0.0, 2500.0)),
        prop::option::of(number_constraint(0.0, 1500.0)),
        prop::option::of(number_constraint(0.0, 90.0)),
        prop::option::of(string_constraint(&["user", "environment", "left"])),
        prop::option::of(string_constraint(&["none", "crop-and-scale"])),
        prop::option::of(string_constraint(&["cam0", "cam1", "cam2", "nope"])),
        prop::option::of(prop::sample::select(
            &[0.75, 1.0, 1.333_333_333_3, 1.777_777_777_8][..],
        )),
    )
        .prop_map(|(w, h, f, fm, rm, id, ar)| {
            let mut m = serde_json::Map::new();
            for (k, v) in [
                ("width", w),
                ("height", h),
                ("frameRate", f),
                ("facingMode", fm),
                ("resizeMode", rm),
                ("deviceId", id),
            ] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            if let Some(ar) = ar {
                m.insert("aspectRatio".into(), json!({ "ideal": ar }));
            }
            Value::Object(m)
        })
        .boxed()
}

fn audio_set() -> BoxedStrategy<Value> {
    (
        prop::option::of(number_constraint(0.0, 100_000.0)),
        prop::option::of(number_constraint(0.0, 4.0)),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        prop::option::of(string_constraint(&["mic0", "mic1", "nope"])),
    )
        .prop_map(|(r, c, ec, ns, id)| {
            let mut m = serde_json::Map::new();
            if let Some(r) = r {
                m.insert("sampleRate".into(), r);
            }
            if let Some(c) = c {
                m.insert("channelCount".into(), c);
            }
            if let Some(ec) = ec {
                m.insert("echoCancellation".into(), json!({ "exact": ec }));
            }
            if let Some(ns) = ns {
                m.insert("noiseSuppression".into(), json!(ns));
            }
            if let Some(id) = id {
                m.insert("deviceId".into(), id);
            }
            Value::Object(m)
        })
        .boxed()
}

fn with_advanced(basic: impl Strategy<Value = Value> + Clone) -> impl Strategy<Value = Value> {
    (basic.clone(), prop::collection::vec(basic, 0..3)).prop_map(|(mut b, adv)| {
        if !adv.is_empty() {
            b["advanced"] = Value::Array(adv);
        }
        b
    })
}

fn int_range(lo: u32, hi: u32) -> impl Strategy<Value = IntRange> {
    prop_oneof![
        (lo..hi).prop_map(IntRange::fixed),
        (lo..hi, lo..hi).prop_map(|(a, b)| IntRange {
            min: a.min(b),
            max: a.max(b)
        }),
    ]
}

fn video_mode() -> impl Strategy<Value = NativeMode> {
    (
        prop::sample::select(&[160u32, 320, 640, 1280, 1920, 3840][..]),
        prop::sample::select(&[120u32, 240, 360, 480, 720, 1080, 2160][..]),
        1i32..61,
        1i32..61,
        any::<bool>(),
        0usize..4,
    )
        .prop_map(|(w, h, a, b, jpeg, idx)| {
            NativeMode::Video(VideoMode {
                width: IntRange::fixed(w),
                height: IntRange::fixed(h),
                min_rate: Fraction::new(a.min(b), 1),
                max_rate: Fraction::new(a.max(b), 1),
                media_type: if jpeg { "image/jpeg" } else { "video/x-raw" }.into(),
                formats: vec![],
                structure_index: idx,
            })
        })
}

fn audio_mode() -> impl Strategy<Value = NativeMode> {
    (
        int_range(8000, 96_001),
        int_range(1, 3),
        prop::sample::select(&[16u32, 32][..]),
    )
        .prop_map(|(rate, channels, sample_size)| {
            NativeMode::Audio(AudioMode {
                rate,
                channels,
                sample_size,
                format: if sample_size == 16 { "S16LE" } else { "F32LE" }.into(),
                structure_index: 0,
            })
        })
}

fn devices(kind: Kind) -> impl Strategy<Value = Vec<DeviceInfo>> {
    let mode = match kind {
        Kind::Video => video_mode().boxed(),
        Kind::Audio => audio_mode().boxed(),
    };
    prop::collection::vec(
        (
            prop::collection::vec(mode, 0..4),
            prop::option::of(prop::sample::select(&["user", "environment"][..])),
            any::<bool>(),
            prop::sample::select(&[0.0, 0.01, 0.02][..]),
        ),
        1..4,
    )
    .prop_map(move |devs| {
        devs.into_iter()
            .enumerate()
            .map(|(i, (modes, facing, is_default, latency))| DeviceInfo {
                kind: DeviceKind::input_for(kind),
                label: format!("device {i}"),
                device_id: match kind {
                    Kind::Video => format!("cam{i}"),
                    Kind::Audio => format!("mic{i}"),
                },
                group_id: format!("g{}", i % 2),
                facing_mode: facing.map(str::to_owned),
                is_default,
                latency,
                modes,
                display: None,
            })
            .collect()
    })
}

fn check_selection(
    kind: Kind,
    devs: &[DeviceInfo],
    constraints: &Value,
) -> Result<(), TestCaseError> {
    let c = TrackConstraints::parse(&constraints.to_string()).expect("generated constraints parse");
    let opts = SelectOptions {
        audio_processing: true,
        explain: false,
    };
    let brute = brute_force_best(kind, &c, devs, &opts);
    match select_track(kind, &c, devs, &opts) {
        Ok(sel) => {
            let (best, distance) = brute.expect("a selection implies a candidate");
            prop_assert!(distance.is_finite());
            prop_assert_eq!(sel.settings, best);
        }
        Err(e) => {
            prop_assert!(
                brute.is_none(),
                "error {} but brute force found {:?}",
                e,
                brute
            );
            prop_assert!(matches!(e.name(), "OverconstrainedError" | "NotFoundError"));
            if e.name() == "OverconstrainedError" {
                // The named constraint is a required member of the basic set.
                let named = e.constraint().unwrap_or_default();
                prop_assert!(
                    c.basic
                        .for_kind(kind)
                        .any(|(p, m)| p.name() == named && m.is_required()),
                    "{} names {:?}, not a required member of {}",
                    e,
                    named,
                    constraints
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn parsing_arbitrary_text_never_panics(s in ".{0,200}") {
        let _ = StreamConstraints::parse(&s);
        let _ = TrackConstraints::parse(&s);
    }

    #[test]
    fn parsing_arbitrary_json_never_panics(v in json_value()) {
        let s = v.to_string();
        let _ = StreamConstraints::parse(&s);
        let _ = TrackConstraints::parse(&s);
    }

    #[test]
    fn video_winner_is_never_beaten(devs in devices(Kind::Video), c in with_advanced(video_set())) {
        check_selection(Kind::Video, &devs, &c)?;
    }

    #[test]
    fn audio_winner_is_never_beaten(devs in devices(Kind::Audio), c in with_advanced(audio_set())) {
        check_selection(Kind::Audio, &devs, &c)?;
    }
}

/// An independent, dense oracle for sizes: every integer width x height a
/// small camera can give (native or cropped), ordered straight from the
/// selection rules of docs/constraints.md, step 4 in whole pixels. The
/// engine keeps only a few points per range (the optimum over a range lies
/// at one of a few points); this checks that they hold the whole ordering's
/// optimum. Where an ideal aspect ratio scores a size, the best integer
/// ratio in a window of sizes can lie between those points; there the
/// engine's distance may exceed the optimum by at most the lattice's grain
/// (2 / height: nothing at real sizes, visible at these tiny ones), and the
/// later steps are tie-breaks of the few-points model.
mod dense {
    use super::*;
    use std::cmp::Ordering;

    fn rel(a: f64, i: f64) -> f64 {
        if a == i {
            0.0
        } else {
            (a - i).abs() / a.abs().max(i.abs())
        }
    }

    fn eq(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    fn cmp(a: f64, b: f64) -> Ordering {
        if eq(a, b) {
            Ordering::Equal
        } else {
            a.partial_cmp(&b).unwrap()
        }
    }

    #[derive(Debug, Clone, Copy)]
    pub struct Num {
        pub min: Option<f64>,
        pub max: Option<f64>,
        pub exact: Option<f64>,
        pub ideal: Option<f64>,
    }

    impl Num {
        fn distance(&self, v: f64) -> f64 {
            // Required values hold up to rounding noise, as in the engine.
            let bad = self.min.is_some_and(|m| v < m && !eq(v, m))
                || self.max.is_some_and(|m| v > m && !eq(v, m))
                || self.exact.is_some_and(|e| !eq(v, e));
            if bad {
                f64::INFINITY
            } else {
                self.ideal.map_or(0.0, |i| rel(v, i))
            }
        }

        pub fn json(&self) -> Value {
            let mut m = serde_json::Map::new();
            for (k, v) in [
                ("min", self.min),
                ("max", self.max),
                ("exact", self.exact),
                ("ideal", self.ideal),
            ] {
                if let Some(v) = v {
                    m.insert(k.into(), json!(v));
                }
            }
            Value::Object(m)
        }
    }

    /// `v * num / den` rounded, halves away from zero (exact for these
    /// small integers: a quotient k + 1/2 is a float).
    pub fn partner(v: u32, num: u32, den: u32) -> u32 {
        ((v * num) as f64 / den as f64).round() as u32
    }

    /// Step 4 of a size cut from a `mw` x `mh` mode: (sides that are not
    /// the other's rounded native-ratio partner, ratio deviation, 0 when
    /// none is) in whole pixels; else (0, ratio deviation).
    pub fn aspect_fit(x: u32, y: u32, mw: u32, mh: u32, whole_pixels: bool) -> (u8, f64) {
        let off = if whole_pixels {
            (x != partner(y, mw, mh)) as u8 + (y != partner(x, mh, mw)) as u8
        } else {
            0
        };
        let (ar, native) = (x as f64 / y as f64, mw as f64 / mh as f64);
        let deviation = if whole_pixels && off == 0 {
            0.0
        } else {
            (ar - native).abs() / ar.max(native)
        };
        (off, deviation)
    }

    /// The basic-set distance of a size, as the oracle scores it.
    pub fn score(w: Num, h: Num, aspect: Num, x: u32, y: u32) -> f64 {
        w.distance(x as f64) + h.distance(y as f64) + aspect.distance(x as f64 / y as f64)
    }

    /// (width, height, crop, device, basic distance) of the best candidate.
    pub fn best(
        cams: &[Vec<(u32, u32)>],
        w: Num,
        h: Num,
        aspect: Num,
        advanced: &[[Num; 3]],
    ) -> Option<(u32, u32, bool, usize, f64)> {
        struct C {
            w: u32,
            h: u32,
            crop: bool,
            dev: usize,
            basic: f64,
            aspect: (u8, f64),
            default: f64,
            native_area: u64,
            mode: usize,
        }
        // Step 2 over every size: a set applies if some size meets it.
        let mut kept: Vec<(u32, u32)> = (1..=64)
            .flat_map(|x| (1..=64).map(move |y| (x, y)))
            .filter(|&(x, y)| score(w, h, aspect, x, y).is_finite())
            .collect();
        let mut applied = Vec::new();
        for [aw, ah, aa] in advanced {
            let meets = |&(x, y): &(u32, u32)| score(*aw, *ah, *aa, x, y).is_finite();
            if cams.iter().flatten().any(|&(mw, mh)| {
                kept.iter()
                    .any(|&(x, y)| x <= mw && y <= mh && meets(&(x, y)))
            }) {
                kept.retain(meets);
                applied.push([*aw, *ah, *aa]);
            }
        }
        let applied_ok = |x: u32, y: u32| {
            applied
                .iter()
                .all(|[aw, ah, aa]| score(*aw, *ah, *aa, x, y).is_finite())
        };
        // Step 4 counts in whole pixels unless an aspect ratio is asked for.
        let asks = |a: &Num| a.min.is_some() || a.max.is_some() || a.exact.is_some();
        let whole_pixels = aspect.json().as_object().is_some_and(|m| m.is_empty())
            && !applied.iter().any(|[_, _, a]| asks(a));
        let mut all = Vec::new();
        for (dev, modes) in cams.iter().enumerate() {
            for (mode, &(mw, mh)) in modes.iter().enumerate() {
                let mut push = |x: u32, y: u32, crop: bool| {
                    let basic = score(w, h, aspect, x, y);
                    if basic.is_finite() && applied_ok(x, y) {
                        all.push(C {
                            w: x,
                            h: y,
                            crop,
                            dev,
                            basic,
                            aspect: if crop {
                                aspect_fit(x, y, mw, mh, whole_pixels)
                            } else {
                                (0, 0.0)
                            },
                            default: rel(x as f64, 640.0) + rel(y as f64, 480.0),
                            native_area: if crop { mw as u64 * mh as u64 } else { 0 },
                            mode,
                        });
                    }
                };
                push(mw, mh, false);
                for x in 1..=mw {
                    for y in 1..=mh {
                        push(x, y, true);
                    }
                }
            }
        }
        all.into_iter()
            .min_by(|a, b| {
                cmp(a.basic, b.basic)
                    .then(a.dev.cmp(&b.dev))
                    .then(a.crop.cmp(&b.crop))
                    .then(a.aspect.0.cmp(&b.aspect.0))
                    .then(cmp(a.aspect.1, b.aspect.1))
                    .then(cmp(a.default, b.default))
                    .then((b.w as u64 * b.h as u64).cmp(&(a.w as u64 * a.h as u64)))
                    .then(a.native_area.cmp(&b.native_area))
                    .then(a.mode.cmp(&b.mode))
                    .then(b.w.cmp(&a.w))
            })
            .map(|c| (c.w, c.h, c.crop, c.dev, c.basic))
    }
}

fn small_num(lo: f64, hi: f64) -> impl Strategy<Value = dense::Num> {
    (
        prop::option::weighted(0.3, lo..hi),
        prop::option::weighted(0.3, lo..hi),
        prop::option::weighted(0.15, lo..hi),
        prop::option::weighted(0.6, lo..hi),
    )
        .prop_map(|(min, max, exact, ideal)| dense::Num {
            min: min.map(f64::round),
            max: max.map(f64::round),
            exact: exact.map(f64::round),
            ideal: ideal.map(f64::round),
        })
}

/// The required part of a number constraint in an advanced set (an ideal
/// there is ignored): whole bounds for a size, any bound for a ratio.
fn required_num(lo: f64, hi: f64) -> impl Strategy<Value = dense::Num> {
    let whole = hi > 10.0;
    (
        prop::option::weighted(0.3, lo..hi),
        prop::option::weighted(0.3, lo..hi),
        prop::option::weighted(0.1, lo..hi),
    )
        .prop_map(move |(min, max, exact)| {
            let r = |v: Option<f64>| if whole { v.map(f64::round) } else { v };
            dense::Num {
                min: r(min),
                max: r(max),
                exact: r(exact),
                ideal: None,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn sizes_match_a_dense_search(
        cams in prop::collection::vec(prop::collection::vec((2u32..48, 2u32..40), 1..3), 1..3),
        w in small_num(1.0, 60.0),
        h in small_num(1.0, 50.0),
        aspect in (
            // Round bounds, and any bound: the sizes closest to a native
            // shape under 0.942 are not near a round ratio (81x86 of 112x112).
            prop::option::weighted(0.2, prop_oneof![
                prop::sample::select(&[0.5, 1.0, 1.25, 1.5, 2.0][..]),
                0.3f64..3.0,
            ]),
            prop::option::weighted(0.2, prop_oneof![
                prop::sample::select(&[1.0, 1.3333333333, 1.5, 2.4][..]),
                0.3f64..3.0,
            ]),
            prop::option::weighted(0.15, prop::sample::select(&[0.75, 1.3333333333, 1.7777777778, 2.0][..])),
            prop::option::weighted(0.5, prop::sample::select(&[0.5, 1.0, 1.25, 1.5, 1.7777777778, 3.0][..])),
        ).prop_map(|(min, max, exact, ideal)| dense::Num { min, max, exact, ideal }),
        advanced in prop::collection::vec(
            (required_num(1.0, 60.0), required_num(1.0, 50.0), required_num(0.3, 3.0)),
            0..3,
        ),
    ) {
        let advanced: Vec<[dense::Num; 3]> = advanced.into_iter().map(|(a, b, c)| [a, b, c]).collect();
        let devices: Vec<DeviceInfo> = cams
            .iter()
            .enumerate()
            .map(|(i, modes)| {
                camera(
                    i,
                    modes
                        .iter()
                        .enumerate()
                        .map(|(s, &(mw, mh))| {
                            NativeMode::Video(VideoMode {
                                width: IntRange::fixed(mw),
                                height: IntRange::fixed(mh),
                                min_rate: Fraction::new(30, 1),
                                max_rate: Fraction::new(30, 1),
                                media_type: "video/x-raw".into(),
                                formats: vec![],
                                structure_index: s,
                            })
                        })
                        .collect(),
                )
            })
            .collect();
        let sets: Vec<Value> = advanced
            .iter()
            .map(|[a, b, c]| json!({"width": a.json(), "height": b.json(), "aspectRatio": c.json()}))
            .collect();
        let c = json!({"width": w.json(), "height": h.json(), "aspectRatio": aspect.json(), "advanced": sets});
        let constraints = TrackConstraints::parse(&c.to_string()).unwrap();
        let got = select_track(Kind::Video, &constraints, &devices, &SelectOptions::default());
        let want = dense::best(&cams, w, h, aspect, &advanced);
        match (got, want) {
            (Ok(sel), Some((ww, wh, crop, dev, best))) => {
                let gstmediastream::constraints::Settings::Video(v) = sel.settings else { unreachable!() };
                let got = dense::score(w, h, aspect, v.width, v.height);
                let engine_crop = v.resize_mode.as_str() == "crop-and-scale";
                if aspect.ideal.is_none() {
                    prop_assert!((got - best).abs() <= 1e-9, "distance {} vs {} for {}x{} vs {}x{}, constraints {}", got, best, v.width, v.height, ww, wh, c);
                    prop_assert_eq!(
                        (sel.device_index, engine_crop, v.width, v.height),
                        (dev, crop, ww, wh),
                        "constraints {}", c
                    );
                } else {
                    // A ratio of integers is within about 1/height of any
                    // target: the granularity of the lattice of sizes.
                    let grain = 2.0 / v.height.min(wh) as f64;
                    prop_assert!(got <= best + grain, "distance {} vs {} for {}x{} vs {}x{}, constraints {}", got, best, v.width, v.height, ww, wh, c);
                }
            }
            (Err(e), None) => prop_assert_eq!(e.name(), "OverconstrainedError"),
            (got, want) => prop_assert!(false, "engine {:?}, dense search {:?}, constraints {}", got.map(|s| s.settings), want, c),
        }
    }
}

/// `v * num / den` rounded, halves away from zero.
fn rounded(v: u32, num: u32, den: u32) -> u32 {
    (v as f64 * num as f64 / den as f64).round() as u32
}

/// One dimension pinned by the constraints (exact, min = max, a bare ideal,
/// or a bound the winner ends at), the other only bounded, no aspect ratio;
/// cameras of every shape.
fn pinned_case() -> impl Strategy<Value = (Vec<DeviceInfo>, Value, bool, u32)> {
    let mode = (16u32..4000, 16u32..3000, 1i32..61, 0usize..3).prop_map(|(w, h, f, idx)| {
        NativeMode::Video(VideoMode {
            width: IntRange::fixed(w),
            height: IntRange::fixed(h),
            min_rate: Fraction::new(f, 1),
            max_rate: Fraction::new(f, 1),
            media_type: "video/x-raw".into(),
            formats: vec![],
            structure_index: idx,
        })
    });
    let cams = prop::collection::vec(prop::collection::vec(mode, 1..4), 1..3).prop_map(|cams| {
        cams.into_iter()
            .enumerate()
            .map(|(i, modes)| camera(i, modes))
            .collect::<Vec<_>>()
    });
    (
        cams,
        any::<bool>(),
        1u32..4000,
        0usize..5,
        prop::option::of(1u32..3000),
        prop::option::of(1u32..3000),
        prop::option::of(1u32..61),
        any::<bool>(),
    )
        .prop_map(|(cams, width_pinned, v, form, lo, hi, rate, crop)| {
            let (pinned, other) = if width_pinned {
                ("width", "height")
            } else {
                ("height", "width")
            };
            let mut c = serde_json::Map::new();
            c.insert(
                pinned.into(),
                match form {
                    0 => json!({ "exact": v }),
                    1 => json!({ "min": v, "max": v }),
                    2 => json!({ "max": v }),
                    3 => json!({ "min": v }),
                    _ => json!(v),
                },
            );
            let mut bounds = serde_json::Map::new();
            if let Some(lo) = lo {
                bounds.insert("min".into(), json!(lo));
            }
            if let Some(hi) = hi {
                bounds.insert("max".into(), json!(hi));
            }
            c.insert(other.into(), Value::Object(bounds));
            if let Some(rate) = rate {
                c.insert("frameRate".into(), json!({ "max": rate }));
            }
            if crop {
                c.insert("resizeMode".into(), json!("crop-and-scale"));
            }
            (cams, Value::Object(c), width_pinned, v)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// With no aspect-ratio constraint, a crop-and-scale winner whose pinned
    /// dimension is the asked value (`{height: {max: 106}}` and 106) has, as
    /// its other dimension, that value times (or divided by) its native
    /// mode's ratio, rounded halves away from zero (188), whenever that
    /// size meets the constraints.
    #[test]
    fn crop_partner_is_the_rounded_native_ratio((devs, c, width_pinned, v) in pinned_case()) {
        let constraints = TrackConstraints::parse(&c.to_string()).unwrap();
        let Ok(sel) = select_track(Kind::Video, &constraints, &devs, &SelectOptions::default()) else {
            return Ok(());
        };
        let gstmediastream::constraints::Settings::Video(s) = &sel.settings else { unreachable!() };
        let NativeMode::Video(m) = &devs[sel.device_index].modes[sel.mode_index] else { unreachable!() };
        let (nw, nh) = (m.width.max, m.height.max);
        let (fixed, got, partner, limit) = if width_pinned {
            (s.width, s.height, rounded(v, nh, nw), nh)
        } else {
            (s.height, s.width, rounded(v, nw, nh), nw)
        };
        if s.resize_mode.as_str() != "crop-and-scale" || fixed != v {
            return Ok(());
        }
        let other = &c[if width_pinned { "height" } else { "width" }];
        let meets = (1..=limit).contains(&partner)
            && other["min"].as_u64().is_none_or(|lo| partner as u64 >= lo)
            && other["max"].as_u64().is_none_or(|hi| partner as u64 <= hi);
        if meets {
            prop_assert_eq!(got, partner, "{}x{} from {}x{}, constraints {}", s.width, s.height, nw, nh, c);
        }
    }
}

/// The `i`th of a few generated cameras (the first is the default).
fn camera(i: usize, modes: Vec<NativeMode>) -> DeviceInfo {
    DeviceInfo {
        kind: DeviceKind::VideoInput,
        label: format!("cam {i}"),
        device_id: format!("cam{i}"),
        group_id: format!("g{i}"),
        facing_mode: None,
        is_default: i == 0,
        latency: 0.0,
        modes,
        display: None,
    }
}
