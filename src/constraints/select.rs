// SPDX-License-Identifier: MPL-2.0

//! SelectSettings with the fitness distance (docs/constraints.md,
//! "Selection").
//!
//! The pool of candidates is the W3C one, kept finite: over a range the
//! optimum of every ordering step lies at a few points (the range ends, the
//! constraint and default values clamped into it, and the values derived
//! from an aspect ratio or the native shape, such as the rounded
//! native-ratio partner of a width or height), so each (device, native mode,
//! resizeMode) becomes a *block* with a few shape points (video: width x
//! height; audio: rate, channels and processing flags) and a few frame
//! rates. Every constraint member looks at one of three levels only (the
//! block, the shape or the rate), so a block's candidates are the product of
//! its shapes and rates and both filtering and ordering are done per level,
//! without building the product.

use super::device::{DeviceInfo, DeviceKind, Fraction, IntRange, NativeMode, VideoMode};
use super::error::ConstraintError;
use super::parse::{
    Constraint, ConstraintSet, Discrete, Kind, NumberConstraint, Property, TrackConstraints,
};
use super::settings::{AudioSettings, ResizeMode, Settings, VideoSettings, round10};
use rustc_hash::FxHashMap as HashMap;
use serde_json::{Value, json};
use std::cmp::Ordering;

/// Sample rates `webrtcdsp` runs at.
pub const PROCESSING_RATES: [u32; 4] = [8000, 16000, 32000, 48000];

/// The defaults of ordering step 5.
pub const DEFAULT_WIDTH: f64 = 640.0;
pub const DEFAULT_HEIGHT: f64 = 480.0;
pub const DEFAULT_FRAME_RATE: f64 = 30.0;
pub const DEFAULT_SAMPLE_RATE: f64 = 48000.0;
pub const DEFAULT_CHANNEL_COUNT: f64 = 1.0;
pub const DEFAULT_SAMPLE_SIZE: f64 = 16.0;

/// What the engine needs to know of the system.
#[derive(Debug, Clone, Default)]
pub struct SelectOptions {
    /// Whether the audio-processing element (`webrtcdsp`) is installed, so
    /// echoCancellation / autoGainControl / noiseSuppression can be `true`.
    pub audio_processing: bool,
    /// Keep the ranking for [`Selection::explain`].
    pub explain: bool,
}

/// The outcome of a selection for one kind.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Index of the chosen device in the slice given to the selection.
    pub device_index: usize,
    /// Index of the chosen native mode in that device's `modes`.
    pub mode_index: usize,
    pub settings: Settings,
    /// With [`SelectOptions::explain`]: the best candidates and the deciding step.
    pub explain: Option<Value>,
}

/// The outcome of getUserMedia's selection.
#[derive(Debug, Clone, Default)]
pub struct StreamSelection {
    pub audio: Option<Selection>,
    pub video: Option<Selection>,
}

impl StreamSelection {
    /// `{"audio": {settings}, "video": {settings}}`, only the kinds asked for.
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        for (kind, sel) in [("audio", &self.audio), ("video", &self.video)] {
            if let Some(s) = sel {
                m.insert(kind.into(), s.settings.to_json());
            }
        }
        Value::Object(m)
    }
}

/// getUserMedia: selection for every requested kind, all done before any
/// device opens. Audio is selected first, as enumerateDevices lists it.
pub fn select_stream(
    constraints: &super::parse::StreamConstraints,
    devices: &[DeviceInfo],
    opts: &SelectOptions,
) -> Result<StreamSelection, ConstraintError> {
    let mut out = StreamSelection::default();
    if let Some(a) = &constraints.audio {
        out.audio = Some(select_track(Kind::Audio, a, devices, opts)?);
    }
    if let Some(v) = &constraints.video {
        out.video = Some(select_track(Kind::Video, v, devices, opts)?);
    }
    Ok(out)
}

/// SelectSettings over every device of `kind` in `devices` (other kinds are
/// skipped). Devices are ranked default first, then in slice order.
pub fn select_track(
    kind: Kind,
    constraints: &TrackConstraints,
    devices: &[DeviceInfo],
    opts: &SelectOptions,
) -> Result<Selection, ConstraintError> {
    let order = device_order(kind, devices);
    if order.is_empty() {
        return Err(ConstraintError::not_found(format!(
            "no {} device found (requested {kind})",
            DeviceKind::input_for(kind)
        )));
    }
    run(kind, constraints, devices, &order, Scope::AnyDevice, opts)
}

/// applyConstraints: the same selection over the candidates of one device.
pub fn select_on_device(
    kind: Kind,
    constraints: &TrackConstraints,
    device: &DeviceInfo,
    opts: &SelectOptions,
) -> Result<Selection, ConstraintError> {
    if device.kind == DeviceKind::Display {
        return match kind {
            Kind::Video => super::display::select_on(constraints, device),
            // The system's sound is selected as a microphone is.
            Kind::Audio => select_on_device(kind, constraints, &device.as_audio_input(), opts),
        };
    }
    if device.kind != DeviceKind::input_for(kind) {
        return Err(ConstraintError::not_found(format!(
            "device '{}' is a {}, not a {} source",
            device.label, device.kind, kind
        )));
    }
    let devices = std::slice::from_ref(device);
    run(kind, constraints, devices, &[0], Scope::OneDevice, opts)
}

/// Indices of the devices of `kind`, default first, then in slice order.
fn device_order(kind: Kind, devices: &[DeviceInfo]) -> Vec<usize> {
    let wanted = DeviceKind::input_for(kind);
    let mut order: Vec<usize> = (0..devices.len())
        .filter(|&i| devices[i].kind == wanted)
        .collect();
    order.sort_by_key(|&i| !devices[i].is_default);
    order
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    AnyDevice,
    OneDevice,
}

/// The value a candidate has for a property, as the fitness distance sees it.
#[derive(Clone, Copy)]
pub(super) enum Actual<'a> {
    Num(f64),
    Str(&'a str),
    Bool(bool),
    Missing,
}

fn relative(actual: f64, ideal: f64) -> f64 {
    if actual == ideal {
        0.0
    } else {
        (actual - ideal).abs() / actual.abs().max(ideal.abs())
    }
}

fn number_distance(c: &NumberConstraint, a: Actual) -> f64 {
    let Actual::Num(v) = a else {
        return if c.is_required() { f64::INFINITY } else { 1.0 };
    };
    if !c.satisfied_by(v) {
        return f64::INFINITY;
    }
    c.ideal.map_or(0.0, |i| relative(v, i))
}

fn discrete_eq(d: &Discrete, a: Actual) -> bool {
    match (d, a) {
        (Discrete::Str(s), Actual::Str(t)) => s == t,
        (Discrete::Bool(b), Actual::Bool(c)) => *b == c,
        _ => false,
    }
}

/// The spec's fitness distance of one constraint member.
pub(super) fn distance(c: &Constraint, a: Actual) -> f64 {
    match c {
        Constraint::Number(n) => number_distance(n, a),
        Constraint::Discrete(d) => {
            if matches!(a, Actual::Missing) {
                return if d.is_required() { f64::INFINITY } else { 1.0 };
            }
            if let Some(exact) = &d.exact
                && !exact.iter().any(|e| discrete_eq(e, a))
            {
                return f64::INFINITY;
            }
            match &d.ideal {
                None => 0.0,
                Some(list) if list.iter().any(|e| discrete_eq(e, a)) => 0.0,
                Some(_) => 1.0,
            }
        }
    }
}

/// Which level of a block a property's value lives at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Block,
    Shape,
    Rate,
}

fn level_of(p: Property) -> Level {
    match p {
        Property::Width | Property::Height | Property::AspectRatio => Level::Shape,
        Property::SampleRate
        | Property::ChannelCount
        | Property::EchoCancellation
        | Property::AutoGainControl
        | Property::NoiseSuppression => Level::Shape,
        Property::FrameRate => Level::Rate,
        Property::DeviceId
        | Property::GroupId
        | Property::FacingMode
        | Property::ResizeMode
        | Property::SampleSize
        | Property::Latency
        // A camera has none of the display's: Missing, the same for
        // every candidate of a device.
        | Property::DisplaySurface
        | Property::LogicalSurface
        | Property::Cursor => Level::Block,
    }
}

/// A shape: video dimensions, or audio rate, channels and processing flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Shape {
    Video {
        width: u32,
        height: u32,
    },
    Audio {
        rate: u32,
        channels: u32,
        ec: bool,
        agc: bool,
        ns: bool,
    },
}

impl Shape {
    /// Ordering step 6, larger first: (pixels, width) or (rate, channels).
    fn size(self) -> (u64, u64) {
        match self {
            Shape::Video { width, height } => (width as u64 * height as u64, width as u64),
            Shape::Audio { rate, channels, .. } => (rate as u64, channels as u64),
        }
    }
}

