// SPDX-License-Identifier: MPL-2.0

//! One capture shared by every track on a device in the process, as a
//! browser keeps one capture per camera (docs/mediastreamsrc.md, "One
//! camera, many tracks"), for devices a process can open only once
//! (`MediaDevice::is_exclusive`).
//!
//! A track alone on its device holds the device's element in its own bin
//! (the native path: the device's buffers, no thread hop). When a second
//! track wants the same device, the running capture moves, without
//! stopping, into a pipeline of its own (`SharedCapture`): the device's
//! element is blocked between two buffers, taken out of the first track's
//! bin, put before the fan-out, and the first track gets an appsrc where the
//! device was. Every track then taps the capture: the device's streaming
//! thread hands each buffer (the same memory, no copy) to each track's
//! appsrc, which holds at most one and drops the older, so a paused, slow
//! or blocked track never holds up the capture or the others.
//!
//! The device runs one mode for all (`crate::constraints::share`): a track
//! that wants more than it gives moves it to the mode the track would run
//! alone when that mode gives every other track its settings; the others'
//! chains are then rebuilt for the new mode (their settings stay), and each
//! tap is fed only the mode its chain was built for.
//!
//! Lock order: a device's entry in `HOLDERS` (one lock per device; the map's
//! own lock only to find it, alone) before any track's `chain_lock` and
//! state lock; a capture's `mode` before its `taps`, both after every other
//! lock.

use super::CAT;
use super::capture::Capture;
use crate::constraints::{NativeMode, Settings};
use crate::devices::monitor::MediaDevice;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Weak};
use std::time::Duration;

/// Who runs a device in this process.
enum Holder {
    /// One track, with the device in its bin.
    Track(glib::WeakRef<super::MediaStreamSrc>),
    /// A shared capture.
    Shared(Weak<SharedCapture>),
}

/// A device's entry: who runs it, locked while a track decides how it
/// captures from it.
type Slot = Arc<Mutex<Option<Holder>>>;

/// By device id. The map's own lock is held only to find an entry: a
/// track whose decision waits (a capture moving, up to `MOVE_TIMEOUT`)
/// holds up no track on another device.
static HOLDERS: LazyLock<Mutex<HashMap<String, Slot>>> = LazyLock::new(Default::default);

fn slot(device_id: &str) -> Slot {
    HOLDERS
        .lock()
        .entry(device_id.to_owned())
        .or_default()
        .clone()
}

/// How long the device's streaming thread may take to reach a point
/// between two buffers when its capture moves.
const MOVE_TIMEOUT: Duration = Duration::from_secs(2);

/// A device already running for another track.
pub(super) enum Running {
    Track(super::MediaStreamSrc),
    Shared(Arc<SharedCapture>),
}

/// One device's entry, locked while a track decides how it captures from
/// that device (so two tracks starting at once on it agree).
pub(super) struct Holders(parking_lot::ArcMutexGuard<parking_lot::RawMutex, Option<Holder>>);

impl Holders {
    pub(super) fn lock(device_id: &str) -> Holders {
        Holders(slot(device_id).lock_arc())
    }

    /// Who runs the device now, other than `me`.
    pub(super) fn running(&self, me: &super::MediaStreamSrc) -> Option<Running> {
        match self.0.as_ref()? {
            Holder::Track(weak) => weak.upgrade().filter(|t| t != me).map(Running::Track),
            Holder::Shared(weak) => weak.upgrade().map(Running::Shared),
        }
    }

    /// `track` runs the device alone.
    pub(super) fn hold(&mut self, track: &super::MediaStreamSrc) {
        *self.0 = Some(Holder::Track(track.downgrade()));
    }

    pub(super) fn share(&mut self, capture: &Arc<SharedCapture>) {
        *self.0 = Some(Holder::Shared(Arc::downgrade(capture)));
    }
}

/// `track` no longer runs `device_id` alone (its device is released).
pub(super) fn release_hold(track: &super::MediaStreamSrc, device_id: &str) {
    let mut holder = slot(device_id).lock_arc();
    if let Some(Holder::Track(weak)) = holder.as_ref()
        && weak.upgrade().is_none_or(|t| &t == track)
    {
        *holder = None;
    }
}

