// SPDX-License-Identifier: MPL-2.0

//! Helpers of the WebRTC tests (tests/webrtc*.rs): prerequisites, the
//! private network namespace, a sending pipeline, and headless Chromium
//! driven through tests/webrtc/browser.py.
#![allow(dead_code)]

// Also in common/track.rs: a test that has both has the helper twice.
#[allow(clippy::duplicate_mod)]
#[path = "../common/poll.rs"]
pub mod poll;

use gst::prelude::*;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/lib/chromium/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const PYTHON: &str = "/usr/bin/python3";
/// Set inside the namespace the test re-runs itself in.
const NETNS_ENV: &str = "MEDIASTREAM_TEST_NETNS";

pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: the first thing any test of the binary does.
        unsafe { std::env::set_var("GST_MEDIASTREAM_FAKE_DEVICES", "1") };
        gst::init().unwrap();
        gstmediastream::ensure_registered();
    });
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What is missing for webrtcbin itself (GStreamer elements).
pub fn missing_gstreamer() -> Option<String> {
    init();
    for (factory, package) in [
        ("webrtcbin", "gstreamer1.0-plugins-bad"),
        ("nicesrc", "gstreamer1.0-nice"),
        ("vp8enc", "gstreamer1.0-plugins-good"),
        ("opusenc", "gstreamer1.0-plugins-base"),
    ] {
        if gst::ElementFactory::find(factory).is_none() {
            return Some(format!(
                "the GStreamer element {factory} is missing (package {package}; scripts/setup installs it)"
            ));
        }
    }
    None
}

/// What is missing to run Chromium in a private network namespace.
pub fn missing_browser() -> Option<String> {
    if let Some(m) = missing_gstreamer() {
        return Some(m);
    }
    for (path, package) in [
        (CHROMIUM, "chromium"),
        (CHROMEDRIVER, "chromium-driver"),
        (PYTHON, "python3"),
    ] {
        if !Path::new(path).exists() {
            return Some(format!(
                "{path} is missing (package {package}; scripts/setup installs it)"
            ));
        }
    }
    let selenium = Command::new(PYTHON)
        .args(["-c", "import selenium"])
        .output();
    if !selenium.is_ok_and(|o| o.status.success()) {
        return Some(
            "python3 cannot import selenium (package python3-selenium; scripts/setup installs it)"
                .into(),
        );
    }
    missing_network()
}

