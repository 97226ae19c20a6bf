// SPDX-License-Identifier: MPL-2.0

// The elements document their signals in hotdoc blocks (`/** Type::signal: */`)
// on the builder expressions, as gst-plugins-rs does.
#![allow(unused_doc_comments)]

//! gst-mediastream: the W3C Media Capture and Streams model for GStreamer.
//!
//! The [`constraints`] module is the pure W3C constraints engine
//! (parsing, SelectSettings, fitness distance, capabilities); it needs no
//! running GStreamer except at its caps edge ([`constraints::caps`]).

pub mod constraints;
pub mod devices;
pub mod excerpt;
pub mod fakedeviceprovider;
pub mod fault;
mod lifeline;
pub mod mediarecorder;
pub mod mediastream;
pub mod mediastreamfakesrc;
pub mod mediastreamrtpdec;
pub mod mediastreamrtpenc;
pub mod mediastreamsrc;
pub mod mediastreamtracksink;
mod plumbing;
pub mod track;
pub mod webrtc;

use gst::glib;

/// Makes the plugin's elements and device provider available when this
/// crate is used as a Rust library. Inside the plugin loaded by GStreamer
/// it does nothing; otherwise it registers this code's own types, so a stale
/// `mediastream` plugin in the registry cache (an older build on
/// GST_PLUGIN_PATH) never stands in for it. Needs `gst::init()` first.
pub fn ensure_registered() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let loaded = gst::Registry::get()
            .find_plugin("mediastream")
            .is_some_and(|p| p.is_loaded());
        if !loaded && let Err(e) = plugin_register_static() {
            // The elements are then missing, and creating one says so.
            gst::warning!(
                gst::CAT_DEFAULT,
                "cannot register the mediastream plugin: {e}"
            );
        }
    });
}

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    mediastreamfakesrc::register(plugin)?;
    fakedeviceprovider::register(plugin)?;
    mediastreamsrc::register(plugin)?;
    mediastreamtracksink::register(plugin)?;
    mediastream::register(plugin)?;
    mediastreamrtpenc::register(plugin)?;
    mediastreamrtpdec::register(plugin)?;
    mediarecorder::register(plugin)?;
    Ok(())
}

gst::plugin_define!(
    mediastream,
    env!("CARGO_PKG_DESCRIPTION"),
    plugin_init,
    concat!(env!("CARGO_PKG_VERSION"), "-", env!("COMMIT_ID")),
    "MPL",
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_NAME"),
    "Unknown package origin",
    env!("BUILD_REL_DATE")
);