/// A track's input from a shared capture.
struct TapEntry {
    id: u64,
    appsrc: gst_app::AppSrc,
    track: glib::WeakRef<super::MediaStreamSrc>,
    /// The mode the track's chain was built for: it is fed nothing else.
    wants: gst::Caps,
    /// The track's settings: what a move of the device must keep. Known
    /// from the tap's making, before the track has a state.
    settings: Settings,
    /// The caps given to the appsrc, and whether they are `wants`.
    sent: Option<(gst::Caps, bool)>,
}

/// The taps of one capture, shared with its streaming thread (which must
/// never hold the capture itself: the last reference dropped there would
/// stop the pipeline from its own thread).
#[derive(Default)]
struct Taps {
    list: Mutex<Vec<TapEntry>>,
}

/// A device's capture in a pipeline of its own, feeding every track on it.
pub(super) struct SharedCapture {
    device: MediaDevice,
    mode: Mutex<Mode>,
    /// The capsfilter after the device that pins its native mode, if the
    /// capture has one (crop-and-scale, a decoded mode).
    pin: Option<gst::Element>,
    /// The capsfilter before the fan-out, with the running mode's caps.
    fan_out: gst::Element,
    pipeline: gst::Pipeline,
    taps: Arc<Taps>,
    next_tap: AtomicU64,
}

/// The mode a shared capture runs.
struct Mode {
    /// What the device delivers (fixed) as a native mode: what every track
    /// on it is adapted from.
    running: NativeMode,
    /// The device's native mode (an index into its modes) it comes from.
    native: usize,
}

impl SharedCapture {
    /// What the device delivers: what every track on it is adapted from.
    pub(super) fn mode(&self) -> NativeMode {
        self.mode.lock().running.clone()
    }

    /// The device's native mode the capture runs (an index into its modes).
    pub(super) fn native_mode(&self) -> usize {
        self.mode.lock().native
    }

    /// The running mode as the only mode of the device: what a track on
    /// the capture selects from.
    pub(super) fn as_device(&self) -> MediaDevice {
        running_device(&self.device, &self.mode())
    }

    /// Whether `modes` are the device's modes as the capture knows them: a
    /// move is decided on mode indexes, which a device that changed its
    /// modes meanwhile would give another meaning.
    pub(super) fn has_modes(&self, modes: &[NativeMode]) -> bool {
        self.device.info.modes == modes
    }

    /// The settings of the tracks on the capture, but `except`'s.
    pub(super) fn others_settings(&self, except: &super::MediaStreamSrc) -> Vec<Settings> {
        self.taps
            .list
            .lock()
            .iter()
            .filter(|t| t.track.upgrade().is_none_or(|t| &t != except))
            .map(|t| t.settings.clone())
            .collect()
    }

    /// `track`'s settings changed (applyConstraints): its tap keeps them
    /// from now on, before its chain is rebuilt.
    pub(super) fn set_settings(&self, track: &super::MediaStreamSrc, settings: &Settings) {
        for t in self.taps.list.lock().iter_mut() {
            if t.track.upgrade().is_some_and(|t| &t == track) {
                t.settings = settings.clone();
            }
        }
    }

    /// The tracks on the capture, but `except`.
    pub(super) fn tracks(&self, except: &super::MediaStreamSrc) -> Vec<super::MediaStreamSrc> {
        self.taps
            .list
            .lock()
            .iter()
            .filter_map(|t| t.track.upgrade())
            .filter(|t| t != except)
            .collect()
    }

