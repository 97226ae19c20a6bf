// SPDX-License-Identifier: MPL-2.0

//! Janus (VideoRoom, WebSocket API on 127.0.0.1:8188) and its WHIP front
//! end, simple-whip-server (127.0.0.1:7080), started for one test inside
//! its network namespace with configurations of their own in a temporary
//! folder (tests/data/janus), and stopped by their pids when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const JANUS_URL: &str = "ws://127.0.0.1:8188";
pub const WHIP_BASE: &str = "http://127.0.0.1:7080/whip";
pub const ROOM: u64 = 1234;
#[allow(dead_code)]
pub const PIN_ROOM: u64 = 4321;
const JANUS_LIB: &str = "/usr/lib/x86_64-linux-gnu/janus";

/// Where scripts/setup put simple-whip-server.
pub fn whip_server_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("GST_MEDIASTREAM_WHIP_SERVER") {
        return d.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"));
    cache.join("gst-mediastream/simple-whip-server")
}

/// What is missing to run Janus and simple-whip-server.
pub fn missing() -> Option<String> {
    if !Path::new("/usr/bin/janus").exists() {
        return Some("janus is missing (package janus; scripts/setup installs it)".into());
    }
    if !Path::new(JANUS_LIB)
        .join("plugins/libjanus_videoroom.so")
        .exists()
    {
        return Some(format!(
            "{JANUS_LIB}/plugins/libjanus_videoroom.so is missing"
        ));
    }
    let whip = whip_server_dir();
    if !whip.join("server.js").exists() || !whip.join("node_modules/websocket").exists() {
        return Some(format!(
            "simple-whip-server is missing in {} (scripts/setup installs it)",
            whip.display()
        ));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is missing (Node.js, for simple-whip-server)".into());
    }
    None
}

pub struct Sfu {
    pub dir: PathBuf,
    janus: Option<Child>,
    whip: Option<Child>,
}

impl Sfu {
    /// Starts Janus, then the WHIP server in front of it; both ready.
    pub fn start() -> Sfu {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("gst-mediastream-sfu-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let conf = dir.join("janus");
        std::fs::create_dir_all(&conf).unwrap();
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/janus");
        for name in [
            "janus.jcfg",
            "janus.transport.websockets.jcfg",
            "janus.plugin.videoroom.jcfg",
        ] {
            let text = std::fs::read_to_string(data.join(name))
                .unwrap()
                .replace("@DIR@", conf.to_str().unwrap())
                .replace("@LIB@", JANUS_LIB);
            std::fs::write(conf.join(name), text).unwrap();
        }
        let log = |name: &str| std::fs::File::create(dir.join(name)).unwrap();
        let janus = Command::new("janus")
            .args(["-F", conf.to_str().unwrap(), "-C"])
            .arg(conf.join("janus.jcfg"))
            .args(["-o", "-N", "-L"])
            .arg(dir.join("janus.log"))
            .stdout(Stdio::null())
            .stderr(log("janus.stderr"))
            .spawn()
            .expect("janus starts");
        let mut sfu = Sfu {
            dir: dir.clone(),
            janus: Some(janus),
            whip: None,
        };
        crate::webrtc_common::poll::until("Janus answering", Duration::from_secs(10), || {
            gstmediastream::webrtc::janus::Connection::open(JANUS_URL, |_| {}).is_ok()
        });
        // server.js and whip-janus.js beside our config.js; the modules
        // from setup's folder.
        let app = dir.join("whip");
        std::fs::create_dir_all(&app).unwrap();
        let installed = whip_server_dir();
        for name in ["server.js", "whip-janus.js"] {
            std::fs::copy(installed.join(name), app.join(name)).unwrap();
        }
        std::fs::copy(data.join("whip-config.js"), app.join("config.js")).unwrap();
        std::os::unix::fs::symlink(installed.join("node_modules"), app.join("node_modules"))
            .unwrap();
        let whip = Command::new("node")
            .arg("server.js")
            .current_dir(&app)
            .env("DEBUG", "whip:*,janus:info,janus:warn,janus:error")
            .stdout(log("whip.log"))
            .stderr(log("whip.stderr"))
            .spawn()
            .expect("node starts");
        sfu.whip = Some(whip);
        crate::webrtc_common::poll::until(
            "the WHIP server answering",
            Duration::from_secs(10),
            || {
                ureq::get(format!("{WHIP_BASE}/healthcheck"))
                    .call()
                    .is_ok_and(|r| r.status() == 200)
            },
        );
        sfu
    }

    /// A WHIP endpoint of simple-whip-server (its own API): publishing to
    /// `endpoint(id)` with `token` joins `room` as `label`.
    pub fn create_endpoint(&self, id: &str, room: u64, token: &str, label: &str) -> String {
        let body = serde_json::json!({"id": id, "room": room, "token": token, "label": label});
        let resp = ureq::post(format!("{WHIP_BASE}/create"))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .expect("the endpoint is made");
        assert_eq!(resp.status(), 200, "create endpoint {id}");
        endpoint(id)
    }

    /// Janus's log so far (for a failure's message).
    pub fn logs(&self) -> String {
        let read = |n: &str| std::fs::read_to_string(self.dir.join(n)).unwrap_or_default();
        format!(
            "--- janus.log (tail)\n{}\n--- whip.log (tail)\n{}",
            tail(&read("janus.log"), 40),
            tail(&read("whip.log"), 40)
        )
    }
}

pub fn endpoint(id: &str) -> String {
    format!("{WHIP_BASE}/endpoint/{id}")
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Drop for Sfu {
    fn drop(&mut self) {
        // Ours only, by pid: the WHIP server first (it holds a Janus
        // session), then Janus.
        for child in [self.whip.take(), self.janus.take()].into_iter().flatten() {
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
