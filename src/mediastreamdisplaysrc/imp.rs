// SPDX-License-Identifier: MPL-2.0

//! The element: properties, caps, and the frame loop (wait for the frame's
//! time on the pipeline clock, grab, push).
//!
//! Lock order: `settings`, then `state`, then `wait` (never the other way).

use super::{CAT, DisplayCursor};
use crate::display::x11::{GrabError, Grabber, Target};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::base_src::CreateSuccess;
use gst_base::subclass::prelude::*;
use parking_lot::Mutex;
use std::sync::LazyLock;

/// The highest rate the element offers (getDisplayMedia offers a surface
/// up to 30 fps, docs/display.md).
const MAX_RATE: i32 = 60;
/// The rate it fixates to when downstream leaves it open.
const DEFAULT_RATE: i32 = 30;

#[derive(Debug, Clone, Default)]
struct Settings {
    display: Option<String>,
    /// `None`: the display's default screen.
    screen: Option<usize>,
    window: Option<u32>,
    cursor: DisplayCursor,
}

/// The open surface and where the frame loop is.
struct State {
    grabber: Grabber,
    /// One frame's duration at the negotiated rate.
    duration: Option<gst::ClockTime>,
    /// The number of the next frame (its time is `next * duration`).
    next: Option<u64>,
}

#[derive(Default)]
pub struct MediaStreamDisplaySrc {
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
    /// The clock wait in progress, for `unlock`; `flushing` once unlocked.
    wait: Mutex<(Option<gst::SingleShotClockId>, bool)>,
}

#[glib::object_subclass]
impl ObjectSubclass for MediaStreamDisplaySrc {
    const NAME: &'static str = "GstMediaStreamDisplaySrc";
    type Type = super::MediaStreamDisplaySrc;
    type ParentType = gst_base::PushSrc;
}

impl ObjectImpl for MediaStreamDisplaySrc {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPS: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("display")
                    .nick("Display")
                    .blurb("The X display to capture (:99, host:10); empty: $DISPLAY")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecInt::builder("screen")
                    .nick("Screen")
                    .blurb("The display's screen; -1: its default screen")
                    .minimum(-1)
                    .maximum(255)
                    .default_value(-1)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("window")
                    .nick("Window")
                    .blurb("An X window id (xwininfo prints it) to capture instead of the whole screen; 0: the screen. Its closing ends the stream with EOS")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("cursor", DisplayCursor::Always)
                    .nick("Cursor")
                    .blurb("Whether the pointer is drawn in: always, motion (while it moves, and a second after), never (Screen Capture's cursor constraint)")
                    .mutable_playing()
                    .build(),
            ]
        });
        PROPS.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self.settings.lock();
        match pspec.name() {
            "display" => {
                s.display = value
                    .get::<Option<String>>()
                    .unwrap()
                    .filter(|d| !d.is_empty())
            }
            "screen" => s.screen = usize::try_from(value.get::<i32>().unwrap()).ok(),
            "window" => s.window = Some(value.get::<u32>().unwrap()).filter(|w| *w != 0),
            "cursor" => s.cursor = value.get().unwrap(),
            _ => unimplemented!(),
        }
        gst::debug!(CAT, imp = self, "{} set: {s:?}", pspec.name());
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings.lock();
        match pspec.name() {
            "display" => s.display.to_value(),
            "screen" => s.screen.map_or(-1, |n| n as i32).to_value(),
            "window" => s.window.unwrap_or(0).to_value(),
            "cursor" => s.cursor.to_value(),
            _ => unimplemented!(),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.set_live(true);
        obj.set_format(gst::Format::Time);
    }
}

impl GstObjectImpl for MediaStreamDisplaySrc {}

impl ElementImpl for MediaStreamDisplaySrc {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "MediaStream display capture (X11)",
                "Source/Video/Display",
                "Captures an X11 screen or window (MIT-SHM, no copy); the display's loss or the window's closing is EOS",
                "gst-mediastream developers",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = surface_caps(None);
            vec![
                gst::PadTemplate::new(
                    "src",
                    gst::PadDirection::Src,
                    gst::PadPresence::Always,
                    &caps,
                )
                .unwrap(),
            ]
        });
        TEMPLATES.as_ref()
    }
}

