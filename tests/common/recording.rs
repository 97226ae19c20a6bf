// SPDX-License-Identifier: MPL-2.0

//! A `mediastream` recorded into a Matroska or MP4 file, with what reached
//! the muxer counted per kind, and the file demuxed again to count what it
//! holds: "nothing lost" is the two counts being equal.

#![allow(dead_code)]

#[allow(clippy::duplicate_mod)]
#[path = "launch_recording.rs"]
mod launch_recording;

use gst::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Matroska,
    Mp4,
}

impl Container {
    pub const ALL: [Container; 2] = [Container::Matroska, Container::Mp4];

    fn muxer(self) -> &'static str {
        match self {
            Container::Matroska => "matroskamux",
            Container::Mp4 => "mp4mux",
        }
    }

    fn demuxer(self) -> &'static str {
        match self {
            Container::Matroska => "matroskademux",
            Container::Mp4 => "qtdemux",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Container::Matroska => "mkv",
            Container::Mp4 => "mp4",
        }
    }
}

#[derive(Default)]
struct Seen {
    muxed: HashMap<String, u64>,
    eos: Vec<String>,
    messages: Vec<gst::Message>,
}

pub struct Recording {
    pub pipeline: gst::Pipeline,
    pub stream: gst::Element,
    pub path: PathBuf,
    container: Container,
    seen: Arc<(Mutex<Seen>, Condvar)>,
}

fn kind_of(pad: &gst::Pad) -> String {
    pad.name().split('_').next().unwrap().to_owned()
}

/// VP9 and Opus (both containers take them), one video and one audio track.
pub fn record(constraints: &str, container: Container, path: &Path) -> Recording {
    let desc = format!(
        "mediastream name=s {mux} name=mux ! filesink location={file} \
         s.video_0 ! queue ! videoconvert ! vp9enc deadline=1 cpu-used=8 ! vp9parse ! queue ! mux.video_0 \
         s.audio_0 ! queue ! audioconvert ! audioresample ! opusenc ! queue ! mux.audio_0",
        mux = container.muxer(),
        file = path.display(),
    );
    let pipeline = gst::parse::launch(&desc)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let stream = pipeline.by_name("s").unwrap();
    stream.set_property("constraints", constraints);
    let seen: Arc<(Mutex<Seen>, Condvar)> = Arc::default();
    let mux = pipeline.by_name("mux").unwrap();
    for pad in mux.sink_pads() {
        let kind = kind_of(&pad);
        let s = seen.clone();
        pad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_DOWNSTREAM,
            move |_, info| {
                let (lock, cv) = &*s;
                let mut seen = lock.lock().unwrap();
                match &info.data {
                    Some(gst::PadProbeData::Buffer(_)) => {
                        *seen.muxed.entry(kind.clone()).or_default() += 1;
                    }
                    Some(gst::PadProbeData::Event(e)) if e.type_() == gst::EventType::Eos => {
                        seen.eos.push(kind.clone());
                    }
                    _ => return gst::PadProbeReturn::Ok,
                }
                cv.notify_all();
                gst::PadProbeReturn::Ok
            },
        );
    }
    let s = seen.clone();
    pipeline.bus().unwrap().set_sync_handler(move |_, msg| {
        let (lock, cv) = &*s;
        lock.lock().unwrap().messages.push(msg.clone());
        cv.notify_all();
        gst::BusSyncReply::Drop
    });
    pipeline.set_state(gst::State::Playing).unwrap();
    Recording {
        pipeline,
        stream,
        path: path.to_owned(),
        container,
        seen,
    }
}

impl Recording {
    fn wait<T>(&self, what: &str, timeout: Duration, mut f: impl FnMut(&Seen) -> Option<T>) -> T {
        let (lock, cv) = &*self.seen;
        let deadline = Instant::now() + timeout;
        let mut seen = lock.lock().unwrap();
        loop {
            if let Some(t) = f(&seen) {
                return t;
            }
            if let Some(err) = seen
                .messages
                .iter()
                .find(|m| m.type_() == gst::MessageType::Error)
            {
                panic!("error while waiting for {what}: {err:?}");
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no {what} within {timeout:?}: muxed {:?}",
                seen.muxed
            );
            seen = cv.wait_timeout(seen, left).unwrap().0;
        }
    }

    pub fn muxed(&self, kind: &str) -> u64 {
        self.seen
            .0
            .lock()
            .unwrap()
            .muxed
            .get(kind)
            .copied()
            .unwrap_or(0)
    }

    /// Waits until `n` buffers of `kind` reached the muxer.
    pub fn wait_muxed(&self, kind: &str, n: u64) {
        self.wait(
            &format!("{n} {kind} buffers at the muxer"),
            Duration::from_secs(20),
            |s| (s.muxed.get(kind).copied().unwrap_or(0) >= n).then_some(()),
        )
    }

    /// Waits for the EOS of `kind` at the muxer.
    pub fn wait_eos(&self, kind: &str) {
        self.wait(
            &format!("EOS of {kind} at the muxer"),
            Duration::from_secs(10),
            |s| s.eos.iter().any(|k| k == kind).then_some(()),
        )
    }

