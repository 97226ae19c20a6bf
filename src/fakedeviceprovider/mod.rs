// SPDX-License-Identifier: MPL-2.0

//! `mediastreamfakedeviceprovider`: the fake devices (docs/devices.md) as a
//! `GstDeviceProvider`, so `GstDeviceMonitor` and `gst-device-monitor-1.0`
//! list them like any camera or microphone. Off unless
//! `GST_MEDIASTREAM_FAKE_DEVICES` is set.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct FakeDeviceProvider(ObjectSubclass<imp::FakeDeviceProvider>)
        @extends gst::DeviceProvider, gst::Object;
}

glib::wrapper! {
    pub struct FakeDevice(ObjectSubclass<imp::FakeDevice>)
        @extends gst::Device, gst::Object;
}

/// `device.api` of a fake device's properties.
pub const DEVICE_API: &str = "mediastream-fake";

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::DeviceProvider::register(
        Some(plugin),
        "mediastreamfakedeviceprovider",
        gst::Rank::MARGINAL,
        FakeDeviceProvider::static_type(),
    )
}
