// SPDX-License-Identifier: MPL-2.0

//! MediaStreamConstraints / MediaTrackConstraints as JSON (docs/constraints.md).
//!
//! Parsing follows WebIDL where it matters to a web developer: a bare value is
//! `ideal` in the basic set and `exact` in an `advanced` set, unknown keys and
//! unknown dictionary members are ignored, and a known key is type-checked
//! whatever the track kind (the dictionary is shared by audio and video), while
//! selection only looks at the keys of its own kind.

use super::error::ConstraintError;
use gst::glib;
use serde_json::{Map, Value};
use std::fmt;

/// The kind of a track (MediaStreamTrack.kind); also the GObject enum of
/// `mediastreamsrc`'s `kind` property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstMediaStreamTrackKind")]
pub enum Kind {
    #[enum_value(name = "Audio: a microphone track", nick = "audio")]
    Audio = 0,
    #[default]
    #[enum_value(name = "Video: a camera track", nick = "video")]
    Video = 1,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Audio => "audio",
            Kind::Video => "video",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The WebIDL type of a constrainable property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// ConstrainULong.
    ULong,
    /// ConstrainDouble.
    Double,
    /// ConstrainDOMString.
    DomString,
    /// ConstrainBoolean.
    Boolean,
    /// ConstrainBooleanOrDOMString (`echoCancellation`).
    BooleanOrDomString,
}

