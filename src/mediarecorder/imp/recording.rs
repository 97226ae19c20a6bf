// SPDX-License-Identifier: MPL-2.0

//! One recording's life: start (the MIME type, the file, the bin built
//! and rolled back on failure), the timeslice clock, the muxer's output
//! cut into chunks, stop, and the end of it (finish, or a failure).

use super::outbox::{Event, Output};
use super::{Branch, MediaRecorder, Recording, Settings};
use crate::constraints::ConstraintError;
use crate::excerpt::excerpt;
use crate::fault::Guarded;
use crate::mediarecorder::bitrate;
use crate::mediarecorder::chunker::Chunker;
use crate::mediarecorder::encode;
use crate::mediarecorder::mime::{Container, MimeType, Plan};
use crate::mediarecorder::{CAT, RecorderState};
use crate::track::{TrackKind, TrackState};
use gst::prelude::*;
use gst::subclass::prelude::*;

impl MediaRecorder {
    /// The caps of the first live track of `kind` linked to the recorder:
    /// what a recording started now would encode.
    pub(super) fn caps_of_kind(&self, kind: TrackKind) -> Option<gst::Caps> {
        let pad = self
            .tracks
            .lock()
            .iter()
            .find(|t| t.kind == kind && !t.ended && t.linked())
            .map(|t| t.pad.clone())?;
        pad.current_caps()
    }

    /// The bitrate the recording's encoder of `kind` runs at, if one runs.
    pub(super) fn encoder_bitrate(&self, kind: TrackKind) -> Option<u32> {
        let video = kind == TrackKind::Video;
        // Read with no lock of ours held: the encoder takes its own, which
        // its streaming thread holds while it pushes into the recorder.
        let branch = {
            let state = self.state.lock();
            let rec = state.as_ref()?;
            rec.branches
                .iter()
                .find(|b| b.encode.video == video)
                .map(|b| b.encode.clone())?
        };
        branch.bitrate()
    }

    /// W3C start(). `resumed`: the start that waited for the previous
    /// recording's end (`waiting`), begun now.
    pub(super) fn start(
        &self,
        timeslice: Option<u32>,
        resumed: bool,
    ) -> Result<(), ConstraintError> {
        let mut settings = {
            let mut s = self.settings.lock();
            if let Some(t) = timeslice {
                s.timeslice = t;
            }
            Settings {
                mime_type: s.mime_type.clone(),
                effective: None,
                bitrates: s.bitrates,
                timeslice: s.timeslice,
                location: s.location.clone(),
                auto_start: s.auto_start,
                stream: None,
            }
        };
        let tracks: Vec<(gst::GhostPad, TrackKind)> = self
            .tracks
            .lock()
            .iter()
            .filter(|t| !t.ended && t.linked())
            .map(|t| (t.pad.clone(), t.kind))
            .collect();
        let mut state = self.state.lock();
        {
            let mut waiting = self.waiting.lock();
            if resumed {
                if waiting.take().is_none() {
                    gst::debug!(CAT, imp = self, "the waiting start was called off");
                    return Ok(());
                }
            } else if waiting.is_some() {
                return Err(ConstraintError::invalid_state(
                    "the recorder is recording (it starts once the previous recording's stop event went out); stop it before starting again",
                ));
            } else if state.as_ref().is_some_and(|r| r.inactive) {
                gst::debug!(
                    CAT,
                    imp = self,
                    "start: the previous recording is finishing; this one begins after its stop event"
                );
                *waiting = Some(timeslice);
                drop(waiting);
                drop(state);
                self.obj().notify("state");
                return Ok(());
            }
        }
        if let Some(rec) = state.as_ref() {
            return Err(ConstraintError::invalid_state(format!(
                "the recorder is {}, not inactive; stop it before starting again",
                rec.state.as_str()
            )));
        }
        if tracks.is_empty() {
            return Err(ConstraintError::not_supported(
                "the stream has no live track to record: link a mediastream's pads (or raw video/audio) to the recorder first",
            ));
        }
        let has_video = tracks.iter().any(|(_, k)| *k == TrackKind::Video);
        let has_audio = tracks.iter().any(|(_, k)| *k == TrackKind::Audio);
        settings.bitrates = settings.bitrates.for_tracks(has_video, has_audio);
        let (plan, mime) = if settings.mime_type.is_empty() {
            // A remote video track's codec on the wire, if it has one.
            let received = tracks
                .iter()
                .filter(|(_, k)| *k == TrackKind::Video)
                .find_map(|(pad, _)| TrackState::on_pad(pad.upcast_ref())?.received_codec);
            let plan = Plan::default_for(has_video, has_audio, received.as_deref(), &installed)?;
            (plan, plan.mime_type())
        } else {
            let parsed = MimeType::parse(&settings.mime_type)?;
            let plan = parsed.plan(has_video, has_audio, &installed)?;
            let mime = if parsed.codecs_given {
                settings.mime_type.clone()
            } else {
                plan.mime_type()
            };
            (plan, mime)
        };
        gst::debug!(
            CAT,
            imp = self,
            "recording {} track(s) as {} ({plan:?})",
            tracks.len(),
            excerpt(&mime)
        );
        let file = match &settings.location {
            Some(path) if !path.is_empty() => Some(Output {
                file: std::fs::File::create(path).map_err(|e| {
                    ConstraintError::unknown(format!("cannot write '{}': {e}", excerpt(path)))
                })?,
                path: path.clone(),
                len: 0,
            }),
            _ => None,
        };
        let rec = self
            .build(&plan, &settings, &tracks)
            .map_err(ConstraintError::not_supported)?;
        *self.file.lock() = file;
        *state = Some(rec);
        // Before any chunk of this recording.
        self.push(Event::Start(mime));
        drop(state);
        self.settings.lock().bitrates = settings.bitrates;
        self.arm_timer(false);
        self.obj().notify("state");
        // The start event before start() returns (a GStreamer signal has
        // no later task to wait for: docs/conformance.md); mime-type reads
        // the full type from the event on.
        self.drain();
        Ok(())
    }