/// The constraint members of one set split by level, for the kind.
struct SetPlan<'a> {
    block: Vec<(Property, &'a Constraint)>,
    shape: Vec<(Property, &'a Constraint)>,
    rate: Vec<(Property, &'a Constraint)>,
}

impl<'a> SetPlan<'a> {
    fn new(set: &'a ConstraintSet, kind: Kind) -> Self {
        let mut plan = SetPlan {
            block: Vec::new(),
            shape: Vec::new(),
            rate: Vec::new(),
        };
        for (p, c) in set.for_kind(kind) {
            match level_of(*p) {
                Level::Block => plan.block.push((*p, c)),
                Level::Shape => plan.shape.push((*p, c)),
                Level::Rate => plan.rate.push((*p, c)),
            }
        }
        plan
    }

    /// Both plans' members: a candidate meets the two when it meets this.
    fn and(mut self, other: SetPlan<'a>) -> SetPlan<'a> {
        self.block.extend(other.block);
        self.shape.extend(other.shape);
        self.rate.extend(other.rate);
        self
    }
}

/// Every constraint set of the kind split by level, basic first.
fn plans(constraints: &TrackConstraints, kind: Kind) -> Vec<SetPlan<'_>> {
    constraints.sets().map(|s| SetPlan::new(s, kind)).collect()
}

/// Every numeric value some constraint sets name, per property, and the
/// step 5 defaults.
#[derive(Default)]
struct Values {
    width: Vec<f64>,
    height: Vec<f64>,
    aspect: Vec<f64>,
    rate: Vec<f64>,
    sample_rate: Vec<f64>,
    channels: Vec<f64>,
    /// Whether a set asks for an aspect ratio (step 4 then compares exact
    /// ratios, see [`AspectFit`]).
    asks_aspect: bool,
}

impl Values {
    /// Built from the basic set and the required members step 2 left (see
    /// [`required_part`]), not from every advanced set: a set that does not
    /// apply names no point of the final ordering, and thousands of sets
    /// would make a pool of their product.
    fn of<'a>(sets: impl Iterator<Item = &'a ConstraintSet>, kind: Kind) -> Values {
        let mut v = Values::default();
        for set in sets {
            for (p, c) in set.for_kind(kind) {
                let Constraint::Number(n) = c else { continue };
                if *p == Property::AspectRatio && n.values().next().is_some() {
                    v.asks_aspect = true;
                }
                let slot = match p {
                    Property::Width => &mut v.width,
                    Property::Height => &mut v.height,
                    Property::AspectRatio => &mut v.aspect,
                    Property::FrameRate => &mut v.rate,
                    Property::SampleRate => &mut v.sample_rate,
                    Property::ChannelCount => &mut v.channels,
                    _ => continue,
                };
                slot.extend(n.values());
            }
        }
        v.width.push(DEFAULT_WIDTH);
        v.height.push(DEFAULT_HEIGHT);
        v.rate.push(DEFAULT_FRAME_RATE);
        v.sample_rate.push(DEFAULT_SAMPLE_RATE);
        v.channels.push(DEFAULT_CHANNEL_COUNT);
        v
    }
}

/// A set's required part: min, max and exact of a number, exact of a string
/// or boolean (what step 2 filters by); `None` for an ideal alone.
fn required_part(c: &Constraint) -> Option<Constraint> {
    match c {
        Constraint::Number(n) if n.is_required() => Some(Constraint::Number(NumberConstraint {
            ideal: None,
            ..n.clone()
        })),
        Constraint::Discrete(d) if d.is_required() => {
            Some(Constraint::Discrete(super::parse::DiscreteConstraint {
                exact: d.exact.clone(),
                ideal: None,
            }))
        }
        _ => None,
    }
}

/// The bounds of two numbers at once (ideals dropped).
fn intersect_numbers(a: &NumberConstraint, b: &NumberConstraint) -> NumberConstraint {
    let pick = |x: Option<f64>, y: Option<f64>, f: fn(f64, f64) -> f64| match (x, y) {
        (Some(x), Some(y)) => Some(f(x, y)),
        (x, y) => x.or(y),
    };
    let mut n = NumberConstraint {
        min: pick(a.min, b.min, f64::max),
        max: pick(a.max, b.max, f64::min),
        exact: a.exact.or(b.exact),
        ideal: None,
    };
    let same = |x: f64, y: f64| {
        NumberConstraint {
            exact: Some(x),
            ..Default::default()
        }
        .satisfied_by(y)
    };
    if let (Some(x), Some(y)) = (a.exact, b.exact)
        && !same(x, y)
    {
        n.exact = None;
        n.min = Some(n.min.map_or(x.max(y), |m| m.max(x.max(y))));
        n.max = Some(n.max.map_or(x.min(y), |m| m.min(x.min(y))));
    }
    n
}

/// Both requirements at once. Numbers: the narrower bounds (two different
/// exact values become an empty range); strings and booleans: the values
/// both lists allow.
fn intersect(a: &Constraint, b: &Constraint) -> Constraint {
    match (a, b) {
        (Constraint::Number(a), Constraint::Number(b)) => {
            Constraint::Number(intersect_numbers(a, b))
        }
        (Constraint::Discrete(a), Constraint::Discrete(b)) => {
            Constraint::Discrete(super::parse::DiscreteConstraint {
                exact: match (&a.exact, &b.exact) {
                    (Some(x), Some(y)) => {
                        Some(x.iter().filter(|v| y.contains(v)).cloned().collect())
                    }
                    (x, y) => x.clone().or(y.clone()),
                },
                ideal: None,
            })
        }
        // A property has one type: not reached.
        _ => a.clone(),
    }
}

/// Adds the required members of `set` to `out`, one member per property
/// (in place: a long string list of the basic set is not copied per set).
fn merge_into(out: &mut ConstraintSet, set: &ConstraintSet, kind: Kind) {
    for (p, c) in set.for_kind(kind) {
        let Some(req) = required_part(c) else {
            continue;
        };
        match out.members.iter_mut().find(|(q, _)| q == p) {
            Some((_, have)) => *have = intersect(have, &req),
            None => out.members.push((*p, req)),
        }
    }
}

/// Whether no value can meet a number's bounds (up to the 1e-9 tolerance).
fn empty_range(n: &NumberConstraint) -> bool {
    let eps = |x: f64| 1e-9 * x.abs().max(1.0);
    let lo = n
        .min
        .into_iter()
        .chain(n.exact)
        .map(|v| v - eps(v))
        .fold(f64::NEG_INFINITY, f64::max);
    let hi = n
        .max
        .into_iter()
        .chain(n.exact)
        .map(|v| v + eps(v))
        .fold(f64::INFINITY, f64::min);
    lo > hi
}

/// Whether no value can meet some member of `set` together with
/// `required` (`exact: 640` after `exact: 1280`, two lists without a
/// common string): step 2 then needs no candidate to skip the set.
fn plainly_empty(required: &ConstraintSet, set: &ConstraintSet, kind: Kind) -> bool {
    set.for_kind(kind)
        .any(|(p, c)| match (c, required.get(*p)) {
            (Constraint::Number(n), Some(Constraint::Number(m))) => {
                n.is_required() && empty_range(&intersect_numbers(m, n))
            }
            (Constraint::Number(n), _) => empty_range(n),
            (Constraint::Discrete(d), have) => d.exact.as_ref().is_some_and(|x| match have {
                Some(Constraint::Discrete(super::parse::DiscreteConstraint {
                    exact: Some(y),
                    ..
                })) => !x.iter().any(|v| y.contains(v)),
                _ => x.is_empty(),
            }),
        })
}

/// Integer points of `[lo, hi]`: its ends and `values` clamped into it.
fn int_points(values: &[f64], r: IntRange) -> Vec<u32> {
    let mut out = vec![r.min, r.max];
    for &v in values {
        out.push(v.round().clamp(r.min as f64, r.max as f64) as u32);
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn video_shapes(values: &Values, w: IntRange, h: IntRange, native: (u32, u32)) -> Vec<Shape> {
    let ws = int_points(&values.width, w);
    let hs = int_points(&values.height, h);
    let mut shapes = Vec::with_capacity(ws.len() * hs.len() + 8);
    for &x in &ws {
        for &y in &hs {
            shapes.push((x, y));
        }
    }
    let in_box = |x: u64, y: u64| {
        (w.min as u64..=w.max as u64).contains(&x) && (h.min as u64..=h.max as u64).contains(&y)
    };
    // Step 4: the best sizes are a width or height point with the integers
    // on either side of its native-ratio partner, and in whole pixels the
    // rounded native shapes on either side of each point (the width 1000
    // has none on 16:9: 562 gives 999, 563 gives 1001).
    let (nw, nh) = native;
    let native = (nw > 0 && nh > 0).then(|| nw as f64 / nh as f64);
    if native.is_some() {
        let mut add = |x: u64, y: u64| {
            if in_box(x, y) {
                shapes.push((x as u32, y as u32));
            }
        };
        for &x in &ws {
            for y in around(x, nh, nw) {
                add(x as u64, y as u64);
                add(rounded_ratio(y, nw, nh), y as u64);
            }
        }
        for &y in &hs {
            for x in around(y, nw, nh) {
                add(x as u64, y as u64);
                add(x as u64, rounded_ratio(x, nh, nw));
            }
        }
    }
    // A derived dimension is an integer on either side of the exact value:
    // which one is best depends on the other constraints.
    let near = |v: f64, r: IntRange| {
        [v.floor(), v.ceil()]
            .into_iter()
            .filter(move |x| *x >= r.min as f64 && *x <= r.max as f64)
            .map(|x| x as u32)
    };
    let aspects = values.aspect.iter().filter(|a| a.is_finite() && **a > 0.0);
    for &a in aspects.clone() {
        // Along a ratio bound the best integer size can be the other
        // dimension's neighbour derived back (38x16 under a 2.4 bound, when
        // the width 39 wants a height of 16.25): derive both ways.
        for &x in &ws {
            for y in near(x as f64 / a, h) {
                shapes.push((x, y));
                shapes.extend(near(y as f64 * a, w).map(|x| (x, y)));
            }
        }
        for &y in &hs {
            for x in near(y as f64 * a, w) {
                shapes.push((x, y));
                shapes.extend(near(x as f64 / a, h).map(|y| (x, y)));
            }
        }
    }
    // Under an aspectRatio constraint step 4 compares the exact native
    // ratio: its sizes and best approximations are points too.
    let exact_native = native.filter(|_| values.asks_aspect);
    for a in aspects.copied().chain(exact_native) {
        // The sizes whose ratio is closest to `a` lie on the lattices of its
        // best rational approximations p/q: take the multiples of each
        // nearest to every width and height value.
        let mut ks = Vec::with_capacity(2 * (ws.len() + hs.len()));
        for (p, q) in convergents(a, w.max as u64, h.max as u64) {
            ks.clear();
            ks.extend(
                ws.iter()
                    .flat_map(|&x| [x as u64 / p, (x as u64).div_ceil(p)])
                    .chain(
                        hs.iter()
                            .flat_map(|&y| [y as u64 / q, (y as u64).div_ceil(q)]),
                    )
                    .filter(|&k| k > 0 && in_box(k * p, k * q)),
            );
            // Neighbouring points often give the same multiple.
            ks.sort_unstable();
            ks.dedup();
            shapes.extend(ks.iter().map(|&k| ((k * p) as u32, (k * q) as u32)));
        }
    }
    // Many points coincide; one integer per size sorts faster than pairs.
    let mut keys: Vec<u64> = shapes
        .into_iter()
        .map(|(x, y)| (x as u64) << 32 | y as u64)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .map(|k| Shape::Video {
            width: (k >> 32) as u32,
            height: k as u32,
        })
        .collect()
}

/// `v * num / den` rounded, halves away from zero, in exact integers (a
/// float ratio such as 1280/720 is not exact and can round a half the wrong
/// way).
fn rounded_ratio(v: u32, num: u32, den: u32) -> u64 {
    let (v, num, den) = (v as u128, num as u128, den as u128);
    ((2 * v * num + den) / (2 * den)) as u64
}

/// The integers on either side of `v * num / den`.
fn around(v: u32, num: u32, den: u32) -> [u32; 2] {
    let (p, d) = (v as u64 * num as u64, den as u64);
    let clamp = |x: u64| x.min(u32::MAX as u64) as u32;
    [clamp(p / d), clamp(p.div_ceil(d))]
}

/// The best rational approximations p/q of `a` with p <= `pmax` and
/// q <= `qmax`: its continued-fraction convergents and the semiconvergents
/// between them (at most 16 per term).
fn convergents(a: f64, pmax: u64, qmax: u64) -> Vec<(u64, u64)> {
    let (mut p0, mut p1, mut q0, mut q1) = (0u64, 1u64, 1u64, 0u64);
    let mut x = a;
    let mut out = Vec::new();
    for _ in 0..40 {
        if !x.is_finite() || x > u32::MAX as f64 {
            break;
        }
        let t = x.floor() as u64;
        for k in (t / 2).max(t.saturating_sub(16)).max(1)..=t {
            let (p, q) = (k * p1 + p0, k * q1 + q0);
            if p > 0 && p <= pmax && q <= qmax && q > 0 {
                out.push((p, q));
            }
        }
        let (p2, q2) = (t * p1 + p0, t * q1 + q0);
        if p2 > pmax || q2 > qmax {
            break;
        }
        (p0, p1, q0, q1) = (p1, p2, q1, q2);
        let frac = x - x.floor();
        if frac < 1e-12 {
            break;
        }
        x = 1.0 / frac;
    }
    out
}

/// What the required width, height and aspectRatio members of some
/// constraint sets leave of the sizes, with the engine's 1e-9 tolerance:
/// whole widths and heights, and a ratio interval.
#[derive(Debug, Clone, Copy)]
struct SizeRegion {
    width: (u64, u64),
    height: (u64, u64),
    aspect: (f64, f64),
}

impl SizeRegion {
    fn of<'a, 'b: 'a>(sets: impl Iterator<Item = &'a SetPlan<'b>>) -> SizeRegion {
        let mut r = SizeRegion {
            width: (0, u64::MAX),
            height: (0, u64::MAX),
            aspect: (0.0, f64::INFINITY),
        };
        let eps = |x: f64| 1e-9 * x.abs().max(1.0);
        for plan in sets {
            for (p, c) in &plan.shape {
                let Constraint::Number(n) = c else { continue };
                let lows = n.min.into_iter().chain(n.exact).map(|v| v - eps(v));
                let highs = n.max.into_iter().chain(n.exact).map(|v| v + eps(v));
                let whole = |r: &mut (u64, u64)| {
                    for v in lows.clone() {
                        r.0 = r.0.max(v.max(0.0).ceil() as u64);
                    }
                    for v in highs.clone() {
                        r.1 = r.1.min(v.max(0.0).floor() as u64);
                    }
                };
                match p {
                    Property::Width => whole(&mut r.width),
                    Property::Height => whole(&mut r.height),
                    Property::AspectRatio => {
                        r.aspect.0 = lows.clone().fold(r.aspect.0, f64::max);
                        r.aspect.1 = highs.clone().fold(r.aspect.1, f64::min);
                    }
                    _ => {}
                }
            }
        }
        r
    }

    /// Whether no size of `area` is inside, even ignoring whole pixels.
    fn misses(&self, (w, h): (IntRange, IntRange)) -> bool {
        let (w0, w1) = (
            self.width.0.max(w.min as u64),
            self.width.1.min(w.max as u64),
        );
        let (h0, h1) = (
            self.height.0.max(h.min as u64),
            self.height.1.min(h.max as u64),
        );
        w0 > w1
            || h0 > h1
            || h1 == 0
            || (w1 as f64) < self.aspect.0 * h0.max(1) as f64
            || (w0 as f64) > self.aspect.1 * h1 as f64
    }
}

/// Scans no more rows than this for the sizes closest to a ratio (a mode
/// larger than 16384 pixels both ways keeps the other points only).
const RATIO_SCAN_MAX: u64 = 1 << 14;

/// The sizes x * y in `xs` x `ys` with `lo <= x / y <= hi` whose ratio is
/// closest to `nx / ny` from below and from above (ties: the first found),
/// by one pass over the rows `y`: in a row the closest widths are the
/// integers on either side of `y * nx / ny`, clamped into the row.
fn closest_ratios(
    xs: (u64, u64),
    ys: (u64, u64),
    (lo, hi): (f64, f64),
    (nx, ny): (u64, u64),
) -> [Option<(u64, u64)>; 2] {
    let mut below: Option<(u64, u64)> = None;
    let mut above: Option<(u64, u64)> = None;
    // a/b against c/d in exact integers.
    let cross = |(a, b): (u64, u64), (c, d): (u64, u64)| {
        (a as u128 * d as u128).cmp(&(c as u128 * b as u128))
    };
    for y in ys.0.max(1)..=ys.1 {
        let row_lo = xs.0.max((lo * y as f64).ceil() as u64).max(1);
        let row_hi =
            xs.1.min((hi * y as f64).min(u64::MAX as f64).floor() as u64);
        if row_lo > row_hi {
            continue;
        }
        let exact = y as u128 * nx as u128;
        let floor = (exact / ny as u128).min(u64::MAX as u128) as u64;
        let ceil = exact.div_ceil(ny as u128).min(u64::MAX as u128) as u64;
        let x = floor.min(row_hi);
        if x >= row_lo && below.is_none_or(|b| cross((x, y), b).is_gt()) {
            below = Some((x, y));
        }
        let x = ceil.max(row_lo);
        if x <= row_hi && above.is_none_or(|a| cross((x, y), a).is_lt()) {
            above = Some((x, y));
        }
    }
    [below, above]
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Frame rates of `[lo, hi]` (or `(lo, hi]` when `open_low`); never 0 or less.
fn rate_points(values: &[f64], lo: f64, hi: f64, open_low: bool) -> Vec<f64> {
    let mut out = vec![hi];
    if !open_low {
        out.push(lo);
    }
    for &v in values {
        if open_low && v <= lo {
            continue;
        }
        out.push(v.clamp(lo, hi));
    }
    out.retain(|&r| r > 0.0);
    out.sort_by(f64::total_cmp);
    out.dedup();
    out
}

fn audio_shapes(
    values: &Values,
    rate: IntRange,
    channels: IntRange,
    processing: bool,
) -> Vec<Shape> {
    let mut rates = int_points(&values.sample_rate, rate);
    if processing {
        // Processing can be on only at these rates: each is a candidate.
        rates.extend(
            PROCESSING_RATES
                .iter()
                .filter(|r| (rate.min..=rate.max).contains(*r)),
        );
        rates.sort_unstable();
        rates.dedup();
    }
    let chans = int_points(&values.channels, channels);
    let mut shapes = Vec::new();
    for &r in &rates {
        let flags: &[bool] = if processing && PROCESSING_RATES.contains(&r) {
            &[false, true]
        } else {
            &[false]
        };
        for &c in &chans {
            for &ec in flags {
                for &agc in flags {
                    for &ns in flags {
                        shapes.push(Shape::Audio {
                            rate: r,
                            channels: c,
                            ec,
                            agc,
                            ns,
                        });
                    }
                }
            }
        }
    }
    shapes
}

/// The defaults as ideal values (ordering step 5), split by level.
fn default_set(kind: Kind) -> ConstraintSet {
    let ideal = |v: f64| {
        Constraint::Number(NumberConstraint {
            ideal: Some(v),
            ..Default::default()
        })
    };
    let ideal_bool = |b: bool| {
        Constraint::Discrete(super::parse::DiscreteConstraint {
            exact: None,
            ideal: Some(vec![Discrete::Bool(b)]),
        })
    };
    let members = match kind {
        Kind::Video => vec![
            (Property::Width, ideal(DEFAULT_WIDTH)),
            (Property::Height, ideal(DEFAULT_HEIGHT)),
            (Property::FrameRate, ideal(DEFAULT_FRAME_RATE)),
        ],
        Kind::Audio => vec![
            (Property::SampleRate, ideal(DEFAULT_SAMPLE_RATE)),
            (Property::ChannelCount, ideal(DEFAULT_CHANNEL_COUNT)),
            (Property::SampleSize, ideal(DEFAULT_SAMPLE_SIZE)),
            (Property::EchoCancellation, ideal_bool(false)),
            (Property::AutoGainControl, ideal_bool(false)),
            (Property::NoiseSuppression, ideal_bool(false)),
        ],
    };
    ConstraintSet { members }
}

/// Sums from +0.0: `Iterator::sum` starts at -0.0, which orders before 0.0.
fn sum(it: impl Iterator<Item = f64>) -> f64 {
    it.fold(0.0, |a, b| a + b)
}

/// Compares distances and ratios, taking values within rounding noise
/// (1e-9 relative) as equal, so that the later ordering steps decide.
fn cmp_f(a: f64, b: f64) -> Ordering {
    if (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0) {
        return Ordering::Equal;
    }
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}

/// Per entry of a table (a shape or a rate): its distance to the basic set
/// and to the defaults, and what steps 1 and 2 left of the entries.
#[derive(Default)]
struct Scores {
    basic: Vec<f64>,
    default: Vec<f64>,
    alive: Vec<bool>,
    /// The alive entry that orders first, once steps 1 and 2 are done.
    best: Option<usize>,
}

type Members<'a> = [(Property, &'a Constraint)];

impl Scores {
    /// `distance(entry, members)` is the summed fitness distance of an entry.
    fn new(
        n: usize,
        basic: &Members,
        defaults: &Members,
        distance: impl Fn(usize, &Members) -> f64,
    ) -> Scores {
        let basic: Vec<f64> = (0..n).map(|i| distance(i, basic)).collect();
        Scores {
            alive: basic.iter().map(|d| d.is_finite()).collect(),
            basic,
            default: (0..n).map(|i| distance(i, defaults)).collect(),
            best: None,
        }
    }

    fn any_alive(&self) -> bool {
        self.alive.iter().any(|&a| a)
    }
}

/// The shapes of one region (a size range and resizeMode, or an audio rate
/// and channel range) with everything about them that does not depend on
/// the device: many modes of many devices share a region, so each region
/// is evaluated once.
struct ShapeTable {
    resize: ResizeMode,
    /// Native width and height (crop-and-scale: ordering step 4).
    native: (u32, u32),
    /// The sizes the region allows (video; for audio, rates and channels).
    area: (IntRange, IntRange),
    /// The last point step 2 found meeting the sets applied (and one more).
    witness: Option<Shape>,
    shapes: Vec<Shape>,
    scores: Scores,
    /// Ordering step 4 of each shape, once steps 1 and 2 are done.
    fits: Vec<AspectFit>,
}

/// The frame rates of one rate range (audio: a single placeholder).
struct RateTable {
    /// The range: `[lo, hi]`, or `(lo, hi]` when `open_low`.
    range: (f64, f64, bool),
    /// The last rate step 2 found meeting the sets applied (and one more).
    witness: Option<f64>,
    rates: Vec<f64>,
    scores: Scores,
}

impl ShapeTable {
    fn actual(&self, s: Shape, p: Property) -> Actual<'static> {
        match (s, p) {
            (Shape::Video { width, .. }, Property::Width) => Actual::Num(width as f64),
            (Shape::Video { height, .. }, Property::Height) => Actual::Num(height as f64),
            (Shape::Video { width, height }, Property::AspectRatio) => {
                Actual::Num(width as f64 / height as f64)
            }
            (Shape::Audio { rate, .. }, Property::SampleRate) => Actual::Num(rate as f64),
            (Shape::Audio { channels, .. }, Property::ChannelCount) => Actual::Num(channels as f64),
            (Shape::Audio { ec, .. }, Property::EchoCancellation) => Actual::Bool(ec),
            (Shape::Audio { agc, .. }, Property::AutoGainControl) => Actual::Bool(agc),
            (Shape::Audio { ns, .. }, Property::NoiseSuppression) => Actual::Bool(ns),
            _ => Actual::Missing,
        }
    }

    /// The points of the table's region for `values`.
    fn points(&self, kind: Kind, values: &Values, processing: bool) -> Vec<Shape> {
        let (a, b) = self.area;
        match kind {
            Kind::Video => video_shapes(values, a, b, self.native),
            Kind::Audio => audio_shapes(values, a, b, processing),
        }
    }

    /// A point for `values` that meets `members`, if any.
    fn find(
        &self,
        kind: Kind,
        values: &Values,
        processing: bool,
        members: &Members,
    ) -> Option<Shape> {
        self.points(kind, values, processing)
            .into_iter()
            .find(|&s| self.meets(s, members))
    }

    fn meets(&self, s: Shape, members: &Members) -> bool {
        members
            .iter()
            .all(|(p, c)| distance(c, self.actual(s, *p)).is_finite())
    }

    fn distance(&self, i: usize, members: &Members) -> f64 {
        let s = self.shapes[i];
        sum(members.iter().map(|(p, c)| distance(c, self.actual(s, *p))))
    }

    /// The widths and heights of `region` that the mode's area allows.
    fn sides_in_area(&self, region: &SizeRegion) -> ((u64, u64), (u64, u64)) {
        let (aw, ah) = self.area;
        (
            (
                region.width.0.max(aw.min as u64),
                region.width.1.min(aw.max as u64),
            ),
            (
                region.height.0.max(ah.min as u64),
                region.height.1.min(ah.max as u64),
            ),
        )
    }

    /// Under an aspectRatio constraint, step 4 takes the ratio closest to
    /// the native one that `region` allows, which can lie far from every
    /// value the constraints name (81x86 from 112x112 under `max: 0.942`):
    /// adds the closest sizes on either side, and the multiples of their
    /// ratio that steps 5 and 6 could take (the ends, and those nearest the
    /// basic set's and the default width and height), scored as the others.
    fn add_closest_ratios(
        &mut self,
        region: &SizeRegion,
        basic: &SetPlan,
        applied: &[&SetPlan],
        defaults: &SetPlan,
    ) {
        let (nw, nh) = (self.native.0 as u64, self.native.1 as u64);
        if self.resize != ResizeMode::CropAndScale || nw == 0 || nh == 0 {
            return;
        }
        let (ws, hs) = self.sides_in_area(region);
        if ws.0 > ws.1 || hs.0 > hs.1 || region.aspect.0 > region.aspect.1 {
            return;
        }
        // Scan the shorter side.
        let found = if hs.1 - hs.0 <= ws.1 - ws.0 && hs.1 - hs.0 < RATIO_SCAN_MAX {
            closest_ratios(ws, hs, region.aspect, (nw, nh))
        } else if ws.1 - ws.0 < RATIO_SCAN_MAX {
            let (lo, hi) = region.aspect;
            closest_ratios(hs, ws, (1.0 / hi, 1.0 / lo), (nh, nw)).map(|s| s.map(|(y, x)| (x, y)))
        } else {
            return;
        };
        let ideal = |plan: &SetPlan, p: Property| {
            plan.shape.iter().find_map(|(q, c)| match c {
                Constraint::Number(n) if *q == p => n.ideal,
                _ => None,
            })
        };
        let targets_w = [ideal(basic, Property::Width), Some(DEFAULT_WIDTH)];
        let targets_h = [ideal(basic, Property::Height), Some(DEFAULT_HEIGHT)];
        let first = self.shapes.len();
        for (w, h) in found.into_iter().flatten() {
            let g = gcd(w, h);
            let (p, q) = (w / g, h / g);
            let (kmin, kmax) = (
                ws.0.div_ceil(p).max(hs.0.div_ceil(q)),
                (ws.1 / p).min(hs.1 / q),
            );
            let near = |v: f64, d: u64| {
                let k = (v / d as f64).max(0.0);
                [k.floor() as u64, k.ceil() as u64]
            };
            let mut ks: Vec<u64> = [kmin, kmax, g]
                .into_iter()
                .chain(targets_w.iter().flatten().flat_map(|&v| near(v, p)))
                .chain(targets_h.iter().flatten().flat_map(|&v| near(v, q)))
                .map(|k| k.clamp(kmin, kmax))
                .collect();
            ks.sort_unstable();
            ks.dedup();
            self.shapes
                .extend(ks.iter().filter(|&&k| k > 0).map(|&k| Shape::Video {
                    width: (k * p) as u32,
                    height: (k * q) as u32,
                }));
        }
        self.score_from(first, basic, applied, defaults);
    }

    /// Scores the shapes from `first` on, added after the evaluation.
    fn score_from(
        &mut self,
        first: usize,
        basic: &SetPlan,
        applied: &[&SetPlan],
        defaults: &SetPlan,
    ) {
        for i in first..self.shapes.len() {
            let d = self.distance(i, &basic.shape);
            let alive = d.is_finite()
                && applied
                    .iter()
                    .all(|a| self.distance(i, &a.shape).is_finite());
            self.scores.basic.push(d);
            self.scores.default.push(self.distance(i, &defaults.shape));
            self.scores.alive.push(alive);
        }
    }

    /// With an ideal width and height and a ratio bound, step 1's best
    /// size can lie inside the bound's line, away from every named value
    /// (19x8 for ideals 23x7 under a ratio of at most 2.4, where 7 gives
    /// 16x7): in each row the best width is the ideal clamped into the
    /// row, so one pass over the rows finds the best rows; they are added
    /// (at most 8 equal ones, which later steps order).
    fn add_best_rows(
        &mut self,
        region: &SizeRegion,
        basic: &SetPlan,
        applied: &[&SetPlan],
        defaults: &SetPlan,
    ) {
        let ideal = |p: Property| {
            basic.shape.iter().find_map(|(q, c)| match c {
                Constraint::Number(n) if *q == p => n.ideal,
                _ => None,
            })
        };
        let (Some(iw), Some(ih)) = (ideal(Property::Width), ideal(Property::Height)) else {
            return;
        };
        if ideal(Property::AspectRatio).is_some() || region.aspect == (0.0, f64::INFINITY) {
            return;
        }
        let (ws, hs) = self.sides_in_area(region);
        if ws.0 > ws.1 || hs.0 > hs.1 || hs.1 - hs.0 >= RATIO_SCAN_MAX {
            return;
        }
        let (lo, hi) = region.aspect;
        let mut best: Vec<(f64, u64, u64)> = Vec::new();
        for y in hs.0.max(1)..=hs.1 {
            let row_lo = ws.0.max((lo * y as f64).ceil() as u64);
            let row_hi =
                ws.1.min((hi * y as f64).min(u64::MAX as f64).floor() as u64);
            if row_lo > row_hi {
                continue;
            }
            let x = (iw.max(0.0) as u64).clamp(row_lo, row_hi);
            let d = relative(x as f64, iw) + relative(y as f64, ih);
            match best.first().map(|b| cmp_f(d, b.0)) {
                Some(Ordering::Greater) => {}
                Some(Ordering::Equal) if best.len() >= 8 => {}
                Some(Ordering::Equal) => best.push((d, x, y)),
                _ => best = vec![(d, x, y)],
            }
        }
        let first = self.shapes.len();
        self.shapes
            .extend(best.iter().map(|&(_, x, y)| Shape::Video {
                width: x as u32,
                height: y as u32,
            }));
        self.score_from(first, basic, applied, defaults);
    }

    /// Ordering step 4 of every alive shape (the others are never
    /// compared), counted in whole pixels or not.
    fn fit(&mut self, whole_pixels: bool) {
        let fits = self
            .shapes
            .iter()
            .zip(&self.scores.alive)
            .map(|(&s, &alive)| match (self.resize, s) {
                (ResizeMode::CropAndScale, Shape::Video { width, height }) if alive => {
                    AspectFit::of(width, height, self.native, whole_pixels)
                }
                _ => AspectFit::NATIVE,
            })
            .collect();
        self.fits = fits;
    }

    fn evaluate(&mut self, basic: &SetPlan, defaults: &SetPlan) {
        self.scores = Scores::new(self.shapes.len(), &basic.shape, &defaults.shape, |i, m| {
            self.distance(i, m)
        });
    }

    fn order(&self, i: usize, j: usize) -> Ordering {
        let (si, sj, sc) = (self.shapes[i], self.shapes[j], &self.scores);
        cmp_f(sc.basic[i], sc.basic[j])
            .then(self.fits[i].compare(&self.fits[j]))
            .then(cmp_f(sc.default[i], sc.default[j]))
            .then(sj.size().cmp(&si.size()))
            .then(si.cmp(&sj))
    }
}

