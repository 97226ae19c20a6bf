// SPDX-License-Identifier: MPL-2.0

//! Blank frames for a disabled track: black video or silent audio of the
//! negotiated caps, made once and reused.

/// Black frames or silence for a disabled track: one memory of the
/// negotiated caps, made once, carried by a few buffers that are reused as
/// soon as downstream lets go of them, so a disabled track allocates
/// nothing per buffer.
#[derive(Default)]
pub(super) struct Blank {
    /// Holds the memory (and an audio meta for planar audio).
    template: Option<gst::Buffer>,
    shells: Vec<gst::Buffer>,
}

/// Buffers in flight downstream (queues, sinks holding the last frame)
/// beyond which a blank buffer is made for one use only.
const MAX_BLANK_SHELLS: usize = 8;

impl Blank {
    /// Replaces `buf` with black or silence of `caps`, keeping its timing
    /// and flags. `video`: frames have one size (the template may carry
    /// padding); audio buffers must keep their sample count.
    pub(super) fn fill(&mut self, buf: &mut gst::Buffer, caps: &gst::Caps, video: bool) {
        let size = buf.size();
        let fits = |b: &gst::Buffer| {
            if video {
                b.size() >= size
            } else {
                b.size() == size
            }
        };
        if !self.template.as_ref().is_some_and(fits) {
            *self = Blank {
                template: make_blank(caps, size),
                shells: Vec::new(),
            };
        }
        let Some(template) = self.template.as_ref() else {
            return;
        };
        // A shell only this track holds is free to carry the next frame.
        let free = self.shells.iter().position(|b| b.is_writable());
        let mut transient = None;
        let shell = match free {
            Some(i) => &mut self.shells[i],
            // Shares the template's memory: no copy of the media.
            None if self.shells.len() < MAX_BLANK_SHELLS => {
                self.shells.push(template.copy());
                self.shells.last_mut().unwrap()
            }
            None => transient.insert(template.copy()),
        };
        // Timestamps, offsets and flags; no metas (they would describe the
        // device's memory, not the blank one).
        // Cannot fail: the shell is writable and the flags ask for no memory.
        let _ = buf.copy_into(
            shell.make_mut(),
            gst::BufferCopyFlags::FLAGS | gst::BufferCopyFlags::TIMESTAMPS,
            ..,
        );
        *buf = shell.clone();
    }
}

/// Black (video: all pixels black in RGB, in the negotiated format and
/// range) or silence (audio) of one buffer's size.
fn make_blank(caps: &gst::Caps, size: usize) -> Option<gst::Buffer> {
    let s = caps.structure(0)?;
    if s.name() == "video/x-raw" {
        let out_info = gst_video::VideoInfo::from_caps(caps).ok()?;
        let in_info = gst_video::VideoInfo::builder(
            gst_video::VideoFormat::Bgrx,
            out_info.width(),
            out_info.height(),
        )
        .fps(out_info.fps())
        .par(out_info.par())
        .build()
        .ok()?;
        // Zeroed BGRx is black; the converter makes it black in the
        // negotiated format, matrix and range.
        let black = gst::Buffer::from_mut_slice(vec![0u8; in_info.size()]);
        let in_frame = gst_video::VideoFrame::from_buffer_readable(black, &in_info).ok()?;
        let out = gst::Buffer::with_size(out_info.size().max(size)).ok()?;
        let mut out_frame = gst_video::VideoFrame::from_buffer_writable(out, &out_info).ok()?;
        let converter = gst_video::VideoConverter::new(&in_info, &out_info, None).ok()?;
        converter.frame(&in_frame, &mut out_frame);
        Some(out_frame.into_buffer())
    } else if s.name() == "audio/x-raw" {
        let info = gst_audio::AudioInfo::from_caps(caps).ok()?;
        let mut buf = gst::Buffer::with_size(size).ok()?;
        {
            let mut map = buf.get_mut()?.map_writable().ok()?;
            info.format_info().fill_silence(map.as_mut_slice());
        }
        if info.layout() == gst_audio::AudioLayout::NonInterleaved && info.bpf() > 0 {
            // Planar audio must say where each channel's plane is.
            let samples = size / info.bpf() as usize;
            gst_audio::AudioMeta::add(buf.get_mut()?, &info, samples, &[]).ok()?;
        }
        Some(buf)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_video_is_black_in_every_format() {
        gst::init().unwrap();
        for (format, expect) in [
            ("I420", vec![16u8, 128]),
            ("RGB", vec![0]),
            ("BGRx", vec![0]),
            ("YUY2", vec![16, 128]),
        ] {
            let caps = gst::Caps::builder("video/x-raw")
                .field("format", format)
                .field("width", 64)
                .field("height", 48)
                .field("framerate", gst::Fraction::new(30, 1))
                .build();
            let blank = make_blank(&caps, 0).unwrap_or_else(|| panic!("{format}: no blank"));
            let map = blank.map_readable().unwrap();
            let mut values: Vec<u8> = map.iter().copied().collect();
            values.sort_unstable();
            values.dedup();
            assert!(
                values.iter().all(|v| expect.contains(v)),
                "{format}: {values:?}"
            );
        }
        let caps = gst::Caps::builder("audio/x-raw")
            .field("format", "U8")
            .field("rate", 8000)
            .field("channels", 1)
            .field("layout", "interleaved")
            .build();
        let blank = make_blank(&caps, 100).unwrap();
        assert!(blank.map_readable().unwrap().iter().all(|&b| b == 128));
    }
}