    /// The recording's elements, in the bin and running, the pads aimed
    /// at them.
    pub(super) fn build(
        &self,
        plan: &Plan,
        settings: &Settings,
        tracks: &[(gst::GhostPad, TrackKind)],
    ) -> Result<Recording, String> {
        let obj = self.obj();
        let bin = obj.upcast_ref::<gst::Bin>();
        let mux = encode::muxer(plan.container, settings.timeslice)?;
        let sink = gst::ElementFactory::make("fakesink")
            .property("sync", false)
            .property("async", false)
            .property("enable-last-sample", false)
            .build()
            .map_err(|_| "the element 'fakesink' is missing".to_string())?;
        bin.add_many([&mux, &sink]).map_err(|e| e.to_string())?;
        let mut branches = Vec::new();
        let cleanup = |branches: &[Branch]| {
            let mut all: Vec<gst::Element> = branches
                .iter()
                .flat_map(|b| b.encode.elements.iter().cloned())
                .collect();
            all.extend([mux.clone(), sink.clone()]);
            crate::plumbing::discard_all(*CAT, bin, &all, &[]);
        };
        if let Err(e) = mux.link(&sink) {
            cleanup(&branches);
            return Err(format!("cannot link the muxer: {e}"));
        }
        let sinkpad = sink.static_pad("sink").unwrap();
        let weak = obj.downgrade();
        sinkpad.add_probe(
            gst::PadProbeType::BUFFER
                | gst::PadProbeType::BUFFER_LIST
                | gst::PadProbeType::EVENT_DOWNSTREAM,
            move |pad, info| {
                if let Some(obj) = weak.upgrade() {
                    let element = pad.parent_element();
                    obj.imp().guard(
                        || (),
                        |imp| {
                            crate::fault::point("mediarecorder:output");
                            imp.on_output(element.as_ref(), info)
                        },
                    );
                }
                gst::PadProbeReturn::Ok
            },
        );
        for (pad, kind) in tracks {
            let (codec, bps) = match kind {
                TrackKind::Video => (plan.video, bitrate::target(settings.bitrates.video)),
                TrackKind::Audio => (plan.audio, bitrate::target(settings.bitrates.audio)),
            };
            let Some(codec) = codec else { continue };
            let upstream = pad
                .current_caps()
                .unwrap_or_else(|| pad.peer_query_caps(None));
            gst::debug!(
                CAT,
                imp = self,
                "{}: {} from {upstream}",
                pad.name(),
                codec.name()
            );
            // Not given: the encoder's starting value, set, so it stays
            // what the attribute reads (vp8enc would pick its own from the
            // frame size once the caps come).
            let bps =
                bps.unwrap_or_else(|| encode::default_bitrate(codec, Some(&upstream), &installed));
            match encode::build(
                bin,
                codec,
                bps,
                &upstream,
                (&mux, plan.container),
                &installed,
            ) {
                Ok(encode) => branches.push(Branch {
                    pad: pad.clone(),
                    size: encode
                        .size_filter
                        .as_ref()
                        .and_then(|_| encode::first_size(&upstream)),
                    encode,
                    ended: false,
                    offset: 0,
                    fed: false,
                }),
                Err(e) => {
                    cleanup(&branches);
                    return Err(e);
                }
            }
        }
        for b in &branches {
            let factories: Vec<String> = b
                .encode
                .elements
                .iter()
                .map(|e| {
                    e.factory()
                        .map(|f| f.name().to_string())
                        .unwrap_or_default()
                })
                .collect();
            gst::debug!(
                CAT,
                imp = self,
                "{} -> {}",
                b.pad.name(),
                factories.join(" ! ")
            );
            if let Some(internal) = b.pad.internal() {
                internal.set_offset(0);
            }
            if let Err(e) = b.pad.set_target(Some(&b.encode.sink_pad())) {
                cleanup(&branches);
                return Err(format!("cannot link {}: {e}", b.pad.name()));
            }
        }
        // Downstream first, so nothing pushes into an element not started.
        let mut order = vec![sink.clone(), mux.clone()];
        for b in &branches {
            order.extend(b.encode.elements.iter().rev().cloned());
        }
        for e in &order {
            if e.sync_state_with_parent().is_err() {
                for b in &branches {
                    crate::plumbing::clear_target(&b.pad);
                }
                cleanup(&branches);
                return Err(format!("the element '{}' failed to start", e.name()));
            }
        }
        Ok(Recording {
            state: RecorderState::Recording,
            timeslice: settings.timeslice,
            mp4: plan.container == Container::Mp4,
            mux,
            sink,
            branches,
            chunker: Chunker::new(),
            timer: None,
            paused_at: None,
            cut: None,
            paused_total: gst::ClockTime::ZERO,
            last_rt: None,
            stopping: false,
            inactive: false,
            discarding: false,
        })
    }

