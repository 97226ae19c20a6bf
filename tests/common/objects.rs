// SPDX-License-Identifier: MPL-2.0

//! Allocation and zero-copy checks at a pad that a recycled address cannot
//! fool: every buffer and memory seen is marked with qdata, so an object
//! made anew counts as new even where malloc hands back a freed address,
//! and "the device's own buffer" is checked against the buffer the device
//! pad is pushing at that moment (same thread, still alive).
//!
//! Shared by the tests and `examples/track_timing.rs` (scripts/bench).
#![allow(dead_code)]

use gst::glib;
use gst::glib::translate::IntoGlib;
use gst::prelude::*;
use std::sync::{Arc, Mutex};

/// What passed a pad since the last `take`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub buffers: usize,
    /// Buffer objects never seen at this pad before.
    pub new_buffers: usize,
    /// Memory objects never seen at this pad before.
    pub new_memories: usize,
    /// Buffers whose first memory is not the one the source pad (see
    /// `watch_against`) was pushing at that moment.
    pub foreign: usize,
}

#[derive(Clone, Default)]
pub struct Watch {
    counts: Arc<Mutex<Counts>>,
}

impl Watch {
    /// The counts so far, starting again from zero.
    pub fn take(&self) -> Counts {
        std::mem::take(&mut *self.counts.lock().unwrap())
    }
}

/// Marks `obj` as seen at the pad of `quark`; true if it was not before.
fn mark(obj: *mut gst::ffi::GstMiniObject, quark: glib::Quark) -> bool {
    // SAFETY: `obj` is a live buffer or memory (held by the probe's info);
    // qdata is the mini object's own locked key-value store.
    unsafe {
        let q = quark.into_glib();
        if !gst::ffi::gst_mini_object_get_qdata(obj, q).is_null() {
            return false;
        }
        gst::ffi::gst_mini_object_set_qdata(obj, q, std::ptr::dangling_mut(), None);
        true
    }
}

fn first_memory(b: &gst::BufferRef) -> usize {
    if b.n_memory() == 0 {
        0
    } else {
        b.peek_memory(0).as_ptr() as usize
    }
}

/// Counts the buffers at `pad` and the new objects among them.
pub fn watch(pad: &gst::Pad) -> Watch {
    install(pad, None)
}

/// As `watch`, and also counts the buffers at `pad` that are not the one
/// `source` is pushing (the path between must be synchronous: no queue).
pub fn watch_against(pad: &gst::Pad, source: &gst::Pad) -> Watch {
    let current = Arc::new(Mutex::new(0usize));
    let c = current.clone();
    source.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(gst::PadProbeData::Buffer(b)) = &info.data {
            *c.lock().unwrap() = first_memory(b);
        }
        gst::PadProbeReturn::Ok
    });
    install(pad, Some(current))
}

fn install(pad: &gst::Pad, source: Option<Arc<Mutex<usize>>>) -> Watch {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    // One mark per watched pad, so two watches never see each other's.
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let quark = glib::Quark::from_str(format!("mediastream-test-seen-{n}"));
    let watch = Watch::default();
    let counts = watch.counts.clone();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(gst::PadProbeData::Buffer(b)) = &info.data {
            // Against a source: not before its first buffer seen, since one
            // pushed before the source's probe was in may still be on its
            // way (it would count as foreign).
            if source.as_ref().is_some_and(|s| *s.lock().unwrap() == 0) {
                return gst::PadProbeReturn::Ok;
            }
            let mut c = counts.lock().unwrap();
            c.buffers += 1;
            if mark(b.as_ptr() as *mut _, quark) {
                c.new_buffers += 1;
            }
            for m in b.iter_memories() {
                if mark(m.as_ptr() as *mut _, quark) {
                    c.new_memories += 1;
                }
            }
            if let Some(source) = &source
                && *source.lock().unwrap() != first_memory(b)
            {
                c.foreign += 1;
            }
        }
        gst::PadProbeReturn::Ok
    });
    watch
}
