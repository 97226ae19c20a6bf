// SPDX-License-Identifier: MPL-2.0

//! The fake-device file format (docs/devices.md, "The device file").
//!
//! ```json
//! {"devices": [{"kind": "videoinput", "label": "Cam", "deviceId": "cam",
//!   "groupId": "g1", "facingMode": "user", "default": true,
//!   "caps": "video/x-raw,format=I420,width=640,height=480,framerate=30/1"}]}
//! ```
//!
//! Parsing the JSON is plain Rust; turning `caps` into native modes uses
//! GStreamer's own caps parser, so [`DeviceSpec::to_device_info`] needs
//! `gst::init()`.

use crate::constraints::caps::modes_from_caps;
use crate::constraints::display::{Cursor, DisplayTraits, SurfaceType};
use crate::constraints::{DeviceInfo, DeviceKind};
use serde_json::{Map, Value};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// The built-in fake devices (`GST_MEDIASTREAM_FAKE_DEVICES=1`).
pub const BUILTIN_JSON: &str = include_str!("builtin.json");

/// Audio latency of a device that does not say (seconds).
pub const DEFAULT_LATENCY: f64 = 0.01;

/// One device of a fake-device file, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceSpec {
    // The fields a device must have, then the others, as docs/devices.md
    // lists them.
    pub kind: DeviceKind,
    pub label: String,
    pub device_id: String,
    pub caps: String,
    pub group_id: String,
    pub facing_mode: Option<String>,
    /// Resolved: the file's `default`, or the first device of its kind when
    /// no device of that kind says.
    pub is_default: bool,
    pub latency: f64,
    pub live: bool,
    /// `"broken": true`: the device is listed but cannot be opened, like a
    /// camera another program holds (for testing NotReadableError).
    pub broken: bool,
    /// `"exclusive": true`: a second open while it is open fails as busy,
    /// as a V4L2 camera does (sharing one capture between tracks).
    pub exclusive: bool,
    /// `"pattern"`: what a camera shows (a videotestsrc pattern nick, or
    /// `square`); `None`: a pattern of its own from its index
    /// ([`super::fake::pattern_for`]).
    pub pattern: Option<String>,
    /// `"displaySurface"` of a `display` device: `monitor` (the default)
    /// or `window`.
    pub display_surface: Option<SurfaceType>,
}

/// A fake-device file that cannot be used: names the file, the device index
/// and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceFileError {
    pub origin: String,
    pub device: Option<usize>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for DeviceFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(i) = self.device {
            write!(f, ": device {i}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field \"{field}\"")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for DeviceFileError {}

fn err(
    origin: &str,
    device: Option<usize>,
    field: Option<&str>,
    message: impl Into<String>,
) -> DeviceFileError {
    DeviceFileError {
        origin: origin.to_owned(),
        device,
        field: field.map(str::to_owned),
        message: message.into(),
    }
}

/// Reads and parses a fake-device file.
pub fn load_devices_file(path: &Path) -> Result<Vec<DeviceSpec>, DeviceFileError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| err(&origin, None, None, format!("cannot read the file: {e}")))?;
    parse_devices(&text, &origin)
}