    /// Moves the device to `running` (from its native mode `native`): the
    /// capsfilters that pin it take the new mode and the device
    /// renegotiates between two buffers. The taps built for the old mode
    /// get nothing from then on: their tracks rebuild their chains
    /// (`MediaStreamSrc::follow_capture`).
    pub(super) fn move_to(&self, running: NativeMode, native: usize) {
        gst::info!(
            CAT,
            obj = self.pipeline,
            "'{}' moves from {} to {running}",
            self.device.info.label,
            self.mode()
        );
        let new_caps = mode_caps(&running);
        if let (Some(pin), Some(mode)) = (&self.pin, self.device.info.modes.get(native)) {
            // Each capsfilter asks the device to renegotiate when its caps
            // change, and the device's streaming thread may do so between
            // the two changes: with one filter on the old mode and the
            // other on the new, nothing fits, the device fails
            // (not-negotiated) and every track on it ends. So the fan-out
            // takes both modes until the pin has the new one.
            let mut both = self
                .fan_out
                .property::<Option<gst::Caps>>("caps")
                .unwrap_or_else(gst::Caps::new_empty);
            both.merge(new_caps.clone());
            self.fan_out.set_property("caps", both);
            pin.set_property("caps", pin_caps(mode, &running));
        }
        self.fan_out.set_property("caps", new_caps);
        *self.mode.lock() = Mode { running, native };
        // Taps made from here on are built for the new mode; the caller
        // has the tracks of the older ones follow.
        let sink = self.fan_out.static_pad("sink").unwrap();
        if !sink.push_event(gst::event::Reconfigure::new()) {
            gst::debug!(
                CAT,
                obj = self.pipeline,
                "reconfigure not taken: the caps change does it"
            );
        }
    }

    /// A new input for `track` with `settings`: an appsrc for its bin, fed
    /// from now on with the mode the capture runs now.
    pub(super) fn tap(self: &Arc<Self>, track: &super::MediaStreamSrc, settings: &Settings) -> Tap {
        let appsrc = gst_app::AppSrc::builder()
            .name(format!("shared-capture-{}", self.device.info.device_id))
            .is_live(true)
            .format(gst::Format::Time)
            // At most one waiting: a track that cannot keep up drops the
            // older frame, and the capture never waits for it.
            .max_buffers(1)
            .leaky_type(gst_app::AppLeakyType::Downstream)
            .block(false)
            // Fed by push: no need-data / enough-data signal per buffer.
            .property("emit-signals", false)
            .build();
        let id = self.next_tap.fetch_add(1, Ordering::Relaxed);
        // Under the mode's lock: a move is before this tap (it is built
        // for the new mode) or after it (it follows, as every other).
        let running = self.mode.lock();
        let mode = running.running.clone();
        self.taps.list.lock().push(TapEntry {
            id,
            appsrc: appsrc.clone(),
            track: track.downgrade(),
            wants: mode_caps(&mode),
            settings: settings.clone(),
            sent: None,
        });
        drop(running);
        gst::debug!(
            CAT,
            obj = track,
            "taps the shared capture of '{}' ({mode})",
            self.device.info.label,
        );
        Tap {
            capture: Some(self.clone()),
            appsrc,
            id,
            mode,
        }
    }

    fn untap(&self, id: u64) {
        self.taps.list.lock().retain(|t| t.id != id);
    }

