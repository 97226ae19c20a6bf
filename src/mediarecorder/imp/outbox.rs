// SPDX-License-Identifier: MPL-2.0

//! What the application hears from the recorder, in order: the events
//! (signals and messages) queued under the state lock and delivered by one
//! thread at a time with no lock held, and the chunks written to the file
//! at `location` as they go out.

use super::{CAT, MediaRecorder};
use crate::constraints::ConstraintError;
use crate::excerpt::excerpt;
use crate::fault::Guarded;
use crate::mediarecorder::chunker::Chunk;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::io::Write;

/// What the application hears: signals and messages, in order.
pub(super) enum Event {
    Start(String),
    Data(Chunk),
    Pause,
    Resume,
    Error(String, String),
    Stop,
    /// Not an event: the start that waited (`waiting`) begins, after the
    /// previous recording's last chunk and `stop` went out.
    Restart,
}

#[derive(Default)]
pub(super) struct Outbox {
    queue: VecDeque<Event>,
    draining: bool,
}

/// The file at `location`, and its length: the chunks written so far, each
/// whole.
pub(super) struct Output {
    pub(super) file: std::fs::File,
    pub(super) path: String,
    pub(super) len: u64,
}

impl MediaRecorder {
    /// Appends a chunk to the file at `location`. A chunk that cannot be
    /// written whole is cut off again (the file ends at the previous
    /// chunk) and the file is closed: nothing more is written to it.
    pub(super) fn write_chunk(&self, data: &[u8]) -> Option<ConstraintError> {
        let mut out = self.file.lock();
        let o = out.as_mut()?;
        let Err(e) = o.file.write_all(data) else {
            o.len += data.len() as u64;
            return None;
        };
        let o = out.take().unwrap();
        let cut = match o.file.set_len(o.len) {
            Ok(()) => String::new(),
            Err(e) => format!(" (and it could not be cut back to its last whole chunk: {e})"),
        };
        gst::debug!(
            CAT,
            imp = self,
            "writing {} bytes at {} failed: {e}{cut}",
            data.len(),
            o.len
        );
        Some(ConstraintError::write_failed(format!(
            "cannot write the recording to '{}': {e}{cut}",
            excerpt(&o.path)
        )))
    }

    /// The file failed: `error` right after the chunk that could not be
    /// written, the element error, and the recording stops (its last
    /// chunks still go to `dataavailable`, not to the file).
    pub(super) fn file_failed(&self, e: ConstraintError) {
        self.outbox
            .lock()
            .queue
            .push_front(Event::Error(e.name().to_owned(), e.message().to_owned()));
        self.post_error(&e);
        self.stop();
    }

    /// Queues an event; called with the state lock held where the order
    /// against chunks matters (lock order: state, then outbox).
    pub(super) fn push(&self, ev: Event) {
        self.outbox.lock().queue.push_back(ev);
    }

    /// Delivers queued events in order, one thread at a time, no lock
    /// held; a handler that calls back in (request-data from
    /// dataavailable) gets its event delivered after it returns.
    pub(super) fn drain(&self) {
        {
            let mut o = self.outbox.lock();
            if o.draining {
                return;
            }
            o.draining = true;
        }
        // A panic while delivering (caught by the guard above us) must not
        // leave the outbox marked as draining: no event would go out again.
        struct Draining<'a>(&'a Mutex<Outbox>);
        impl Drop for Draining<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.lock().draining = false;
                }
            }
        }
        let _draining = Draining(&self.outbox);
        loop {
            let ev = {
                let mut o = self.outbox.lock();
                match o.queue.pop_front() {
                    Some(ev) => ev,
                    None => {
                        o.draining = false;
                        return;
                    }
                }
            };
            self.deliver(ev);
        }
    }

    pub(super) fn deliver(&self, ev: Event) {
        let obj = self.obj();
        let message = |name: &str| gst::Structure::builder(format!("mediarecorder-{name}"));
        match ev {
            Event::Start(mime) => {
                // W3C: mimeType is set in the task that fires start.
                self.settings.lock().effective = Some(mime.clone());
                obj.notify("mime-type");
                obj.emit_by_name::<()>("started", &[&mime]);
                crate::track::post(&*obj, message("start").field("mime-type", mime).build());
            }
            Event::Data(chunk) => {
                let failed = self.write_chunk(&chunk.data);
                let bytes = glib::Bytes::from_owned(chunk.data);
                obj.emit_by_name::<()>("dataavailable", &[&bytes, &chunk.timecode]);
                crate::track::post(
                    &*obj,
                    message("dataavailable")
                        .field("data", &bytes)
                        .field("timecode", chunk.timecode)
                        .build(),
                );
                if let Some(e) = failed {
                    self.file_failed(e);
                }
            }
            Event::Pause => {
                obj.emit_by_name::<()>("paused", &[]);
                crate::track::post(&*obj, message("pause").build());
            }
            Event::Resume => {
                obj.emit_by_name::<()>("resumed", &[]);
                crate::track::post(&*obj, message("resume").build());
            }
            Event::Error(name, msg) => {
                obj.emit_by_name::<()>("error", &[&name, &msg]);
                crate::track::post(
                    &*obj,
                    message("error")
                        .field("name", name)
                        .field("message", msg)
                        .build(),
                );
            }
            Event::Stop => {
                let out = self.file.lock().take();
                if let Some(out) = out {
                    // The site names the file: tests of the same binary
                    // may finish recordings of their own meanwhile.
                    let site = format!("mediarecorder:fsync:{}", out.path);
                    let synced = if crate::fault::fails(&site) {
                        Err(std::io::Error::other("an injected fsync failure"))
                    } else {
                        out.file.sync_all()
                    };
                    if let Err(e) = synced {
                        // The recording is over: the error comes before
                        // `stopped`, as for a write that fails.
                        let e = ConstraintError::write_failed(format!(
                            "cannot write the recording to '{}' (fsync): {e}",
                            excerpt(&out.path)
                        ));
                        gst::debug!(CAT, imp = self, "{}", e.message());
                        self.deliver(Event::Error(e.name().to_owned(), e.message().to_owned()));
                        self.post_error(&e);
                    }
                }
                obj.emit_by_name::<()>("stopped", &[]);
                crate::track::post(&*obj, message("stop").build());
            }
            // Off the delivering thread, which may be the old recording's
            // streaming thread.
            Event::Restart => obj.call_async(|obj| {
                obj.imp().guard(|| (), |imp| imp.begin_waiting());
            }),
        }
    }
}
