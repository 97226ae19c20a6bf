// SPDX-License-Identifier: MPL-2.0

//! X11 display surfaces: the screens of a display, a window by its id, and
//! their frames (MIT-SHM segments the X server fills, handed on without a
//! copy; plain GetImage where there is no MIT-SHM), with the cursor drawn
//! in or not.
//!
//! A pure-Rust client (x11rb): a display that goes away, or a window that
//! is destroyed, comes back as an error value ([`GrabError`]), where Xlib's
//! handler would end the process.

use super::Cursor;
use super::connection::{Connection as RustConnection, connect};
use parking_lot::Mutex;
use std::fmt;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use x11rb::connection::{Connection, RequestConnection};
use x11rb::errors::{ConnectionError, ReplyError, ReplyOrIdError};
use x11rb::protocol::xproto::{self, ConnectionExt as _, ImageFormat, ImageOrder};
use x11rb::protocol::{ErrorKind, shm, xfixes};

/// The pixel formats a frame can have (32 bits per pixel, 24-bit depth).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// Blue, green, red, pad in memory (a little-endian server).
    Bgrx,
    /// Pad, red, green, blue in memory (a big-endian server).
    Xrgb,
}

impl PixelFormat {
    /// The GStreamer raw video format name.
    pub fn as_str(self) -> &'static str {
        match self {
            PixelFormat::Bgrx => "BGRx",
            PixelFormat::Xrgb => "xRGB",
        }
    }

    /// Byte offsets of red, green and blue in a pixel.
    fn rgb(self) -> [usize; 3] {
        match self {
            PixelFormat::Bgrx => [2, 1, 0],
            PixelFormat::Xrgb => [1, 2, 3],
        }
    }
}

/// What to capture: a screen of a display, or one of its windows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// The X display name (`:99`); `None`: `$DISPLAY`.
    pub display: Option<String>,
    /// The screen; `None`: the display's default one.
    pub screen: Option<usize>,
    /// A window id; `None`: the whole screen.
    pub window: Option<u32>,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let display = self.display.clone().unwrap_or_else(|| {
            std::env::var("DISPLAY").unwrap_or_else(|_| "$DISPLAY (unset)".into())
        });
        // A name given as a property may be anything, of any length.
        write!(f, "X display {}", crate::excerpt::excerpt(&display))?;
        if let Some(s) = self.screen {
            write!(f, " screen {s}")?;
        }
        if let Some(w) = self.window {
            write!(f, " window 0x{w:x}")?;
        }
        Ok(())
    }
}

/// Why a surface cannot be opened or grabbed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrabError {
    /// No X server at the name, or it refused us.
    Unreachable(String),
    /// The X server went away (its connection broke).
    Lost(String),
    /// The window does not exist (any more).
    NoWindow(u32),
    /// The window exists but shows nothing now (unmapped, minimized).
    Hidden,
    /// The server's pixels are not 32-bit true colour.
    Unsupported(String),
}

impl fmt::Display for GrabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrabError::Unreachable(e) => write!(f, "cannot open the display: {e}"),
            GrabError::Lost(e) => write!(f, "the X server went away: {e}"),
            GrabError::NoWindow(w) => write!(f, "window 0x{w:x} does not exist (closed?)"),
            GrabError::Hidden => f.write_str("the window is not shown (unmapped)"),
            GrabError::Unsupported(e) => write!(f, "unsupported display: {e}"),
        }
    }
}

fn lost(e: impl fmt::Display) -> GrabError {
    GrabError::Lost(e.to_string())
}

/// A reply error: the connection broke, or the window is gone or hidden.
fn reply_error(e: ReplyError, window: Option<u32>) -> GrabError {
    match e {
        ReplyError::ConnectionError(c) => lost(c),
        ReplyError::X11Error(x) => match (x.error_kind, window) {
            (ErrorKind::Window | ErrorKind::Drawable, Some(w)) => GrabError::NoWindow(w),
            (ErrorKind::Match, Some(_)) => GrabError::Hidden,
            (kind, _) => lost(format!("X error {kind:?}")),
        },
    }
}

/// One screen of a display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    /// The display's name as given (`:99`), or `$DISPLAY`'s.
    pub display: String,
    pub index: usize,
    pub width: u32,
    pub height: u32,
    /// Whether this is the display's default screen.
    pub is_default: bool,
}

