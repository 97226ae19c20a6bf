// SPDX-License-Identifier: MPL-2.0

//! An X connection whose writes never raise SIGPIPE.
//!
//! x11rb's own stream writes with `sendmsg` and no flags: once the X
//! server is gone, the next request kills a process that does not ignore
//! SIGPIPE (`gst-launch-1.0`, most C applications) instead of returning
//! an error. This stream is x11rb's for connecting, reading and polling,
//! and writes with `MSG_NOSIGNAL`.

use std::io::{IoSlice, Result};
use std::os::fd::AsFd;
use x11rb::errors::ConnectError;
use x11rb::reexports::x11rb_protocol::parse_display::parse_display;
use x11rb::reexports::x11rb_protocol::xauth::get_auth;
use x11rb::rust_connection::{DefaultStream, PollMode, RustConnection, Stream};
use x11rb::utils::RawFdContainer;

pub struct QuietStream(DefaultStream);

pub type Connection = RustConnection<QuietStream>;

/// Connects to `display` (`None`: `$DISPLAY`) as x11rb does, with its
/// authorization; the connection and the screen the name chose.
pub fn connect(display: Option<&str>) -> std::result::Result<(Connection, usize), ConnectError> {
    let parsed = parse_display(display)?;
    let screen = parsed.screen.into();
    let mut error = None;
    for addr in parsed.connect_instruction() {
        match DefaultStream::connect(&addr) {
            Ok((stream, (family, address))) => {
                // As x11rb: without auth information, try without.
                let (name, data) = get_auth(family, &address, parsed.display)
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                let conn = RustConnection::connect_to_stream_with_auth_info(
                    QuietStream(stream),
                    screen,
                    name,
                    data,
                )?;
                return Ok((conn, screen));
            }
            Err(e) => error = Some(e),
        }
    }
    Err(match error {
        Some(e) => ConnectError::IoError(e),
        None => ConnectError::DisplayParsingError(x11rb::errors::DisplayParsingError::Unknown),
    })
}

impl Stream for QuietStream {
    fn poll(&self, mode: PollMode) -> Result<()> {
        self.0.poll(mode)
    }

    fn read(&self, buf: &mut [u8], fds: &mut Vec<RawFdContainer>) -> Result<usize> {
        self.0.read(buf, fds)
    }

    fn write(&self, buf: &[u8], fds: &mut Vec<RawFdContainer>) -> Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)], fds)
    }

    fn write_vectored(&self, bufs: &[IoSlice<'_>], fds: &mut Vec<RawFdContainer>) -> Result<usize> {
        use rustix::io::Errno;
        use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags, sendmsg};
        use std::mem::MaybeUninit;
        let borrowed: Vec<_> = fds.iter().map(|f| f.as_fd()).collect();
        let rights = SendAncillaryMessage::ScmRights(&borrowed);
        let mut space = vec![MaybeUninit::uninit(); if fds.is_empty() { 0 } else { rights.size() }];
        let mut cmsgs = SendAncillaryBuffer::new(&mut space);
        if !fds.is_empty() && !cmsgs.push(rights) {
            return Err(std::io::Error::other("no room for the file descriptors"));
        }
        let sent = loop {
            match sendmsg(self.0.as_fd(), bufs, &mut cmsgs, SendFlags::NOSIGNAL) {
                Ok(n) => break n,
                Err(Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        };
        // Sent: the descriptors went with the bytes.
        fds.clear();
        Ok(sent)
    }
}