/// What is missing to run two webrtcbin in a private network namespace.
pub fn missing_network() -> Option<String> {
    if let Some(m) = missing_gstreamer() {
        return Some(m);
    }
    if std::env::var_os(NETNS_ENV).is_none() {
        // Permission for a network namespace of our own (root, or
        // CAP_SYS_ADMIN): the tests' traffic stays inside it.
        let probe = Command::new("unshare")
            .args(["--net", "ip", "link", "set", "lo", "up"])
            .output();
        match probe {
            Err(e) => return Some(format!("cannot run unshare (package util-linux): {e}")),
            Ok(o) if !o.status.success() => {
                return Some(format!(
                    "cannot create a network namespace (unshare --net needs root or CAP_SYS_ADMIN): {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ));
            }
            _ => {}
        }
    }
    None
}

/// Whether the test may run: with `missing` something, it fails under CI
/// (CI=true: the prerequisites must be there) and skips, saying why,
/// elsewhere.
pub fn runnable(missing: Option<String>) -> bool {
    let Some(why) = missing else { return true };
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but this WebRTC test cannot run: {why}"
    );
    eprintln!("SKIPPED: {why}");
    false
}

/// Runs the test `name` of this binary again inside a network namespace
/// of its own (loopback and a veth pair with 10.77.0.1/24: libnice gathers
/// no candidate on loopback alone), so that every packet of the test stays
/// inside it. Returns true in the namespace (the caller goes on with the
/// test), false outside, after the inner run passed.
pub fn in_private_network(name: &str) -> bool {
    if std::env::var_os(NETNS_ENV).is_some() {
        return true;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("unshare")
        .args([
            "--net",
            "sh",
            "-c",
            "set -e; ip link set lo up; ip link add v0 type veth peer name v1; \
             ip addr add 10.77.0.1/24 dev v0; ip link set v0 up; ip link set v1 up; exec \"$@\"",
            "netns",
        ])
        .arg(exe)
        .args([
            name,
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(NETNS_ENV, "1")
        .output()
        .expect("unshare runs");
    // The inner run's report, indented: its own `test result:` line must
    // not count as a second test in scripts/test's summary.
    for line in String::from_utf8_lossy(&out.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&out.stderr).lines())
    {
        eprintln!("    [netns] {line}");
    }
    assert!(
        out.status.success(),
        "{name} failed inside its network namespace (its output is above)"
    );
    false
}

/// `mediastream` (getUserMedia with `constraints`, fake devices) ->
/// `mediastreamrtpenc` per track -> `webrtcbin`.
pub fn sender(constraints: &str) -> (gst::Pipeline, gst::Element, gst::Element) {
    init();
    let p = gst::Pipeline::new();
    let ms = gst::ElementFactory::make("mediastream")
        .property("constraints", constraints)
        .build()
        .unwrap();
    let webrtc = gst::ElementFactory::make("webrtcbin")
        .property_from_str("bundle-policy", "max-bundle")
        .build()
        .unwrap();
    p.add_many([&ms, &webrtc]).unwrap();
    gstmediastream::webrtc::send_stream(&ms, &webrtc);
    (p, ms, webrtc)
}

/// A benchmark's setting from the environment (runs, seconds), else
/// `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `webrtcbin` fed by hand, as a user would write it without the plugin:
/// the same source caps, encoders, settings and payload types as
/// mediastreamrtpenc, no gate before the connection.
pub fn plain_sender() -> (gst::Pipeline, gst::Element) {
    init();
    let p = gst::parse::launch(
        "webrtcbin name=w bundle-policy=max-bundle \
         videotestsrc is-live=true ! video/x-raw,format=I420,width=640,height=480,framerate=30/1 ! \
         videoconvert ! vp8enc deadline=1 cpu-used=-6 target-bitrate=1500000 end-usage=cbr \
         keyframe-max-dist=3000 error-resilient=default lag-in-frames=0 ! \
         rtpvp8pay pt=96 picture-id-mode=15-bit ! w. \
         audiotestsrc is-live=true ! audio/x-raw,rate=48000,channels=1 ! audioconvert ! audioresample ! \
         opusenc ! rtpopuspay pt=111 ! w.",
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let w = p.by_name("w").unwrap();
    (p, w)
}

/// Waits until every sink pad of `webrtc` has caps (webrtcbin 1.22 writes
/// a sender's ssrc and msid only then).
pub fn wait_for_sink_caps(webrtc: &gst::Element, pads: usize) {
    poll::until(
        "caps on webrtcbin's sink pads",
        Duration::from_secs(20),
        || {
            let sinks = webrtc.sink_pads();
            sinks.len() >= pads && sinks.iter().all(|p| p.current_caps().is_some())
        },
    );
}

use gstmediastream::webrtc::signalling;

/// webrtcbin's offer.
pub fn create_offer(webrtc: &gst::Element) -> gst_webrtc::WebRTCSessionDescription {
    signalling::create_offer(webrtc).unwrap()
}

/// webrtcbin's answer.
pub fn create_answer(webrtc: &gst::Element) -> gst_webrtc::WebRTCSessionDescription {
    signalling::create_answer(webrtc).unwrap()
}

pub fn set_description(
    webrtc: &gst::Element,
    local: bool,
    desc: &gst_webrtc::WebRTCSessionDescription,
) {
    signalling::set_description(webrtc, local, desc).unwrap()
}

/// Waits until webrtcbin gathered all its ICE candidates (they then travel
/// inside its local description).
pub fn wait_gathered(webrtc: &gst::Element) {
    signalling::wait_gathered(webrtc).unwrap()
}

pub fn local_sdp(webrtc: &gst::Element) -> String {
    signalling::local_sdp(webrtc).expect("a local description")
}

pub fn sdp_desc(
    kind: gst_webrtc::WebRTCSDPType,
    text: &str,
) -> gst_webrtc::WebRTCSessionDescription {
    signalling::description(kind, text).expect("valid SDP")
}

/// An example's binary (cargo test builds the examples first).
pub fn example(name: &str) -> PathBuf {
    // target/<profile>/deps/<this test> -> target/<profile>/examples/
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: cargo test builds the examples before the tests",
        path.display()
    );
    path
}

/// examples/webrtc.rs, its JSON lines read in a thread.
pub struct Demo {
    pub child: Child,
    lines: mpsc::Receiver<Value>,
    /// Every line read so far.
    pub seen: Vec<Value>,
}

impl Demo {
    /// The example with `args` on the fake devices; killed when dropped.
    pub fn start(args: &[&str]) -> Demo {
        let mut child = Command::new(example("webrtc"))
            .args(args)
            .env("GST_MEDIASTREAM_FAKE_DEVICES", "1")
            .stdout(Stdio::piped())
            .spawn()
            .expect("examples/webrtc starts");
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                eprintln!("examples/webrtc: {line}");
                let v = serde_json::from_str(&line)
                    .unwrap_or_else(|_| serde_json::json!({ "text": line }));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Demo {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// The lines so far with a `key`, waiting up to `secs` for `n` of them.
    pub fn wait(&mut self, key: &str, n: usize, secs: u64) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let found: Vec<Value> = self
                .seen
                .iter()
                .filter_map(|v| v.get(key).cloned())
                .collect();
            if found.len() >= n {
                return found;
            }
            assert!(
                self.seen.iter().all(|v| v.get("error").is_none()),
                "examples/webrtc failed: {:?}",
                self.seen
            );
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) => self.seen.push(v),
                Err(_) => panic!(
                    "examples/webrtc printed no {n} `{key}` within {secs} s: {:?}",
                    self.seen
                ),
            }
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headless Chromium under selenium (tests/webrtc/browser.py): each call
/// runs an async function of tests/webrtc/peer.js with JSON arguments and
/// returns its JSON result.
pub struct Browser {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
}

impl Browser {
    pub fn start(fake_devices: bool) -> Browser {
        Browser::open(None, fake_devices)
    }

    /// Chromium on the page at `url` (else tests/webrtc/peer.html).
    pub fn open(url: Option<&str>, fake_devices: bool) -> Browser {
        Browser::launch(url, None, fake_devices)
    }

    /// Chromium on the repository's page `page` (tests/webrtc/janus.html).
    pub fn page(page: &str, fake_devices: bool) -> Browser {
        Browser::launch(None, Some(page), fake_devices)
    }

    fn launch(url: Option<&str>, page: Option<&str>, fake_devices: bool) -> Browser {
        let mut cmd = Command::new(PYTHON);
        cmd.arg(root().join("tests/webrtc/browser.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        if let Some(page) = page {
            cmd.args(["--page", page]);
        }
        if fake_devices {
            cmd.arg("--fake-devices");
        }
        if let Some(url) = url {
            cmd.args(["--url", url]);
        }
        let mut child = cmd.spawn().expect("tests/webrtc/browser.py starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut b = Browser {
            child,
            stdin,
            lines: rx,
        };
        let ready = b.read(Duration::from_secs(60));
        assert_eq!(ready["ready"], true, "browser.py: {ready}");
        b
    }

    fn read(&mut self, timeout: Duration) -> Value {
        let line = self
            .lines
            .recv_timeout(timeout)
            .expect("browser.py answers in time");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("browser.py said {line}: {e}"))
    }

    /// `peer[function](...args)` in the page; its result.
    pub fn call(&mut self, function: &str, args: Value) -> Value {
        let msg = serde_json::json!({"call": function, "args": args});
        writeln!(self.stdin, "{msg}").unwrap();
        self.stdin.flush().unwrap();
        let reply = self.read(Duration::from_secs(60));
        if let Some(e) = reply.get("error") {
            panic!("peer.{function} failed in Chromium: {e}");
        }
        reply["result"].clone()
    }
}

impl Browser {
    /// (chromedriver's pid, the browser's main process' pid).
    pub fn pids(&mut self) -> (u32, u32) {
        writeln!(self.stdin, "{{\"pids\": true}}").unwrap();
        self.stdin.flush().unwrap();
        let reply = self.read(Duration::from_secs(10));
        let pid = |k: &str| {
            reply["result"][k]
                .as_u64()
                .unwrap_or_else(|| panic!("browser.py gave no {k} pid: {reply}")) as u32
        };
        (pid("chromedriver"), pid("browser"))
    }
}

/// `pid` and its descendants, each with its command name (from /proc).
pub fn process_tree(pid: u32) -> Vec<(u32, String)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_string();
        let ppid = stat[close + 2..]
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0);
        all.push((p, ppid, comm));
    }
    let mut tree: Vec<(u32, String)> = all
        .iter()
        .filter(|(p, _, _)| *p == pid)
        .map(|(p, _, c)| (*p, c.clone()))
        .collect();
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i].0;
        for (p, pp, c) in &all {
            if *pp == parent && !tree.iter().any(|(t, _)| t == p) {
                tree.push((*p, c.clone()));
            }
        }
        i += 1;
    }
    tree
}

/// SIGKILLs those of `processes` (from process_tree) still running with
/// the same command name: the processes a test started and left behind.
pub fn kill_leftovers(processes: &[(u32, String)]) {
    for (pid, comm) in processes {
        let now = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if now.contains(&format!("({comm})")) {
            // SAFETY: a plain kill(2) of a process this test started.
            unsafe { libc::kill(*pid as i32, libc::SIGKILL) };
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{{\"quit\": true}}");
        let _ = self.stdin.flush();
        if poll::holds_within(Duration::from_secs(10), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        }) {
            return;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