impl BaseSrcImpl for MediaStreamDisplaySrc {
    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let s = self.settings.lock().clone();
        let target = Target {
            display: s.display,
            screen: s.screen,
            window: s.window,
        };
        let grabber = Grabber::open(&target).map_err(|e| {
            let domain = match e {
                GrabError::NoWindow(_) => gst::ResourceError::NotFound,
                _ => gst::ResourceError::OpenRead,
            };
            let why = e.to_string();
            gst::error_msg!(domain, ("{target}: {}", crate::excerpt::excerpt(&why)))
        })?;
        gst::info!(
            CAT,
            imp = self,
            "{target}: {}x{} {}, {}, {}",
            grabber.width,
            grabber.height,
            grabber.format.as_str(),
            if grabber.uses_shm() {
                "MIT-SHM"
            } else {
                "GetImage (no MIT-SHM: a copy per frame)"
            },
            if grabber.has_cursor() {
                "cursor by XFixes"
            } else {
                "no cursor (no XFixes)"
            }
        );
        *self.state.lock() = Some(State {
            grabber,
            duration: None,
            next: None,
        });
        *self.wait.lock() = (None, false);
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state.lock() = None;
        gst::debug!(CAT, imp = self, "closed");
        Ok(())
    }

    fn is_seekable(&self) -> bool {
        false
    }

    fn caps(&self, filter: Option<&gst::Caps>) -> Option<gst::Caps> {
        let caps = match self.state.lock().as_ref() {
            Some(st) => surface_caps(Some(&st.grabber)),
            None => self.obj().src_pad().pad_template_caps(),
        };
        Some(match filter {
            Some(f) => f.intersect_with_mode(&caps, gst::CapsIntersectMode::First),
            None => caps,
        })
    }

    fn fixate(&self, mut caps: gst::Caps) -> gst::Caps {
        caps.truncate();
        if let Some(s) = caps.make_mut().structure_mut(0) {
            s.fixate_field_nearest_fraction("framerate", gst::Fraction::new(DEFAULT_RATE, 1));
        }
        self.parent_fixate(caps)
    }

    fn set_caps(&self, caps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let info = gst_video::VideoInfo::from_caps(caps)
            .map_err(|_| gst::loggable_error!(CAT, "not raw video caps: {caps}"))?;
        let fps = info.fps();
        if fps.numer() <= 0 {
            return Err(gst::loggable_error!(CAT, "no frame rate in {caps}"));
        }
        let duration = gst::ClockTime::SECOND
            .mul_div_round(fps.denom() as u64, fps.numer() as u64)
            .ok_or_else(|| gst::loggable_error!(CAT, "frame rate {fps} out of range"))?;
        gst::debug!(CAT, imp = self, "{caps}: a frame every {duration}");
        if let Some(st) = self.state.lock().as_mut() {
            st.duration = Some(duration);
            st.next = None;
        }
        Ok(())
    }

    fn query(&self, query: &mut gst::QueryRef) -> bool {
        if let gst::QueryViewMut::Latency(q) = query.view_mut() {
            // A frame is grabbed at its time: it is late by the grab alone,
            // which one frame's time covers.
            let duration = self.state.lock().as_ref().and_then(|s| s.duration);
            if let Some(d) = duration {
                q.set(true, d, Some(d));
                return true;
            }
        }
        BaseSrcImplExt::parent_query(self, query)
    }

    fn unlock(&self) -> Result<(), gst::ErrorMessage> {
        let mut wait = self.wait.lock();
        wait.1 = true;
        if let Some(id) = wait.0.take() {
            id.unschedule();
        }
        Ok(())
    }

    fn unlock_stop(&self) -> Result<(), gst::ErrorMessage> {
        self.wait.lock().1 = false;
        Ok(())
    }
}