/// The screens of `display` (`None`: `$DISPLAY`).
pub fn screens(display: Option<&str>) -> Result<Vec<Screen>, GrabError> {
    let (conn, default) = connect(display).map_err(|e| GrabError::Unreachable(e.to_string()))?;
    let name = display_name(display);
    Ok(conn
        .setup()
        .roots
        .iter()
        .enumerate()
        .map(|(index, s)| Screen {
            display: name.clone(),
            index,
            width: s.width_in_pixels as u32,
            height: s.height_in_pixels as u32,
            is_default: index == default,
        })
        .collect())
}

/// `display`, else `$DISPLAY`'s value.
pub fn display_name(display: Option<&str>) -> String {
    display
        .map(str::to_owned)
        .or_else(|| std::env::var("DISPLAY").ok())
        .unwrap_or_default()
}

/// The size of window `window` on `display`.
pub fn window_size(display: Option<&str>, window: u32) -> Result<(u32, u32), GrabError> {
    let (conn, _) = connect(display).map_err(|e| GrabError::Unreachable(e.to_string()))?;
    let g = conn
        .get_geometry(window)
        .map_err(lost)?
        .reply()
        .map_err(|e| reply_error(e, Some(window)))?;
    Ok((g.width as u32, g.height as u32))
}

/// One MIT-SHM segment: the X server writes a frame into it.
struct Segment {
    id: shm::Seg,
    map: memmap2::MmapMut,
}

/// The segments not handed downstream now.
#[derive(Default)]
struct Pool {
    free: Mutex<Vec<Segment>>,
}

/// A frame's pixels: a segment back to the pool when downstream lets it
/// go, or GetImage's own bytes.
pub struct Frame {
    segment: Option<Segment>,
    pool: Weak<Pool>,
    bytes: Vec<u8>,
    len: usize,
}

impl AsRef<[u8]> for Frame {
    fn as_ref(&self) -> &[u8] {
        match &self.segment {
            Some(s) => &s.map[..self.len],
            None => &self.bytes,
        }
    }
}

impl AsMut<[u8]> for Frame {
    fn as_mut(&mut self) -> &mut [u8] {
        match &mut self.segment {
            Some(s) => &mut s.map[..self.len],
            None => &mut self.bytes,
        }
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        if let (Some(s), Some(pool)) = (self.segment.take(), self.pool.upgrade()) {
            pool.free.lock().push(s);
        }
    }
}

/// An open surface: its connection, size and format, and the segments.
pub struct Grabber {
    conn: RustConnection,
    root: xproto::Window,
    drawable: xproto::Drawable,
    window: Option<u32>,
    pub width: u32,
    pub height: u32,
    pub format: PixelFormat,
    shm: bool,
    xfixes: bool,
    pool: Arc<Pool>,
    /// Where the pointer was, and since when.
    pointer: Option<((i16, i16), Instant)>,
}

/// How long `motion` keeps drawing the cursor after it last moved.
pub const MOTION_LINGER: Duration = Duration::from_secs(1);

impl Grabber {
    /// Connects and reads the surface's size and format.
    pub fn open(target: &Target) -> Result<Grabber, GrabError> {
        let (conn, default) = connect(target.display.as_deref())
            .map_err(|e| GrabError::Unreachable(e.to_string()))?;
        let index = target.screen.unwrap_or(default);
        let setup = conn.setup();
        let screen = setup.roots.get(index).ok_or_else(|| {
            GrabError::Unreachable(format!(
                "no screen {index} (the display has {})",
                setup.roots.len()
            ))
        })?;
        let root = screen.root;
        let depth = screen.root_depth;
        let bpp = setup
            .pixmap_formats
            .iter()
            .find(|f| f.depth == depth)
            .map(|f| f.bits_per_pixel);
        if depth != 24 || bpp != Some(32) {
            return Err(GrabError::Unsupported(format!(
                "depth {depth}, {bpp:?} bits per pixel (24 and 32 are)"
            )));
        }
        let format = if setup.image_byte_order == ImageOrder::LSB_FIRST {
            PixelFormat::Bgrx
        } else {
            PixelFormat::Xrgb
        };
        let (drawable, width, height) = match target.window {
            None => (
                root,
                screen.width_in_pixels as u32,
                screen.height_in_pixels as u32,
            ),
            Some(w) => {
                let g = conn
                    .get_geometry(w)
                    .map_err(lost)?
                    .reply()
                    .map_err(|e| reply_error(e, Some(w)))?;
                if g.depth != depth {
                    return Err(GrabError::Unsupported(format!(
                        "window 0x{w:x} has depth {} (the screen's is {depth})",
                        g.depth
                    )));
                }
                (w, g.width as u32, g.height as u32)
            }
        };
        let shm = shm_version(&conn).is_some_and(|v| v >= (1, 2));
        let xfixes = conn
            .extension_information(xfixes::X11_EXTENSION_NAME)
            .ok()
            .flatten()
            .is_some()
            && xfixes::query_version(&conn, 4, 0)
                .ok()
                .and_then(|c| c.reply().ok())
                .is_some();
        Ok(Grabber {
            conn,
            root,
            drawable,
            window: target.window,
            width,
            height,
            format,
            shm,
            xfixes,
            pool: Arc::new(Pool::default()),
            pointer: None,
        })
    }

