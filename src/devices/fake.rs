// SPDX-License-Identifier: MPL-2.0

//! Fake devices: which set `GST_MEDIASTREAM_FAKE_DEVICES` selects, and a
//! poller that notices when a device file changes on disk.

use super::file::{BUILTIN_JSON, DeviceFileError, DeviceSpec, load_devices_file, parse_devices};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, mpsc};
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

/// Calls back with a device file's devices whenever its content changes.
/// A file that cannot be read or parsed is reported as an error; the
/// caller keeps the devices it had, since a file caught half written must
/// not unplug everything. Every watcher of one file in the process shares
/// one polling thread (the provider and each fake device element watch the
/// same file), which ends, joined, with the file's last watcher. No call
/// comes after the watcher is dropped.
pub struct FileWatcher {
    watch: Arc<Watch>,
    subscriber: Arc<Subscriber>,
}

type OnChange = Box<dyn FnMut(Result<Vec<DeviceSpec>, DeviceFileError>) + Send>;

struct Subscriber {
    /// Set when the watcher is dropped (or its handler panicked).
    gone: AtomicBool,
    /// The content this subscriber was last told of, and its handler:
    /// held while the handler runs, so a drop waits for it.
    inner: Mutex<(Option<Vec<u8>>, OnChange)>,
}

/// One file's polling thread and who listens to it.
struct Watch {
    subscribers: Mutex<Vec<Arc<Subscriber>>>,
    /// Dropping it wakes the thread at once (no wait for the next poll).
    stop: Mutex<Option<mpsc::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// By path. Lock order: `WATCHES`, then a watch's `subscribers`; a
/// subscriber's `inner` is never taken with either held.
static WATCHES: LazyLock<Mutex<HashMap<PathBuf, Arc<Watch>>>> = LazyLock::new(Default::default);

impl FileWatcher {
    pub fn new(
        path: PathBuf,
        on_change: impl FnMut(Result<Vec<DeviceSpec>, DeviceFileError>) + Send + 'static,
    ) -> FileWatcher {
        let subscriber = Arc::new(Subscriber {
            gone: AtomicBool::new(false),
            inner: Mutex::new((std::fs::read(&path).ok(), Box::new(on_change))),
        });
        let mut watches = WATCHES.lock();
        let watch = watches
            .entry(path.clone())
            .or_insert_with(|| Watch::start(path))
            .clone();
        watch.subscribers.lock().push(subscriber.clone());
        FileWatcher { watch, subscriber }
    }
}

impl Watch {
    fn start(path: PathBuf) -> Arc<Watch> {
        let (stop, wake) = mpsc::channel::<()>();
        let watch = Arc::new(Watch {
            subscribers: Mutex::default(),
            stop: Mutex::new(Some(stop)),
            thread: Mutex::default(),
        });
        // The thread holds the watch weakly: the last watcher's drop ends it.
        let weak = Arc::downgrade(&watch);
        let thread = std::thread::Builder::new()
            .name("mediastream-fake-watch".into())
            .spawn(move || {
                let origin = path.display().to_string();
                while let Err(mpsc::RecvTimeoutError::Timeout) = wake.recv_timeout(POLL_INTERVAL) {
                    let Some(watch) = weak.upgrade() else { return };
                    let subscribers = watch.subscribers.lock().clone();
                    drop(watch);
                    let now = std::fs::read(&path).ok();
                    // Parsed once per change, for every subscriber not yet told.
                    let parsed = std::cell::OnceCell::new();
                    let parse = || {
                        parsed
                            .get_or_init(|| match &now {
                                Some(bytes) => {
                                    parse_devices(&String::from_utf8_lossy(bytes), &origin)
                                }
                                None => load_devices_file(&path),
                            })
                            .clone()
                    };
                    for s in subscribers {
                        s.changed(&now, parse);
                    }
                }
            })
            .ok();
        *watch.thread.lock() = thread;
        watch
    }
}

impl Subscriber {
    /// Tells the subscriber of `now` if it has not seen it.
    fn changed(
        &self,
        now: &Option<Vec<u8>>,
        parse: impl Fn() -> Result<Vec<DeviceSpec>, DeviceFileError>,
    ) {
        if self.gone.load(Ordering::Acquire) {
            return;
        }
        let mut inner = self.inner.lock();
        // Dropped while this thread waited for the lock.
        if self.gone.load(Ordering::Acquire) || inner.0 == *now {
            return;
        }
        inner.0.clone_from(now);
        let result = parse();
        let call = std::panic::AssertUnwindSafe(|| (inner.1)(result));
        if std::panic::catch_unwind(call).is_err() {
            // The handler reported it (its element's error); calling it
            // again would only repeat it.
            self.gone.store(true, Ordering::Release);
        }
    }
}

impl Drop for FileWatcher {
    fn drop(&mut self) {
        self.subscriber.gone.store(true, Ordering::Release);
        let on_thread = self
            .watch
            .thread
            .lock()
            .as_ref()
            .is_some_and(|t| t.thread().id() == std::thread::current().id());
        if !on_thread {
            // Waits for a call in progress: none comes after this drop.
            drop(self.subscriber.inner.lock());
        }
        let last = {
            let mut watches = WATCHES.lock();
            let mut subscribers = self.watch.subscribers.lock();
            subscribers.retain(|s| !Arc::ptr_eq(s, &self.subscriber));
            let last = subscribers.is_empty();
            if last {
                watches.retain(|_, w| !Arc::ptr_eq(w, &self.watch));
            }
            last
        };
        if !last {
            return;
        }
        drop(self.watch.stop.lock().take());
        let thread = self.watch.thread.lock().take();
        if let Some(t) = thread.filter(|_| !on_thread)
            && t.join().is_err()
        {
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
        assert_eq!(FakeSource::Builtin.load().unwrap().len(), 7);
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

    #[test]
    fn watchers_of_one_file_share_one_thread() {
        let dir = std::env::temp_dir().join(format!("fake-watch-2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d.json");
        std::fs::write(&path, r#"{"devices": []}"#).unwrap();
        let listen = || {
            let (tx, rx) = std::sync::mpsc::channel();
            let w = FileWatcher::new(path.clone(), move |r| {
                let _ = tx.send(r.map(|d| d.len()).map_err(|e| e.to_string()));
            });
            (w, rx)
        };
        let (a, a_rx) = listen();
        let (b, b_rx) = listen();
        assert!(Arc::ptr_eq(&a.watch, &b.watch));
        assert_eq!(a.watch.subscribers.lock().len(), 2);
        let one = r#"{"devices": [{"kind": "videoinput", "label": "c", "deviceId": "c", "caps": "video/x-raw"}]}"#;
        std::fs::write(&path, one).unwrap();
        assert_eq!(a_rx.recv_timeout(Duration::from_secs(5)).unwrap(), Ok(1));
        assert_eq!(b_rx.recv_timeout(Duration::from_secs(5)).unwrap(), Ok(1));
        // One gone, the other still told.
        drop(a);
        std::fs::write(&path, r#"{"devices": []}"#).unwrap();
        assert_eq!(b_rx.recv_timeout(Duration::from_secs(5)).unwrap(), Ok(0));
        assert!(a_rx.try_recv().is_err());
        let watch = b.watch.clone();
        drop(b);
        // The last one ends the thread and the entry.
        assert!(watch.thread.lock().is_none());
        assert!(!WATCHES.lock().contains_key(&path));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
