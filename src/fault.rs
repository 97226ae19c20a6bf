// SPDX-License-Identifier: MPL-2.0

//! Panics never cross into C. Every pad probe, signal handler, property
//! accessor and thread body of the plugin's elements runs inside
//! `Guarded::guard`: a panic becomes a `Panicked: ...` element error
//! (GST_LIBRARY_ERROR_FAILED) on the bus, the element passes no more data
//! and answers with defaults until it is set to NULL, and the application
//! goes on.
//!
//! Not gstreamer-rs' `catch_panic`: its flag makes the framework's own
//! entry points post the error again for ever, even while the bin is
//! disposed (which deadlocked in g_error_free), and is never cleared.
//!
//! `point` marks those places so a test can prove it: `inject_panic`
//! arms one site, the next pass through it panics. Only with the
//! `fault-injection` feature, which the tests turn on: in any other build
//! a site is nothing at all.

use gst::glib;
use gst::subclass::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// An element whose entry points are guarded against panics.
pub(crate) trait Guarded: ElementImpl {
    /// Set by a panic, cleared when the element goes to NULL.
    fn failed(&self) -> &AtomicBool;

    /// Runs `f`; after a panic (this one or an earlier one), `fallback`.
    fn guard<R>(&self, fallback: impl FnOnce() -> R, f: impl FnOnce(&Self) -> R) -> R {
        if self.failed().load(Ordering::Acquire) {
            return fallback();
        }
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self))) {
            Ok(r) => r,
            Err(panic) => {
                let cause = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown cause".into());
                // Only the first panic is news.
                if !self.failed().swap(true, Ordering::AcqRel) {
                    gst::element_imp_error!(
                        self,
                        gst::LibraryError::Failed,
                        ("Panicked: {}", cause),
                        [
                            "an internal error; the element passes no more data until it is set to NULL"
                        ]
                    );
                }
                fallback()
            }
        }
    }

    /// Call on the way to NULL: the element may be used again.
    fn reset_failed(&self) {
        self.failed().store(false, Ordering::Release);
    }
}

/// A pad function of a [`Guarded`] element (set on its pads with
/// `event_function`, `chain_function`...): the element from the pad's
/// parent, the call guarded; `fallback` when the pad has no such parent
/// (taken out) or after a panic.
pub(crate) fn pad_function<T, R>(
    parent: Option<&gst::Object>,
    fallback: impl FnOnce() -> R,
    f: impl FnOnce(&T) -> R,
) -> R
where
    T: Guarded + ObjectSubclass,
    T::Type: glib::prelude::IsA<gst::Object>,
{
    use glib::prelude::Cast;
    match parent.and_then(|p| p.downcast_ref::<T::Type>()) {
        Some(obj) => obj.imp().guard(fallback, f),
        None => fallback(),
    }
}

#[cfg(feature = "fault-injection")]
static ARMED: AtomicBool = AtomicBool::new(false);
#[cfg(feature = "fault-injection")]
static SITE: parking_lot::Mutex<Option<String>> = parking_lot::Mutex::new(None);

/// Test hook: the next pass through the fault point `site` (e.g.
/// `"mediastreamsrc:set-property"`) panics, once. Not for applications.
#[cfg(feature = "fault-injection")]
#[doc(hidden)]
pub fn inject_panic(site: &str) {
    *SITE.lock() = Some(site.to_owned());
    ARMED.store(true, Ordering::SeqCst);
}

/// A place where a test may inject a panic.
#[inline]
pub(crate) fn point(_site: &str) {
    #[cfg(feature = "fault-injection")]
    if ARMED.load(Ordering::Relaxed) {
        fire(_site);
    }
}

#[cfg(feature = "fault-injection")]
#[cold]
fn fire(site: &str) {
    let mut armed = SITE.lock();
    if armed.as_deref() == Some(site) {
        *armed = None;
        ARMED.store(false, Ordering::SeqCst);
        drop(armed);
        panic!("panic injected at {site}");
    }
}

#[cfg(feature = "fault-injection")]
static FAILING: parking_lot::Mutex<Option<String>> = parking_lot::Mutex::new(None);

/// Test hook: the next pass through the failure point `site` (e.g.
/// `"mediastreamsrc:link"`) fails, once. Not for applications.
#[cfg(feature = "fault-injection")]
#[doc(hidden)]
pub fn inject_failure(site: &str) {
    *FAILING.lock() = Some(site.to_owned());
}

/// A place where a test may make an operation that cannot fail in
/// practice fail (GStreamer plumbing), to see its error reported.
#[inline]
pub(crate) fn fails(_site: &str) -> bool {
    #[cfg(feature = "fault-injection")]
    {
        let mut failing = FAILING.lock();
        if failing.as_deref() == Some(_site) {
            *failing = None;
            return true;
        }
    }
    false
}

/// Drops the item of a pad probe: what a probe returns for an item that
/// must not pass, and for everything once its element panicked. Buffers and
/// events are consumed here: returning `Drop` with the item still attached
/// makes GStreamer unref it a second time (a CRITICAL). Queries fail.
pub(crate) fn drop_item(info: &mut gst::PadProbeInfo) -> gst::PadProbeReturn {
    match info.data.take() {
        Some(gst::PadProbeData::Query(q)) => {
            info.data = Some(gst::PadProbeData::Query(q));
            gst::PadProbeReturn::Drop
        }
        None => gst::PadProbeReturn::Drop,
        Some(_) => gst::PadProbeReturn::Handled,
    }
}