    /// Waits for an element message named `name` and returns its structure.
    pub fn wait_message(&self, name: &str) -> gst::Structure {
        self.wait(name, Duration::from_secs(10), |s| {
            s.messages
                .iter()
                .filter_map(|m| m.structure())
                .find(|st| st.name() == name)
                .map(|st| st.to_owned())
        })
    }

    /// The stream-id (the track id) recorded as `kind`.
    pub fn stream_id(&self, kind: &str) -> String {
        let mux = self.pipeline.by_name("mux").unwrap();
        let pad = mux.static_pad(&format!("{kind}_0")).unwrap();
        let start = pad.sticky_event::<gst::event::StreamStart>(0).unwrap();
        start.stream_id().to_owned()
    }

    pub fn has_eos(&self, kind: &str) -> bool {
        self.seen.0.lock().unwrap().eos.iter().any(|k| k == kind)
    }

    /// Stops as `gst-launch-1.0 -e` does: EOS, the muxer finishes the file.
    /// Returns what reached the muxer per kind.
    pub fn finish(self) -> (HashMap<String, u64>, Vec<gst::Message>) {
        self.pipeline.send_event(gst::event::Eos::new());
        self.wait("EOS on the bus", Duration::from_secs(20), |s| {
            s.messages
                .iter()
                .any(|m| m.type_() == gst::MessageType::Eos)
                .then_some(())
        });
        self.pipeline.set_state(gst::State::Null).unwrap();
        let seen = self.seen.0.lock().unwrap();
        (seen.muxed.clone(), seen.messages.clone())
    }

    pub fn container(&self) -> Container {
        self.container
    }

    /// After the camera went away: the video track ended (its message, its
    /// EOS at the muxer) and the microphone goes on.
    pub fn expect_video_ended_audio_going_on(&self) {
        let ended = self.wait_message("mediastream-track-ended");
        assert_eq!(
            ended.get::<String>("track-id").unwrap(),
            self.stream_id("video"),
            "the camera's track ended: {ended}"
        );
        self.wait_eos("video");
        let audio = self.muxed("audio");
        self.wait_muxed("audio", audio + 25);
        assert!(
            !self.has_eos("audio"),
            "{:?}: the microphone ended too",
            self.container
        );
    }

    /// Stops the recording; no error on the bus, and the file holds every
    /// frame that reached the muxer.
    pub fn finish_losing_nothing(self) {
        let (path, container) = (self.path.clone(), self.container);
        let (muxed, messages) = self.finish();
        let errors: Vec<_> = messages
            .iter()
            .filter(|m| m.type_() == gst::MessageType::Error)
            .collect();
        assert!(errors.is_empty(), "{container:?}: {errors:?}");
        assert_eq!(
            demuxed(&path, container),
            muxed,
            "{container:?}: in the file vs at the muxer"
        );
        eprintln!("{container:?}: {muxed:?} muxed and stored");
    }
}

/// Buffers per kind in a recorded file, read back with the container's
/// demuxer (no parser, no decoder: one buffer per stored frame).
pub fn demuxed(path: &Path, container: Container) -> HashMap<String, u64> {
    let pipeline = gst::Pipeline::new();
    let src = gst::ElementFactory::make("filesrc")
        .property("location", path.to_str().unwrap())
        .build()
        .unwrap();
    let demux = gst::ElementFactory::make(container.demuxer())
        .build()
        .unwrap();
    pipeline.add_many([&src, &demux]).unwrap();
    src.link(&demux).unwrap();
    let counts: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    let c = counts.clone();
    let weak = pipeline.downgrade();
    demux.connect_pad_added(move |_, pad| {
        let Some(pipeline) = weak.upgrade() else {
            return;
        };
        // One thread per stream, as a player has: a demuxer feeding two
        // sinks directly blocks on the first one to preroll.
        let sink = gst::parse::bin_from_description(
            "queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! fakesink sync=false",
            true,
        )
        .unwrap();
        pipeline.add(&sink).unwrap();
        sink.sync_state_with_parent().unwrap();
        pad.link(&sink.static_pad("sink").unwrap()).unwrap();
        let kind = kind_of(pad);
        let c = c.clone();
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            *c.lock().unwrap().entry(kind.clone()).or_default() += 1;
            gst::PadProbeReturn::Ok
        });
    });
    // Prerolled first: every pad is added (and its sink synced) before
    // PLAYING, so no sink is left behind in PAUSED.
    pipeline.set_state(gst::State::Paused).unwrap();
    let (ok, _, _) = pipeline.state(gst::ClockTime::from_seconds(10));
    ok.unwrap_or_else(|e| panic!("{} does not preroll: {e}", path.display()));
    pipeline.set_state(gst::State::Playing).unwrap();
    let msg =
        launch_recording::eos_or_error(&pipeline, 30, "the file plays to its end within 30 s");
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(
        msg.type_(),
        gst::MessageType::Eos,
        "{} does not demux: {msg:?}",
        path.display()
    );
    counts.lock().unwrap().clone()
}
