//! SelectSettings with the fitness distance (DESIGN section 5).
//!
//! The pool of candidates is the W3C one, kept finite: over a range the
//! optimum of every ordering step lies at a few points (the range ends, the
//! constraint and default values clamped into it, and the values derived from
//! an aspect ratio), so each (device, native mode, resizeMode) becomes a
//! *block* with a few shape points (video: width x height; audio: rate,
//! channels and processing flags) and a few frame rates. Every constraint
//! member looks at one of three levels only (the block, the shape or the
//! rate), so a block's candidates are the product of its shapes and rates and
//! both filtering and ordering are done per level, without building the
//! product.

use super::device::{DeviceInfo, DeviceKind, Fraction, IntRange};
use super::error::ConstraintError;
use super::parse::{
    Constraint, ConstraintSet, Discrete, Kind, NumberConstraint, Property, TrackConstraints,
};
use super::settings::{AudioSettings, ResizeMode, Settings, VideoSettings, round10};
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

/// Builds and evaluates the blocks and runs steps 1 and 2. Returns the
/// blocks, the number of constraint sets and which advanced sets applied.
fn prepare<'a>(
    kind: Kind,
    constraints: &TrackConstraints,
    devices: &'a [DeviceInfo],
    order: &[usize],
    opts: &SelectOptions,
) -> (Vec<Block<'a>>, usize, Vec<bool>) {
    let mut blocks = build_blocks(kind, constraints, devices, order, opts);
    let plans: Vec<SetPlan> = constraints.sets().map(|s| SetPlan::new(s, kind)).collect();
    let defaults_set = default_set(kind);
    let defaults = SetPlan::new(&defaults_set, kind);
    evaluate(&mut blocks, &plans, &defaults);
    let nsets = plans.len();
    let applied = filter(&mut blocks, nsets);
    (blocks, nsets, applied)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    AnyDevice,
    OneDevice,
}

