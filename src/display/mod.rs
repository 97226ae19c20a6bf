// SPDX-License-Identifier: MPL-2.0

//! Display surfaces as capture sources (getDisplayMedia, docs/display.md):
//! [`x11`] opens the screens and windows of an X display and grabs their
//! frames; [`surface`] names them (the deviceIds `display-surface` takes).

mod connection;
pub mod surface;
pub mod x11;

pub use crate::constraints::display::Cursor;
