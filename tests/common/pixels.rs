// SPDX-License-Identifier: MPL-2.0

//! Measuring frames: where the bright pixels are in an RGB sample (the
//! fake devices' `square` pattern has a known geometry).
#![allow(dead_code)]

use gst_video::prelude::*;

/// A rectangle in pixels: `x`, `y`, `width`, `height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// An RGB frame, rows without padding.
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<[u8; 3]>,
}

impl Rgb {
    /// The frame of a `video/x-raw,format=RGB` sample.
    pub fn of(sample: &gst::Sample) -> Rgb {
        let caps = sample.caps().expect("a sample with caps");
        let info = gst_video::VideoInfo::from_caps(caps).expect("video caps");
        assert_eq!(info.format(), gst_video::VideoFormat::Rgb, "{caps}");
        let buffer = sample.buffer().expect("a sample with a buffer");
        let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info).unwrap();
        let stride = frame.plane_stride()[0] as usize;
        let data = frame.plane_data(0).unwrap();
        let mut pixels = Vec::with_capacity((info.width() * info.height()) as usize);
        for y in 0..info.height() as usize {
            for x in 0..info.width() as usize {
                let at = y * stride + 3 * x;
                pixels.push([data[at], data[at + 1], data[at + 2]]);
            }
        }
        Rgb {
            width: info.width(),
            height: info.height(),
            pixels,
        }
    }

    pub fn at(&self, x: u32, y: u32) -> [u8; 3] {
        self.pixels[(y * self.width + x) as usize]
    }

    /// The bounding box of the pixels whose three channels are all above
    /// 128; `None` when there is none.
    pub fn bright_box(&self) -> Option<Rect> {
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        for y in 0..self.height {
            for x in 0..self.width {
                if self.at(x, y).iter().all(|&c| c > 128) {
                    (x0, y0) = (x0.min(x), y0.min(y));
                    (x1, y1) = (x1.max(x + 1), y1.max(y + 1));
                }
            }
        }
        (x0 != u32::MAX).then(|| Rect {
            x: x0,
            y: y0,
            width: x1 - x0,
            height: y1 - y0,
        })
    }

    /// Checks that the frame is the `square` pattern: a white square of side
    /// height / 2 (rounded down), centred within one pixel, on black,
    /// every pixel white (>= `250`) or black (<= `5`). Returns the square.
    pub fn expect_square(&self) -> Result<Rect, String> {
        let r = self
            .bright_box()
            .ok_or_else(|| format!("{}x{}: no bright pixel", self.width, self.height))?;
        let side = self.height / 2;
        let what = format!("{}x{}: bright box {r:?}", self.width, self.height);
        if (r.width, r.height) != (side, side) {
            return Err(format!("{what}: expected a {side}x{side} square"));
        }
        let (left, right) = (r.x, self.width - r.x - r.width);
        let (top, bottom) = (r.y, self.height - r.y - r.height);
        if left.abs_diff(right) > 1 || top.abs_diff(bottom) > 1 {
            return Err(format!(
                "{what}: not centred (margins left {left} right {right} top {top} bottom {bottom})"
            ));
        }
        for y in 0..self.height {
            for x in 0..self.width {
                let inside =
                    (r.x..r.x + r.width).contains(&x) && (r.y..r.y + r.height).contains(&y);
                let p = self.at(x, y);
                let ok = if inside {
                    p.iter().all(|&c| c >= 250)
                } else {
                    p.iter().all(|&c| c <= 5)
                };
                if !ok {
                    return Err(format!("{what}: pixel ({x}, {y}) is {p:?}"));
                }
            }
        }
        Ok(r)
    }
}

/// `videoconvert ! video/x-raw,format=RGB ! appsink` added to `pipeline`:
/// (its first element, the appsink). `latest_only`: the appsink keeps one
/// frame and drops older ones (a live source measured now and then).
pub fn rgb_sink(pipeline: &gst::Pipeline, latest_only: bool) -> (gst::Element, gst::Element) {
    let convert = gst::ElementFactory::make("videoconvert").build().unwrap();
    let filter = gst::ElementFactory::make("capsfilter")
        .property(
            "caps",
            gst::Caps::builder("video/x-raw")
                .field("format", "RGB")
                .build(),
        )
        .build()
        .unwrap();
    let mut sink = gst::ElementFactory::make("appsink").property("sync", false);
    if latest_only {
        sink = sink.property("max-buffers", 1u32).property("drop", true);
    }
    let sink = sink.build().unwrap();
    pipeline.add_many([&convert, &filter, &sink]).unwrap();
    gst::Element::link_many([&convert, &filter, &sink]).unwrap();
    (convert, sink)
}
