// SPDX-License-Identifier: MPL-2.0

//! `mediastreamdisplaysrc`: the capture element of an X11 display surface
//! (a screen, or a window), getDisplayMedia's device (docs/display.md).

use gst::glib;
use gst::prelude::*;
use std::sync::LazyLock;

mod imp;

/// The element's debug category.
static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastreamdisplaysrc",
        gst::DebugColorFlags::empty(),
        Some("X11 display surface capture"),
    )
});

/// `cursor`: Screen Capture's CursorCaptureConstraint.
#[derive(Debug, Eq, PartialEq, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstMediaStreamDisplayCursor")]
pub enum DisplayCursor {
    /// The pointer is drawn in every frame.
    #[default]
    #[enum_value(name = "always: the pointer is drawn in", nick = "always")]
    Always = 0,
    /// Drawn while it moves, and for a second after.
    #[enum_value(name = "motion: drawn while it moves and 1 s after", nick = "motion")]
    Motion = 1,
    /// Never drawn.
    #[enum_value(name = "never: the pointer is left out", nick = "never")]
    Never = 2,
}

impl From<DisplayCursor> for crate::display::Cursor {
    fn from(c: DisplayCursor) -> Self {
        match c {
            DisplayCursor::Always => crate::display::Cursor::Always,
            DisplayCursor::Motion => crate::display::Cursor::Motion,
            DisplayCursor::Never => crate::display::Cursor::Never,
        }
    }
}

/**
 * SECTION:element-mediastreamdisplaysrc
 *
 * A live capture of an X11 screen or window: frames from the X server's
 * shared memory (MIT-SHM) pushed without a copy, at the negotiated rate
 * (30 fps by default), the pointer drawn in as `cursor` says. The display
 * going away, or the window being destroyed, ends the stream with EOS (an
 * INFO message says why), never an error or a crash. getDisplayMedia
 * (`mediastream display-constraints`, `mediastreamsrc capture=display`)
 * makes one for the chosen surface.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 mediastreamdisplaysrc display=:99 ! videoconvert ! autovideosink
 * ]|
 *
 * Since: 0.1
 */
glib::wrapper! {
    pub struct MediaStreamDisplaySrc(ObjectSubclass<imp::MediaStreamDisplaySrc>)
        @extends gst_base::PushSrc, gst_base::BaseSrc, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    DisplayCursor::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    gst::Element::register(
        Some(plugin),
        "mediastreamdisplaysrc",
        gst::Rank::NONE,
        MediaStreamDisplaySrc::static_type(),
    )
}
