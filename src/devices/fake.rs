// SPDX-License-Identifier: MPL-2.0

//! Fake devices: which set `GST_MEDIASTREAM_FAKE_DEVICES` selects, and a
//! poller that notices when a device file changes on disk.

use super::file::{BUILTIN_JSON, DeviceFileError, DeviceSpec, load_devices_file, parse_devices};
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The variable that turns fake devices on (docs/devices.md).
pub const ENV: &str = "GST_MEDIASTREAM_FAKE_DEVICES";

/// How often a device file is read for changes.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Where the fake devices come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakeSource {
    /// The built-in set (`1`, `true`, `yes`, `on` or `default`).
    Builtin,
    /// A device file.
    File(PathBuf),
}

impl FakeSource {
    /// What `GST_MEDIASTREAM_FAKE_DEVICES` selects; `None` (fake devices off)
    /// when it is unset, empty, `0`, `false`, `no` or `off`.
    pub fn from_env() -> Option<FakeSource> {
        Self::from_value(&std::env::var_os(ENV)?.to_string_lossy())
    }

    /// The boolean words are read in any case, as GLib's and GStreamer's
    /// own variables are; anything else is a device file's path (a file
    /// named like one of the words is `./true`).
    pub fn from_value(v: &str) -> Option<FakeSource> {
        let v = v.trim();
        let is = |words: &[&str]| words.iter().any(|w| v.eq_ignore_ascii_case(w));
        if is(&["", "0", "false", "no", "off"]) {
            None
        } else if is(&["1", "true", "yes", "on", "default"]) {
            Some(FakeSource::Builtin)
        } else {
            Some(FakeSource::File(PathBuf::from(v)))
        }
    }

    /// How errors name it.
    pub fn origin(&self) -> String {
        match self {
            FakeSource::Builtin => "built-in fake devices".to_owned(),
            FakeSource::File(p) => p.display().to_string(),
        }
    }

    pub fn load(&self) -> Result<Vec<DeviceSpec>, DeviceFileError> {
        match self {
            FakeSource::Builtin => parse_devices(BUILTIN_JSON, &self.origin()),
            FakeSource::File(p) => load_devices_file(p),
        }
    }
}

/// Polls a device file and calls back with its devices whenever its
/// content changes. A file that cannot be read or parsed is reported as an
/// error; the caller keeps the devices it had, since a file caught half
/// written must not unplug everything. Stops (and joins) when dropped.
pub struct FileWatcher {
    /// Dropping it wakes the thread at once (no wait for the next poll).
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FileWatcher {
    pub fn new(
        path: PathBuf,
        mut on_change: impl FnMut(Result<Vec<DeviceSpec>, DeviceFileError>) + Send + 'static,
    ) -> FileWatcher {
        let (stop, wake) = mpsc::channel::<()>();
        let origin = path.display().to_string();
        let mut last = std::fs::read(&path).ok();
        let thread = std::thread::Builder::new()
            .name("mediastream-fake-watch".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = wake.recv_timeout(POLL_INTERVAL) {
                    let now = std::fs::read(&path).ok();
                    if now == last {
                        continue;
                    }
                    last = now;
                    let result = match &last {
                        Some(bytes) => parse_devices(&String::from_utf8_lossy(bytes), &origin),
                        None => load_devices_file(&path),
                    };
                    let call = std::panic::AssertUnwindSafe(|| on_change(result));
                    if std::panic::catch_unwind(call).is_err() {
                        // The handler reported it (its element's error);
                        // watching on would only repeat it.
                        return;
                    }
                }
            })
            .ok();
        FileWatcher {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for FileWatcher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take()
            && t.thread().id() != std::thread::current().id()
            && t.join().is_err()
        {
            // The handler's panics are caught in the thread; this is one of
            // the watcher's own.
            gst::warning!(gst::CAT_DEFAULT, "the fake device file watcher panicked");
        }
    }
}

/// The videotestsrc pattern of the `index`th device, so devices can be told
/// apart on screen.
pub fn pattern_for(index: usize) -> &'static str {
    const PATTERNS: [&str; 8] = [
        "smpte",
        "ball",
        "pinwheel",
        "spokes",
        "gradient",
        "colors",
        "smpte75",
        "zone-plate",
    ];
    PATTERNS[index % PATTERNS.len()]
}

/// The pattern a fake camera shows: its file's `"pattern"`, else its own
/// from its index ([`pattern_for`]).
pub fn pattern_of(spec: &DeviceSpec, index: usize) -> String {
    spec.pattern
        .clone()
        .unwrap_or_else(|| pattern_for(index).to_owned())
}

/// The audiotestsrc tone of the `index`th device, in Hz.
pub fn frequency_for(index: usize) -> f64 {
    440.0 + 110.0 * (index % 16) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values() {
        assert_eq!(FakeSource::from_value(""), None);
        assert_eq!(FakeSource::from_value("0"), None);
        assert_eq!(FakeSource::from_value("1"), Some(FakeSource::Builtin));
        assert_eq!(FakeSource::from_value("default"), Some(FakeSource::Builtin));
        for on in ["true", "yes", "on", "TRUE", "Yes", " on "] {
            assert_eq!(
                FakeSource::from_value(on),
                Some(FakeSource::Builtin),
                "{on}"
            );
        }
        for off in ["false", "no", "off", "FALSE", "Off"] {
            assert_eq!(FakeSource::from_value(off), None, "{off}");
        }
        assert_eq!(
            FakeSource::from_value("./true"),
            Some(FakeSource::File("./true".into()))
        );
        assert_eq!(
            FakeSource::from_value("/tmp/x.json"),
            Some(FakeSource::File("/tmp/x.json".into()))
        );
        assert_eq!(FakeSource::Builtin.load().unwrap().len(), 4);
    }

    #[test]
    fn watcher_reports_changes() {
        let dir = std::env::temp_dir().join(format!("fake-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d.json");
        std::fs::write(&path, r#"{"devices": []}"#).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let w = FileWatcher::new(path.clone(), move |r| {
            // Fails only once the test stopped listening.
            let _ = tx.send(r.map(|d| d.len()).map_err(|e| e.to_string()));
        });
        std::fs::write(
            &path,
            r#"{"devices": [{"kind": "videoinput", "label": "c", "deviceId": "c", "caps": "video/x-raw"}]}"#,
        )
        .unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), Ok(1));
        std::fs::write(&path, "{").unwrap();
        assert!(rx.recv_timeout(Duration::from_secs(5)).unwrap().is_err());
        drop(w);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