    /// A pipeline of its own for the capture `capture` runs, playing, with
    /// nothing in it yet but the fan-out that feeds the tracks.
    pub(super) fn new(capture: &Capture) -> Result<Arc<SharedCapture>, String> {
        let device = capture.device();
        let last = capture
            .elements()
            .last()
            .unwrap()
            .static_pad("src")
            .unwrap();
        let mode = capture.running_mode();
        let caps = last.current_caps().unwrap_or_else(|| mode_caps(&mode));
        let device_pin = match capture.elements() {
            [_, pin, ..] if pin.factory().is_some_and(|f| f.name() == "capsfilter") => {
                Some(pin.clone())
            }
            _ => None,
        };
        let pipeline =
            gst::Pipeline::with_name(&format!("mediastream-capture-{}", device.info.device_id));
        // One clock for every capture, whatever the device provides: the
        // tracks' timestamps are mapped through it.
        pipeline.use_clock(Some(&gst::SystemClock::obtain()));
        // Fixed caps: relinking asks the device to renegotiate, and it must
        // keep the mode it runs.
        let filter = gst::ElementFactory::make("capsfilter")
            .name("fan-out")
            .property("caps", &caps)
            .build()
            .map_err(|_| "the element 'capsfilter' is missing".to_owned())?;
        // Takes nothing: the fan-out consumes every buffer before it.
        let sink = gst::ElementFactory::make("fakesink")
            .name("fan-out-sink")
            .property("sync", false)
            .property("async", false)
            .build()
            .map_err(|_| "the element 'fakesink' is missing".to_owned())?;
        pipeline
            .add_many([&filter, &sink])
            .map_err(|e| e.to_string())?;
        filter.link(&sink).map_err(|e| e.to_string())?;
        let taps = Arc::<Taps>::default();
        fan_out(&filter.static_pad("src").unwrap(), &taps, &pipeline);
        watch_bus(&pipeline, &taps);
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| "the capture pipeline cannot play".to_owned())?;
        Ok(Arc::new(SharedCapture {
            device: device.clone(),
            mode: Mutex::new(Mode {
                running: mode,
                native: capture.mode(),
            }),
            pin: device_pin,
            fan_out: filter,
            pipeline,
            taps,
            next_tap: AtomicU64::new(0),
        }))
    }

    /// Moves the running `capture` (the device's element and what follows
    /// it to the native mode, linked, in `bin`, linked to `downstream`)
    /// into this pipeline without stopping it; `input` (in `bin`) takes its
    /// place before `downstream`. Under the owning track's `chain_lock`.
    pub(super) fn adopt(
        &self,
        capture: &Capture,
        bin: &gst::Bin,
        downstream: &gst::Pad,
        input: &gst::Element,
    ) -> Result<(), String> {
        let elements = capture.elements();
        let last = elements.last().unwrap().static_pad("src").unwrap();
        let sink = self
            .pipeline
            .by_name("fan-out")
            .and_then(|s| s.static_pad("sink"))
            .unwrap();
        // Between two buffers, with the device's streaming thread held
        // there, the capture changes pipelines.
        let device_pad = elements[0].static_pad("src").unwrap();
        let (idle_tx, idle_rx) = mpsc::sync_channel(1);
        let probe = device_pad
            .add_probe(
                gst::PadProbeType::IDLE | gst::PadProbeType::BLOCK_DOWNSTREAM,
                move |_, _| {
                    // Only the first call matters: the pad stays held.
                    let _ = idle_tx.try_send(());
                    gst::PadProbeReturn::Ok
                },
            )
            .ok_or_else(|| "cannot hold the device between two buffers".to_owned())?;
        if idle_rx.recv_timeout(MOVE_TIMEOUT).is_err() {
            device_pad.remove_probe(probe);
            return Err("the device's streaming thread did not come between two buffers (is its track's sink blocked?)".into());
        }
        let moved = (|| {
            for e in elements {
                e.set_locked_state(true);
            }
            // Removing unlinks their pads.
            for e in elements {
                bin.remove(e).map_err(|e| e.to_string())?;
            }
            self.pipeline
                .add_many(elements)
                .map_err(|e| e.to_string())?;
            gst::Element::link_many(elements).map_err(|e| e.to_string())?;
            last.link(&sink).map_err(|e| format!("{e:?}"))?;
            input
                .static_pad("src")
                .unwrap()
                .link(downstream)
                .map_err(|e| format!("{e:?}"))?;
            let clock = self.pipeline.clock();
            let base = self.pipeline.base_time().unwrap_or(gst::ClockTime::ZERO);
            for e in elements {
                set_time(e, clock.as_ref(), base);
                e.set_locked_state(false);
            }
            Ok::<_, String>(())
        })();
        device_pad.remove_probe(probe);
        moved?;
        // Downstream first: a device adopted in READY and started before
        // its pin would push into the pin's inactive pad, get FLUSHING and
        // pause its task for good, silently (no error, no frame ever).
        for e in elements.iter().rev() {
            if e.sync_state_with_parent().is_err() {
                gst::warning!(CAT, obj = e, "cannot follow the shared capture's state");
            }
        }
        gst::info!(
            CAT,
            obj = bin,
            "the capture of '{}' is shared now ({})",
            self.device.info.label,
            self.mode()
        );
        Ok(())
    }
}

impl Drop for SharedCapture {
    fn drop(&mut self) {
        gst::debug!(
            CAT,
            "the last track on '{}' is gone: the device is released",
            self.device.info.label
        );
        // The device first, while the fan-out still plays: a sink going
        // to PAUSED first would hold the device's streaming thread in
        // preroll, and the device's own stop would wait for it.
        for e in self.pipeline.children() {
            if e.name().starts_with("fan-out") {
                continue;
            }
            // Locked: the pipeline's own state change must not start it again.
            e.set_locked_state(true);
            if e.set_state(gst::State::Null).is_err() {
                gst::warning!(CAT, obj = e, "the device did not stop cleanly");
            }
        }
        if self.pipeline.set_state(gst::State::Null).is_err() {
            gst::warning!(CAT, obj = self.pipeline, "the capture did not stop cleanly");
        }
    }
}

