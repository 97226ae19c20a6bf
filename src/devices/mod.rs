// SPDX-License-Identifier: MPL-2.0

//! The device layer: what getUserMedia selects from.
//!
//! - [`file`](mod@file): the fake-device file format (docs/devices.md);
//! - [`fake`]: `GST_MEDIASTREAM_FAKE_DEVICES` and the device-file poller;
//! - [`monitor`]: MediaDevices over `GstDeviceMonitor` (or the fake provider);
//! - [`opened`]: which fake devices are open (exclusive ones refuse a second open).

pub mod fake;
pub mod file;
pub mod monitor;
pub mod opened;