    /// The timeslice clock, once there is a clock (PLAYING; `playing`:
    /// on the way there, before the state is committed).
    pub(super) fn arm_timer(&self, playing: bool) {
        let obj = self.obj();
        let playing = playing || obj.current_state() == gst::State::Playing;
        let (Some(clock), true) = (obj.clock(), playing) else {
            return;
        };
        let mut state = self.state.lock();
        let Some(rec) = state.as_mut() else { return };
        if rec.timer.is_some() || rec.timeslice == 0 || rec.stopping {
            return;
        }
        let interval = gst::ClockTime::from_mseconds(rec.timeslice as u64);
        let id = clock.new_periodic_id(clock.time() + interval, interval);
        let weak = obj.downgrade();
        let armed = id.wait_async(move |_, _, _| {
            if let Some(obj) = weak.upgrade() {
                obj.imp().guard(|| (), |imp| imp.on_timeslice());
            }
        });
        gst::debug!(CAT, imp = self, "timeslice {} ms: {armed:?}", rec.timeslice);
        rec.timer = Some(id);
    }

    /// A timeslice elapsed: the chunk so far, if there is one.
    pub(super) fn on_timeslice(&self) {
        {
            let mut state = self.state.lock();
            let Some(rec) = state.as_mut() else { return };
            if rec.stopping || rec.chunker.pending_bytes() == 0 {
                return;
            }
            let chunk = rec.chunker.take();
            let (bytes, at) = (chunk.data.len(), chunk.timecode);
            gst::debug!(CAT, imp = self, "timeslice: {bytes} bytes at {at} ms");
            self.push(Event::Data(chunk));
        }
        // Delivered from the thread pool, not the clock's thread.
        self.obj()
            .call_async(|obj| obj.imp().guard(|| (), |imp| imp.drain()));
    }

    /// The muxer's output: into the chunker; its EOS ends the recording.
    pub(super) fn on_output(&self, sink: Option<&gst::Element>, info: &gst::PadProbeInfo) {
        let mut state = self.state.lock();
        let Some(rec) = state.as_mut().filter(|r| Some(&r.sink) == sink) else {
            return;
        };
        match &info.data {
            Some(gst::PadProbeData::Buffer(b)) if !rec.discarding => rec.chunker.push(b.clone()),
            Some(gst::PadProbeData::BufferList(l)) if !rec.discarding => {
                for b in l.iter_owned() {
                    rec.chunker.push(b);
                }
            }
            Some(gst::PadProbeData::Event(ev)) if ev.type_() == gst::EventType::Eos => {
                drop(state);
                gst::debug!(CAT, imp = self, "the muxer finished");
                self.finish(false);
            }
            _ => {}
        }
    }