impl RateTable {
    fn points(&self, kind: Kind, values: &Values) -> Vec<f64> {
        let (lo, hi, open_low) = self.range;
        match kind {
            Kind::Video => rate_points(&values.rate, lo, hi, open_low),
            Kind::Audio => vec![0.0],
        }
    }

    fn find(&self, kind: Kind, values: &Values, members: &Members) -> Option<f64> {
        self.points(kind, values)
            .into_iter()
            .find(|&r| Self::meets(r, members))
    }

    fn meets(r: f64, members: &Members) -> bool {
        members
            .iter()
            .all(|(_, c)| distance(c, Actual::Num(r)).is_finite())
    }

    fn distance(&self, i: usize, members: &Members) -> f64 {
        let r = self.rates[i];
        sum(members.iter().map(|(_, c)| distance(c, Actual::Num(r))))
    }

    fn evaluate(&mut self, basic: &SetPlan, defaults: &SetPlan) {
        self.scores = Scores::new(self.rates.len(), &basic.rate, &defaults.rate, |i, m| {
            self.distance(i, m)
        });
    }

    fn order(&self, i: usize, j: usize) -> Ordering {
        let sc = &self.scores;
        cmp_f(sc.basic[i], sc.basic[j])
            .then(cmp_f(sc.default[i], sc.default[j]))
            .then(cmp_f(self.rates[j], self.rates[i]))
    }
}

