// SPDX-License-Identifier: MPL-2.0

//! An Xvfb of the test's own on a free display number, stopped (by its
//! pid) when dropped, and a client that draws a known picture on it.
#![allow(dead_code)]

#[allow(clippy::duplicate_mod)]
#[path = "poll.rs"]
mod poll;

use std::process::{Child, Command, Stdio};
use std::time::Duration;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{self, ConnectionExt as _};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

pub struct Xvfb {
    pub display: String,
    pub width: u16,
    pub height: u16,
    child: Option<Child>,
}

/// Whether Xvfb is installed (scripts/setup installs it).
pub fn installed() -> bool {
    Command::new("Xvfb")
        .arg("-help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

impl Xvfb {
    /// A new X server of `width` x `height` at 24 bits; `-noreset`, so the
    /// root keeps what was painted when a client leaves.
    pub fn start(width: u16, height: u16) -> Xvfb {
        assert!(installed(), "Xvfb is not installed: run scripts/setup");
        // -displayfd: the server takes a free display number itself and
        // writes it when it is ready, so tests starting at once never
        // share one.
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                &format!("{width}x{height}x24"),
                "-noreset",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts");
        let mut line = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        std::io::BufRead::read_line(&mut out, &mut line).expect("Xvfb's display number");
        let n: u32 = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("Xvfb did not start (it wrote {line:?})")
        });
        let x = Xvfb {
            display: format!(":{n}"),
            width,
            height,
            child: Some(child),
        };
        // (Dropped on failure: the server stops with it.)
        assert!(
            RustConnection::connect(Some(&x.display)).is_ok(),
            "Xvfb {} does not take clients",
            x.display
        );
        x
    }

    /// Ends the server now, as `kill` does (SIGTERM): the display goes
    /// away under its clients. It removes its own lock and socket (after
    /// SIGKILL they would stay, and removing them by hand races with the
    /// next server taking the number).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: kill(2) on the pid of our own child, not reaped yet.
            unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGTERM) };
            let gone = poll::holds_within(Duration::from_secs(5), || {
                c.try_wait().ok().flatten().is_some()
            });
            if !gone {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }

    /// The deviceId of its screen 0.
    pub fn screen_id(&self) -> String {
        format!("x11:{}.0", self.display)
    }

    pub fn client(&self) -> Painter {
        let (conn, screen) = RustConnection::connect(Some(&self.display)).unwrap();
        let root = conn.setup().roots[screen].root;
        Painter { conn, root }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A client drawing on the display; its windows last as long as it does.
pub struct Painter {
    pub conn: RustConnection,
    pub root: xproto::Window,
}

impl Painter {
    /// Paints the root window `rgb` (0xRRGGBB, a 24-bit TrueColor pixel).
    pub fn paint_root(&self, rgb: u32) {
        self.conn
            .change_window_attributes(
                self.root,
                &xproto::ChangeWindowAttributesAux::new().background_pixel(rgb),
            )
            .unwrap();
        self.conn.clear_area(false, self.root, 0, 0, 0, 0).unwrap();
        self.conn.sync().unwrap();
    }

    /// A mapped window of colour `rgb` at (x, y), w x h: its id.
    pub fn window(&self, (x, y): (i16, i16), (w, h): (u16, u16), rgb: u32) -> u32 {
        let id = self.conn.generate_id().unwrap();
        self.conn
            .create_window(
                x11rb::COPY_DEPTH_FROM_PARENT,
                id,
                self.root,
                x,
                y,
                w,
                h,
                0,
                xproto::WindowClass::INPUT_OUTPUT,
                x11rb::COPY_FROM_PARENT,
                &xproto::CreateWindowAux::new()
                    .background_pixel(rgb)
                    .override_redirect(1),
            )
            .unwrap();
        self.conn.map_window(id).unwrap();
        self.conn.sync().unwrap();
        id
    }

    /// Hides (unmaps) or shows (maps) a window.
    pub fn show(&self, window: u32, shown: bool) {
        if shown {
            self.conn.map_window(window).unwrap();
        } else {
            self.conn.unmap_window(window).unwrap();
        }
        self.conn.sync().unwrap();
    }

    pub fn destroy(&self, window: u32) {
        self.conn.destroy_window(window).unwrap();
        self.conn.sync().unwrap();
    }

    /// Moves the pointer to (x, y) on the root.
    pub fn pointer_to(&self, x: i16, y: i16) {
        self.conn
            .warp_pointer(x11rb::NONE, self.root, 0, 0, 0, 0, x, y)
            .unwrap();
        self.conn.sync().unwrap();
    }
}

/// The (r, g, b) at (x, y) of a BGRx frame.
pub fn pixel(sample: &gst::Sample, x: usize, y: usize) -> (u8, u8, u8) {
    let s = sample.caps().unwrap().structure(0).unwrap();
    assert_eq!(s.get::<&str>("format").unwrap(), "BGRx", "{s}");
    let w = s.get::<i32>("width").unwrap() as usize;
    let map = sample.buffer().unwrap().map_readable().unwrap();
    let o = (y * w + x) * 4;
    (map[o + 2], map[o + 1], map[o])
}
