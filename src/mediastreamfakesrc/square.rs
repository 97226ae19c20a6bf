// SPDX-License-Identifier: MPL-2.0

//! The `square` pattern: a white square whose side is half the frame's
//! height, centred on black, at whatever raw size and format the device
//! negotiates. Known geometry, for tests that measure where pixels land
//! after crop-and-scale.
//!
//! `videotestsrc pattern=black` renders the black frame (in the negotiated
//! format and range) and a buffer probe on its src pad writes the square.
//! White and black share their chroma (neutral), so only luma is written in
//! YUV and gray formats and only the colour components in RGB ones: no
//! chroma subsampling to get wrong, and the square is exact to the pixel.
//! Gray formats are painted whole: videotestsrc's black there is luma 16,
//! which reads as dark gray in their full range. In an odd-width packed
//! 4:2:2 frame (YUY2, UYVY) the last macropixel's chroma is copied from its
//! neighbour: videotestsrc leaves its V unwritten.

use gst::prelude::*;
use gst_video::prelude::*;
use gst_video::{VideoColorRange, VideoFrameRef, VideoInfo};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The pattern name.
pub const NAME: &str = "square";

/// The square of a `width` x `height` frame, clipped to the frame:
/// `(x, y, width, height)`. Its side is `height / 2` (rounded down) and it
/// is centred; when the margins cannot be equal (an odd difference), the
/// left or top one is the smaller by one pixel.
pub fn rect(width: u32, height: u32) -> (u32, u32, u32, u32) {
    let side = i64::from(height / 2);
    let (w, h) = (i64::from(width), i64::from(height));
    let x = (w - side).div_euclid(2);
    let y = (h - side).div_euclid(2);
    let x0 = x.max(0);
    let x1 = (x + side).min(w);
    // Both fit in u32: they lie within [0, width] and [0, height].
    (x0 as u32, y as u32, (x1 - x0) as u32, side as u32)
}

/// Draws the square into the buffers leaving videotestsrc (black).
#[derive(Default)]
pub struct Painter {
    /// The pad's caps and their video info (`None`: not raw video).
    info: Mutex<Option<(gst::Caps, Option<VideoInfo>)>>,
    reported: AtomicBool,
}

impl Painter {
    /// Draws into the buffer of a probe on `pad`. Returns a format it
    /// cannot draw, once (the frames then stay black).
    pub fn paint(&self, pad: &gst::Pad, probe: &mut gst::PadProbeInfo) -> Option<String> {
        let caps = pad.current_caps()?;
        let mut cache = self.info.lock();
        if cache.as_ref().is_none_or(|(c, _)| *c != caps) {
            let video = VideoInfo::from_caps(&caps).ok();
            *cache = Some((caps, video));
        }
        let (_, Some(info)) = cache.as_ref()? else {
            return None;
        };
        let buffer = probe.buffer_mut()?;
        let e = draw(buffer.make_mut(), info).err()?;
        (!self.reported.swap(true, Ordering::Relaxed)).then_some(e)
    }
}

/// Where one component's samples are stored.
struct Component {
    plane: u32,
    offset: usize,
    pstride: usize,
    depth: u32,
    shift: u32,
    /// Bytes holding the sample's bits (shared with other components in
    /// formats such as RGB16).
    bytes: usize,
    mask: u32,
}

impl Component {
    fn of(finfo: &gst_video::VideoFormatInfo, c: usize) -> Result<Component, String> {
        let (pstride, depth, shift) = (finfo.pixel_stride()[c], finfo.depth()[c], finfo.shift()[c]);
        let bytes = (shift + depth).div_ceil(8) as usize;
        if pstride <= 0 || depth == 0 || bytes > 4 {
            return Err(format!(
                "pattern 'square' cannot draw {}: component {c} has no plain layout",
                finfo.format()
            ));
        }
        Ok(Component {
            plane: finfo.plane()[c],
            offset: finfo.poffset()[c] as usize,
            pstride: pstride as usize,
            depth,
            shift,
            bytes,
            mask: ((1u64 << depth) - 1) as u32,
        })
    }

    /// The bytes of the sample at (`x`, `y`) in its plane.
    fn cell<'a>(&self, data: &'a mut [u8], stride: usize, x: u32, y: u32) -> Option<&'a mut [u8]> {
        let at = y as usize * stride + self.offset + x as usize * self.pstride;
        data.get_mut(at..at + self.bytes)
    }
}