/// The value a candidate has for a property, as the fitness distance sees it.
#[derive(Clone, Copy)]
enum Actual<'a> {
    Num(f64),
    /// A value known to lie in `[lo, hi]` (an aspect ratio of rounded
    /// dimensions); `v` is the value itself.
    Approx {
        v: f64,
        lo: f64,
        hi: f64,
    },
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
    let (v, lo, hi) = match a {
        Actual::Num(v) => (v, v, v),
        Actual::Approx { v, lo, hi } => (v, lo, hi),
        _ => return if c.is_required() { f64::INFINITY } else { 1.0 },
    };
    if !c.satisfied_by_interval(lo, hi) {
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
fn distance(c: &Constraint, a: Actual) -> f64 {
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
        | Property::Latency => Level::Block,
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

/// One (device, native mode, resizeMode) with its candidate levels.
struct Block<'a> {
    device: &'a DeviceInfo,
    device_index: usize,
    device_rank: usize,
    mode_index: usize,
    resize: ResizeMode,
    /// Crop-and-scale only: native width x height (ordering step 7).
    native_area: u64,
    native_aspect: f64,
    encoded: bool,
    structure_index: usize,
    sample_size: u32,
    rate_fractions: (Fraction, Fraction),
    shapes: Vec<Shape>,
    rates: Vec<f64>,
    /// Per constraint set: the block-level distance.
    block_dist: Vec<f64>,
    /// shapes.len() x sets, row-major by shape.
    shape_dist: Vec<f64>,
    rate_dist: Vec<f64>,
    block_default: f64,
    shape_default: Vec<f64>,
    rate_default: Vec<f64>,
    shape_alive: Vec<bool>,
    rate_alive: Vec<bool>,
    alive: bool,
    /// Range of each numeric property over the block, for error messages.
    extents: Extents,
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

    fn shape_actual(&self, s: Shape, p: Property) -> Actual<'static> {
        match (s, p) {
            (Shape::Video { width, .. }, Property::Width) => Actual::Num(width as f64),
            (Shape::Video { height, .. }, Property::Height) => Actual::Num(height as f64),
            (Shape::Video { width, height }, Property::AspectRatio) => {
                let (w, h) = (width as f64, height as f64);
                if self.resize == ResizeMode::CropAndScale {
                    // One dimension was derived from the other and rounded:
                    // the ratio is known to half a pixel of either.
                    Actual::Approx {
                        v: w / h,
                        lo: ((w - 0.5) / h).min(w / (h + 0.5)),
                        hi: ((w + 0.5) / h).max(w / (h - 0.5).max(0.5)),
                    }
                } else {
                    Actual::Num(w / h)
                }
            }
            (Shape::Audio { rate, .. }, Property::SampleRate) => Actual::Num(rate as f64),
            (Shape::Audio { channels, .. }, Property::ChannelCount) => Actual::Num(channels as f64),
            (Shape::Audio { ec, .. }, Property::EchoCancellation) => Actual::Bool(ec),
            (Shape::Audio { agc, .. }, Property::AutoGainControl) => Actual::Bool(agc),
            (Shape::Audio { ns, .. }, Property::NoiseSuppression) => Actual::Bool(ns),
            _ => Actual::Missing,
        }
    }

    /// Ordering step 4: how far a crop-and-scale shape is from the native
    /// aspect ratio.
    fn aspect_deviation(&self, s: Shape) -> f64 {
        match (self.resize, s) {
            (ResizeMode::CropAndScale, Shape::Video { width, height }) => {
                let ar = width as f64 / height as f64;
                (ar - self.native_aspect).abs() / ar.max(self.native_aspect)
            }
            _ => 0.0,
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
}

/// Every numeric value the constraints name, per property.
#[derive(Default)]
struct Values {
    width: Vec<f64>,
    height: Vec<f64>,
    aspect: Vec<f64>,
    rate: Vec<f64>,
    sample_rate: Vec<f64>,
    channels: Vec<f64>,
}

impl Values {
    fn collect(constraints: &TrackConstraints, kind: Kind) -> Values {
        let mut v = Values::default();
        for set in constraints.sets() {
            for (p, c) in set.for_kind(kind) {
                let Constraint::Number(n) = c else { continue };
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

fn video_shapes(values: &Values, w: IntRange, h: IntRange, native_aspect: f64) -> Vec<Shape> {
    let ws = int_points(&values.width, w);
    let hs = int_points(&values.height, h);
    let mut shapes = Vec::with_capacity(ws.len() * hs.len() + 8);
    for &x in &ws {
        for &y in &hs {
            shapes.push((x, y));
        }
    }
    let aspects = values
        .aspect
        .iter()
        .copied()
        .chain(std::iter::once(native_aspect))
        .filter(|a| a.is_finite() && *a > 0.0);
    for a in aspects {
        for &x in &ws {
            let y = (x as f64 / a).round();
            if y >= h.min as f64 && y <= h.max as f64 {
                shapes.push((x, y as u32));
            }
        }
        for &y in &hs {
            let x = (y as f64 * a).round();
            if x >= w.min as f64 && x <= w.max as f64 {
                shapes.push((x as u32, y));
            }
        }
    }
    shapes.sort_unstable();
    shapes.dedup();
    shapes
        .into_iter()
        .map(|(width, height)| Shape::Video { width, height })
        .collect()
}

/// Frame rates of `[lo, hi]` (or `(0, hi]` when `open_low`).
fn rate_points(values: &[f64], lo: f64, hi: f64, open_low: bool) -> Vec<f64> {
    let mut out = vec![hi];
    if !open_low {
        out.push(lo);
    }
    for &v in values {
        if open_low && v <= 0.0 {
            continue;
        }
        out.push(v.clamp(lo, hi));
    }
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
    let rates = int_points(&values.sample_rate, rate);
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

fn build_blocks<'a>(
    kind: Kind,
    constraints: &TrackConstraints,
    devices: &'a [DeviceInfo],
    order: &[usize],
    opts: &SelectOptions,
) -> Vec<Block<'a>> {
    let values = Values::collect(constraints, kind);
    let mut blocks = Vec::new();
    for (rank, &di) in order.iter().enumerate() {
        let device = &devices[di];
        for (mi, mode) in device.modes.iter().enumerate() {
            match (kind, mode) {
                (Kind::Video, super::device::NativeMode::Video(m)) => {
                    let (fmin, fmax) = (m.min_rate.to_f64(), m.max_rate.to_f64());
                    if fmax <= 0.0 || m.width.max == 0 || m.height.max == 0 {
                        continue;
                    }
                    let native_aspect = m.width.max as f64 / m.height.max as f64;
                    for resize in [ResizeMode::None, ResizeMode::CropAndScale] {
                        let (w, h, open_low) = match resize {
                            ResizeMode::None => (m.width, m.height, false),
                            ResizeMode::CropAndScale => (
                                IntRange {
                                    min: 1,
                                    max: m.width.max,
                                },
                                IntRange {
                                    min: 1,
                                    max: m.height.max,
                                },
                                true,
                            ),
                        };
                        let lo = if open_low { 0.0 } else { fmin };
                        blocks.push(Block {
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
                            native_aspect,
                            encoded: m.is_encoded(),
                            structure_index: m.structure_index,
                            sample_size: 0,
                            rate_fractions: (m.min_rate, m.max_rate),
                            shapes: video_shapes(&values, w, h, native_aspect),
                            rates: rate_points(&values.rate, lo, fmax, open_low),
                            block_dist: Vec::new(),
                            shape_dist: Vec::new(),
                            rate_dist: Vec::new(),
                            block_default: 0.0,
                            shape_default: Vec::new(),
                            rate_default: Vec::new(),
                            shape_alive: Vec::new(),
                            rate_alive: Vec::new(),
                            alive: true,
                            extents: Extents {
                                width: (w.min as f64, w.max as f64),
                                height: (h.min as f64, h.max as f64),
                                aspect: (w.min as f64 / h.max as f64, w.max as f64 / h.min as f64),
                                rate: (lo, fmax, open_low),
                                ..Default::default()
                            },
                        });
                    }
                }
                (Kind::Audio, super::device::NativeMode::Audio(m)) => {
                    if m.rate.max == 0 || m.channels.max == 0 {
                        continue;
                    }
                    blocks.push(Block {
                        device,
                        device_index: di,
                        device_rank: rank,
                        mode_index: mi,
                        resize: ResizeMode::None,
                        native_area: 0,
                        native_aspect: 0.0,
                        encoded: false,
                        structure_index: m.structure_index,
                        sample_size: m.sample_size,
                        rate_fractions: (Fraction::new(0, 1), Fraction::new(0, 1)),
                        shapes: audio_shapes(&values, m.rate, m.channels, opts.audio_processing),
                        rates: vec![0.0],
                        block_dist: Vec::new(),
                        shape_dist: Vec::new(),
                        rate_dist: Vec::new(),
                        block_default: 0.0,
                        shape_default: Vec::new(),
                        rate_default: Vec::new(),
                        shape_alive: Vec::new(),
                        rate_alive: Vec::new(),
                        alive: true,
                        extents: Extents {
                            sample_rate: (m.rate.min as f64, m.rate.max as f64),
                            channels: (m.channels.min as f64, m.channels.max as f64),
                            sample_size: (m.sample_size as f64, m.sample_size as f64),
                            latency: (device.latency, device.latency),
                            ..Default::default()
                        },
                    });
                }
                _ => {}
            }
        }
    }
    blocks
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

fn block_distance(b: &Block, members: &[(Property, &Constraint)]) -> f64 {
    sum(members.iter().map(|(p, c)| distance(c, b.actual(*p))))
}

fn shape_distance(b: &Block, s: Shape, members: &[(Property, &Constraint)]) -> f64 {
    sum(members
        .iter()
        .map(|(p, c)| distance(c, b.shape_actual(s, *p))))
}

fn rate_distance(r: f64, members: &[(Property, &Constraint)]) -> f64 {
    sum(members.iter().map(|(_, c)| distance(c, Actual::Num(r))))
}

fn evaluate(blocks: &mut [Block], plans: &[SetPlan], defaults: &SetPlan) {
    let n = plans.len();
    for b in blocks.iter_mut() {
        b.block_dist = plans.iter().map(|p| block_distance(b, &p.block)).collect();
        let mut sd = Vec::with_capacity(b.shapes.len() * n);
        for &s in &b.shapes {
            sd.extend(plans.iter().map(|p| shape_distance(b, s, &p.shape)));
        }
        b.shape_dist = sd;
        let mut rd = Vec::with_capacity(b.rates.len() * n);
        for &r in &b.rates {
            rd.extend(plans.iter().map(|p| rate_distance(r, &p.rate)));
        }
        b.rate_dist = rd;
        b.block_default = block_distance(b, &defaults.block);
        b.shape_default = b
            .shapes
            .iter()
            .map(|&s| shape_distance(b, s, &defaults.shape))
            .collect();
        b.rate_default = b
            .rates
            .iter()
            .map(|&r| rate_distance(r, &defaults.rate))
            .collect();
    }
}

/// Steps 1 and 2: keep what the basic set allows, then narrow by each
/// advanced set that some kept candidate satisfies. Returns which advanced
/// sets were applied.
fn filter(blocks: &mut [Block], nsets: usize) -> Vec<bool> {
    let survives = |b: &Block, k: usize| {
        b.alive
            && b.block_dist[k].is_finite()
            && (0..b.shapes.len())
                .any(|i| b.shape_alive[i] && b.shape_dist[i * nsets + k].is_finite())
            && (0..b.rates.len()).any(|i| b.rate_alive[i] && b.rate_dist[i * nsets + k].is_finite())
    };
    let narrow = |b: &mut Block, k: usize| {
        if !b.block_dist[k].is_finite() {
            b.alive = false;
            return;
        }
        for i in 0..b.shapes.len() {
            b.shape_alive[i] &= b.shape_dist[i * nsets + k].is_finite();
        }
        for i in 0..b.rates.len() {
            b.rate_alive[i] &= b.rate_dist[i * nsets + k].is_finite();
        }
        b.alive = b.shape_alive.iter().any(|&a| a) && b.rate_alive.iter().any(|&a| a);
    };
    for b in blocks.iter_mut() {
        b.shape_alive = vec![true; b.shapes.len()];
        b.rate_alive = vec![true; b.rates.len()];
        b.alive = true;
        narrow(b, 0);
    }
    let mut applied = Vec::with_capacity(nsets.saturating_sub(1));
    for k in 1..nsets {
        let any = blocks.iter().any(|b| survives(b, k));
        if any {
            for b in blocks.iter_mut().filter(|b| b.alive) {
                narrow(b, k);
            }
        }
        applied.push(any);
    }
    applied
}

/// The ordering key of step 3; smaller is better.
#[derive(Debug, Clone)]
struct Key {
    basic: f64,
    device_rank: usize,
    resize: u8,
    aspect: f64,
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
            cmp_f(self.aspect, o.aspect),
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

/// The best candidate of a block: (shape index, rate index, key).
fn best_in_block(b: &Block, nsets: usize) -> Option<(usize, usize, Key)> {
    // Separable: the product's lexicographic minimum takes the best shape and
    // the best rate, each by its own part of the key.
    let shape = (0..b.shapes.len())
        .filter(|&i| b.shape_alive[i])
        .min_by(|&i, &j| {
            let (si, sj) = (b.shapes[i], b.shapes[j]);
            cmp_f(b.shape_dist[i * nsets], b.shape_dist[j * nsets])
                .then(cmp_f(b.aspect_deviation(si), b.aspect_deviation(sj)))
                .then(cmp_f(b.shape_default[i], b.shape_default[j]))
                .then(sj.size().cmp(&si.size()))
                .then(si.cmp(&sj))
        })?;
    let rate = (0..b.rates.len())
        .filter(|&i| b.rate_alive[i])
        .min_by(|&i, &j| {
            cmp_f(b.rate_dist[i * nsets], b.rate_dist[j * nsets])
                .then(cmp_f(b.rate_default[i], b.rate_default[j]))
                .then(cmp_f(b.rates[j], b.rates[i]))
        })?;
    Some((shape, rate, candidate_key(b, shape, rate, nsets)))
}

fn candidate_key(b: &Block, shape: usize, rate: usize, nsets: usize) -> Key {
    Key {
        basic: b.block_dist[0] + b.shape_dist[shape * nsets] + b.rate_dist[rate * nsets],
        device_rank: b.device_rank,
        resize: (b.resize == ResizeMode::CropAndScale) as u8,
        aspect: b.aspect_deviation(b.shapes[shape]),
        default: b.block_default + b.shape_default[shape] + b.rate_default[rate],
        size: b.shapes[shape].size(),
        rate: b.rates[rate],
        native_area: b.native_area,
        encoded: b.encoded,
        structure: b.structure_index,
        mode: b.mode_index,
    }
}

fn settings_of(b: &Block, shape: usize, rate: usize) -> Settings {
    let d = b.device;
    match b.shapes[shape] {
        Shape::Video { width, height } => {
            let fps = b.rates[rate];
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

fn run(
    kind: Kind,
    constraints: &TrackConstraints,
    devices: &[DeviceInfo],
    order: &[usize],
    scope: Scope,
    opts: &SelectOptions,
) -> Result<Selection, ConstraintError> {
    let (blocks, nsets, applied) = prepare(kind, constraints, devices, order, opts);
    if blocks
        .iter()
        .all(|b| b.shapes.is_empty() || b.rates.is_empty())
    {
        let who = match scope {
            Scope::AnyDevice => format!("no {} device", DeviceKind::input_for(kind)),
            Scope::OneDevice => format!("device '{}'", devices[order[0]].label),
        };
        return Err(ConstraintError::not_found(format!(
            "{who} offers a usable {kind} mode (its caps give no size, rate or channels)"
        )));
    }
    let mut ranked: Vec<(usize, usize, usize, Key)> = blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| b.alive)
        .filter_map(|(bi, b)| best_in_block(b, nsets).map(|(s, r, k)| (bi, s, r, k)))
        .collect();
    if ranked.is_empty() {
        return Err(overconstrained(kind, constraints, &blocks, scope));
    }

    let explain = opts.explain.then(|| {
        ranked.sort_by(|a, b| a.3.compare(&b.3).0);
        explain_json(&blocks, &ranked, &applied, nsets)
    });
    let (bi, s, r, _) = ranked
        .iter()
        .min_by(|a, b| a.3.compare(&b.3).0)
        .cloned()
        .expect("ranked is not empty");
    let b = &blocks[bi];
    Ok(Selection {
        device_index: b.device_index,
        mode_index: b.mode_index,
        settings: settings_of(b, s, r),
        explain,
    })
}

fn explain_json(
    blocks: &[Block],
    ranked: &[(usize, usize, usize, Key)],
    applied: &[bool],
    nsets: usize,
) -> Value {
    const SHOWN: usize = 5;
    let candidates: Vec<Value> = ranked
        .iter()
        .take(SHOWN)
        .map(|(bi, s, r, k)| {
            let b = &blocks[*bi];
            json!({
                "settings": settings_of(b, *s, *r).to_json(),
                "distance": finite_or_null(k.basic),
                "advancedDistances": (1..nsets)
                    .map(|i| finite_or_null(b.block_dist[i] + b.shape_dist[s * nsets + i] + b.rate_dist[r * nsets + i]))
                    .collect::<Vec<_>>(),
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
        "advancedSetsApplied": applied,
        "candidatesKept": ranked.len(),
        "best": candidates,
        "decidedBy": decided_by,
    })
}

fn finite_or_null(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

/// Step 4: which required constraint to name, and why.
fn overconstrained(
    kind: Kind,
    constraints: &TrackConstraints,
    blocks: &[Block],
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
            blocks.first().map_or("", |b| b.device.label.as_str())
        ),
    };
    let Some(masks) = Masks::new(&required, blocks) else {
        return ConstraintError::overconstrained("", "no candidate settings");
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

    for i in 0..required.len() {
        if !masks.feasible(1 << i) {
            let (p, c) = required[i];
            return ConstraintError::overconstrained(
                p.name(),
                format!("{subject} {}{}", describe(i), extent(p, c, blocks)),
            );
        }
    }
    for i in 0..required.len() {
        if masks.feasible(all & !(1 << i)) {
            return ConstraintError::overconstrained(
                required[i].0.name(),
                format!(
                    "{subject} {} together with {}",
                    describe(i),
                    others(i, required.len())
                ),
            );
        }
    }
    for i in 0..required.len() {
        let prefix = (1u32 << (i + 1)) - 1;
        if !masks.feasible(prefix) {
            return ConstraintError::overconstrained(
                required[i].0.name(),
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

/// Which required constraints each level of each block meets, as bit masks.
struct Masks {
    all: u32,
    /// (block mask, shape masks, rate masks) per block.
    blocks: Vec<(u32, Vec<u32>, Vec<u32>)>,
}

impl Masks {
    fn new(required: &[(Property, &Constraint)], blocks: &[Block]) -> Option<Masks> {
        if required.len() > 31 {
            return None;
        }
        let all = (1u32 << required.len()) - 1;
        let level_mask = |level: Level| {
            required
                .iter()
                .enumerate()
                .filter(|(_, (p, _))| level_of(*p) != level)
                .fold(0u32, |m, (i, _)| m | 1 << i)
        };
        let (not_block, not_shape, not_rate) = (
            level_mask(Level::Block),
            level_mask(Level::Shape),
            level_mask(Level::Rate),
        );
        let ok = |i: usize, a: Actual| distance(required[i].1, a).is_finite();
        let masks = blocks
            .iter()
            .map(|b| {
                let bm = (0..required.len())
                    .filter(|&i| {
                        level_of(required[i].0) == Level::Block && ok(i, b.actual(required[i].0))
                    })
                    .fold(not_block, |m, i| m | 1 << i);
                let sm = b
                    .shapes
                    .iter()
                    .map(|&s| {
                        (0..required.len())
                            .filter(|&i| {
                                level_of(required[i].0) == Level::Shape
                                    && ok(i, b.shape_actual(s, required[i].0))
                            })
                            .fold(not_shape, |m, i| m | 1 << i)
                    })
                    .collect();
                let rm = b
                    .rates
                    .iter()
                    .map(|&r| {
                        (0..required.len())
                            .filter(|&i| {
                                level_of(required[i].0) == Level::Rate && ok(i, Actual::Num(r))
                            })
                            .fold(not_rate, |m, i| m | 1 << i)
                    })
                    .collect();
                (bm, sm, rm)
            })
            .collect();
        Some(Masks { all, blocks: masks })
    }

    /// Whether some candidate meets every constraint in `mask`.
    fn feasible(&self, mask: u32) -> bool {
        self.blocks.iter().any(|(b, s, r)| {
            b & mask == mask
                && s.iter().any(|m| m & mask == mask)
                && r.iter().any(|m| m & mask == mask)
        })
    }
}

fn fmt_num(v: f64) -> String {
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
                list.iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => String::new(),
        },
    }
}

/// " (largest: 3840)" and the like: what the devices do offer.
fn extent(p: Property, c: &Constraint, blocks: &[Block]) -> String {
    let numeric = |f: &dyn Fn(&Extents) -> (f64, f64)| {
        let lo = blocks
            .iter()
            .map(|b| f(&b.extents).0)
            .fold(f64::INFINITY, f64::min);
        let hi = blocks
            .iter()
            .map(|b| f(&b.extents).1)
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
        let open_low = p == Property::FrameRate && blocks.iter().any(|b| b.extents.rate.2);
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
    for b in blocks {
        let v = match b.actual(p) {
            Actual::Str(s) => format!("\"{s}\""),
            Actual::Missing => {
                missing = true;
                continue;
            }
            _ => {
                // Shape-level booleans: list what the shapes offer.
                for &s in &b.shapes {
                    if let Actual::Bool(x) = b.shape_actual(s, p) {
                        let t = x.to_string();
                        if !seen.contains(&t) {
                            seen.push(t);
                        }
                    }
                }
                continue;
            }
        };
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    if seen.is_empty() && missing {
        format!(" (no device reports a {p})")
    } else if seen.is_empty() {
        String::new()
    } else {
        format!(" (available: {})", seen.join(", "))
    }
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
    let (blocks, nsets, _) = prepare(kind, constraints, devices, &order, opts);
    let mut best: Option<(Key, Settings)> = None;
    for b in blocks.iter().filter(|b| b.alive) {
        for s in (0..b.shapes.len()).filter(|&i| b.shape_alive[i]) {
            for r in (0..b.rates.len()).filter(|&i| b.rate_alive[i]) {
                let k = candidate_key(b, s, r, nsets);
                if best
                    .as_ref()
                    .is_none_or(|(bk, _)| k.compare(bk).0 == Ordering::Less)
                {
                    best = Some((k, settings_of(b, s, r)));
                }
            }
        }
    }
    best.map(|(k, s)| (s, k.basic))
}
