// SPDX-License-Identifier: MPL-2.0

//! `mediastreamfakedeviceprovider`: the fake devices (docs/devices.md) as a
//! `GstDeviceProvider`, so `GstDeviceMonitor` and `gst-device-monitor-1.0`
//! list them like any camera or microphone. Off unless
//! `GST_MEDIASTREAM_FAKE_DEVICES` is set.

use gst::glib;
use gst::prelude::*;

mod imp;

/**
 * SECTION:provider-mediastreamfakedeviceprovider
 *
 * Fake cameras, microphones and speakers as a `GstDeviceProvider` of rank
 * marginal, so `GstDeviceMonitor`, `gst-device-monitor-1.0` and the
 * plugin's device layer list them like real ones. Off unless
 * `GST_MEDIASTREAM_FAKE_DEVICES` is set: `1` for the built-in set, or the
 * path of a device file, which is followed while the provider runs
 * (devices added, removed or changed as the file changes).
 *
 * ## Example
 * |[
 * GST_MEDIASTREAM_FAKE_DEVICES=1 gst-device-monitor-1.0 Video/Source
 * ]|
 *
 * Since: 0.1
 */
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
