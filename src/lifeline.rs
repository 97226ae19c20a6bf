// SPDX-License-Identifier: MPL-2.0

//! Weak references that another thread may upgrade only while their object
//! is not being disposed.
//!
//! GLib 2.74 (Debian 12) lets `g_weak_ref_get` succeed while
//! `g_object_unref` is running the object's `dispose` for its last
//! reference. When that extra reference comes from another thread (a pad
//! probe on a streaming thread, a notify emitted from GStreamer's async
//! pool) and is dropped again just while the disposing thread finishes,
//! both threads finalize the object: a crash, or GObject's
//! "object_already_finalized". An element whose closures run on threads it
//! does not own keeps a [`Gate`]: its closures hold a [`Lifeline`] instead
//! of a bare weak reference, and its `dispose` closes the gate, waiting for
//! the closures that hold the object to let it go.

use std::cell::RefCell;
use std::sync::Arc;

use gst::glib;
use gst::prelude::*;
use parking_lot::{Condvar, Mutex};

#[derive(Debug, Default)]
struct Inner {
    /// Closed by `dispose`; and how many closures hold the object now.
    state: Mutex<(bool, usize)>,
    released: Condvar,
}

thread_local! {
    /// The gates this thread is inside a closure of (a closure may end up
    /// running `dispose` itself when it held the last reference).
    static INSIDE: RefCell<Vec<*const Inner>> = const { RefCell::new(Vec::new()) };
}

/// The flag an element's `dispose` closes, and the count of closures that
/// hold the element meanwhile. Closures never wait for each other: only
/// `close` waits.
#[derive(Debug, Clone)]
pub(crate) struct Gate(Arc<Inner>);

impl Default for Gate {
    fn default() -> Self {
        Self(Arc::new(Inner {
            state: Mutex::new((true, 0)),
            released: Condvar::new(),
        }))
    }
}

impl Gate {
    /// A lifeline to `obj` through this gate.
    pub(crate) fn lifeline<T: ObjectType>(&self, obj: &T) -> Lifeline<T> {
        Lifeline {
            weak: obj.downgrade(),
            gate: self.clone(),
        }
    }

    /// `close` was called: the element is being disposed, and must not
    /// hand itself to another thread (`call_async`) any more.
    pub(crate) fn is_closed(&self) -> bool {
        !self.0.state.lock().0
    }

    /// From `dispose`: no lifeline gives the object out any more; waits for
    /// the closures of other threads that hold it now to let it go.
    pub(crate) fn close(&self) {
        let own = INSIDE.with(|i| {
            i.borrow()
                .iter()
                .filter(|p| std::ptr::eq(**p, Arc::as_ptr(&self.0)))
                .count()
        });
        let mut state = self.0.state.lock();
        state.0 = false;
        while state.1 > own {
            self.0.released.wait(&mut state);
        }
    }
}

/// A weak reference upgraded only through [`Lifeline::with`].
pub(crate) struct Lifeline<T: ObjectType> {
    weak: glib::WeakRef<T>,
    gate: Gate,
}

impl<T: ObjectType> Clone for Lifeline<T> {
    fn clone(&self) -> Self {
        Self {
            weak: self.weak.clone(),
            gate: self.gate.clone(),
        }
    }
}

impl<T: ObjectType> Lifeline<T> {
    /// Runs `f` with the object while it lives and is not being disposed;
    /// the reference is dropped before `close` may go on.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        let inner = &self.gate.0;
        {
            let mut state = inner.state.lock();
            if !state.0 {
                return None;
            }
            state.1 += 1;
        }
        let _holding = Holding::enter(inner);
        self.weak.upgrade().map(|obj| f(&obj))
    }
}

/// One closure inside a gate; leaving (also by a panic) counts it out.
struct Holding<'a>(&'a Inner);

impl<'a> Holding<'a> {
    fn enter(inner: &'a Inner) -> Self {
        INSIDE.with(|i| i.borrow_mut().push(inner as *const Inner));
        Self(inner)
    }
}

impl Drop for Holding<'_> {
    fn drop(&mut self) {
        INSIDE.with(|i| {
            let mut i = i.borrow_mut();
            if let Some(n) = i.iter().rposition(|p| std::ptr::eq(*p, self.0)) {
                i.remove(n);
            }
        });
        self.0.state.lock().1 -= 1;
        self.0.released.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_gate_gives_nothing_out() {
        gst::init().unwrap();
        let obj = gst::Bin::new();
        let gate = Gate::default();
        let line = gate.lifeline(&obj);
        assert_eq!(line.with(|o| o.name()), Some(obj.name()));
        assert!(!gate.is_closed());
        gate.close();
        assert!(gate.is_closed());
        assert_eq!(line.with(|o| o.name()), None);
    }

    #[test]
    fn a_dead_object_gives_nothing_out() {
        gst::init().unwrap();
        let obj = gst::Bin::new();
        let line = Gate::default().lifeline(&obj);
        drop(obj);
        assert!(line.with(|_| ()).is_none());
    }

    #[test]
    fn the_last_reference_may_go_inside_the_closure() {
        gst::init().unwrap();
        let gate = Gate::default();
        let obj = gst::Bin::new();
        let line = gate.lifeline(&obj);
        let holder = std::sync::Mutex::new(Some(obj));
        // The closure drops the only other reference: dispose would close
        // the gate on this same thread (re-entrant, no deadlock).
        line.with(|_| {
            holder.lock().unwrap().take();
            gate.close();
        });
        assert!(line.with(|_| ()).is_none());
    }

    #[test]
    fn close_waits_for_another_thread_that_holds_the_object() {
        gst::init().unwrap();
        let obj = gst::Bin::new();
        let gate = Gate::default();
        let line = gate.lifeline(&obj);
        let (inside_tx, inside_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let (closed_tx, closed_rx) = std::sync::mpsc::channel();
        let holder = std::thread::spawn(move || {
            line.with(|_| {
                inside_tx.send(()).unwrap();
                go_rx.recv().unwrap();
            })
        });
        inside_rx.recv().unwrap();
        let closer = {
            let gate = gate.clone();
            std::thread::spawn(move || {
                gate.close();
                closed_tx.send(()).unwrap();
            })
        };
        // Still held: close has not returned (nothing came on the channel
        // yet; the holder only goes on when told).
        assert!(closed_rx.try_recv().is_err());
        go_tx.send(()).unwrap();
        assert_eq!(holder.join().unwrap(), Some(()));
        closer.join().unwrap();
        closed_rx.recv().unwrap();
        assert!(gate.lifeline(&obj).with(|_| ()).is_none());
    }
}