    pub(super) fn stop(&self) {
        let (pads, newly_inactive, fed, unfed): (Vec<gst::GhostPad>, bool, bool, Vec<gst::Pad>) = {
            let mut state = self.state.lock();
            if self.waiting.lock().take().is_some() {
                // The start that waited: never begun, no events.
                gst::debug!(CAT, imp = self, "stop: the waiting start is called off");
                drop(state);
                self.obj().notify("state");
                return;
            }
            let Some(rec) = state.as_mut() else {
                gst::debug!(CAT, imp = self, "stop: inactive, nothing to do");
                return;
            };
            // Inactive at once (W3C stop()); the last chunk and `stop`
            // follow once the encoders have drained.
            let was_inactive = std::mem::replace(&mut rec.inactive, true);
            if rec.stopping {
                return;
            }
            rec.stopping = true;
            if let Some(t) = rec.timer.take() {
                t.unschedule();
            }
            // Branches that never had a buffer leave the muxer instead of
            // ending in it (none can get one now: `stopping`).
            let mut unfed = Vec::new();
            let mp4 = rec.mp4;
            for b in rec
                .branches
                .iter_mut()
                .filter(|b| mp4 && !b.ended && !b.fed)
            {
                b.ended = true;
                if let Some(mux_pad) = b
                    .encode
                    .elements
                    .last()
                    .and_then(|e| e.static_pad("src"))
                    .and_then(|p| p.peer())
                {
                    unfed.push(mux_pad);
                }
            }
            let pads = rec
                .branches
                .iter()
                .filter(|b| !b.ended)
                .map(|b| b.pad.clone())
                .collect();
            // In MP4, stop() before any buffer went in finishes at once:
            // mp4mux given EOS on pads that never had caps never ends.
            let fed = rec.branches.iter().any(|b| b.fed);
            (pads, !was_inactive, fed || !rec.mp4, unfed)
        };
        if newly_inactive {
            self.obj().notify("state");
        }
        let running = self.obj().current_state() >= gst::State::Paused;
        gst::debug!(
            CAT,
            imp = self,
            "stop: EOS into {} branch(es), running: {running}",
            pads.len()
        );
        if !running {
            self.finish(true);
            return;
        }
        if !fed {
            // Nothing went in: no EOS to wait for (the muxer may have
            // nothing to end); the last chunk is what it wrote, if anything.
            gst::debug!(CAT, imp = self, "stop before any data: finished now");
            self.finish(false);
            return;
        }
        for mux_pad in unfed {
            if let Some(mux) = mux_pad.parent_element() {
                gst::debug!(CAT, imp = self, "{}: no data, let go of", mux_pad.name());
                mux.release_request_pad(&mux_pad);
            }
        }
        if pads.is_empty() {
            // Every branch has its EOS: the muxer's is on its way.
            return;
        }
        for pad in pads {
            self.obj().call_async(move |obj| {
                obj.imp().guard(|| (), |imp| imp.end_branch(&pad));
            });
        }
    }

    /// EOS into a branch, serialized with the track's data: under the
    /// pad's stream lock no buffer is between the probe (which now drops)
    /// and the encoder.
    pub(super) fn end_branch(&self, pad: &gst::GhostPad) {
        let _stream = pad.stream_lock();
        let target = {
            let mut state = self.state.lock();
            let Some(b) = state.as_mut().and_then(|r| r.branch_mut(pad)) else {
                return;
            };
            if b.ended {
                return;
            }
            b.ended = true;
            b.encode.sink_pad()
        };
        let sent = target.send_event(gst::event::Eos::new());
        gst::debug!(CAT, imp = self, "{}: EOS sent: {sent}", pad.name());
    }

    /// The end of a recording: the last chunk, `stopped`, the elements
    /// gone. `now`: from a state change (tear down here), else through
    /// call_async (this may be a streaming thread of the recording).
    pub(super) fn finish(&self, now: bool) {
        let rec = {
            let mut state = self.state.lock();
            let Some(mut rec) = state.take() else {
                return;
            };
            if let Some(t) = rec.timer.take() {
                t.unschedule();
            }
            let chunk = rec.chunker.take();
            gst::debug!(
                CAT,
                imp = self,
                "finished: last chunk {} bytes, {} bytes in {} chunks",
                chunk.data.len(),
                rec.chunker.bytes,
                rec.chunker.chunks
            );
            // The tracks let go of this recording's elements before
            // anyone hears `stop`: a start() called on it must not find
            // them still aimed at the old encoders, whose ended branch
            // would take the track's events again (CI saw the old muxer
            // fail the new recording: "caps arrived late"). Under the
            // state lock, as a new recording's build aims the pads.
            for b in &rec.branches {
                if b.pad.target().as_ref() == Some(&b.encode.sink_pad()) {
                    crate::plumbing::clear_target(&b.pad);
                    if let Some(internal) = b.pad.internal() {
                        internal.set_offset(0);
                    }
                }
            }
            // Queued under the state lock, as every chunk is: events keep
            // the order in which chunks were cut.
            self.push(Event::Data(chunk));
            self.push(Event::Stop);
            // A start that waited for this end begins after `stop` went
            // out; a state change calls it off.
            let mut waiting = self.waiting.lock();
            if now {
                *waiting = None;
            } else if waiting.is_some() {
                self.push(Event::Restart);
            }
            self.retired.lock().extend(rec.elements());
            rec
        };
        let elements = rec.elements();
        let teardown = move |obj: &crate::mediarecorder::MediaRecorder| {
            crate::plumbing::discard_all(*CAT, obj, &elements, &[]);
            obj.imp().retired.lock().retain(|e| !elements.contains(e));
        };
        if now {
            teardown(&self.obj());
        } else {
            self.obj().call_async(move |obj| teardown(obj));
        }
        self.obj().notify("state");
        self.drain();
        self.maybe_post_eos();
    }