/// Caps for a fixed raw mode (formats left open among the mode's).
fn mode_caps(mode: &NativeMode) -> gst::Caps {
    match mode {
        NativeMode::Video(m) => {
            let mut b = gst::Structure::builder("video/x-raw")
                .field("width", m.width.max as i32)
                .field("height", m.height.max as i32)
                .field(
                    "framerate",
                    gst::Fraction::new(m.max_rate.num, m.max_rate.den),
                );
            if !m.formats.is_empty() {
                b = b.field(
                    "format",
                    gst::List::new(m.formats.iter().map(|f| f.as_str())),
                );
            }
            gst::Caps::builder_full().structure(b.build()).build()
        }
        NativeMode::Audio(m) => gst::Caps::builder("audio/x-raw")
            .field("rate", m.rate.max as i32)
            .field("channels", m.channels.max as i32)
            .field("format", m.format.as_str())
            .build(),
    }
}

/// Caps that pin a device's native mode `native` to the size and rate of
/// `running` (the same media type: raw, or encoded before its decoder).
fn pin_caps(native: &NativeMode, running: &NativeMode) -> gst::Caps {
    match (native, running) {
        (NativeMode::Video(n), NativeMode::Video(r)) if n.is_encoded() => {
            gst::Caps::builder(n.media_type.as_str())
                .field("width", r.width.max as i32)
                .field("height", r.height.max as i32)
                .field(
                    "framerate",
                    gst::Fraction::new(r.max_rate.num, r.max_rate.den),
                )
                .build()
        }
        _ => mode_caps(running),
    }
}

/// The device as a track on a shared capture sees it: its running mode only.
pub(super) fn running_device(device: &MediaDevice, mode: &NativeMode) -> MediaDevice {
    let mut running = device.clone();
    running.info.modes = vec![mode.clone()];
    running
}

/// A clock and base time for `e` and everything inside it: a bin's base
/// time does not reach its children outside a state change.
fn set_time(e: &gst::Element, clock: Option<&gst::Clock>, base: gst::ClockTime) {
    e.set_clock(clock).ok();
    e.set_base_time(base);
    if let Some(bin) = e.downcast_ref::<gst::Bin>() {
        for child in bin.iterate_recurse().into_iter().flatten() {
            child.set_clock(clock).ok();
            child.set_base_time(base);
        }
    }
}

/// On the device's streaming thread, a probe on the capture's output: each
/// buffer to every playing track, stamped in the track's running time, and
/// consumed there (no sink renders it); its EOS ends the tracks.
fn fan_out(pad: &gst::Pad, taps: &Arc<Taps>, pipeline: &gst::Pipeline) {
    let taps = taps.clone();
    let weak_pipeline = pipeline.downgrade();
    pad.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_DOWNSTREAM,
        move |pad, info| {
            let buffer = match info.data.take() {
                Some(gst::PadProbeData::Buffer(buffer)) => buffer,
                Some(gst::PadProbeData::Event(ev)) => {
                    if ev.type_() == gst::EventType::Eos {
                        lost(&taps, "the device ended its stream");
                    }
                    info.data = Some(gst::PadProbeData::Event(ev));
                    return gst::PadProbeReturn::Ok;
                }
                other => {
                    info.data = other;
                    return gst::PadProbeReturn::Ok;
                }
            };
            if let Some(pipeline) = weak_pipeline.upgrade() {
                deliver(&taps, &pipeline, pad, buffer);
            }
            gst::PadProbeReturn::Handled
        },
    );
}

