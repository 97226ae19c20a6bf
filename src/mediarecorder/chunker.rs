// SPDX-License-Identifier: MPL-2.0

//! The chunk accounting of a recording: the muxer's output buffers pile up
//! (references, no copy) until a chunk is cut (timeslice, request-data,
//! stop); a chunk is every byte produced since the previous one, in order,
//! and its timecode (BlobEvent.timecode) is the timestamp of its first data
//! minus that of the recording's first data, in milliseconds.

/// One BlobEvent's worth: the bytes and the timecode.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub data: Vec<u8>,
    /// Milliseconds since the first data of the recording.
    pub timecode: f64,
}

#[derive(Debug, Default)]
pub struct Chunker {
    pending: Vec<gst::Buffer>,
    /// Timestamp of the first data in the pending chunk.
    pending_ts: Option<gst::ClockTime>,
    /// Timestamp of the recording's first data: timecode zero.
    origin: Option<gst::ClockTime>,
    /// The last data timestamp seen: the timecode of a chunk that has no
    /// timestamped data of its own (container bytes only).
    last_ts: Option<gst::ClockTime>,
    /// Bytes and chunks handed out, for the debug log and tests.
    pub bytes: u64,
    pub chunks: u64,
}

impl Chunker {
    pub fn new() -> Chunker {
        Chunker::default()
    }

    /// A muxer output buffer. Headers (the container's start) carry no
    /// media time; the first media timestamp is the recording's origin.
    pub fn push(&mut self, buffer: gst::Buffer) {
        let ts = buffer.pts().or(buffer.dts());
        if let Some(ts) = ts.filter(|_| !buffer.flags().contains(gst::BufferFlags::HEADER)) {
            self.origin.get_or_insert(ts);
            self.pending_ts.get_or_insert(ts);
            self.last_ts = Some(self.last_ts.map_or(ts, |l| l.max(ts)));
        }
        self.pending.push(buffer);
    }

    pub fn pending_bytes(&self) -> usize {
        self.pending.iter().map(|b| b.size()).sum()
    }

    /// Cuts the chunk: all pending bytes (possibly none).
    pub fn take(&mut self) -> Chunk {
        let mut data = Vec::with_capacity(self.pending_bytes());
        for b in self.pending.drain(..) {
            // A mapping failure would lose data silently: buffers out of a
            // muxer are system memory and map.
            let map = b.map_readable().expect("muxer output maps");
            data.extend_from_slice(&map);
        }
        let ts = self.pending_ts.take().or(self.last_ts);
        let timecode = match (ts, self.origin) {
            (Some(ts), Some(origin)) => ts.saturating_sub(origin).nseconds() as f64 / 1_000_000.0,
            _ => 0.0,
        };
        self.bytes += data.len() as u64;
        self.chunks += 1;
        Chunk { data, timecode }
    }

    /// Drops what is pending (the spec's "discard any data it has
    /// gathered" when the track set changes).
    pub fn discard(&mut self) {
        self.pending.clear();
        self.pending_ts = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buf(data: &[u8], pts: Option<u64>, header: bool) -> gst::Buffer {
        let mut b = gst::Buffer::from_slice(data.to_vec());
        let m = b.get_mut().unwrap();
        m.set_pts(pts.map(gst::ClockTime::from_mseconds));
        if header {
            m.set_flags(gst::BufferFlags::HEADER);
        }
        b
    }

    #[test]
    fn chunks_are_contiguous_and_timed_from_the_first_data() {
        gst::init().unwrap();
        let mut c = Chunker::new();
        c.push(buf(b"HDR", Some(0), true));
        c.push(buf(b"a", Some(1000), false));
        c.push(buf(b"b", Some(1400), false));
        let first = c.take();
        assert_eq!(first.data, b"HDRab");
        assert_eq!(first.timecode, 0.0);
        c.push(buf(b"c", Some(1500), false));
        c.push(buf(b"d", None, false));
        let second = c.take();
        assert_eq!(second.data, b"cd");
        assert_eq!(second.timecode, 500.0);
        // Nothing new: an empty chunk, at the last time seen.
        let empty = c.take();
        assert!(empty.data.is_empty());
        assert_eq!(empty.timecode, 500.0);
        assert_eq!((c.bytes, c.chunks), (7, 3));
        c.push(buf(b"e", Some(2000), false));
        c.discard();
        assert!(c.take().data.is_empty());
    }
}
