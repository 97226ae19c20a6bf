// SPDX-License-Identifier: MPL-2.0

//! The tests' one polling helper: for a state that changes on another
//! thread with nothing to wait on (a pad that appears, a process that
//! exits, a browser's statistics). Real-time waits that are the thing
//! tested are listed in docs/reliability.md.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Polls `done` every 20 ms until it holds, for up to `within`; panics
/// naming `what` when it does not.
pub fn until(what: &str, within: Duration, done: impl FnMut() -> bool) {
    assert!(
        holds_within(within, done),
        "timed out after {within:?} waiting for {what}"
    );
}

/// Polls `done` every 20 ms for up to `within`: whether it came to hold
/// (for a caller whose failure message shows what it saw).
pub fn holds_within(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}
