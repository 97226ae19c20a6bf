// SPDX-License-Identifier: MPL-2.0

//! The W3C constraints engine: MediaStreamConstraints parsing, native modes,
//! SelectSettings with the fitness distance, capabilities and settings
//! (docs/constraints.md).
//!
//! Everything here is plain Rust except [`caps`], the edge that turns
//! `gst::Caps` into native modes and settings into `gst::Structure`s.

pub mod capabilities;
pub mod caps;
pub mod device;
pub mod display;
pub mod error;
pub mod parse;
pub mod select;
pub mod settings;
pub mod share;

pub use capabilities::{capabilities, supported_constraints};
pub use device::{AudioMode, DeviceInfo, DeviceKind, Fraction, IntRange, NativeMode, VideoMode};
pub use error::{ConstraintError, ErrorName};
pub use parse::{Constraint, ConstraintSet, Kind, Property, StreamConstraints, TrackConstraints};
pub use select::{
    SelectOptions, Selection, StreamSelection, select_on_device, select_stream, select_track,
};
pub use settings::{AudioSettings, ResizeMode, Settings, VideoSettings};