    /// The start that waited for the previous recording's end, once that
    /// one's last chunk and `stop` went out: begun now. Should it fail now
    /// (a track ended meanwhile), `error` and `stop` fire: the start had
    /// already been accepted.
    pub(super) fn begin_waiting(&self) {
        gst::debug!(CAT, imp = self, "the start that waited begins");
        let timeslice = self.waiting.lock().unwrap_or(None);
        if let Err(e) = self.start(timeslice, true) {
            gst::warning!(CAT, imp = self, "the waiting start failed: {}", e.message());
            self.push(Event::Error(e.name().to_owned(), e.message().to_owned()));
            self.push(Event::Stop);
            self.obj().notify("state");
            self.drain();
            self.post_error(&e);
            self.maybe_post_eos();
        }
    }

    /// The recording fails: the error, what was gathered is dropped, then
    /// the last (empty) chunk and `stopped`, as the spec orders them.
    pub(super) fn fail(&self, e: ConstraintError) {
        {
            let mut state = self.state.lock();
            let Some(rec) = state.as_mut() else { return };
            rec.chunker.discard();
            rec.discarding = true;
            // W3C: inactive, then error, the last chunk and stop.
            rec.inactive = true;
            *self.waiting.lock() = None;
            gst::debug!(CAT, imp = self, "{}: {}", e.name(), e.message());
            self.push(Event::Error(e.name().to_owned(), e.message().to_owned()));
        }
        self.obj().notify("state");
        self.drain();
        self.post_error(&e);
        self.stop();
    }

    pub(super) fn request_data(&self) -> Result<(), ConstraintError> {
        {
            let mut state = self.state.lock();
            let rec = self.active(&mut state)?;
            let chunk = rec.chunker.take();
            gst::debug!(CAT, imp = self, "request-data: {} bytes", chunk.data.len());
            self.push(Event::Data(chunk));
        }
        self.drain();
        Ok(())
    }

    /// Posts the recorder's EOS once every track ended and no recording
    /// is left to finish.
    pub(super) fn maybe_post_eos(&self) {
        let all_ended = {
            let tracks = self.tracks.lock();
            let mut linked = tracks.iter().filter(|t| t.linked()).peekable();
            linked.peek().is_some() && linked.all(|t| t.ended)
        };
        if all_ended
            && self.state.lock().is_none()
            && self.waiting.lock().is_none()
            && !self
                .eos_posted
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            gst::debug!(CAT, imp = self, "every track ended: EOS");
            let obj = self.obj();
            let _ = obj.post_message(gst::message::Eos::builder().src(&*obj).build());
        }
    }
}
/// The bitrate `kind`'s encoder runs at by default for `mime` (the
/// recorder's default type's encoder when `mime` names no codec of the
/// kind, or does not parse).
pub(super) fn default_bitrate(kind: TrackKind, mime: &str, caps: Option<&gst::CapsRef>) -> u32 {
    let pick = |plan: &Plan| match kind {
        TrackKind::Video => plan.video,
        TrackKind::Audio => plan.audio,
    };
    let given = MimeType::parse(mime)
        .ok()
        .and_then(|m| m.plan(true, true, &installed).ok())
        .and_then(|p| pick(&p));
    let codec = given.or_else(|| {
        Plan::default_for(true, true, None, &installed)
            .ok()
            .and_then(|p| pick(&p))
    });
    codec.map_or(0, |c| encode::default_bitrate(c, caps, &installed))
}

pub(super) fn installed(factory: &str) -> bool {
    gst::ElementFactory::find(factory).is_some()
}