macro_rules! properties {
    ($($variant:ident => $name:literal, $ty:ident, $kind:expr;)*) => {
        /// A constrainable property the plugin supports (getSupportedConstraints).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Property {
            $($variant,)*
        }

        impl Property {
            /// Every supported property, in the order the spec's
            /// MediaTrackSupportedConstraints lists them.
            pub const ALL: &'static [Property] = &[$(Property::$variant,)*];

            /// The W3C member name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Property::$variant => $name,)*
                }
            }

            pub fn value_type(self) -> ValueType {
                match self {
                    $(Property::$variant => ValueType::$ty,)*
                }
            }

            /// The kind the property applies to; `None` for both.
            pub fn kind(self) -> Option<Kind> {
                match self {
                    $(Property::$variant => $kind,)*
                }
            }

            pub fn from_name(name: &str) -> Option<Property> {
                match name {
                    $($name => Some(Property::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

properties! {
    DeviceId => "deviceId", DomString, None;
    GroupId => "groupId", DomString, None;
    Width => "width", ULong, Some(Kind::Video);
    Height => "height", ULong, Some(Kind::Video);
    AspectRatio => "aspectRatio", Double, Some(Kind::Video);
    FrameRate => "frameRate", Double, Some(Kind::Video);
    FacingMode => "facingMode", DomString, Some(Kind::Video);
    ResizeMode => "resizeMode", DomString, Some(Kind::Video);
    SampleRate => "sampleRate", ULong, Some(Kind::Audio);
    SampleSize => "sampleSize", ULong, Some(Kind::Audio);
    ChannelCount => "channelCount", ULong, Some(Kind::Audio);
    Latency => "latency", Double, Some(Kind::Audio);
    EchoCancellation => "echoCancellation", BooleanOrDomString, Some(Kind::Audio);
    AutoGainControl => "autoGainControl", Boolean, Some(Kind::Audio);
    NoiseSuppression => "noiseSuppression", Boolean, Some(Kind::Audio);
    DisplaySurface => "displaySurface", DomString, Some(Kind::Video);
    LogicalSurface => "logicalSurface", Boolean, Some(Kind::Video);
    Cursor => "cursor", DomString, Some(Kind::Video);
}

impl Property {
    pub fn applies_to(self, kind: Kind) -> bool {
        self.kind().is_none_or(|k| k == kind)
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A numeric constraint (ConstrainULong / ConstrainDouble).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NumberConstraint {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub exact: Option<f64>,
    pub ideal: Option<f64>,
}

impl NumberConstraint {
    pub fn is_required(&self) -> bool {
        self.min.is_some() || self.max.is_some() || self.exact.is_some()
    }

    /// Whether `v` meets min/max/exact (ideal is not a requirement), up to
    /// rounding noise (1e-9 relative): 16/9 written as 1.7777777778 is 16/9.
    pub fn satisfied_by(&self, v: f64) -> bool {
        let eps = |x: f64| 1e-9 * x.abs().max(1.0);
        self.min.is_none_or(|min| v >= min - eps(min))
            && self.max.is_none_or(|max| v <= max + eps(max))
            && self.exact.is_none_or(|e| (v - e).abs() <= eps(e))
    }

    /// The values named in the constraint, for the candidate points.
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        [self.min, self.max, self.exact, self.ideal]
            .into_iter()
            .flatten()
    }
}

/// A value of a string or boolean constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discrete {
    Str(String),
    Bool(bool),
}

impl fmt::Display for Discrete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Messages quote it: a long value is cut (its length stays).
            Discrete::Str(s) => f.write_str(&crate::excerpt::quoted(s)),
            Discrete::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A string or boolean constraint (ConstrainDOMString / ConstrainBoolean).
/// A list means "any of these".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiscreteConstraint {
    pub exact: Option<Vec<Discrete>>,
    pub ideal: Option<Vec<Discrete>>,
}

impl DiscreteConstraint {
    pub fn is_required(&self) -> bool {
        self.exact.is_some()
    }

    pub fn satisfied_by(&self, v: Option<&Discrete>) -> bool {
        match &self.exact {
            None => true,
            Some(list) => v.is_some_and(|v| list.contains(v)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    Number(NumberConstraint),
    Discrete(DiscreteConstraint),
}

impl Constraint {
    pub fn is_required(&self) -> bool {
        match self {
            Constraint::Number(n) => n.is_required(),
            Constraint::Discrete(d) => d.is_required(),
        }
    }
}

/// One MediaTrackConstraintSet: its members in the order written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConstraintSet {
    pub members: Vec<(Property, Constraint)>,
}

impl ConstraintSet {
    pub fn get(&self, p: Property) -> Option<&Constraint> {
        self.members.iter().find(|(q, _)| *q == p).map(|(_, c)| c)
    }

    /// The members that apply to `kind`, in key order.
    pub fn for_kind(&self, kind: Kind) -> impl Iterator<Item = &(Property, Constraint)> {
        self.members.iter().filter(move |(p, _)| p.applies_to(kind))
    }
}

/// MediaTrackConstraints: a basic set and the `advanced` sets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackConstraints {
    pub basic: ConstraintSet,
    pub advanced: Vec<ConstraintSet>,
}

impl TrackConstraints {
    /// Parses a MediaTrackConstraints JSON document (`mediastreamsrc`'s
    /// `constraints`). Error paths start at the member names.
    pub fn parse(json: &str) -> Result<TrackConstraints, ConstraintError> {
        let value = parse_json(json)?;
        match &value {
            Value::Object(map) => parse_track(map, ""),
            _ => Err(ConstraintError::type_error(
                "constraints: expected an object (MediaTrackConstraints)",
            )),
        }
    }

    /// Every set, basic first.
    pub fn sets(&self) -> impl Iterator<Item = &ConstraintSet> {
        std::iter::once(&self.basic).chain(self.advanced.iter())
    }
}

/// MediaStreamConstraints: which kinds are requested, with their constraints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamConstraints {
    pub audio: Option<TrackConstraints>,
    pub video: Option<TrackConstraints>,
}

impl StreamConstraints {
    /// Parses a MediaStreamConstraints JSON document (`mediastream`'s
    /// `constraints`). Asking for neither kind is a TypeError, as in
    /// getUserMedia.
    pub fn parse(json: &str) -> Result<StreamConstraints, ConstraintError> {
        let value = parse_json(json)?;
        Self::from_value(&value)
    }

    pub fn from_value(value: &Value) -> Result<StreamConstraints, ConstraintError> {
        let Value::Object(map) = value else {
            return Err(ConstraintError::type_error(
                "constraints: expected an object (MediaStreamConstraints) such as {\"video\": true}",
            ));
        };
        let mut out = StreamConstraints::default();
        for (key, v) in map {
            let kind = match key.as_str() {
                "audio" => Kind::Audio,
                "video" => Kind::Video,
                _ => continue,
            };
            let track = match v {
                Value::Bool(false) => None,
                Value::Bool(true) => Some(TrackConstraints::default()),
                // WebIDL turns null into the empty dictionary: the kind is requested.
                Value::Null => Some(TrackConstraints::default()),
                Value::Object(m) => Some(parse_track(m, key)?),
                _ => {
                    return Err(ConstraintError::type_error(format!(
                        "{key}: expected a boolean or an object (MediaTrackConstraints), got {}",
                        describe(v)
                    )));
                }
            };
            match kind {
                Kind::Audio => out.audio = track,
                Kind::Video => out.video = track,
            }
        }
        if out.audio.is_none() && out.video.is_none() {
            return Err(ConstraintError::type_error(
                "constraints: at least one of audio and video must be requested",
            ));
        }
        Ok(out)
    }

    pub fn get(&self, kind: Kind) -> Option<&TrackConstraints> {
        match kind {
            Kind::Audio => self.audio.as_ref(),
            Kind::Video => self.video.as_ref(),
        }
    }
}

fn parse_json(json: &str) -> Result<Value, ConstraintError> {
    serde_json::from_str(json).map_err(|e| {
        ConstraintError::type_error(format!(
            "malformed JSON at line {}, column {}: {}",
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        ))
    })
}

/// serde_json appends " at line L column C"; the caller says it once.
fn strip_position(msg: &str) -> &str {
    msg.find(" at line ").map_or(msg, |i| &msg[..i])
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn parse_track(
    map: &Map<String, Value>,
    path: &str,
) -> Result<TrackConstraints, ConstraintError> {
    let basic = parse_set(map, path, false)?;
    let mut advanced = Vec::new();
    if let Some(adv) = map.get("advanced") {
        let adv_path = join(path, "advanced");
        let Value::Array(items) = adv else {
            return Err(ConstraintError::type_error(format!(
                "{adv_path}: expected an array of constraint sets, got {}",
                describe(adv)
            )));
        };
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{adv_path}[{i}]");
            let Value::Object(m) = item else {
                return Err(ConstraintError::type_error(format!(
                    "{item_path}: expected an object (MediaTrackConstraintSet), got {}",
                    describe(item)
                )));
            };
            advanced.push(parse_set(m, &item_path, true)?);
        }
    }
    Ok(TrackConstraints { basic, advanced })
}

fn parse_set(
    map: &Map<String, Value>,
    path: &str,
    bare_is_exact: bool,
) -> Result<ConstraintSet, ConstraintError> {
    let mut members = Vec::new();
    for (key, v) in map {
        let Some(prop) = Property::from_name(key) else {
            continue;
        };
        let p = join(path, key);
        let c = match prop.value_type() {
            ValueType::ULong => Constraint::Number(parse_number(v, &p, bare_is_exact, true)?),
            ValueType::Double => Constraint::Number(parse_number(v, &p, bare_is_exact, false)?),
            ValueType::DomString => {
                Constraint::Discrete(parse_discrete(v, &p, bare_is_exact, DiscreteKind::Str)?)
            }
            ValueType::Boolean => {
                Constraint::Discrete(parse_discrete(v, &p, bare_is_exact, DiscreteKind::Bool)?)
            }
            ValueType::BooleanOrDomString => Constraint::Discrete(parse_discrete(
                v,
                &p,
                bare_is_exact,
                DiscreteKind::BoolOrStr,
            )?),
        };
        members.push((prop, c));
    }
    Ok(ConstraintSet { members })
}

fn number_value(v: &Value, path: &str, ulong: bool) -> Result<f64, ConstraintError> {
    let expected = if ulong {
        "a non-negative integer"
    } else {
        "a number"
    };
    let n = v.as_f64().filter(|n| n.is_finite()).ok_or_else(|| {
        ConstraintError::type_error(format!("{path}: expected {expected}, got {}", describe(v)))
    })?;
    if ulong {
        if !(0.0..=u32::MAX as f64).contains(&n.trunc()) {
            // 1e300 rather than its 301 digits.
            let got = if n.abs() >= 1e15 {
                format!("{n:e}")
            } else {
                n.to_string()
            };
            return Err(ConstraintError::type_error(format!(
                "{path}: expected {expected} (0 to {}), got {got}",
                u32::MAX
            )));
        }
        // WebIDL `unsigned long` conversion drops the fraction.
        return Ok(n.trunc());
    }
    Ok(n)
}

fn parse_number(
    v: &Value,
    path: &str,
    bare_is_exact: bool,
    ulong: bool,
) -> Result<NumberConstraint, ConstraintError> {
    match v {
        Value::Number(_) => {
            let n = number_value(v, path, ulong)?;
            Ok(if bare_is_exact {
                NumberConstraint {
                    exact: Some(n),
                    ..Default::default()
                }
            } else {
                NumberConstraint {
                    ideal: Some(n),
                    ..Default::default()
                }
            })
        }
        Value::Object(m) => {
            let mut c = NumberConstraint::default();
            for (k, slot) in [
                ("min", &mut c.min),
                ("max", &mut c.max),
                ("exact", &mut c.exact),
                ("ideal", &mut c.ideal),
            ] {
                if let Some(x) = m.get(k) {
                    *slot = Some(number_value(x, &format!("{path}.{k}"), ulong)?);
                }
            }
            Ok(c)
        }
        _ => Err(ConstraintError::type_error(format!(
            "{path}: expected a number or an object with min/max/exact/ideal, got {}",
            describe(v)
        ))),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DiscreteKind {
    Str,
    Bool,
    BoolOrStr,
}

impl DiscreteKind {
    fn expected(self) -> &'static str {
        match self {
            DiscreteKind::Str => "a string, an array of strings, or an object with exact/ideal",
            DiscreteKind::Bool => "a boolean or an object with exact/ideal",
            DiscreteKind::BoolOrStr => "a boolean, a string, or an object with exact/ideal",
        }
    }
}

/// A bare value or an `exact`/`ideal` member; `None` when `v` is not one.
fn discrete_values(v: &Value, kind: DiscreteKind) -> Option<Vec<Discrete>> {
    match (v, kind) {
        (Value::String(s), DiscreteKind::Str | DiscreteKind::BoolOrStr) => {
            Some(vec![Discrete::Str(s.clone())])
        }
        (Value::Bool(b), DiscreteKind::Bool | DiscreteKind::BoolOrStr) => {
            Some(vec![Discrete::Bool(*b)])
        }
        (Value::Array(items), DiscreteKind::Str) => items
            .iter()
            .map(|i| i.as_str().map(|s| Discrete::Str(s.to_owned())))
            .collect(),
        _ => None,
    }
}

fn parse_discrete(
    v: &Value,
    path: &str,
    bare_is_exact: bool,
    kind: DiscreteKind,
) -> Result<DiscreteConstraint, ConstraintError> {
    if let Value::Object(m) = v {
        let mut c = DiscreteConstraint::default();
        for (k, slot) in [("exact", &mut c.exact), ("ideal", &mut c.ideal)] {
            if let Some(x) = m.get(k) {
                let values = discrete_values(x, kind).ok_or_else(|| {
                    ConstraintError::type_error(format!(
                        "{path}.{k}: expected {}, got {}",
                        match kind {
                            DiscreteKind::Str => "a string or an array of strings",
                            DiscreteKind::Bool => "a boolean",
                            DiscreteKind::BoolOrStr => "a boolean or a string",
                        },
                        describe(x)
                    ))
                })?;
                *slot = Some(values);
            }
        }
        return Ok(c);
    }
    let values = discrete_values(v, kind).ok_or_else(|| {
        ConstraintError::type_error(format!(
            "{path}: expected {}, got {}",
            kind.expected(),
            describe(v)
        ))
    })?;
    Ok(if bare_is_exact {
        DiscreteConstraint {
            exact: Some(values),
            ideal: None,
        }
    } else {
        DiscreteConstraint {
            exact: None,
            ideal: Some(values),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_value_is_ideal_in_basic_and_exact_in_advanced() {
        let c = TrackConstraints::parse(r#"{"width": 640, "advanced": [{"width": 320}]}"#).unwrap();
        assert_eq!(
            c.basic.get(Property::Width),
            Some(&Constraint::Number(NumberConstraint {
                ideal: Some(640.0),
                ..Default::default()
            }))
        );
        assert_eq!(
            c.advanced[0].get(Property::Width),
            Some(&Constraint::Number(NumberConstraint {
                exact: Some(320.0),
                ..Default::default()
            }))
        );
    }

    #[test]
    fn keys_keep_their_written_order() {
        let c = TrackConstraints::parse(r#"{"resizeMode": "none", "width": 1, "deviceId": "x"}"#)
            .unwrap();
        let names: Vec<_> = c.basic.members.iter().map(|(p, _)| p.name()).collect();
        assert_eq!(names, ["resizeMode", "width", "deviceId"]);
    }

    #[test]
    fn type_errors_name_the_path() {
        let e = StreamConstraints::parse(r#"{"video": {"width": "wide"}}"#).unwrap_err();
        assert_eq!(e.name(), "TypeError");
        assert!(
            e.message().starts_with(
                "video.width: expected a number or an object with min/max/exact/ideal"
            ),
            "{}",
            e.message()
        );
        let e = StreamConstraints::parse(r#"{"video": {"advanced": [{"height": {"min": "x"}}]}}"#)
            .unwrap_err();
        assert!(
            e.message().starts_with("video.advanced[0].height.min:"),
            "{}",
            e.message()
        );
        let e = StreamConstraints::parse(r#"{"audio": {"echoCancellation": 3}}"#).unwrap_err();
        assert!(e.message().starts_with("audio.echoCancellation:"));
        let e = StreamConstraints::parse(r#"{"video": {"facingMode": ["user", 1]}}"#).unwrap_err();
        assert!(e.message().starts_with("video.facingMode:"));
        let e = StreamConstraints::parse(r#"{"video": {"advanced": {}}}"#).unwrap_err();
        assert!(e.message().starts_with("video.advanced:"));
        let e = StreamConstraints::parse(r#"{"video": {"width": -1}}"#).unwrap_err();
        assert!(e.message().starts_with("video.width:"));
    }

    #[test]
    fn bad_json_names_line_and_column() {
        let e = StreamConstraints::parse("{\n\"video\": {\"width\": 640,}\n}").unwrap_err();
        assert_eq!(e.name(), "TypeError");
        assert!(e.message().contains("line 2, column 24"), "{}", e.message());
    }

    #[test]
    fn nothing_requested_is_a_type_error() {
        for s in [
            "{}",
            r#"{"audio": false}"#,
            r#"{"doesnotexist": true}"#,
            "[]",
            "5",
        ] {
            let e = StreamConstraints::parse(s).unwrap_err();
            assert_eq!(e.name(), "TypeError", "{s}");
        }
        let e = StreamConstraints::parse(r#"{"video": 5}"#).unwrap_err();
        assert_eq!(
            e.message(),
            "video: expected a boolean or an object (MediaTrackConstraints), got a number"
        );
    }

    #[test]
    fn other_kind_keys_are_type_checked_but_kept_apart() {
        let c = StreamConstraints::parse(r#"{"video": {"sampleRate": 1, "width": 2}}"#).unwrap();
        let v = c.video.unwrap();
        let kinds: Vec<_> = v.basic.for_kind(Kind::Video).map(|(p, _)| *p).collect();
        assert_eq!(kinds, [Property::Width]);
        assert!(StreamConstraints::parse(r#"{"video": {"sampleRate": "x"}}"#).is_err());
    }

    #[test]
    fn ulong_drops_fraction_and_unknown_members_are_ignored() {
        let c = TrackConstraints::parse(r#"{"width": {"min": 640.9, "foo": "bar"}, "bogus": 1}"#)
            .unwrap();
        assert_eq!(
            c.basic.members,
            vec![(
                Property::Width,
                Constraint::Number(NumberConstraint {
                    min: Some(640.0),
                    ..Default::default()
                })
            )]
        );
    }
}
