// SPDX-License-Identifier: MPL-2.0

//! getDisplayMedia (W3C Screen Capture): DisplayMediaStreamOptions with the
//! spec's TypeError rules, a display surface as a source, and the
//! selection over the surface's aspect-preserving downscales and decimated
//! frame rates (docs/display.md).
//!
//! Constraints do not choose the surface here (a browser asks the user;
//! here the element's properties do): they only shape what is captured of
//! it. They never upscale, never crop, never add frames.

use super::device::{DeviceInfo, Fraction};
use super::error::ConstraintError;
use super::parse::{Constraint, ConstraintSet, Kind, Property, TrackConstraints};
use super::select::{Actual, Selection, distance};
use super::settings::{ResizeMode, Settings, VideoSettings, round10};
use serde_json::{Map, Value, json};
use std::fmt;

/// The smallest width and height a display track is scaled to (the
/// spec's floor value: constant, above 0).
pub const FLOOR_SIZE: u32 = 1;
/// The lowest frame rate a display track is decimated to.
pub const FLOOR_FRAME_RATE: f64 = 1.0;
/// A surface's frame rate where the display does not say (X11 has none):
/// what the capture takes at most.
pub const DEFAULT_FRAME_RATE: f64 = 30.0;

/// DisplayCaptureSurfaceType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SurfaceType {
    Monitor,
    Window,
    Browser,
}

impl SurfaceType {
    pub fn as_str(self) -> &'static str {
        match self {
            SurfaceType::Monitor => "monitor",
            SurfaceType::Window => "window",
            SurfaceType::Browser => "browser",
        }
    }

    pub fn from_name(s: &str) -> Option<SurfaceType> {
        [
            SurfaceType::Monitor,
            SurfaceType::Window,
            SurfaceType::Browser,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

impl fmt::Display for SurfaceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// CursorCaptureConstraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cursor {
    Never,
    Always,
    Motion,
}

impl Cursor {
    pub const ALL: [Cursor; 3] = [Cursor::Always, Cursor::Motion, Cursor::Never];

    pub fn as_str(self) -> &'static str {
        match self {
            Cursor::Never => "never",
            Cursor::Always => "always",
            Cursor::Motion => "motion",
        }
    }

    pub fn from_name(s: &str) -> Option<Cursor> {
        Cursor::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A display surface as the selection sees it: what it is and its size.
#[derive(Debug, Clone, PartialEq)]
pub struct DisplaySurface {
    pub device_id: String,
    pub label: String,
    pub surface: SurfaceType,
    pub width: u32,
    pub height: u32,
    /// The most frames per second the capture takes of it.
    pub frame_rate: f64,
    /// Whether the whole surface is captured, parts off screen included.
    pub logical_surface: bool,
    /// The cursor modes the capture can do, in preference order.
    pub cursors: Vec<Cursor>,
}

/// What a display device is beyond its size: the surface type, the
/// cursor modes its capture can do, whether it is captured whole.
#[derive(Debug, Clone, PartialEq)]
pub struct DisplayTraits {
    pub surface: SurfaceType,
    pub logical_surface: bool,
    pub cursors: Vec<Cursor>,
}

impl DisplaySurface {
    /// The surface of a display device: its traits and its (first) video
    /// mode's size and highest rate.
    pub fn of(device: &DeviceInfo) -> Option<DisplaySurface> {
        let traits = device.display.as_ref()?;
        let mode = device.video_modes().next()?;
        let rate = mode.max_rate.to_f64();
        Some(DisplaySurface {
            device_id: device.device_id.clone(),
            label: device.label.clone(),
            surface: traits.surface,
            width: mode.width.max,
            height: mode.height.max,
            frame_rate: if rate > 0.0 { rate } else { DEFAULT_FRAME_RATE },
            logical_surface: traits.logical_surface,
            cursors: traits.cursors.clone(),
        })
    }
}

/// What a display track shows beyond the camera settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DisplaySettings {
    pub surface: SurfaceType,
    pub logical_surface: bool,
    pub cursor: Cursor,
}

/// The properties Screen Capture defines for a display track's video (its
/// TypeError rules look at these only).
const VIDEO_PROPERTIES: [Property; 8] = [
    Property::Width,
    Property::Height,
    Property::FrameRate,
    Property::AspectRatio,
    Property::ResizeMode,
    Property::DisplaySurface,
    Property::LogicalSurface,
    Property::Cursor,
];

/// DisplayMediaStreamOptions, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DisplayOptions {
    pub video: TrackConstraints,
    /// The system's sound, where asked.
    pub audio: Option<TrackConstraints>,
    /// `monitorTypeSurfaces: "exclude"`: a window, never a whole screen.
    pub exclude_monitors: bool,
}