/// Parses the JSON of a fake-device file; `origin` names it in errors.
pub fn parse_devices(json: &str, origin: &str) -> Result<Vec<DeviceSpec>, DeviceFileError> {
    let root: Value = serde_json::from_str(json).map_err(|e| {
        err(
            origin,
            None,
            None,
            format!(
                "not valid JSON at line {}, column {}: {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    let list = root
        .get("devices")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            err(
                origin,
                None,
                Some("devices"),
                "expected an object with a \"devices\" array",
            )
        })?;
    let mut specs = Vec::with_capacity(list.len());
    for (i, d) in list.iter().enumerate() {
        let m = d
            .as_object()
            .ok_or_else(|| err(origin, Some(i), None, "expected an object"))?;
        let spec = parse_device(m, origin, i)?;
        if let Some(j) = specs
            .iter()
            .position(|s: &DeviceSpec| s.device_id == spec.device_id)
        {
            return Err(err(
                origin,
                Some(i),
                Some("deviceId"),
                format!(
                    "\"{}\" is already the deviceId of device {j}",
                    spec.device_id
                ),
            ));
        }
        specs.push(spec);
    }
    for kind in [
        DeviceKind::VideoInput,
        DeviceKind::AudioInput,
        DeviceKind::AudioOutput,
        DeviceKind::Display,
    ] {
        let has_default = specs.iter().any(|s| s.kind == kind && s.is_default);
        if !has_default && let Some(first) = specs.iter_mut().find(|s| s.kind == kind) {
            first.is_default = true;
        }
    }
    Ok(specs)
}

fn parse_device(
    m: &Map<String, Value>,
    origin: &str,
    i: usize,
) -> Result<DeviceSpec, DeviceFileError> {
    let string = |field: &str, required: bool| -> Result<Option<String>, DeviceFileError> {
        match m.get(field) {
            None if required => Err(err(origin, Some(i), Some(field), "missing")),
            None => Ok(None),
            Some(Value::String(s)) if required && s.is_empty() => {
                Err(err(origin, Some(i), Some(field), "must not be empty"))
            }
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(err(origin, Some(i), Some(field), "expected a string")),
        }
    };
    let boolean = |field: &str, default: bool| -> Result<bool, DeviceFileError> {
        match m.get(field) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(err(origin, Some(i), Some(field), "expected true or false")),
        }
    };
    let kind_name = string("kind", true)?.unwrap_or_default();
    let kind = DeviceKind::from_name(&kind_name).ok_or_else(|| {
        err(
            origin,
            Some(i),
            Some("kind"),
            format!("\"{kind_name}\" is not one of videoinput, audioinput, audiooutput, display"),
        )
    })?;
    let label = string("label", true)?.unwrap_or_default();
    let device_id = string("deviceId", true)?.unwrap_or_default();
    let caps = string("caps", true)?.unwrap_or_default();
    let group_id = string("groupId", false)?.unwrap_or_else(|| device_id.clone());
    let facing_mode = string("facingMode", false)?;
    let pattern = string("pattern", false)?;
    // A display with audio caps is the system's sound: no surface.
    let sound = caps.trim_start().starts_with("audio/");
    let display_surface = match (kind, string("displaySurface", false)?) {
        (DeviceKind::Display, None) if sound => None,
        (DeviceKind::Display, Some(_)) if sound => {
            return Err(err(
                origin,
                Some(i),
                Some("displaySurface"),
                "a display with audio caps is the system's sound: it has no displaySurface",
            ));
        }
        (DeviceKind::Display, None) => Some(SurfaceType::Monitor),
        (DeviceKind::Display, Some(name)) => Some(
            SurfaceType::from_name(&name)
                .filter(|t| *t != SurfaceType::Browser)
                .ok_or_else(|| {
                    err(
                        origin,
                        Some(i),
                        Some("displaySurface"),
                        format!("\"{name}\" is not one of monitor, window"),
                    )
                })?,
        ),
        (_, Some(_)) => {
            return Err(err(
                origin,
                Some(i),
                Some("displaySurface"),
                "only a \"display\" device has a displaySurface",
            ));
        }
        (_, None) => None,
    };
    let latency = match m.get("latency") {
        None => DEFAULT_LATENCY,
        Some(v) => v.as_f64().filter(|l| *l >= 0.0).ok_or_else(|| {
            err(
                origin,
                Some(i),
                Some("latency"),
                "expected a number of seconds >= 0",
            )
        })?,
    };
    Ok(DeviceSpec {
        kind,
        label,
        device_id,
        caps,
        group_id,
        facing_mode,
        is_default: boolean("default", false)?,
        latency,
        live: boolean("live", true)?,
        broken: boolean("broken", false)?,
        exclusive: boolean("exclusive", false)?,
        pattern,
        display_surface,
    })
}

impl DeviceSpec {
    /// A fake display's traits: no pointer on a fake surface; a monitor is
    /// captured whole, a window as far as it is visible.
    pub fn display_traits(&self) -> Option<DisplayTraits> {
        let surface = self.display_surface?;
        Some(DisplayTraits {
            surface,
            logical_surface: surface == SurfaceType::Monitor,
            cursors: vec![Cursor::Never],
        })
    }

    /// Parses the caps (GStreamer's parser; needs `gst::init()`).
    pub fn parsed_caps(&self, origin: &str, index: usize) -> Result<gst::Caps, DeviceFileError> {
        gst::Caps::from_str(&self.caps).map_err(|_| {
            err(
                origin,
                Some(index),
                Some("caps"),
                format!("\"{}\" is not valid caps", self.caps),
            )
        })
    }

    /// The device as the constraints engine sees it.
    pub fn to_device_info(
        &self,
        origin: &str,
        index: usize,
    ) -> Result<DeviceInfo, DeviceFileError> {
        let caps = self.parsed_caps(origin, index)?;
        Ok(DeviceInfo {
            kind: self.kind,
            label: self.label.clone(),
            device_id: self.device_id.clone(),
            group_id: self.group_id.clone(),
            facing_mode: self.facing_mode.clone(),
            is_default: self.is_default,
            latency: self.latency,
            modes: modes_from_caps(&caps),
            display: self.display_traits(),
        })
    }
}

/// Every device of a file as [`DeviceInfo`], caps checked.
pub fn device_infos(
    specs: &[DeviceSpec],
    origin: &str,
) -> Result<Vec<DeviceInfo>, DeviceFileError> {
    specs
        .iter()
        .enumerate()
        .map(|(i, s)| s.to_device_info(origin, i))
        .collect()
}

/// Reads a fake-device file into [`DeviceInfo`]s, caps checked.
pub fn load_device_infos(path: &Path) -> Result<Vec<DeviceInfo>, DeviceFileError> {
    let specs = load_devices_file(path)?;
    device_infos(&specs, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_set() {
        let specs = parse_devices(BUILTIN_JSON, "builtin").unwrap();
        let ids: Vec<_> = specs.iter().map(|s| s.device_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "fake-camera-front",
                "fake-camera-back",
                "fake-microphone",
                "fake-speaker",
                "fake-monitor",
                "fake-window",
                "fake-system-audio"
            ]
        );
        let defaults: Vec<_> = specs.iter().map(|s| s.is_default).collect();
        // The speaker is the first (only) output, so it is that kind's
        // default; the monitor is the first display.
        assert_eq!(defaults, [true, false, true, true, true, false, false]);
        assert_eq!(specs[2].latency, DEFAULT_LATENCY);
        assert!(specs.iter().all(|s| s.live));
    }

    #[test]
    fn errors_name_file_device_and_field() {
        let e = parse_devices(
            r#"{"devices": [{"kind": "videoinput", "label": "x", "caps": "video/x-raw"}]}"#,
            "f.json",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.json: device 0: field \"deviceId\": missing"
        );
        let e = parse_devices(
            r#"{"devices": [{"kind": "camera", "label": "x", "deviceId": "a", "caps": ""}]}"#,
            "f.json",
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("kind"));
        let e = parse_devices("{\"devices\": [}", "f.json").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("f.json: not valid JSON at line 1, column 14"),
            "{e}"
        );
        let e = parse_devices(r#"{"cams": []}"#, "f.json").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("devices"));
        let e = parse_devices(
            r#"{"devices": [{"kind": "audioinput", "label": "m", "deviceId": "m", "caps": "audio/x-raw", "latency": "low"}]}"#,
            "f.json",
        )
        .unwrap_err();
        assert_eq!((e.device, e.field.as_deref()), (Some(0), Some("latency")));
        let e = parse_devices(
            r#"{"devices": [{"kind": "audioinput", "label": "m", "deviceId": "m", "caps": "x"},
                            {"kind": "audioinput", "label": "n", "deviceId": "m", "caps": "x"}]}"#,
            "f.json",
        )
        .unwrap_err();
        assert_eq!((e.device, e.field.as_deref()), (Some(1), Some("deviceId")));
        let e = parse_devices(
            r#"{"devices": [{"kind": "videoinput", "label": "c", "deviceId": "c", "caps": "x", "pattern": 3}]}"#,
            "f.json",
        )
        .unwrap_err();
        assert_eq!((e.device, e.field.as_deref()), (Some(0), Some("pattern")));
    }

    #[test]
    fn a_display_is_a_monitor_or_a_window() {
        let specs = parse_devices(
            r#"{"devices": [{"kind": "display", "label": "a", "deviceId": "a", "caps": "x"},
                            {"kind": "display", "label": "b", "deviceId": "b", "caps": "x", "displaySurface": "window"}]}"#,
            "f.json",
        )
        .unwrap();
        let traits: Vec<_> = specs.iter().map(|s| s.display_traits().unwrap()).collect();
        assert_eq!(traits[0].surface, SurfaceType::Monitor);
        assert!(traits[0].logical_surface);
        assert_eq!(traits[1].surface, SurfaceType::Window);
        assert!(!traits[1].logical_surface);
        // The first display is the default one.
        assert!(specs[0].is_default && !specs[1].is_default);
        for (json, message) in [
            (
                r#"{"kind": "display", "label": "a", "deviceId": "a", "caps": "x", "displaySurface": "browser"}"#,
                "f.json: device 0: field \"displaySurface\": \"browser\" is not one of monitor, window",
            ),
            (
                r#"{"kind": "videoinput", "label": "a", "deviceId": "a", "caps": "x", "displaySurface": "window"}"#,
                "f.json: device 0: field \"displaySurface\": only a \"display\" device has a displaySurface",
            ),
        ] {
            let e = parse_devices(&format!(r#"{{"devices": [{json}]}}"#), "f.json").unwrap_err();
            assert_eq!(e.to_string(), message);
        }
    }

    #[test]
    fn pattern_from_the_file_else_by_index() {
        let specs = parse_devices(
            r#"{"devices": [{"kind": "videoinput", "label": "a", "deviceId": "a", "caps": "x", "pattern": "square"},
                            {"kind": "videoinput", "label": "b", "deviceId": "b", "caps": "x"}]}"#,
            "f.json",
        )
        .unwrap();
        assert_eq!(super::super::fake::pattern_of(&specs[0], 0), "square");
        assert_eq!(super::super::fake::pattern_of(&specs[1], 1), "ball");
    }

    #[test]
    fn bad_caps_name_the_device() {
        gst::init().unwrap();
        let specs = parse_devices(
            r#"{"devices": [{"kind": "videoinput", "label": "x", "deviceId": "a", "caps": "video/x-raw,width=(int)wide"}]}"#,
            "f.json",
        )
        .unwrap();
        let e = device_infos(&specs, "f.json").unwrap_err();
        assert_eq!((e.device, e.field.as_deref()), (Some(0), Some("caps")));
        assert!(e.to_string().contains("is not valid caps"), "{e}");
    }
}