/// The settings a native mode offers with a resizeMode: sizes, and frame
/// rates from `lo` (excluded when `open_low`) to the mode's highest.
struct Region {
    w: IntRange,
    h: IntRange,
    lo: f64,
    open_low: bool,
}

impl Region {
    fn of(m: &VideoMode, resize: ResizeMode) -> Region {
        match resize {
            // A variable-rate mode (`[0/1, F]`) cannot give 0 fps either.
            ResizeMode::None => Region {
                w: m.width,
                h: m.height,
                lo: m.min_rate.to_f64().max(0.0),
                open_low: m.min_rate.to_f64() <= 0.0,
            },
            // Downscale, crop and decimate; never upscale.
            ResizeMode::CropAndScale => Region {
                w: IntRange::new(1, m.width.max),
                h: IntRange::new(1, m.height.max),
                lo: 0.0,
                open_low: true,
            },
        }
    }
}

/// One (device, native mode, resizeMode): its candidates are the product of
/// its shape table's shapes and its rate table's rates.
struct Block<'a> {
    device: &'a DeviceInfo,
    device_index: usize,
    device_rank: usize,
    mode_index: usize,
    resize: ResizeMode,
    /// Crop-and-scale only: native width x height (ordering step 7).
    native_area: u64,
    encoded: bool,
    structure_index: usize,
    sample_size: u32,
    rate_fractions: (Fraction, Fraction),
    shapes: usize,
    rates: usize,
    /// Block-level distance to the basic set and to the defaults.
    basic: f64,
    default: f64,
    alive: bool,
}