impl DisplayOptions {
    /// Parses the JSON of a DisplayMediaStreamOptions (`mediastream`'s
    /// `display-constraints`): `{}` and `{"audio": false}` mean
    /// `{"video": true}`; the spec's TypeErrors (video false, `advanced`,
    /// `min` or `exact`) and OverconstrainedErrors (`max` below the floor).
    pub fn parse(json: &str) -> Result<DisplayOptions, ConstraintError> {
        let value: Value = serde_json::from_str(json).map_err(|e| {
            ConstraintError::type_error(format!(
                "display-constraints: malformed JSON at line {}, column {}",
                e.line(),
                e.column()
            ))
        })?;
        Self::from_value(&value)
    }

    pub fn from_value(value: &Value) -> Result<DisplayOptions, ConstraintError> {
        let empty = Map::new();
        let map = match value {
            Value::Object(m) => m,
            // WebIDL: an absent or null dictionary is the empty one.
            Value::Null => &empty,
            _ => {
                return Err(ConstraintError::type_error(
                    "display-constraints: expected an object (DisplayMediaStreamOptions) such as {\"video\": true}",
                ));
            }
        };
        let mut options = DisplayOptions::default();
        for (name, allowed) in [
            ("selfBrowserSurface", &["include", "exclude"][..]),
            ("surfaceSwitching", &["include", "exclude"]),
            ("systemAudio", &["include", "exclude"]),
            ("monitorTypeSurfaces", &["include", "exclude"]),
        ] {
            if let Some(v) = map.get(name)
                && !v.as_str().is_some_and(|s| allowed.contains(&s))
            {
                return Err(ConstraintError::type_error(format!(
                    "{name}: expected one of {}, got {v}",
                    allowed.join(", ")
                )));
            }
        }
        options.exclude_monitors = map.get("monitorTypeSurfaces") == Some(&json!("exclude"));
        let video = match map.get("video") {
            None | Some(Value::Bool(true)) | Some(Value::Null) => TrackConstraints::default(),
            Some(Value::Bool(false)) => {
                return Err(ConstraintError::type_error(
                    "video: getDisplayMedia always captures video (video: false is a TypeError)",
                ));
            }
            Some(v @ Value::Object(_)) => parse_dictionary(v, Kind::Video)?,
            Some(v) => {
                return Err(ConstraintError::type_error(format!(
                    "video: expected a boolean or an object (MediaTrackConstraints), got {v}"
                )));
            }
        };
        let wants_monitor = video
            .basic
            .get(Property::DisplaySurface)
            .is_some_and(|c| names(c).contains(&"monitor"));
        if options.exclude_monitors && wants_monitor {
            return Err(ConstraintError::type_error(
                "video.displaySurface: \"monitor\" with monitorTypeSurfaces \"exclude\"",
            ));
        }
        options.video = video;
        options.audio = match map.get("audio") {
            None | Some(Value::Bool(false)) => None,
            Some(Value::Bool(true)) | Some(Value::Null) => Some(TrackConstraints::default()),
            Some(v @ Value::Object(_)) => Some(parse_dictionary(v, Kind::Audio)?),
            Some(v) => {
                return Err(ConstraintError::type_error(format!(
                    "audio: expected a boolean or an object (MediaTrackConstraints), got {v}"
                )));
            }
        };
        Ok(options)
    }

    /// The surface type the application prefers, if it says.
    pub fn preferred_surface(&self) -> Option<SurfaceType> {
        let c = self.video.basic.get(Property::DisplaySurface)?;
        names(c).into_iter().find_map(SurfaceType::from_name)
    }
}