impl PushSrcImpl for MediaStreamDisplaySrc {
    fn create(
        &self,
        _buffer: Option<&mut gst::BufferRef>,
    ) -> Result<CreateSuccess, gst::FlowError> {
        loop {
            let n = self.wait_for_frame()?;
            let cursor = self.settings.lock().cursor.into();
            let mut state = self.state.lock();
            let Some(st) = state.as_mut() else {
                return Err(gst::FlowError::Flushing);
            };
            let duration = st.duration.ok_or(gst::FlowError::NotNegotiated)?;
            st.next = Some(n + 1);
            match st.grabber.grab(cursor) {
                Ok(frame) => {
                    let mut buffer = gst::Buffer::from_mut_slice(frame);
                    {
                        let b = buffer.get_mut().unwrap();
                        b.set_pts(duration * n);
                        b.set_duration(duration);
                    }
                    gst::trace!(CAT, imp = self, "frame {n}");
                    return Ok(CreateSuccess::NewBuffer(buffer));
                }
                Err(GrabError::Hidden) => {
                    // Nothing to show until it is mapped again: no frame
                    // (the track mutes), and a look at the next frame time.
                    gst::log!(CAT, imp = self, "window hidden at frame {n}");
                    continue;
                }
                Err(e) => {
                    drop(state);
                    gst::info!(CAT, imp = self, "the surface ended: {e}");
                    gst::element_imp_info!(
                        self,
                        gst::ResourceError::Read,
                        ("{e}: the capture ends")
                    );
                    return Err(gst::FlowError::Eos);
                }
            }
        }
    }
}

/// What the element offers: any surface's size and format (the
/// template), or the open surface's.
fn surface_caps(surface: Option<&Grabber>) -> gst::Caps {
    let b = gst::Caps::builder("video/x-raw");
    let b = match surface {
        Some(g) => b
            .field("format", g.format.as_str())
            .field("width", g.width as i32)
            .field("height", g.height as i32),
        None => b
            .field("format", gst::List::new(["BGRx", "xRGB"]))
            .field("width", gst::IntRange::new(1, i32::MAX))
            .field("height", gst::IntRange::new(1, i32::MAX)),
    };
    b.field(
        "framerate",
        gst::FractionRange::new(gst::Fraction::new(1, 1), gst::Fraction::new(MAX_RATE, 1)),
    )
    .field("pixel-aspect-ratio", gst::Fraction::new(1, 1))
    .build()
}

impl MediaStreamDisplaySrc {
    /// Waits on the pipeline clock for the next frame's time; its number.
    /// Frames missed meanwhile are skipped, never grabbed late in a burst.
    fn wait_for_frame(&self) -> Result<u64, gst::FlowError> {
        let obj = self.obj();
        let (clock, base) = match (obj.clock(), obj.base_time()) {
            (Some(c), Some(b)) => (c, b),
            _ => return Err(gst::FlowError::Flushing),
        };
        let (duration, next) = {
            let state = self.state.lock();
            let st = state.as_ref().ok_or(gst::FlowError::Flushing)?;
            (st.duration.ok_or(gst::FlowError::NotNegotiated)?, st.next)
        };
        let now = clock.time().saturating_sub(base);
        let d = duration.nseconds().max(1);
        let due = now.nseconds().div_ceil(d);
        let n = match next {
            // Missed frames are dropped: the next one due from now.
            Some(n) if n * d + d <= now.nseconds() => {
                gst::debug!(CAT, imp = self, "late: frames {n}..{due} skipped");
                due
            }
            Some(n) => n,
            None => due,
        };
        let id = clock.new_single_shot_id(base + gst::ClockTime::from_nseconds(n * d));
        {
            let mut wait = self.wait.lock();
            if wait.1 {
                return Err(gst::FlowError::Flushing);
            }
            wait.0 = Some(id.clone());
        }
        let (res, _) = id.wait();
        self.wait.lock().0 = None;
        match res {
            Ok(_) | Err(gst::ClockError::Early) => Ok(n),
            Err(gst::ClockError::Unscheduled) => Err(gst::FlowError::Flushing),
            Err(e) => {
                gst::warning!(CAT, imp = self, "clock wait: {e:?}");
                Err(gst::FlowError::Error)
            }
        }
    }
}