#[derive(Clone, Copy, Default)]
struct Extents {
    width: (f64, f64),
    height: (f64, f64),
    aspect: (f64, f64),
    /// Lower end excluded (decimation approaches 0 fps).
    rate: (f64, f64, bool),
    sample_rate: (f64, f64),
    channels: (f64, f64),
    sample_size: (f64, f64),
    latency: (f64, f64),
}

impl Block<'_> {
    /// Range of each numeric property over the block, for error messages.
    fn extents(&self) -> Extents {
        match &self.device.modes[self.mode_index] {
            NativeMode::Video(m) => {
                let Region { w, h, lo, open_low } = Region::of(m, self.resize);
                Extents {
                    width: (w.min as f64, w.max as f64),
                    height: (h.min as f64, h.max as f64),
                    aspect: (w.min as f64 / h.max as f64, w.max as f64 / h.min as f64),
                    rate: (lo, m.max_rate.to_f64(), open_low),
                    ..Default::default()
                }
            }
            NativeMode::Audio(m) => Extents {
                sample_rate: (m.rate.min as f64, m.rate.max as f64),
                channels: (m.channels.min as f64, m.channels.max as f64),
                sample_size: (m.sample_size as f64, m.sample_size as f64),
                latency: (self.device.latency, self.device.latency),
                ..Default::default()
            },
        }
    }

    fn actual(&self, p: Property) -> Actual<'_> {
        match p {
            Property::DeviceId => Actual::Str(&self.device.device_id),
            Property::GroupId => Actual::Str(&self.device.group_id),
            Property::FacingMode => self
                .device
                .facing_mode
                .as_deref()
                .map_or(Actual::Missing, Actual::Str),
            Property::ResizeMode => Actual::Str(self.resize.as_str()),
            Property::SampleSize => Actual::Num(self.sample_size as f64),
            Property::Latency => Actual::Num(self.device.latency),
            _ => Actual::Missing,
        }
    }

    fn distance_to(&self, members: &[(Property, &Constraint)]) -> f64 {
        sum(members.iter().map(|(p, c)| distance(c, self.actual(*p))))
    }
}

/// Every candidate of a selection: blocks over shared shape and rate tables.
struct Pool<'a> {
    blocks: Vec<Block<'a>>,
    shapes: Vec<ShapeTable>,
    rates: Vec<RateTable>,
    /// Which advanced sets step 2 applied.
    applied: Vec<bool>,
}

type ShapeKey = (u32, u32, u32, u32, ResizeMode);
type RateKey = (u64, u64, bool);