/// The string values of a DOMString constraint (ideal and exact alike).
fn names(c: &Constraint) -> Vec<&str> {
    let Constraint::Discrete(d) = c else {
        return Vec::new();
    };
    d.exact
        .iter()
        .chain(d.ideal.iter())
        .flatten()
        .filter_map(|v| match v {
            super::parse::Discrete::Str(s) => Some(s.as_str()),
            _ => None,
        })
        .collect()
}

/// One member of the options (`video` or `audio`): no `advanced`, no `min`
/// or `exact` on the display's properties, no `max` below the floor.
fn parse_dictionary(value: &Value, kind: Kind) -> Result<TrackConstraints, ConstraintError> {
    let Value::Object(map) = value else {
        unreachable!("called with an object")
    };
    let key = kind.to_string();
    if map.contains_key("advanced") {
        return Err(ConstraintError::type_error(format!(
            "{key}.advanced: getDisplayMedia takes no advanced constraints"
        )));
    }
    let display = |name: &str| {
        Property::from_name(name)
            .is_some_and(|p| kind == Kind::Video && VIDEO_PROPERTIES.contains(&p))
    };
    for (name, v) in map {
        let Value::Object(inner) = v else { continue };
        if !display(name) {
            continue;
        }
        for bound in ["min", "exact"] {
            if inner.contains_key(bound) {
                return Err(ConstraintError::type_error(format!(
                    "{key}.{name}.{bound}: getDisplayMedia takes no min or exact (constraints only shape the surface the user chose)"
                )));
            }
        }
    }
    let parsed = super::parse::parse_track(map, &key)?;
    for (p, c) in &parsed.basic.members {
        let floor = match p {
            Property::Width | Property::Height => FLOOR_SIZE as f64,
            Property::FrameRate => FLOOR_FRAME_RATE,
            _ => continue,
        };
        if let Constraint::Number(n) = c
            && n.max.is_some_and(|m| m < floor)
        {
            return Err(ConstraintError::overconstrained(
                p.name(),
                format!("{key}.{p}.max is below the smallest a display track takes ({floor})"),
            ));
        }
    }
    Ok(parsed)
}

/// One way of capturing the surface: a size, a rate, a cursor mode.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Candidate {
    width: u32,
    height: u32,
    rate: f64,
    cursor: Cursor,
}

impl Candidate {
    fn actual(&self, p: Property, s: &DisplaySurface) -> Actual<'static> {
        match p {
            Property::Width => Actual::Num(self.width as f64),
            Property::Height => Actual::Num(self.height as f64),
            Property::FrameRate => Actual::Num(self.rate),
            // The surface's shape: every downscale keeps it.
            Property::AspectRatio => Actual::Num(round10(s.width as f64 / s.height as f64)),
            Property::ResizeMode => Actual::Str(self.resize(s).as_str()),
            Property::LogicalSurface => Actual::Bool(s.logical_surface),
            Property::Cursor => Actual::Str(self.cursor.as_str()),
            Property::DeviceId | Property::GroupId => Actual::Missing,
            _ => Actual::Missing,
        }
    }

    fn resize(&self, s: &DisplaySurface) -> ResizeMode {
        if (self.width, self.height) == (s.width, s.height) {
            ResizeMode::None
        } else {
            ResizeMode::CropAndScale
        }
    }

    /// The fitness distance to `set` (displaySurface only steers the
    /// choice of surface, never this: the spec's "ignored for all other
    /// purposes").
    fn distance(&self, set: &ConstraintSet, s: &DisplaySurface) -> f64 {
        set.for_kind(Kind::Video)
            .filter(|(p, _)| {
                !matches!(
                    p,
                    Property::DisplaySurface | Property::DeviceId | Property::GroupId
                )
            })
            .map(|(p, c)| distance(c, self.actual(*p, s)))
            .sum()
    }
}

/// Every aspect-preserving size of the surface from the floor up to its
/// own, largest first: each value of the smaller dimension with the
/// other rounded to the nearest pixel (a value of the larger one between
/// two of these has no size of the surface's shape).
fn sizes(s: &DisplaySurface) -> Vec<(u32, u32)> {
    let (w, h) = (s.width.max(1) as u64, s.height.max(1) as u64);
    let nearest = |a: u64, num: u64, den: u64| ((a * num + den / 2) / den).max(1) as u32;
    if w >= h {
        (FLOOR_SIZE as u64..=h)
            .rev()
            .map(|y| (nearest(y, w, h), y as u32))
            .collect()
    } else {
        (FLOOR_SIZE as u64..=w)
            .rev()
            .map(|x| (x as u32, nearest(x, h, w)))
            .collect()
    }
}

