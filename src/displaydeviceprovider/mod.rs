// SPDX-License-Identifier: MPL-2.0

//! `mediastreamdisplaydeviceprovider`: the screens of `$DISPLAY` as
//! devices of class `Video/Source/Display` (getDisplayMedia's surfaces,
//! docs/display.md), and [`DisplayDevice`], the device of one X11 screen
//! or window, whose element is `mediastreamdisplaysrc`.

use crate::display::x11::Target;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

mod imp;

/**
 * SECTION:provider-mediastreamdisplaydeviceprovider
 *
 * The screens of the X display `$DISPLAY` names, as devices of class
 * `Video/Source/Display` with caps `video/x-raw, format=BGRx,
 * width=W, height=H, framerate=[1/1, 30/1]`; each one's element is
 * `mediastreamdisplaysrc display=... screen=...`. Probed when asked
 * (no X server, or no `$DISPLAY`: no device).
 *
 * ## Example
 * |[
 * DISPLAY=:99 gst-device-monitor-1.0 Video/Source/Display
 * ]|
 *
 * Since: 0.1
 */
glib::wrapper! {
    pub struct DisplayDeviceProvider(ObjectSubclass<imp::DisplayDeviceProvider>)
        @extends gst::DeviceProvider, gst::Object;
}

glib::wrapper! {
    pub struct DisplayDevice(ObjectSubclass<imp::DisplayDevice>)
        @extends gst::Device, gst::Object;
}

impl DisplayDevice {
    /// `device.api` of an X11 surface's properties.
    pub const API: &'static str = "x11";

    /// The device of an X11 surface (a screen, or a window when `target`
    /// names one) of `width` x `height`, with its deviceId and label.
    pub fn new(target: &Target, size: (u32, u32), device_id: &str, label: &str) -> DisplayDevice {
        imp::DisplayDevice::make(target, size, device_id, label)
    }

    /// The surface it captures.
    pub fn target(&self) -> Target {
        self.imp().target()
    }
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::DeviceProvider::register(
        Some(plugin),
        "mediastreamdisplaydeviceprovider",
        gst::Rank::MARGINAL,
        DisplayDeviceProvider::static_type(),
    )
}