impl<'a> Pool<'a> {
    /// Builds the candidates and runs steps 1 and 2 with `plans`, the
    /// constraint sets split by level (basic first).
    fn new(
        kind: Kind,
        constraints: &TrackConstraints,
        plans: &[SetPlan],
        devices: &'a [DeviceInfo],
        order: &[usize],
        opts: &SelectOptions,
    ) -> Pool<'a> {
        let mut pool = Pool {
            blocks: Vec::new(),
            shapes: Vec::new(),
            rates: Vec::new(),
            applied: Vec::new(),
        };
        pool.build(kind, devices, order);
        let defaults_set = default_set(kind);
        let defaults = SetPlan::new(&defaults_set, kind);
        let basic = &plans[0];
        for b in &mut pool.blocks {
            b.basic = b.distance_to(&basic.block);
            b.default = b.distance_to(&defaults.block);
            b.alive = b.basic.is_finite();
        }
        let required = pool.step2(kind, constraints, opts);
        // The points of the final ordering: the basic set's values and the
        // bounds the applied sets leave.
        let values = Values::of([&constraints.basic, &required].into_iter(), kind);
        // A witness of step 2 is a candidate too: the points of other
        // values may not meet the sets it met.
        for t in &mut pool.shapes {
            t.shapes = t.points(kind, &values, opts.audio_processing);
            t.shapes.extend(t.witness);
        }
        for t in &mut pool.rates {
            t.rates = t.points(kind, &values);
            t.rates.extend(t.witness);
        }
        let required = SetPlan::new(&required, kind);
        for t in &mut pool.shapes {
            t.evaluate(basic, &defaults);
            for i in 0..t.shapes.len() {
                t.scores.alive[i] &= t.distance(i, &required.shape).is_finite();
            }
        }
        for t in &mut pool.rates {
            t.evaluate(basic, &defaults);
            for i in 0..t.rates.len() {
                t.scores.alive[i] &= t.distance(i, &required.rate).is_finite();
            }
        }
        for b in &mut pool.blocks {
            b.alive &= b.distance_to(&required.block).is_finite();
        }
        pool.finish(kind, basic, &required, &defaults);
        pool
    }

    /// Blocks, and their shape and rate tables without points yet.
    fn build(&mut self, kind: Kind, devices: &'a [DeviceInfo], order: &[usize]) {
        let mut shape_index: HashMap<ShapeKey, usize> = HashMap::default();
        let mut rate_index: HashMap<RateKey, usize> = HashMap::default();
        let mut shape_table = |key: ShapeKey, native: (u32, u32), tables: &mut Vec<ShapeTable>| {
            *shape_index.entry(key).or_insert_with(|| {
                let (wmin, wmax, hmin, hmax, resize) = key;
                tables.push(ShapeTable {
                    resize,
                    native,
                    area: (IntRange::new(wmin, wmax), IntRange::new(hmin, hmax)),
                    witness: None,
                    shapes: Vec::new(),
                    scores: Scores::default(),
                    fits: Vec::new(),
                });
                tables.len() - 1
            })
        };
        let mut rate_table = |lo: f64, hi: f64, open_low: bool, tables: &mut Vec<RateTable>| {
            *rate_index
                .entry((lo.to_bits(), hi.to_bits(), open_low))
                .or_insert_with(|| {
                    tables.push(RateTable {
                        range: (lo, hi, open_low),
                        witness: None,
                        rates: Vec::new(),
                        scores: Scores::default(),
                    });
                    tables.len() - 1
                })
        };

        for (rank, &di) in order.iter().enumerate() {
            let device = &devices[di];
            for (mi, mode) in device.modes.iter().enumerate() {
                match (kind, mode) {
                    (Kind::Video, NativeMode::Video(m)) => {
                        let fmax = m.max_rate.to_f64();
                        if fmax <= 0.0 || m.width.max == 0 || m.height.max == 0 {
                            continue;
                        }
                        let native = (m.width.max, m.height.max);
                        for resize in [ResizeMode::None, ResizeMode::CropAndScale] {
                            let Region { w, h, lo, open_low } = Region::of(m, resize);
                            let shapes = shape_table(
                                (w.min, w.max, h.min, h.max, resize),
                                native,
                                &mut self.shapes,
                            );
                            let rates = rate_table(lo, fmax, open_low, &mut self.rates);
                            self.blocks.push(Block {
                                device,
                                device_index: di,
                                device_rank: rank,
                                mode_index: mi,
                                resize,
                                native_area: match resize {
                                    ResizeMode::None => 0,
                                    ResizeMode::CropAndScale => {
                                        m.width.max as u64 * m.height.max as u64
                                    }
                                },
                                encoded: m.is_encoded(),
                                structure_index: m.structure_index,
                                sample_size: 0,
                                rate_fractions: (m.min_rate, m.max_rate),
                                shapes,
                                rates,
                                basic: 0.0,
                                default: 0.0,
                                alive: true,
                            });
                        }
                    }
                    (Kind::Audio, NativeMode::Audio(m)) => {
                        if m.rate.max == 0 || m.channels.max == 0 {
                            continue;
                        }
                        let shapes = shape_table(
                            (
                                m.rate.min,
                                m.rate.max,
                                m.channels.min,
                                m.channels.max,
                                ResizeMode::None,
                            ),
                            (0, 0),
                            &mut self.shapes,
                        );
                        let rates = rate_table(0.0, 0.0, false, &mut self.rates);
                        self.blocks.push(Block {
                            device,
                            device_index: di,
                            device_rank: rank,
                            mode_index: mi,
                            resize: ResizeMode::None,
                            native_area: 0,
                            encoded: false,
                            structure_index: m.structure_index,
                            sample_size: m.sample_size,
                            rate_fractions: (Fraction::new(0, 1), Fraction::new(0, 1)),
                            shapes,
                            rates,
                            basic: 0.0,
                            default: 0.0,
                            alive: true,
                        });
                    }
                    _ => {}
                }
            }
        }
    }

    /// Step 2: each advanced set in order applies if some candidate meets
    /// it together with the basic set and the sets applied so far. Those
    /// requirements are merged into one set (one member per property), and
    /// the candidates for a set are the points of its own values and of the
    /// merged bounds: the cost is the sets times the tables, whatever the
    /// other sets. Returns the merged required set after the last one.
    fn step2(
        &mut self,
        kind: Kind,
        constraints: &TrackConstraints,
        opts: &SelectOptions,
    ) -> ConstraintSet {
        let mut required = ConstraintSet::default();
        merge_into(&mut required, &constraints.basic, kind);
        // Tables where no point meets the sets applied so far: none meets
        // more sets either.
        let mut dead = (
            vec![false; self.shapes.len()],
            vec![false; self.rates.len()],
        );
        for set in &constraints.advanced {
            let applies = !plainly_empty(&required, set, kind) && {
                let own = SetPlan::new(set, kind);
                let levels = (own.shape.is_empty(), own.rate.is_empty());
                // The required set and this one side by side: a candidate
                // meets both lists (an ideal in `set` is finite, so it
                // does not count).
                let plan = SetPlan::new(&required, kind).and(own);
                let values = || Values::of([&constraints.basic, &required, set].into_iter(), kind);
                self.witness(kind, &plan, values, levels, &mut dead, opts)
            };
            if applies {
                merge_into(&mut required, set, kind);
            }
            self.applied.push(applies);
        }
        required
    }

    /// Whether a candidate of an alive block meets `plan`: the tables' last
    /// witnesses are tried first (a set that narrows little keeps them),
    /// then the points of `points_of` (the basic, required and new sets'
    /// values), each table once; a witness found is kept, and is a
    /// candidate of the final ordering.
    fn witness(
        &mut self,
        kind: Kind,
        plan: &SetPlan,
        points_of: impl Fn() -> Values,
        // Whether the set adds nothing at the shape, the rate level.
        (same_shapes, same_rates): (bool, bool),
        dead: &mut (Vec<bool>, Vec<bool>),
        opts: &SelectOptions,
    ) -> bool {
        // Video: a table whose sizes or rates the bounds miss has no point.
        let region = SizeRegion::of(std::iter::once(plan));
        let rate_bounds = plan
            .rate
            .iter()
            .fold((0.0f64, f64::INFINITY), |(lo, hi), (_, c)| {
                let Constraint::Number(n) = c else {
                    return (lo, hi);
                };
                let eps = |x: f64| 1e-9 * x.abs().max(1.0);
                (
                    n.min
                        .into_iter()
                        .chain(n.exact)
                        .map(|v| v - eps(v))
                        .fold(lo, f64::max),
                    n.max
                        .into_iter()
                        .chain(n.exact)
                        .map(|v| v + eps(v))
                        .fold(hi, f64::min),
                )
            });
        let mut values = None;
        let mut shape_ok: Vec<Option<bool>> = vec![None; self.shapes.len()];
        let mut rate_ok: Vec<Option<bool>> = vec![None; self.rates.len()];
        let (shapes, rates) = (&mut self.shapes, &mut self.rates);
        self.blocks.iter().filter(|b| b.alive).any(|b| {
            if !b.distance_to(&plan.block).is_finite() {
                return false;
            }
            let t = &mut shapes[b.shapes];
            let ok = *shape_ok[b.shapes].get_or_insert_with(|| {
                if dead.0[b.shapes] || kind == Kind::Video && region.misses(t.area) {
                    return false;
                }
                if t.witness.is_some_and(|w| t.meets(w, &plan.shape)) {
                    return true;
                }
                let values = values.get_or_insert_with(&points_of);
                let found = t.find(kind, values, opts.audio_processing, &plan.shape);
                t.witness = found.or(t.witness);
                dead.0[b.shapes] = found.is_none() && same_shapes;
                found.is_some()
            });
            if !ok {
                return false;
            }
            let t = &mut rates[b.rates];
            *rate_ok[b.rates].get_or_insert_with(|| {
                let (lo, hi, _) = t.range;
                if dead.1[b.rates]
                    || kind == Kind::Video && (rate_bounds.0 > hi || rate_bounds.1 < lo)
                {
                    return false;
                }
                if t.witness.is_some_and(|w| RateTable::meets(w, &plan.rate)) {
                    return true;
                }
                let values = values.get_or_insert_with(&points_of);
                let found = t.find(kind, values, &plan.rate);
                t.witness = found.or(t.witness);
                dead.1[b.rates] = found.is_none() && same_rates;
                found.is_some()
            })
        })
    }

    /// After steps 1 and 2: the blocks with a candidate left, and per table
    /// its step 4 values and the entry that orders first.
    fn finish(&mut self, kind: Kind, basic: &SetPlan, required: &SetPlan, defaults: &SetPlan) {
        for b in &mut self.blocks {
            b.alive &=
                self.shapes[b.shapes].scores.any_alive() && self.rates[b.rates].scores.any_alive();
        }
        // Whole pixels only where the ratio is free: under an aspectRatio
        // constraint a size can be a rounded native shape by accident of
        // scale (3x2 is 4:3 in whole pixels), and would beat every larger
        // size of the asked ratio.
        let asks_aspect = |plan: &SetPlan, ideal_counts: bool| {
            plan.shape.iter().any(|(p, c)| {
                *p == Property::AspectRatio
                    && matches!(c, Constraint::Number(n)
                        if n.is_required() || ideal_counts && n.ideal.is_some())
            })
        };
        let whole_pixels = !asks_aspect(basic, true) && !asks_aspect(required, false);
        if !whole_pixels {
            // The sizes closest to each native shape inside the ratio
            // bounds that steps 1 and 2 leave.
            let region = SizeRegion::of(std::iter::once(required));
            for t in &mut self.shapes {
                t.add_closest_ratios(&region, basic, &[required], defaults);
                if kind == Kind::Video {
                    t.add_best_rows(&region, basic, &[required], defaults);
                }
            }
        }
        for t in &mut self.shapes {
            t.fit(whole_pixels);
            let best = {
                let t = &*t;
                (0..t.shapes.len())
                    .filter(|&i| t.scores.alive[i])
                    .min_by(|&i, &j| t.order(i, j))
            };
            t.scores.best = best;
        }
        for t in &mut self.rates {
            let best = {
                let t = &*t;
                (0..t.rates.len())
                    .filter(|&i| t.scores.alive[i])
                    .min_by(|&i, &j| t.order(i, j))
            };
            t.scores.best = best;
        }
    }

    /// The ordering key of a candidate.
    fn key(&self, bi: usize, shape: usize, rate: usize) -> Key {
        let b = &self.blocks[bi];
        let (st, rt) = (&self.shapes[b.shapes], &self.rates[b.rates]);
        Key {
            basic: b.basic + st.scores.basic[shape] + rt.scores.basic[rate],
            device_rank: b.device_rank,
            resize: (b.resize == ResizeMode::CropAndScale) as u8,
            aspect: st.fits[shape],
            default: b.default + st.scores.default[shape] + rt.scores.default[rate],
            size: st.shapes[shape].size(),
            rate: rt.rates[rate],
            native_area: b.native_area,
            encoded: b.encoded,
            structure: b.structure_index,
            mode: b.mode_index,
        }
    }

    /// The best candidate of each alive block: (block, shape, rate, key).
    /// Separable: the lexicographic minimum over shapes x rates takes the
    /// best shape and the best rate, each by its own part of the key.
    fn ranked(&self) -> impl Iterator<Item = (usize, usize, usize, Key)> + '_ {
        self.blocks
            .iter()
            .enumerate()
            .filter(|(_, b)| b.alive)
            .filter_map(|(bi, b)| {
                let s = self.shapes[b.shapes].scores.best?;
                let r = self.rates[b.rates].scores.best?;
                Some((bi, s, r, self.key(bi, s, r)))
            })
    }

    fn settings(&self, bi: usize, shape: usize, rate: usize) -> Settings {
        let b = &self.blocks[bi];
        let d = b.device;
        match self.shapes[b.shapes].shapes[shape] {
            Shape::Video { width, height } => {
                let fps = self.rates[b.rates].rates[rate];
                let (lo, hi) = b.rate_fractions;
                let frame_rate_fraction = if fps == hi.to_f64() {
                    hi
                } else if fps == lo.to_f64() {
                    lo
                } else {
                    Fraction::approximate(fps)
                };
                Settings::Video(VideoSettings {
                    device_id: d.device_id.clone(),
                    group_id: d.group_id.clone(),
                    width,
                    height,
                    frame_rate: fps,
                    frame_rate_fraction,
                    facing_mode: d.facing_mode.clone(),
                    resize_mode: b.resize,
                    display: None,
                })
            }
            Shape::Audio {
                rate: sample_rate,
                channels,
                ec,
                agc,
                ns,
            } => Settings::Audio(AudioSettings {
                device_id: d.device_id.clone(),
                group_id: d.group_id.clone(),
                sample_rate,
                sample_size: b.sample_size,
                channel_count: channels,
                latency: d.latency,
                echo_cancellation: ec,
                auto_gain_control: agc,
                noise_suppression: ns,
            }),
        }
    }

    fn explain(&self, ranked: &[(usize, usize, usize, Key)], advanced: &[SetPlan]) -> Value {
        const SHOWN: usize = 5;
        let candidates: Vec<Value> = ranked
            .iter()
            .take(SHOWN)
            .map(|(bi, s, r, k)| {
                let b = &self.blocks[*bi];
                let (st, rt) = (&self.shapes[b.shapes], &self.rates[b.rates]);
                json!({
                    "settings": self.settings(*bi, *s, *r).to_json(),
                    "distance": finite_or_null(k.basic),
                    "advancedDistances": advanced
                        .iter()
                        .map(|p| finite_or_null(
                            b.distance_to(&p.block) + st.distance(*s, &p.shape) + rt.distance(*r, &p.rate)
                        ))
                        .collect::<Vec<_>>(),
                    "aspectFit": (b.resize == ResizeMode::CropAndScale)
                        .then(|| k.aspect.to_json()),
                    "defaultDistance": k.default,
                    "nativeMode": b.device.modes[b.mode_index].to_string(),
                })
            })
            .collect();
        let decided_by = match ranked.get(1) {
            None => "the only candidate left".to_owned(),
            Some(second) => format!("step {}", STEPS[ranked[0].3.compare(&second.3).1]),
        };
        json!({
            "advancedSetsApplied": self.applied,
            "candidatesKept": ranked.len(),
            "best": candidates,
            "decidedBy": decided_by,
        })
    }
}

