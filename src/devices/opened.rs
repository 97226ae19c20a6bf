// SPDX-License-Identifier: MPL-2.0

//! Which fake devices are open in this process, and how often each was
//! opened: an `exclusive` device (a device file's `"exclusive": true`)
//! refuses a second open as busy, as a V4L2 camera does, so sharing one
//! capture between tracks is tested as a real camera needs it.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Default)]
struct Count {
    /// Opens since the process started.
    total: u64,
    /// Open now.
    open: u32,
}

static OPENED: LazyLock<Mutex<HashMap<String, Count>>> = LazyLock::new(Default::default);

/// A fake device held open; dropping it closes the device.
#[derive(Debug)]
pub struct Open {
    device_id: String,
}

/// Opens `device_id`; `Err` (busy) if it is exclusive and already open.
pub fn open(device_id: &str, exclusive: bool) -> Result<Open, String> {
    let mut opened = OPENED.lock();
    let count = opened.entry(device_id.to_owned()).or_default();
    if exclusive && count.open > 0 {
        return Err(format!(
            "device '{device_id}' is busy: it is exclusive and already open in this process"
        ));
    }
    count.total += 1;
    count.open += 1;
    Ok(Open {
        device_id: device_id.to_owned(),
    })
}

impl Drop for Open {
    fn drop(&mut self) {
        if let Some(count) = OPENED.lock().get_mut(&self.device_id) {
            count.open = count.open.saturating_sub(1);
        }
    }
}

/// How many times `device_id` was opened in this process (tests).
pub fn opens(device_id: &str) -> u64 {
    OPENED.lock().get(device_id).map_or(0, |c| c.total)
}

/// Whether `device_id` is open now (tests).
pub fn is_open(device_id: &str) -> bool {
    OPENED.lock().get(device_id).is_some_and(|c| c.open > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exclusive_device_opens_once_at_a_time() {
        let first = open("opened-test-excl", true).unwrap();
        assert!(open("opened-test-excl", true).unwrap_err().contains("busy"));
        assert!(is_open("opened-test-excl"));
        drop(first);
        assert!(!is_open("opened-test-excl"));
        let _again = open("opened-test-excl", true).unwrap();
        assert_eq!(opens("opened-test-excl"), 2);
        let _a = open("opened-test-shared", false).unwrap();
        let _b = open("opened-test-shared", false).unwrap();
        assert_eq!(opens("opened-test-shared"), 2);
    }
}