/// Writes the white square into a black frame described by `info`.
pub fn draw(buffer: &mut gst::BufferRef, info: &VideoInfo) -> Result<(), String> {
    let finfo = info.format_info();
    let format = info.format();
    if finfo.is_complex() || finfo.is_tiled() || finfo.has_palette() {
        return Err(format!(
            "pattern 'square' cannot draw {format}: a packed, tiled or palette format"
        ));
    }
    let full_range = match info.colorimetry().range() {
        VideoColorRange::Range0_255 => true,
        VideoColorRange::Range16_235 => false,
        _ => !finfo.is_yuv(),
    };
    let (width, height) = (info.width(), info.height());
    let (x0, y0, w, h) = rect(width, height);
    let inside = |x: u32, y: u32| (x0..x0 + w).contains(&x) && (y0..y0 + h).contains(&y);
    let (rows, columns) = if finfo.is_gray() {
        (0..height, 0..width)
    } else {
        (y0..y0 + h, x0..x0 + w)
    };
    let too_small = || format!("pattern 'square': {format} frame smaller than its caps say");
    let mut frame = VideoFrameRef::from_buffer_ref_writable(buffer, info)
        .map_err(|e| format!("pattern 'square': cannot map the {format} frame: {e}"))?;
    // Luma for YUV and gray; R, G and B for RGB. Alpha and chroma stay.
    let components: &[usize] = if finfo.is_rgb() { &[0, 1, 2] } else { &[0] };
    for &c in components {
        let comp = Component::of(&finfo, c)?;
        let (black, white) = if full_range || finfo.is_rgb() {
            (0, comp.mask)
        } else {
            let bits = comp.depth.saturating_sub(8);
            (16u32 << bits, 235u32 << bits)
        };
        let stride = frame.plane_stride()[comp.plane as usize] as usize;
        let data = frame
            .plane_data_mut(comp.plane)
            .map_err(|e| format!("pattern 'square': plane {} of {format}: {e}", comp.plane))?;
        for y in rows.clone() {
            for x in columns.clone() {
                let cell = comp.cell(data, stride, x, y).ok_or_else(too_small)?;
                let value = if inside(x, y) { white } else { black };
                write_bits(cell, finfo.is_le(), comp.shift, comp.mask, value);
            }
        }
    }
    // Packed subsampled YUV (YUY2, UYVY) of odd width: the last macropixel's
    // chroma takes its neighbour's.
    let packed_subsampled = finfo.is_yuv()
        && finfo.n_components() > 2
        && finfo.plane()[1] == finfo.plane()[0]
        && finfo.w_sub()[1] > 0;
    let chroma_width = if packed_subsampled {
        finfo.scale_width(1, width)
    } else {
        0
    };
    if packed_subsampled && width % (1 << finfo.w_sub()[1]) != 0 && chroma_width >= 2 {
        for c in [1, 2] {
            let comp = Component::of(&finfo, c)?;
            let stride = frame.plane_stride()[comp.plane as usize] as usize;
            let data = frame
                .plane_data_mut(comp.plane)
                .map_err(|e| format!("pattern 'square': plane {} of {format}: {e}", comp.plane))?;
            for y in 0..finfo.scale_height(c as u8, height) {
                let before = comp
                    .cell(data, stride, chroma_width - 2, y)
                    .ok_or_else(too_small)?;
                let value = read_bits(before, finfo.is_le(), comp.shift, comp.mask);
                let last = comp
                    .cell(data, stride, chroma_width - 1, y)
                    .ok_or_else(too_small)?;
                write_bits(last, finfo.is_le(), comp.shift, comp.mask, value);
            }
        }
    }
    Ok(())
}

/// The `mask << shift` bits of the integer stored in `cell` (little or big
/// endian).
fn read_bits(cell: &[u8], le: bool, shift: u32, mask: u32) -> u32 {
    (word(cell, le) >> shift) & mask
}

fn word(cell: &[u8], le: bool) -> u32 {
    let mut word: u32 = 0;
    for (i, b) in cell.iter().enumerate() {
        let i = if le { i } else { cell.len() - 1 - i };
        word |= u32::from(*b) << (8 * i);
    }
    word
}

/// Sets the `mask << shift` bits of the integer stored in `cell` (little or
/// big endian) to `value`, keeping the others (components that share bytes,
/// as in RGB16).
fn write_bits(cell: &mut [u8], le: bool, shift: u32, mask: u32, value: u32) {
    let word = (word(cell, le) & !(mask << shift)) | ((value & mask) << shift);
    let n = cell.len();
    for (i, b) in cell.iter_mut().enumerate() {
        let i = if le { i } else { n - 1 - i };
        *b = (word >> (8 * i)) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_is_half_the_height_and_centred() {
        assert_eq!(rect(640, 480), (200, 120, 240, 240));
        assert_eq!(rect(1280, 720), (460, 180, 360, 360));
        // Odd: margins differ by one pixel at most.
        assert_eq!(rect(641, 481), (200, 120, 240, 240));
        assert_eq!(rect(7, 5), (2, 1, 2, 2));
        // Narrower than the square: clipped to the frame's width.
        assert_eq!(rect(100, 400), (0, 100, 100, 200));
        assert_eq!(rect(1, 1), (0, 0, 0, 0));
    }

    #[test]
    fn bits_of_shared_bytes() {
        // RGB16 little endian, green (6 bits at 5) set on black.
        let mut cell = [0u8, 0];
        write_bits(&mut cell, true, 5, 0x3f, 0x3f);
        assert_eq!(u16::from_le_bytes(cell), 0x07e0);
        let mut cell = [0xffu8, 0xff];
        write_bits(&mut cell, false, 0, 0xff, 0);
        assert_eq!(cell, [0xff, 0]);
        assert_eq!(read_bits(&[0xe0, 0x07], true, 5, 0x3f), 0x3f);
        assert_eq!(read_bits(&[0x80, 0x80], true, 6, 0x3ff), 514);
    }
}