/// The frame rates worth trying on `[floor, max]` for `set`: the ends and
/// the values the constraints name.
fn rates(sets: &[&ConstraintSet], s: &DisplaySurface) -> Vec<f64> {
    let hi = s.frame_rate.max(FLOOR_FRAME_RATE);
    let mut out = vec![hi, FLOOR_FRAME_RATE];
    for set in sets {
        if let Some(Constraint::Number(n)) = set.get(Property::FrameRate) {
            out.extend(n.values().filter(|v| (FLOOR_FRAME_RATE..=hi).contains(v)));
        }
    }
    out.sort_by(|a, b| b.total_cmp(a));
    out.dedup();
    out
}

/// SelectSettings over the surface's downscales and decimated rates:
/// `constraints.basic` must hold (else OverconstrainedError naming the
/// member), each `advanced` set is kept where it can be, then the least
/// fitness distance wins; a tie goes to the larger size, then the higher
/// rate, then the cursor the surface lists first. No constraint: the
/// whole surface at its full rate.
pub fn select(
    constraints: &TrackConstraints,
    s: &DisplaySurface,
) -> Result<Settings, ConstraintError> {
    if s.width == 0 || s.height == 0 {
        return Err(ConstraintError::not_readable(format!(
            "display surface '{}' has no size ({}x{})",
            s.label, s.width, s.height
        )));
    }
    let mut sets: Vec<&ConstraintSet> = vec![&constraints.basic];
    sets.extend(constraints.advanced.iter());
    let cursors = if s.cursors.is_empty() {
        vec![Cursor::Never]
    } else {
        s.cursors.clone()
    };
    let rates = rates(&sets, s);
    let mut candidates: Vec<Candidate> = Vec::new();
    for (width, height) in sizes(s) {
        for &rate in &rates {
            for &cursor in &cursors {
                candidates.push(Candidate {
                    width,
                    height,
                    rate,
                    cursor,
                });
            }
        }
    }
    let fits = |c: &Candidate, set: &ConstraintSet| c.distance(set, s).is_finite();
    candidates.retain(|c| fits(c, &constraints.basic));
    if candidates.is_empty() {
        return Err(overconstrained(&constraints.basic, s));
    }
    for set in &constraints.advanced {
        if candidates.iter().any(|c| fits(c, set)) {
            candidates.retain(|c| fits(c, set));
        }
    }
    // Sizes largest first, rates highest first, cursors in the surface's
    // order: the first of equal distance wins.
    let best = candidates
        .iter()
        .fold(None::<(f64, &Candidate)>, |best, c| {
            let d = c.distance(&constraints.basic, s);
            match best {
                Some((bd, _)) if bd <= d => best,
                _ => Some((d, c)),
            }
        })
        .map(|(_, c)| *c)
        .expect("candidates is not empty");
    let frame_rate_fraction = if best.rate == DEFAULT_FRAME_RATE {
        Fraction::new(DEFAULT_FRAME_RATE as i32, 1)
    } else {
        Fraction::approximate(best.rate)
    };
    Ok(Settings::Video(VideoSettings {
        device_id: s.device_id.clone(),
        group_id: String::new(),
        width: best.width,
        height: best.height,
        frame_rate: best.rate,
        frame_rate_fraction,
        facing_mode: None,
        resize_mode: best.resize(s),
        display: Some(DisplaySettings {
            surface: s.surface,
            logical_surface: s.logical_surface,
            cursor: best.cursor,
        }),
    }))
}

/// applyConstraints on a display track: [`select`] on its device.
pub fn select_on(
    constraints: &TrackConstraints,
    device: &DeviceInfo,
) -> Result<Selection, ConstraintError> {
    let surface = DisplaySurface::of(device).ok_or_else(|| {
        ConstraintError::not_readable(format!("display '{}' has no video mode", device.label))
    })?;
    Ok(Selection {
        device_index: 0,
        mode_index: 0,
        settings: select(constraints, &surface)?,
        explain: None,
    })
}