fn deliver(taps: &Taps, pipeline: &gst::Pipeline, pad: &gst::Pad, buffer: gst::Buffer) {
    let Some(caps) = pad.current_caps() else {
        gst::debug!(CAT, obj = pad, "a buffer before caps: dropped");
        return;
    };
    let capture_clock = pipeline.clock();
    let capture_base = pipeline.base_time();
    let mut playing = Vec::new();
    for tap in taps.list.lock().iter_mut() {
        // Whether the tap's chain takes what flows, decided once per caps:
        // a chain built for another mode gets nothing until it is rebuilt.
        let fits = match &tap.sent {
            Some((sent, fits)) if sent.as_ptr() == caps.as_ptr() || *sent == caps => *fits,
            _ => {
                let fits = caps.can_intersect(&tap.wants);
                if fits {
                    tap.appsrc.set_caps(Some(&caps));
                } else {
                    gst::debug!(
                        CAT,
                        obj = tap.appsrc,
                        "built for {}: not fed {caps}",
                        tap.wants
                    );
                }
                tap.sent = Some((caps.clone(), fits));
                fits
            }
        };
        // A paused track takes nothing: it has no running time.
        if !fits || tap.appsrc.current_state() != gst::State::Playing {
            continue;
        }
        let (Some(clock), Some(base)) = (tap.appsrc.clock(), tap.appsrc.base_time()) else {
            continue;
        };
        // The capture instant in the track's running time: exact on the
        // same clock, else the time it is handed over.
        let pts = match (buffer.pts(), capture_clock.as_ref(), capture_base) {
            (Some(pts), Some(c), Some(cb)) if c == &clock => (pts + cb).checked_sub(base),
            _ => clock.time().checked_sub(base),
        };
        playing.push((tap.appsrc.clone(), pts));
    }
    let mut buffer = Some(buffer);
    let last = playing.len().saturating_sub(1);
    for (i, (appsrc, pts)) in playing.into_iter().enumerate() {
        // The last track takes the device's buffer itself; the others a new
        // header on the same memory.
        let mut out = if i == last {
            buffer.take().unwrap()
        } else {
            buffer.clone().unwrap()
        };
        {
            let out = out.make_mut();
            out.set_pts(pts);
            out.set_dts(gst::ClockTime::NONE);
        }
        if let Err(e) = appsrc.push_buffer(out) {
            gst::debug!(CAT, obj = appsrc, "not taken: {e:?}");
        }
    }
}

/// A device that fails or ends ends every track on it.
fn watch_bus(pipeline: &gst::Pipeline, taps: &Arc<Taps>) {
    let taps = taps.clone();
    pipeline.bus().unwrap().set_sync_handler(move |_, msg| {
        if let gst::MessageView::Error(e) = msg.view() {
            gst::warning!(CAT, "shared capture failed: {}", e.error());
            lost(&taps, &format!("the device failed: {}", e.error()));
        }
        gst::BusSyncReply::Drop
    });
}

fn lost(taps: &Taps, why: &str) {
    let tracks: Vec<super::MediaStreamSrc> = taps
        .list
        .lock()
        .iter()
        .filter_map(|t| t.track.upgrade())
        .collect();
    for track in tracks {
        track.imp().device_lost(why);
    }
}

/// A track's input from a shared capture: its appsrc, fed while the tap
/// holds the capture.
pub(super) struct Tap {
    capture: Option<Arc<SharedCapture>>,
    appsrc: gst_app::AppSrc,
    id: u64,
    /// The mode the capture ran when tapped: what the track's chain is
    /// built from, and all the tap is fed.
    mode: NativeMode,
}

impl Tap {
    pub(super) fn element(&self) -> gst::Element {
        self.appsrc.clone().upcast()
    }

    pub(super) fn capture(&self) -> Option<&Arc<SharedCapture>> {
        self.capture.as_ref()
    }

    pub(super) fn mode(&self) -> NativeMode {
        self.mode.clone()
    }

    /// Whether the capture moved to another mode since the tap was made.
    pub(super) fn is_stale(&self) -> bool {
        self.capture
            .as_ref()
            .is_some_and(|c| c.mode.lock().running != self.mode)
    }

    /// Stops the feed; the capture, if this was its last track, is
    /// released where the caller drops it.
    pub(super) fn detach(&mut self) -> Option<Arc<SharedCapture>> {
        let capture = self.capture.take()?;
        capture.untap(self.id);
        Some(capture)
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        drop(self.detach());
    }
}