fn finite_or_null(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

/// The longest deviceId or groupId a constraint may name: browsers refuse
/// longer ones with OverconstrainedError, `ideal` too (WPT
/// MediaStreamTrack-applyConstraints checks 501 characters), though the
/// spec's SelectSettings would only rank by them.
pub const MAX_ID_LENGTH: usize = 500;

/// OverconstrainedError for a deviceId or groupId value over
/// [`MAX_ID_LENGTH`] characters in any set, exact or ideal.
fn overlong_id(constraints: &TrackConstraints) -> Option<ConstraintError> {
    let sets = std::iter::once(&constraints.basic).chain(&constraints.advanced);
    for set in sets {
        for (p, c) in &set.members {
            if !matches!(p, Property::DeviceId | Property::GroupId) {
                continue;
            }
            let Constraint::Discrete(d) = c else { continue };
            let long = d
                .exact
                .iter()
                .chain(&d.ideal)
                .flatten()
                .find_map(|v| match v {
                    Discrete::Str(s) if s.chars().count() > MAX_ID_LENGTH => {
                        Some(s.chars().count())
                    }
                    _ => None,
                });
            if let Some(n) = long {
                return Some(ConstraintError::overconstrained(
                    p.name(),
                    format!(
                        "a value of {n} characters (at most {MAX_ID_LENGTH}: no device has such an id)"
                    ),
                ));
            }
        }
    }
    None
}

fn run(
    kind: Kind,
    constraints: &TrackConstraints,
    devices: &[DeviceInfo],
    order: &[usize],
    scope: Scope,
    opts: &SelectOptions,
) -> Result<Selection, ConstraintError> {
    if let Some(e) = overlong_id(constraints) {
        return Err(e);
    }
    let plans = plans(constraints, kind);
    let pool = Pool::new(kind, constraints, &plans, devices, order, opts);
    let usable = pool
        .blocks
        .iter()
        .any(|b| !pool.shapes[b.shapes].shapes.is_empty() && !pool.rates[b.rates].rates.is_empty());
    if !usable {
        let who = match scope {
            Scope::AnyDevice => format!("no {} device", DeviceKind::input_for(kind)),
            Scope::OneDevice => format!("device '{}'", devices[order[0]].label),
        };
        return Err(ConstraintError::not_found(format!(
            "{who} offers a usable {kind} mode (its caps give no size, rate or channels)"
        )));
    }
    let (explain, best) = if opts.explain {
        let mut ranked: Vec<_> = pool.ranked().collect();
        ranked.sort_by(|a, b| a.3.compare(&b.3).0);
        (
            Some(pool.explain(&ranked, &plans[1..])),
            ranked.into_iter().next(),
        )
    } else {
        (None, pool.ranked().min_by(|a, b| a.3.compare(&b.3).0))
    };
    let Some((bi, s, r, _)) = best else {
        return Err(overconstrained(kind, constraints, &pool, scope));
    };
    let b = &pool.blocks[bi];
    Ok(Selection {
        device_index: b.device_index,
        mode_index: b.mode_index,
        settings: pool.settings(bi, s, r),
        explain,
    })
}

/// OverconstrainedError: which required constraint to name, and why
/// (docs/constraints.md, "Errors").
fn overconstrained(
    kind: Kind,
    constraints: &TrackConstraints,
    pool: &Pool,
    scope: Scope,
) -> ConstraintError {
    let required: Vec<(Property, &Constraint)> = constraints
        .basic
        .for_kind(kind)
        .filter(|(_, c)| c.is_required())
        .map(|(p, c)| (*p, c))
        .collect();
    let subject = match scope {
        Scope::AnyDevice => "no device can deliver".to_owned(),
        Scope::OneDevice => format!(
            "the device '{}' cannot deliver",
            pool.blocks.first().map_or("", |b| b.device.label.as_str())
        ),
    };
    let Some(masks) = Masks::new(&required, pool) else {
        return ConstraintError::overconstrained("", "too many required constraints to name one");
    };
    let all: u32 = masks.all;
    let describe = |i: usize| format!("{} {}", required[i].0, requirement(required[i].1));
    let others = |skip: usize, upto: usize| {
        (0..upto)
            .filter(|&j| j != skip)
            .map(describe)
            .collect::<Vec<_>>()
            .join(", ")
    };

    for (i, &(p, c)) in required.iter().enumerate() {
        if !masks.feasible(1 << i) {
            return ConstraintError::overconstrained(
                p.name(),
                format!("{subject} {}{}", describe(i), extent(p, c, pool)),
            );
        }
    }
    for (i, (p, _)) in required.iter().enumerate() {
        if masks.feasible(all & !(1 << i)) {
            return ConstraintError::overconstrained(
                p.name(),
                format!(
                    "{subject} {} together with {}",
                    describe(i),
                    others(i, required.len())
                ),
            );
        }
    }
    for (i, (p, _)) in required.iter().enumerate() {
        let prefix = (1u32 << (i + 1)) - 1;
        if !masks.feasible(prefix) {
            return ConstraintError::overconstrained(
                p.name(),
                format!("{subject} {} together with {}", describe(i), others(i, i)),
            );
        }
    }
    // Unreachable when the basic set filtered everything out, but never panic.
    ConstraintError::overconstrained(
        required.first().map_or("", |(p, _)| p.name()),
        format!("{subject} these constraints"),
    )
}

/// Which required constraints each block, shape and rate meets, as bit masks.
struct Masks {
    all: u32,
    /// Per block: (block mask, shape table, rate table).
    blocks: Vec<(u32, usize, usize)>,
    shapes: Vec<Vec<u32>>,
    rates: Vec<Vec<u32>>,
}

impl Masks {
    fn new(required: &[(Property, &Constraint)], pool: &Pool) -> Option<Masks> {
        if required.len() > 31 {
            return None;
        }
        let all = (1u32 << required.len()) - 1;
        // Bits of the constraints a level does not look at are always set.
        let mask_of = |level: Level, ok: &dyn Fn(Property, &Constraint) -> bool| {
            required.iter().enumerate().fold(0u32, |m, (i, (p, c))| {
                if level_of(*p) != level || ok(*p, c) {
                    m | 1 << i
                } else {
                    m
                }
            })
        };
        let finite = |c: &Constraint, a: Actual| distance(c, a).is_finite();
        let blocks = pool
            .blocks
            .iter()
            .map(|b| {
                (
                    mask_of(Level::Block, &|p, c| finite(c, b.actual(p))),
                    b.shapes,
                    b.rates,
                )
            })
            .collect();
        let shapes = pool
            .shapes
            .iter()
            .map(|t| {
                t.shapes
                    .iter()
                    .map(|&s| mask_of(Level::Shape, &|p, c| finite(c, t.actual(s, p))))
                    .collect()
            })
            .collect();
        let rates = pool
            .rates
            .iter()
            .map(|t| {
                t.rates
                    .iter()
                    .map(|&r| mask_of(Level::Rate, &|_, c| finite(c, Actual::Num(r))))
                    .collect()
            })
            .collect();
        Some(Masks {
            all,
            blocks,
            shapes,
            rates,
        })
    }

    /// Whether some candidate meets every constraint in `mask`.
    fn feasible(&self, mask: u32) -> bool {
        let has = |ms: &[u32]| ms.iter().any(|m| m & mask == mask);
        self.blocks
            .iter()
            .any(|&(b, s, r)| b & mask == mask && has(&self.shapes[s]) && has(&self.rates[r]))
    }
}

/// Ordering step 4 for one size cut from a native mode W x H. In whole
/// pixels, each side has a *partner*: the other side times the native
/// ratio, rounded halves away from zero (`round(height * W / H)` for the
/// width, `round(width * H / W)` for the height). A size whose two sides are
/// their partners deviates by 0 (188x106 from 1280x720, not 176x99 for an
/// exact 16:9); one side matching comes next (1000x563: 1000 gives 563, but
/// 563 gives 1001), then the rest; within those, the ratio's relative
/// deviation `|ar - native| / max(ar, native)`. Not in whole pixels (an
/// aspectRatio constraint in play), every size has that deviation.
#[derive(Debug, Clone, Copy)]
struct AspectFit {
    /// How many sides equal their partner: 2, 1 or 0; 2 for every size
    /// when not counted in whole pixels.
    matched: u8,
    /// `|ar - native| / max(ar, native)`; 0 when both sides match in whole
    /// pixels.
    deviation: f64,
    whole_pixels: bool,
}

impl AspectFit {
    /// What a size that is not cut (resizeMode "none") counts as.
    const NATIVE: AspectFit = AspectFit {
        matched: 2,
        deviation: 0.0,
        whole_pixels: false,
    };

    fn of(width: u32, height: u32, (nw, nh): (u32, u32), whole_pixels: bool) -> AspectFit {
        let matched = if whole_pixels {
            (width as u64 == rounded_ratio(height, nw, nh)) as u8
                + (height as u64 == rounded_ratio(width, nh, nw)) as u8
        } else {
            2
        };
        let deviation = if whole_pixels && matched == 2 {
            0.0
        } else {
            let (ar, native) = (width as f64 / height as f64, nw as f64 / nh as f64);
            (ar - native).abs() / ar.max(native)
        };
        AspectFit {
            matched,
            deviation,
            whole_pixels,
        }
    }

    /// More matched sides first, then the smaller deviation.
    fn compare(&self, o: &AspectFit) -> Ordering {
        o.matched
            .cmp(&self.matched)
            .then(cmp_f(self.deviation, o.deviation))
    }

    /// For explain: the deviation, and in whole pixels how many sides
    /// matched their partner.
    fn to_json(self) -> Value {
        if self.whole_pixels {
            json!({ "matchedSides": self.matched, "deviation": self.deviation })
        } else {
            json!({ "deviation": self.deviation })
        }
    }
}

/// The ordering key of step 3; smaller is better.
#[derive(Debug, Clone)]
struct Key {
    basic: f64,
    device_rank: usize,
    resize: u8,
    aspect: AspectFit,
    default: f64,
    size: (u64, u64),
    rate: f64,
    native_area: u64,
    encoded: bool,
    structure: usize,
    mode: usize,
}

const STEPS: [&str; 9] = [
    "1: smaller distance to the basic constraint set",
    "2: earlier device (default first, then listed order)",
    "3: resizeMode \"none\" before \"crop-and-scale\"",
    "4: aspect ratio closer to the native mode's",
    "5: smaller distance to the default settings",
    "6: larger size, then higher rate",
    "7: smaller native mode (crop-and-scale)",
    "8: raw before encoded, then earlier caps structure",
    "8: earlier mode of the caps structure",
];

impl Key {
    /// The ordering and the step (index into [`STEPS`]) that decided it.
    fn compare(&self, o: &Key) -> (Ordering, usize) {
        let steps = [
            cmp_f(self.basic, o.basic),
            self.device_rank.cmp(&o.device_rank),
            self.resize.cmp(&o.resize),
            self.aspect.compare(&o.aspect),
            cmp_f(self.default, o.default),
            o.size.cmp(&self.size).then(cmp_f(o.rate, self.rate)),
            self.native_area.cmp(&o.native_area),
            self.encoded
                .cmp(&o.encoded)
                .then(self.structure.cmp(&o.structure)),
            self.mode.cmp(&o.mode),
        ];
        steps
            .iter()
            .enumerate()
            .find(|(_, o)| o.is_ne())
            .map_or((Ordering::Equal, STEPS.len() - 1), |(i, o)| (*o, i))
    }
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 1e15 || !v.is_finite() {
        return format!("{v:e}");
    }
    let r = round10(v);
    if r == r.trunc() && r.abs() < 1e15 {
        format!("{}", r as i64)
    } else {
        format!("{r}")
    }
}

/// "= 639", ">= 100000000", "between 1 and 2", "one of \"a\", \"b\"".
fn requirement(c: &Constraint) -> String {
    match c {
        Constraint::Number(n) => {
            let mut parts = Vec::new();
            match (n.min, n.max) {
                (Some(a), Some(b)) => {
                    parts.push(format!("between {} and {}", fmt_num(a), fmt_num(b)))
                }
                (Some(a), None) => parts.push(format!(">= {}", fmt_num(a))),
                (None, Some(b)) => parts.push(format!("<= {}", fmt_num(b))),
                (None, None) => {}
            }
            if let Some(e) = n.exact {
                parts.push(format!("= {}", fmt_num(e)));
            }
            parts.join(" and ")
        }
        Constraint::Discrete(d) => match d.exact.as_deref() {
            Some([one]) => format!("= {one}"),
            Some(list) => format!(
                "one of [{}]",
                short_list(list.iter().map(|d| d.to_string()).collect())
            ),
            None => String::new(),
        },
    }
}

/// " (largest: 3840)" and the like: what the devices do offer.
fn extent(p: Property, c: &Constraint, pool: &Pool) -> String {
    let blocks = &pool.blocks;
    let numeric = |f: &dyn Fn(&Extents) -> (f64, f64)| {
        let lo = blocks
            .iter()
            .map(|b| f(&b.extents()).0)
            .fold(f64::INFINITY, f64::min);
        let hi = blocks
            .iter()
            .map(|b| f(&b.extents()).1)
            .fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    };
    let range = match p {
        Property::Width => Some(numeric(&|e| e.width)),
        Property::Height => Some(numeric(&|e| e.height)),
        Property::AspectRatio => Some(numeric(&|e| e.aspect)),
        Property::FrameRate => Some(numeric(&|e| (e.rate.0, e.rate.1))),
        Property::SampleRate => Some(numeric(&|e| e.sample_rate)),
        Property::ChannelCount => Some(numeric(&|e| e.channels)),
        Property::SampleSize => Some(numeric(&|e| e.sample_size)),
        Property::Latency => Some(numeric(&|e| e.latency)),
        _ => None,
    };
    if let (Some((lo, hi)), Constraint::Number(n)) = (range, c) {
        if !lo.is_finite() || !hi.is_finite() {
            return String::new();
        }
        let open_low = p == Property::FrameRate && blocks.iter().any(|b| b.extents().rate.2);
        let low = if open_low && lo <= 0.0 {
            "above 0".to_owned()
        } else {
            fmt_num(lo)
        };
        return match (n.min.is_some(), n.max.is_some() || n.exact.is_some()) {
            (true, false) => format!(" (largest: {})", fmt_num(hi)),
            (false, true) if n.exact.is_none() => format!(" (smallest: {low})"),
            _ if lo == hi => format!(" (available: {})", fmt_num(hi)),
            _ => format!(" (available: {low} to {})", fmt_num(hi)),
        };
    }
    let mut seen: Vec<String> = Vec::new();
    let mut missing = false;
    let mut note = |v: String| {
        if !seen.contains(&v) {
            seen.push(v);
        }
    };
    for b in blocks {
        match b.actual(p) {
            Actual::Str(s) => note(crate::excerpt::quoted(s)),
            Actual::Missing if level_of(p) == Level::Block => missing = true,
            _ => {
                // Shape-level booleans: what the shapes offer.
                let t = &pool.shapes[b.shapes];
                for &s in &t.shapes {
                    if let Actual::Bool(x) = t.actual(s, p) {
                        note(x.to_string());
                    }
                }
            }
        }
    }
    if seen.is_empty() && missing {
        format!(" (no device reports a {p})")
    } else if seen.is_empty() {
        String::new()
    } else {
        format!(" (available: {})", short_list(seen))
    }
}

/// Items joined with ", ", those past about 100 characters counted
/// instead of shown: a message stays short whatever the list.
fn short_list(items: Vec<String>) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 && out.len() + item.len() > 100 {
            out.push_str(&format!(", and {} more", items.len() - i));
            break;
        }
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(item);
    }
    out
}