/// getDisplayMedia's choice of surface among `devices` (a browser asks
/// the user): the one whose deviceId is `named`, else the first display
/// of the preferred surface type (`displaySurface`), else the default
/// one; never a monitor with `monitorTypeSurfaces: "exclude"`. Then
/// [`select`] on it.
pub fn select_display(
    options: &DisplayOptions,
    devices: &[DeviceInfo],
    named: Option<&str>,
) -> Result<Selection, ConstraintError> {
    let usable = |d: &DeviceInfo| {
        d.kind == super::DeviceKind::Display
            && d.display.is_some()
            && !(options.exclude_monitors
                && d.display
                    .as_ref()
                    .is_some_and(|t| t.surface == SurfaceType::Monitor))
    };
    let surface_of = |d: &DeviceInfo| d.display.as_ref().map(|t| t.surface);
    let index = match named.filter(|n| !n.is_empty()) {
        Some(name) => devices
            .iter()
            .position(|d| d.device_id == name && d.display.is_some())
            .ok_or_else(|| ConstraintError::not_found(format!("no display surface '{name}'")))
            .and_then(|i| {
                if usable(&devices[i]) {
                    Ok(i)
                } else {
                    Err(ConstraintError::type_error(format!(
                        "display surface '{name}' is a monitor and monitorTypeSurfaces is \"exclude\""
                    )))
                }
            })?,
        None => {
            let mut order: Vec<usize> = (0..devices.len()).filter(|&i| usable(&devices[i])).collect();
            let preferred = options.preferred_surface();
            order.sort_by_key(|&i| {
                (
                    preferred.is_some() && surface_of(&devices[i]) != preferred,
                    !devices[i].is_default,
                )
            });
            *order.first().ok_or_else(|| {
                ConstraintError::not_found(if options.exclude_monitors {
                    "no display surface but monitors, and monitorTypeSurfaces is \"exclude\""
                } else {
                    "no display surface to capture (no X display, no fake display)"
                })
            })?
        }
    };
    let mut selection = select_on(&options.video, &devices[index])?;
    selection.device_index = index;
    Ok(selection)
}

/// getDisplayMedia's audio track: the system's sound (the first display
/// device that carries sound, a monitor of the default output first),
/// selected by the options' `audio` constraints as a microphone is.
/// `None` where there is none: the stream then has no audio track, as a
/// browser's when the user shares none (the spec allows it).
pub fn select_system_audio(
    constraints: &TrackConstraints,
    devices: &[DeviceInfo],
    opts: &super::SelectOptions,
) -> Option<Result<Selection, ConstraintError>> {
    let index = devices.iter().position(DeviceInfo::is_system_audio)?;
    Some(
        super::select_on_device(Kind::Audio, constraints, &devices[index], opts).map(|mut s| {
            s.device_index = index;
            s
        }),
    )
}

/// The member of `set` that no candidate meets on its own.
fn overconstrained(set: &ConstraintSet, s: &DisplaySurface) -> ConstraintError {
    let alone = |p: Property, c: &Constraint| ConstraintSet {
        members: vec![(p, c.clone())],
    };
    let cursors = if s.cursors.is_empty() {
        vec![Cursor::Never]
    } else {
        s.cursors.clone()
    };
    for (p, c) in set.for_kind(Kind::Video) {
        let one = alone(*p, c);
        let rates = rates(&[&one], s);
        let any = sizes(s).into_iter().any(|(width, height)| {
            rates.iter().any(|&rate| {
                cursors.iter().any(|&cursor| {
                    Candidate {
                        width,
                        height,
                        rate,
                        cursor,
                    }
                    .distance(&one, s)
                    .is_finite()
                })
            })
        });
        if !any {
            return ConstraintError::overconstrained(
                p.name(),
                format!(
                    "display surface '{}' ({}x{} at most {} fps) cannot meet {p}",
                    s.label, s.width, s.height, s.frame_rate
                ),
            );
        }
    }
    ConstraintError::overconstrained(
        "",
        format!(
            "display surface '{}' cannot meet these constraints together",
            s.label
        ),
    )
}