    /// Whether frames come through MIT-SHM (no copy) or GetImage.
    pub fn uses_shm(&self) -> bool {
        self.shm
    }

    /// Whether the cursor can be drawn in (the XFixes extension).
    pub fn has_cursor(&self) -> bool {
        self.xfixes
    }

    fn frame_len(&self) -> usize {
        self.width as usize * self.height as usize * 4
    }

    /// A free segment, or a new one.
    fn segment(&self) -> Result<Segment, GrabError> {
        if let Some(s) = self.pool.free.lock().pop() {
            return Ok(s);
        }
        let len = self.frame_len();
        let id = self.conn.generate_id().map_err(lost)?;
        let reply = shm::create_segment(&self.conn, id, len as u32, false)
            .map_err(lost)?
            .reply()
            .map_err(|e| reply_error(e, None))?;
        let file = std::fs::File::from(reply.shm_fd);
        // SAFETY: the segment is ours alone: the X server writes into it
        // only during a GetImage we wait for, never while it is mapped
        // into a buffer downstream holds.
        let map = unsafe { memmap2::MmapOptions::new().len(len).map_mut(&file) }
            .map_err(|e| lost(format!("cannot map the shared memory: {e}")))?;
        Ok(Segment { id, map })
    }

    /// The surface's pixels now, with the cursor drawn in as `cursor` says.
    pub fn grab(&mut self, cursor: Cursor) -> Result<Frame, GrabError> {
        let (w, h) = (self.width as u16, self.height as u16);
        let mut frame = if self.shm {
            let segment = self.segment()?;
            let got = shm::get_image(
                &self.conn,
                self.drawable,
                0,
                0,
                w,
                h,
                !0,
                ImageFormat::Z_PIXMAP.into(),
                segment.id,
                0,
            )
            .map_err(lost)?
            .reply();
            if let Err(e) = got {
                self.pool.free.lock().push(segment);
                return Err(reply_error(e, self.window));
            }
            Frame {
                segment: Some(segment),
                pool: Arc::downgrade(&self.pool),
                bytes: Vec::new(),
                len: self.frame_len(),
            }
        } else {
            let reply = self
                .conn
                .get_image(ImageFormat::Z_PIXMAP, self.drawable, 0, 0, w, h, !0)
                .map_err(lost)?
                .reply()
                .map_err(|e| reply_error(e, self.window))?;
            if reply.data.len() < self.frame_len() {
                return Err(lost(format!(
                    "a {}-byte image for {}x{}",
                    reply.data.len(),
                    w,
                    h
                )));
            }
            let len = self.frame_len();
            Frame {
                segment: None,
                pool: Weak::new(),
                bytes: reply.data,
                len,
            }
        };
        if cursor != Cursor::Never && self.xfixes {
            self.draw_cursor(frame.as_mut(), cursor)?;
        }
        Ok(frame)
    }