/// The best candidate found by brute force over every (block, shape, rate)
/// after steps 1 and 2, for tests that check the separable ordering.
#[doc(hidden)]
pub fn brute_force_best(
    kind: Kind,
    constraints: &TrackConstraints,
    devices: &[DeviceInfo],
    opts: &SelectOptions,
) -> Option<(Settings, f64)> {
    let order = device_order(kind, devices);
    let plans = plans(constraints, kind);
    let pool = Pool::new(kind, constraints, &plans, devices, &order, opts);
    let mut best: Option<(Key, usize, usize, usize)> = None;
    for (bi, b) in pool.blocks.iter().enumerate().filter(|(_, b)| b.alive) {
        let (st, rt) = (&pool.shapes[b.shapes], &pool.rates[b.rates]);
        for s in (0..st.shapes.len()).filter(|&i| st.scores.alive[i]) {
            for r in (0..rt.rates.len()).filter(|&i| rt.scores.alive[i]) {
                let k = pool.key(bi, s, r);
                if best
                    .as_ref()
                    .is_none_or(|(bk, ..)| k.compare(bk).0 == Ordering::Less)
                {
                    best = Some((k, bi, s, r));
                }
            }
        }
    }
    best.map(|(k, bi, s, r)| (pool.settings(bi, s, r), k.basic))
}

#[cfg(test)]
mod overlong_id_tests {
    use super::*;

    fn check(json: &str) -> Option<ConstraintError> {
        overlong_id(&TrackConstraints::parse(json).unwrap())
    }

    #[test]
    fn an_id_over_500_characters_is_overconstrained_exact_or_ideal() {
        let long = format!("{:>501}", "2");
        for json in [
            serde_json::json!({"groupId": {"ideal": long}}),
            serde_json::json!({"deviceId": {"exact": long}}),
            serde_json::json!({"advanced": [{"groupId": long}]}),
        ] {
            let e = check(&json.to_string()).expect("refused");
            assert!(e.constraint().is_some_and(|c| c.ends_with("Id")), "{e:?}");
            assert!(e.message().contains("501 characters"), "{e:?}");
        }
        let ok = format!("{:>500}", "2");
        assert!(check(&serde_json::json!({"groupId": {"ideal": ok}}).to_string()).is_none());
        assert!(check(&serde_json::json!({"facingMode": {"ideal": long}}).to_string()).is_none());
    }
}