/// getCapabilities() of a display track: sizes from the floor to the
/// surface's, rates from the floor to its rate, the aspect ratio, surface
/// type and logicalSurface as lone values.
pub fn capabilities(s: &DisplaySurface) -> Value {
    let ratio = round10(s.width as f64 / s.height.max(1) as f64);
    json!({
        "deviceId": s.device_id,
        "groupId": "",
        "width": {"min": FLOOR_SIZE, "max": s.width},
        "height": {"min": FLOOR_SIZE, "max": s.height},
        "aspectRatio": {"min": ratio, "max": ratio},
        "frameRate": {"min": FLOOR_FRAME_RATE, "max": s.frame_rate},
        "resizeMode": ["none", "crop-and-scale"],
        "displaySurface": s.surface.as_str(),
        "logicalSurface": s.logical_surface,
        "cursor": s.cursors.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constraints::ErrorName;

    fn monitor() -> DisplaySurface {
        DisplaySurface {
            device_id: "screen-0".into(),
            label: "Screen 0".into(),
            surface: SurfaceType::Monitor,
            width: 1280,
            height: 720,
            frame_rate: 30.0,
            logical_surface: true,
            cursors: Cursor::ALL.to_vec(),
        }
    }

    fn video(json: &str) -> TrackConstraints {
        DisplayOptions::parse(json).unwrap().video
    }

    fn chosen(c: &TrackConstraints) -> (u32, u32, f64, Cursor, ResizeMode) {
        let Settings::Video(v) = select(c, &monitor()).unwrap() else {
            panic!("video")
        };
        let d = v.display.unwrap();
        (v.width, v.height, v.frame_rate, d.cursor, v.resize_mode)
    }

    #[test]
    fn video_is_the_default_and_false_is_a_type_error() {
        for ok in [
            "{}",
            "null",
            "{\"video\": true}",
            "{\"audio\": false}",
            "{\"video\": {}}",
        ] {
            let o = DisplayOptions::parse(ok).unwrap();
            assert_eq!(o.video, TrackConstraints::default(), "{ok}");
            assert!(o.audio.is_none(), "{ok}");
        }
        assert!(
            DisplayOptions::parse("{\"audio\": true}")
                .unwrap()
                .audio
                .is_some()
        );
        for bad in [
            "{\"video\": false}",
            "{\"video\": false, \"audio\": true}",
            "{\"video\": 3}",
            "[]",
        ] {
            let e = DisplayOptions::parse(bad).unwrap_err();
            assert_eq!(e.error_name(), ErrorName::TypeError, "{bad}: {e}");
        }
    }

    #[test]
    fn min_exact_and_advanced_are_type_errors() {
        for bad in [
            r#"{"video": {"width": {"min": 640}}}"#,
            r#"{"video": {"height": {"exact": 480}}}"#,
            r#"{"video": {"frameRate": {"min": 5}}}"#,
            r#"{"video": {"aspectRatio": {"exact": 1.5}}}"#,
            r#"{"video": {"cursor": {"exact": "never"}}}"#,
            r#"{"video": {"displaySurface": {"exact": "monitor"}}}"#,
            r#"{"video": {"advanced": [{"width": 640}]}}"#,
            r#"{"video": true, "audio": {"advanced": []}}"#,
            r#"{"monitorTypeSurfaces": "sometimes"}"#,
            r#"{"systemAudio": 1}"#,
            r#"{"video": {"displaySurface": "monitor"}, "monitorTypeSurfaces": "exclude"}"#,
        ] {
            let e = DisplayOptions::parse(bad).unwrap_err();
            assert_eq!(e.error_name(), ErrorName::TypeError, "{bad}: {e}");
        }
        // max and ideal are fine, and so is min on a property the display
        // does not define.
        for ok in [
            r#"{"video": {"width": {"max": 640, "ideal": 320}, "frameRate": {"max": 10}}}"#,
            r#"{"video": true, "audio": {"sampleRate": {"min": 8000}}}"#,
            r#"{"video": {"displaySurface": "window"}, "monitorTypeSurfaces": "exclude"}"#,
        ] {
            DisplayOptions::parse(ok).unwrap();
        }
    }

    #[test]
    fn max_below_the_floor_is_overconstrained() {
        let e = DisplayOptions::parse(r#"{"video": {"width": {"max": 0}}}"#).unwrap_err();
        assert_eq!(e.error_name(), ErrorName::OverconstrainedError);
        assert_eq!(e.constraint(), Some("width"));
        let e = DisplayOptions::parse(r#"{"video": {"frameRate": {"max": 0.5}}}"#).unwrap_err();
        assert_eq!(e.constraint(), Some("frameRate"));
    }

    #[test]
    fn no_constraint_is_the_whole_surface_at_its_rate() {
        assert_eq!(
            chosen(&video("{}")),
            (1280, 720, 30.0, Cursor::Always, ResizeMode::None)
        );
    }

    #[test]
    fn constraints_downscale_keeping_the_shape_and_never_upscale() {
        // One dimension asked: the other follows the surface's shape.
        let (w, h, ..) = chosen(&video(r#"{"video": {"width": 640}}"#));
        assert_eq!((w, h), (640, 360));
        let (w, h, ..) = chosen(&video(r#"{"video": {"height": {"max": 480}}}"#));
        assert_eq!((w, h), (853, 480));
        // Both asked in another shape: the fitness distance's closest of
        // the surface's shape (853x480: 0.2497 against 640x360's 0.25),
        // never a crop.
        let (w, h, _, _, resize) = chosen(&video(r#"{"video": {"width": 640, "height": 480}}"#));
        assert_eq!((w, h), (853, 480));
        assert_eq!(resize, ResizeMode::CropAndScale);
        // Larger than the surface: the surface's own size.
        assert_eq!(chosen(&video(r#"{"video": {"width": 4000}}"#)).0, 1280);
        // Rates decimate, never above the surface's.
        assert_eq!(chosen(&video(r#"{"video": {"frameRate": 5}}"#)).2, 5.0);
        assert_eq!(chosen(&video(r#"{"video": {"frameRate": 60}}"#)).2, 30.0);
        assert_eq!(
            chosen(&video(r#"{"video": {"frameRate": {"max": 12.5}}}"#)).2,
            12.5
        );
    }

    #[test]
    fn cursor_follows_the_constraint() {
        for c in Cursor::ALL {
            let json = format!(r#"{{"video": {{"cursor": "{c}"}}}}"#);
            assert_eq!(chosen(&video(&json)).3, c);
        }
        // A surface that cannot hide the cursor keeps it.
        let mut s = monitor();
        s.cursors = vec![Cursor::Always];
        let Settings::Video(v) = select(&video(r#"{"video": {"cursor": "never"}}"#), &s).unwrap()
        else {
            panic!()
        };
        assert_eq!(v.display.unwrap().cursor, Cursor::Always);
    }

    #[test]
    fn apply_constraints_may_use_min_and_exact() {
        // applyConstraints is getUserMedia's: min/exact are requirements.
        let c = TrackConstraints::parse(r#"{"width": {"exact": 320}}"#).unwrap();
        let (w, h, ..) = chosen(&c);
        assert_eq!((w, h), (320, 180));
        let c = TrackConstraints::parse(r#"{"width": {"min": 2000}}"#).unwrap();
        let e = select(&c, &monitor()).unwrap_err();
        assert_eq!(e.error_name(), ErrorName::OverconstrainedError);
        assert_eq!(e.constraint(), Some("width"));
        let c =
            TrackConstraints::parse(r#"{"width": 640, "advanced": [{"frameRate": {"max": 10}}]}"#)
                .unwrap();
        assert_eq!(chosen(&c).2, 10.0);
    }

    #[test]
    fn settings_and_capabilities_carry_the_surface() {
        let s = select(&video("{}"), &monitor()).unwrap().to_json();
        assert_eq!(s["displaySurface"], "monitor");
        assert_eq!(s["logicalSurface"], true);
        assert_eq!(s["cursor"], "always");
        assert_eq!(s["deviceId"], "screen-0");
        let c = capabilities(&monitor());
        assert_eq!(c["width"], json!({"min": 1, "max": 1280}));
        assert_eq!(c["frameRate"]["max"], 30.0);
        assert_eq!(c["displaySurface"], "monitor");
        assert_eq!(c["cursor"], json!(["always", "motion", "never"]));
    }

    fn device(id: &str, surface: SurfaceType, default: bool) -> DeviceInfo {
        let mut d = crate::constraints::device::test_camera(
            None,
            vec![crate::constraints::NativeMode::Video(
                crate::constraints::VideoMode {
                    width: crate::constraints::IntRange {
                        min: 1280,
                        max: 1280,
                    },
                    height: crate::constraints::IntRange { min: 720, max: 720 },
                    min_rate: Fraction::new(1, 1),
                    max_rate: Fraction::new(30, 1),
                    media_type: "video/x-raw".into(),
                    formats: vec!["BGRx".into()],
                    structure_index: 0,
                },
            )],
        );
        d.kind = crate::constraints::DeviceKind::Display;
        d.device_id = id.into();
        d.is_default = default;
        d.display = Some(DisplayTraits {
            surface,
            logical_surface: surface == SurfaceType::Monitor,
            cursors: Cursor::ALL.to_vec(),
        });
        d
    }

    #[test]
    fn the_surface_is_named_else_preferred_else_the_default() {
        let devices = [
            crate::constraints::device::test_camera(None, Vec::new()),
            device("w", SurfaceType::Window, false),
            device("m", SurfaceType::Monitor, true),
        ];
        let pick = |json: &str, named: Option<&str>| {
            select_display(&DisplayOptions::parse(json).unwrap(), &devices, named)
                .map(|s| devices[s.device_index].device_id.clone())
        };
        assert_eq!(pick("{}", None).unwrap(), "m");
        assert_eq!(pick("{}", Some("")).unwrap(), "m");
        assert_eq!(
            pick(r#"{"video": {"displaySurface": "window"}}"#, None).unwrap(),
            "w"
        );
        assert_eq!(
            pick(r#"{"monitorTypeSurfaces": "exclude"}"#, None).unwrap(),
            "w"
        );
        assert_eq!(
            pick(r#"{"video": {"displaySurface": "monitor"}}"#, Some("w")).unwrap(),
            "w"
        );
        // A camera is never a display surface.
        let e = pick("{}", Some("cam")).unwrap_err();
        assert_eq!(e.error_name(), ErrorName::NotFoundError);
        let e = pick(r#"{"monitorTypeSurfaces": "exclude"}"#, Some("m")).unwrap_err();
        assert_eq!(e.error_name(), ErrorName::TypeError);
        let e = select_display(&DisplayOptions::default(), &devices[..1], None).unwrap_err();
        assert_eq!(e.error_name(), ErrorName::NotFoundError);
    }

    #[test]
    fn the_system_s_sound_is_a_display_device_with_audio() {
        let opts = crate::constraints::SelectOptions::default();
        let mic = crate::constraints::NativeMode::Audio(crate::constraints::AudioMode {
            format: "S16LE".into(),
            sample_size: 16,
            rate: crate::constraints::IntRange {
                min: 48000,
                max: 48000,
            },
            channels: crate::constraints::IntRange { min: 2, max: 2 },
            structure_index: 0,
        });
        let screen = device("m", SurfaceType::Monitor, true);
        // None: the stream is video only.
        assert!(
            select_system_audio(
                &TrackConstraints::default(),
                std::slice::from_ref(&screen),
                &opts
            )
            .is_none()
        );
        let mut sound = crate::constraints::device::test_camera(None, vec![mic]);
        sound.kind = crate::constraints::DeviceKind::Display;
        sound.device_id = "monitor-of-speaker".into();
        assert!(sound.is_system_audio() && !screen.is_system_audio());
        let devices = [screen, sound];
        let sel = select_system_audio(&TrackConstraints::default(), &devices, &opts)
            .unwrap()
            .unwrap();
        assert_eq!(sel.device_index, 1);
        assert_eq!(sel.settings.to_json()["channelCount"], 2);
        // Never a surface.
        let e = select_display(
            &DisplayOptions::default(),
            &devices,
            Some("monitor-of-speaker"),
        )
        .unwrap_err();
        assert_eq!(e.error_name(), ErrorName::NotFoundError);
    }

    #[test]
    fn preferred_surface_is_read_from_display_surface() {
        let o = DisplayOptions::parse(r#"{"video": {"displaySurface": "window"}}"#).unwrap();
        assert_eq!(o.preferred_surface(), Some(SurfaceType::Window));
        assert_eq!(
            DisplayOptions::parse("{}").unwrap().preferred_surface(),
            None
        );
    }
}