    /// Blends the cursor's image (premultiplied ARGB) into `pixels` where
    /// it lies over the surface.
    fn draw_cursor(&mut self, pixels: &mut [u8], mode: Cursor) -> Result<(), GrabError> {
        let image = xfixes::get_cursor_image(&self.conn)
            .map_err(lost)?
            .reply()
            .map_err(|e| reply_error(e, None))?;
        let at = (image.x, image.y);
        let now = Instant::now();
        let moved = match self.pointer {
            Some((was, since)) if was == at => since,
            _ => now,
        };
        self.pointer = Some((at, moved));
        if mode == Cursor::Motion && now.duration_since(moved) >= MOTION_LINGER {
            return Ok(());
        }
        // The surface's origin on the root window.
        let (ox, oy) = match self.window {
            None => (0, 0),
            Some(w) => {
                let t = self
                    .conn
                    .translate_coordinates(w, self.root, 0, 0)
                    .map_err(lost)?
                    .reply()
                    .map_err(|e| reply_error(e, Some(w)))?;
                (t.dst_x as i32, t.dst_y as i32)
            }
        };
        let left = image.x as i32 - image.xhot as i32 - ox;
        let top = image.y as i32 - image.yhot as i32 - oy;
        blend(
            pixels,
            (self.width as usize, self.height as usize),
            self.format,
            &image.cursor_image,
            (image.width as usize, image.height as usize),
            (left, top),
        );
        Ok(())
    }
}

fn shm_version(conn: &RustConnection) -> Option<(u16, u16)> {
    conn.extension_information(shm::X11_EXTENSION_NAME)
        .ok()
        .flatten()?;
    let v = shm::query_version(conn).ok()?.reply().ok()?;
    Some((v.major_version, v.minor_version))
}

/// Blends a premultiplied-ARGB image whose top-left corner is at `at`
/// into a frame of `size`, clipped to it.
pub fn blend(
    frame: &mut [u8],
    size: (usize, usize),
    format: PixelFormat,
    image: &[u32],
    image_size: (usize, usize),
    at: (i32, i32),
) {
    let (fw, fh) = size;
    let (iw, ih) = image_size;
    let [r, g, b] = format.rgb();
    for y in 0..ih {
        let fy = at.1 + y as i32;
        if fy < 0 || fy >= fh as i32 {
            continue;
        }
        for x in 0..iw {
            let fx = at.0 + x as i32;
            if fx < 0 || fx >= fw as i32 {
                continue;
            }
            let Some(&argb) = image.get(y * iw + x) else {
                return;
            };
            let a = argb >> 24;
            if a == 0 {
                continue;
            }
            let o = (fy as usize * fw + fx as usize) * 4;
            let Some(px) = frame.get_mut(o..o + 4) else {
                return;
            };
            let inv = 255 - a;
            for (channel, shift) in [(r, 16), (g, 8), (b, 0)] {
                let s = (argb >> shift) & 0xff;
                let d = px[channel] as u32;
                px[channel] = (s + (d * inv + 127) / 255).min(255) as u8;
            }
        }
    }
}

impl From<ReplyOrIdError> for GrabError {
    fn from(e: ReplyOrIdError) -> Self {
        lost(e)
    }
}

impl From<ConnectionError> for GrabError {
    fn from(e: ConnectionError) -> Self {
        lost(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_blends_over_and_is_clipped() {
        // A 2x2 cursor: opaque red, half white, clear, opaque blue, over a
        // 4x2 frame of `grey`, its top-left corner at `at`.
        let cursor = [0xffff0000, 0x80808080, 0, 0xff0000ff];
        let blended = |format, grey: u8, at| {
            let mut frame = vec![grey; 4 * 2 * 4];
            blend(&mut frame, (4, 2), format, &cursor, (2, 2), at);
            frame
        };
        let px = |f: &[u8], x: usize, y: usize| f[(y * 4 + x) * 4..][..3].to_vec();
        // At (3, 1) only its first pixel shows.
        let frame = blended(PixelFormat::Bgrx, 100, (3, 1));
        assert_eq!(px(&frame, 3, 1), [0, 0, 255]);
        assert_eq!(px(&frame, 2, 1), [100, 100, 100]);
        // Half white over grey at (0, 0): 128 + 100 * 127 / 255.
        let frame = blended(PixelFormat::Bgrx, 100, (-1, 0));
        assert_eq!(px(&frame, 0, 0), [178, 178, 178]);
        // Opaque blue at (0, 1), in xRGB.
        let frame = blended(PixelFormat::Xrgb, 0, (-1, 0));
        assert_eq!(frame[4 * 4..][..4], [0, 0, 0, 255]);
    }

    #[test]
    fn no_display_is_an_error_not_a_panic() {
        let e = screens(Some(":999999")).unwrap_err();
        assert!(matches!(e, GrabError::Unreachable(_)), "{e}");
        let e = Grabber::open(&Target {
            display: Some("nonsense::".into()),
            ..Default::default()
        })
        .err()
        .unwrap();
        assert!(matches!(e, GrabError::Unreachable(_)), "{e}");
    }
}
