// SPDX-License-Identifier: MPL-2.0

//! `mediastreamfakesrc`: the capture element of a fake device. A live
//! `videotestsrc` / `audiotestsrc` limited to the device's declared caps
//! (an `image/jpeg` mode is encoded with `jpegenc`), which fails like an
//! unplugged camera when its device disappears from the device file.
//! Pattern `square` ([`square`]) draws a shape of known geometry.

use gst::glib;
use gst::prelude::*;
use std::sync::LazyLock;

mod imp;

/// The element's debug category, for every part of it.
static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastreamfakesrc",
        gst::DebugColorFlags::empty(),
        Some("Fake capture device source"),
    )
});

pub mod square;

/**
 * SECTION:element-mediastreamfakesrc
 *
 * The capture element of a fake device (`GST_MEDIASTREAM_FAKE_DEVICES`):
 * live test media limited to exactly the device's caps, failing like an
 * unplugged camera when its device leaves the device file.
 *
 * ## Example launch line
 * |[
 * GST_MEDIASTREAM_FAKE_DEVICES=1 gst-launch-1.0 mediastreamfakesrc device-id=fake-camera-front num-buffers=30 ! fakesink
 * ]|
 *
 * Since: 0.1
 */
glib::wrapper! {
    pub struct MediaStreamFakeSrc(ObjectSubclass<imp::MediaStreamFakeSrc>)
        @extends gst::Bin, gst::Element, gst::Object,
        @implements gst::ChildProxy;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "mediastreamfakesrc",
        gst::Rank::NONE,
        MediaStreamFakeSrc::static_type(),
    )
}
