// SPDX-License-Identifier: MPL-2.0

//! mediastream as getUserMedia in one element: errors, id / active /
//! track-ids, pads, one group id and a stream collection, inactive when
//! every track ended.

#[path = "common/launch_recording.rs"]
mod launch_recording;
#[path = "common/objects.rs"]
mod objects;
#[path = "common/track.rs"]
mod track;

use gst::prelude::*;
use std::time::Duration;

fn init() {
    track::init_builtin();
}

/// `mediastream` with one appsink per pad.
fn stream(
    constraints: &str,
) -> (
    gst::Pipeline,
    gst::Element,
    std::sync::Arc<std::sync::Mutex<Vec<gst::Element>>>,
) {
    let p = gst::Pipeline::new();
    let ms = track::stream_in(&p, constraints);
    let sinks = track::appsink_per_pad(&p, &ms);
    (p, ms, sinks)
}

fn pull(sink: &gst::Element) -> Option<gst::Sample> {
    sink.emit_by_name::<Option<gst::Sample>>(
        "try-pull-sample",
        &[&gst::ClockTime::from_seconds(10)],
    )
}

#[test]
fn get_user_media_in_one_element() {
    init();
    let (p, ms, sinks) = stream(r#"{"video": {"width": 1280}, "audio": true}"#);
    let bus = p.bus().unwrap();
    p.set_state(gst::State::Playing).unwrap();
    let id = ms.property::<String>("id");
    assert_eq!(id.len(), 36);
    assert!(ms.property::<bool>("active"));
    let track_ids: Vec<String> = ms.property::<Vec<String>>("track-ids");
    assert_eq!(track_ids.len(), 2);
    let pads: Vec<String> = ms.src_pads().iter().map(|p| p.name().to_string()).collect();
    assert_eq!(pads, ["video_0", "audio_0"]);

    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(5),
            &[gst::MessageType::StreamCollection],
        )
        .expect("a stream collection");
    let gst::MessageView::StreamCollection(c) = msg.view() else {
        unreachable!()
    };
    let collection = c.stream_collection();
    assert_eq!(collection.upstream_id().as_deref(), Some(id.as_str()));
    let ids: Vec<String> = collection
        .iter()
        .map(|s| s.stream_id().unwrap().to_string())
        .collect();
    assert_eq!(ids, track_ids);

    let sinks = sinks.lock().unwrap().clone();
    assert_eq!(sinks.len(), 2);
    let mut groups = Vec::new();
    for sink in &sinks {
        let sample = pull(sink).expect("media on every track");
        let pad = sink.static_pad("sink").unwrap();
        let start = pad.sticky_event::<gst::event::StreamStart>(0).unwrap();
        assert!(track_ids.contains(&start.stream_id().to_owned()));
        groups.push(start.group_id().unwrap());
        let ev = pad
            .sticky_event::<gst::event::StreamCollection>(0)
            .expect("the collection downstream");
        assert_eq!(
            ev.stream_collection().upstream_id().as_deref(),
            Some(id.as_str())
        );
        if sink.name() == "sink_video_0" {
            assert_eq!(track::width_of(sample.caps()), 1280);
        }
    }
    assert_eq!(groups[0], groups[1], "one group id for the stream");

    // Every track ends: the stream is inactive and every pad had EOS.
    let srcs: Vec<gst::Element> = ms.downcast_ref::<gst::Bin>().unwrap().children();
    for src in &srcs {
        src.emit_by_name::<()>("stop", &[]);
    }
    track::wait_until("!ms.property::<bool>('active')", || {
        !ms.property::<bool>("active")
    });
    assert!(!ms.property::<bool>("active"));
    for sink in &sinks {
        let mut eos = false;
        for _ in 0..50 {
            if pull(sink).is_none() {
                eos = sink.property::<bool>("eos");
                break;
            }
        }
        assert!(eos, "{} had EOS", sink.name());
    }
    p.set_state(gst::State::Null).unwrap();
}

/// The buffers leaving the stream's pads are the devices' own.
#[test]
fn tracks_are_zero_copy() {
    init();
    let (p, ms, sinks) = stream(r#"{"video": true, "audio": true}"#);
    p.set_state(gst::State::Ready).unwrap();
    let devices: Vec<gst::Pad> = track::children_made_by(&ms, "mediastreamsrc")
        .iter()
        .map(|t| {
            track::children_made_by(t, "mediastreamfakesrc")[0]
                .static_pad("src")
                .unwrap()
        })
        .collect();
    assert_eq!(devices.len(), 2);
    p.set_state(gst::State::Playing).unwrap();
    // Each stream pad against each device: one of them is its own.
    let mut watches = Vec::new();
    for pad in ms.src_pads() {
        for device in &devices {
            watches.push((pad.name().to_string(), objects::watch_against(&pad, device)));
        }
    }
    for sink in sinks.lock().unwrap().iter() {
        for _ in 0..20 {
            pull(sink).unwrap();
        }
    }
    for pad in ["video_0", "audio_0"] {
        let counts: Vec<objects::Counts> = watches
            .iter()
            .filter(|(n, _)| n == pad)
            .map(|(_, w)| w.take())
            .collect();
        assert!(counts.iter().all(|c| c.buffers >= 20), "{pad}: {counts:?}");
        assert!(
            counts.iter().any(|c| c.foreign == 0),
            "{pad}: every buffer is its device's own: {counts:?}"
        );
    }
    p.set_state(gst::State::Null).unwrap();
}

#[test]
fn get_user_media_errors() {
    init();
    for (constraints, name, text) in [
        (
            "{}",
            "TypeError",
            "TypeError: constraints: at least one of audio and video must be requested",
        ),
        (
            r#"{"video": {"width": {"min": 100000000}}, "audio": true}"#,
            "OverconstrainedError",
            "OverconstrainedError: width: no device can deliver width >= 100000000 (largest: 3840)",
        ),
        (
            r#"{"audio": {"sampleRate": {"exact": 44100}}}"#,
            "OverconstrainedError",
            "OverconstrainedError: sampleRate:",
        ),
    ] {
        let (p, ms, _) = stream(constraints);
        assert!(p.set_state(gst::State::Ready).is_err(), "{constraints}");
        let (err, details) = track::error_details(&p);
        assert!(
            err.message().starts_with(text),
            "{constraints}: {}",
            err.message()
        );
        assert_eq!(details.get::<&str>("name").unwrap(), name);
        // Nothing was opened: selection failed before any device.
        assert!(ms.downcast_ref::<gst::Bin>().unwrap().children().is_empty());
        assert!(!ms.property::<bool>("active"));
    }
}

/// What scripts/demo records: audio and video through `mediastream` into
/// Matroska (VP8 + Opus), then demuxed with the expected tracks and length.
#[test]
fn records_a_playable_matroska_file() {
    init();
    let dir = std::env::temp_dir().join(format!("gst-mediastream-rec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("demo.mkv");
    let p = gst::parse::launch(&format!(
        "mediastream name=s constraints={{\\\"video\\\":{{\\\"width\\\":640}},\\\"audio\\\":true}} \
         matroskamux name=mux ! filesink location={} \
         s.video_0 ! queue ! videoconvert ! vp8enc deadline=1 cpu-used=8 ! queue ! mux. \
         s.audio_0 ! queue ! audioconvert ! audioresample ! opusenc ! queue ! mux.",
        path.display()
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    // Two seconds of each track into the muxer, then EOS.
    let (tx, recorded) = std::sync::mpsc::channel();
    for pad in p.by_name("mux").unwrap().sink_pads() {
        let tx = tx.clone();
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            let pts = info.buffer().and_then(|b| b.pts());
            if pts.is_some_and(|pts| pts >= gst::ClockTime::from_seconds(2)) {
                // The test may be done listening.
                let _ = tx.send(());
                return gst::PadProbeReturn::Remove;
            }
            gst::PadProbeReturn::Ok
        });
    }
    p.set_state(gst::State::Playing).unwrap();
    for _ in 0..2 {
        recorded
            .recv_timeout(Duration::from_secs(20))
            .expect("two seconds of video and of audio recorded");
    }
    p.send_event(gst::event::Eos::new());
    let msg = launch_recording::eos_or_error(&p, 10, "EOS after the recording");
    assert_eq!(msg.type_(), gst::MessageType::Eos, "{msg:?}");
    p.set_state(gst::State::Null).unwrap();

    // What a player sees: gst-discoverer-1.0 (gstreamer1.0-plugins-base-apps).
    let out = std::process::Command::new("gst-discoverer-1.0")
        .arg(&path)
        .output()
        .expect("gst-discoverer-1.0 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("video #") && text.contains("VP8"), "{text}");
    assert!(text.contains("audio #") && text.contains("Opus"), "{text}");
    let duration = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Duration: "))
        .and_then(|d| d.split(':').next_back().and_then(|s| s.parse::<f64>().ok()))
        .unwrap_or_else(|| panic!("no duration in {text}"));
    assert!(
        (1.5..=3.0).contains(&duration),
        "duration {duration} s: {text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mediastream_uris() {
    init();
    for (uri, json) in [
        (
            "mediastream://?video=true&audio=true",
            r#"{"video":true,"audio":true}"#,
        ),
        (
            r#"mediastream://?video={"width":1280}"#,
            r#"{"video":{"width":1280}}"#,
        ),
        (
            "mediastream://?constraints=%7B%22audio%22%3Atrue%7D",
            r#"{"audio":true}"#,
        ),
        // URI schemes are case-insensitive.
        ("MEDIASTREAM://?video=true", r#"{"video":true}"#),
        ("MediaStream://?audio=true", r#"{"audio":true}"#),
    ] {
        let e = gst::Element::make_from_uri(gst::URIType::Src, uri, None).unwrap();
        assert_eq!(e.factory().unwrap().name(), "mediastream");
        let got: serde_json::Value =
            serde_json::from_str(&e.property::<String>("constraints")).unwrap();
        let want: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(got, want, "{uri}");
        assert_eq!(
            e.dynamic_cast_ref::<gst::URIHandler>()
                .unwrap()
                .uri()
                .as_deref(),
            Some(uri)
        );
    }
    for (uri, why) in [
        ("mediastream://?vidoe=true", "unknown parameter 'vidoe'"),
        ("mediastream://", "expected ?video="),
        (
            "mediastream://?video=yes",
            "video: 'yes' is not true, false or a JSON object",
        ),
        (
            "mediastream://?audio=false",
            "at least one of audio and video must be requested",
        ),
        (
            "mediastream://?video=true&constraints=%7B%7D",
            "either constraints= or video=/audio=",
        ),
        // A repeated key is an error naming it, not "the last one wins".
        (
            "mediastream://?video=true&video=false&audio=true",
            "'video' is given twice",
        ),
        (
            "mediastream://?constraints=%7B%7D&constraints=%7B%22audio%22%3Atrue%7D",
            "'constraints' is given twice",
        ),
    ] {
        let err = gst::Element::make_from_uri(gst::URIType::Src, uri, None).unwrap_err();
        assert!(err.matches(gst::URIError::BadUri), "{uri}: {err}");
        assert!(err.message().contains(why), "{uri}: {}", err.message());
    }
}

#[test]
fn playbin_plays_a_mediastream_uri() {
    init();
    let playbin = gst::ElementFactory::make("playbin")
        .property("uri", "mediastream://?video=true&audio=true")
        .build()
        .unwrap();
    let video = gst::ElementFactory::make("appsink")
        .property("sync", false)
        .build()
        .unwrap();
    let audio = gst::ElementFactory::make("appsink")
        .property("sync", false)
        .build()
        .unwrap();
    playbin.set_property("video-sink", &video);
    playbin.set_property("audio-sink", &audio);
    playbin.set_state(gst::State::Playing).unwrap();
    for sink in [&video, &audio] {
        let sample = pull(sink).expect("playbin plays both tracks");
        assert!(sample.buffer().is_some());
    }
    let caps = pull(&video).unwrap().caps().unwrap().to_owned();
    assert_eq!(caps.structure(0).unwrap().get::<i32>("width").unwrap(), 640);
    playbin.set_state(gst::State::Null).unwrap();
}

#[test]
fn add_track_and_remove_track() {
    init();
    let (p, ms, sinks) = stream(r#"{"video":true}"#);
    // The application's addTrack / removeTrack: pad-added / pad-removed
    // (addtrack / removetrack are the user agent's: see
    // the_application_s_own_changes_fire_no_addtrack_or_removetrack).
    let added = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let removed = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let list = added.clone();
    ms.connect_pad_added(move |_, pad| {
        if pad.direction() == gst::PadDirection::Src {
            list.lock().unwrap().push(pad.name().to_string());
        }
    });
    let list = removed.clone();
    ms.connect_pad_removed(move |_, pad| {
        if pad.direction() == gst::PadDirection::Src {
            list.lock().unwrap().push(pad.name().to_string());
        }
    });
    // Non-device tracks, as canvas capture or a remote peer give them.
    let v = track::live_source("videotestsrc");
    let a = track::live_source("audiotestsrc");
    p.add_many([&v, &a]).unwrap();
    let vpad = ms.request_pad_simple("sink_%u").unwrap();
    let apad = ms.request_pad_simple("sink_%u").unwrap();
    assert_eq!(
        (vpad.name().as_str(), apad.name().as_str()),
        ("sink_0", "sink_1")
    );
    v.static_pad("src").unwrap().link(&vpad).unwrap();
    a.static_pad("src").unwrap().link(&apad).unwrap();
    p.set_state(gst::State::Playing).unwrap();

    // The device's video_0, then the two added tracks.
    track::wait_until("added.lock().unwrap().len() == 3", || {
        added.lock().unwrap().len() == 3
    });
    let mut pads = added.lock().unwrap().clone();
    pads.sort();
    assert_eq!(
        pads,
        ["audio_0", "video_0", "video_1"],
        "the device's video is video_0"
    );
    // The track id is the upstream stream-id.
    let upstream = v
        .static_pad("src")
        .unwrap()
        .sticky_event::<gst::event::StreamStart>(0)
        .unwrap();
    let vid = &upstream.stream_id().to_owned();
    let ids: Vec<String> = ms.property::<Vec<String>>("track-ids");
    assert_eq!(ids.len(), 3);
    let pad = ms
        .emit_by_name::<Option<gst::Pad>>("get-track-by-id", &[vid])
        .unwrap();
    assert_eq!(pad.name(), "video_1");
    assert!(
        ms.emit_by_name::<Option<gst::Pad>>("get-track-by-id", &[&"nope"])
            .is_none()
    );
    // Media flows on the added tracks too.
    track::wait_until("sinks.lock().unwrap().len() == 3", || {
        sinks.lock().unwrap().len() == 3
    });
    let sinks = sinks.lock().unwrap().clone();
    for sink in &sinks {
        assert!(pull(sink).is_some(), "{} gets media", sink.name());
    }
    // Every track of the stream carries the stream's group id.
    let groups: Vec<gst::GroupId> = sinks
        .iter()
        .map(|s| {
            s.static_pad("sink")
                .unwrap()
                .sticky_event::<gst::event::StreamStart>(0)
                .unwrap()
                .group_id()
                .unwrap()
        })
        .collect();
    assert!(groups.iter().all(|g| *g == groups[0]), "{groups:?}");
    // The updated collection went down the tracks too.
    for sink in &sinks {
        let mut len = 0;
        for _ in 0..20 {
            pull(sink);
            len = sink
                .static_pad("sink")
                .unwrap()
                .sticky_event::<gst::event::StreamCollection>(0)
                .map_or(0, |e| e.stream_collection().len());
            if len == 3 {
                break;
            }
        }
        assert_eq!(len, 3, "{} has the collection of 3 tracks", sink.name());
    }

    // removeTrack by id, and by releasing the request pad.
    assert!(ms.emit_by_name::<bool>("remove-track", &[vid]));
    assert!(!ms.emit_by_name::<bool>("remove-track", &[vid]));
    ms.release_request_pad(&apad);
    // The removed track's pad goes once no buffer is on its way through it
    // (remove-track does not wait for that).
    let left = || -> Vec<String> { ms.src_pads().iter().map(|p| p.name().to_string()).collect() };
    track::wait_until("left() == ['video_0']", || left() == ["video_0"]);
    assert_eq!(left(), ["video_0"]);
    let mut gone = removed.lock().unwrap().clone();
    gone.sort();
    assert_eq!(gone, ["audio_0", "video_1"]);
    assert_eq!(ms.property::<Vec<String>>("track-ids").len(), 1);
    // The collection followed the tracks: 1, then 3 with the added ones,
    // then 1 again.
    let bus = p.bus().unwrap();
    let sizes: Vec<usize> =
        std::iter::from_fn(|| bus.pop_filtered(&[gst::MessageType::StreamCollection]))
            .map(|m| match m.view() {
                gst::MessageView::StreamCollection(c) => c.stream_collection().len(),
                _ => unreachable!(),
            })
            .collect();
    assert_eq!(sizes.first(), Some(&1), "{sizes:?}");
    assert!(sizes.contains(&3), "{sizes:?}");
    assert_eq!(sizes.last(), Some(&1), "{sizes:?}");
    p.set_state(gst::State::Null).unwrap();
}

/// Releasing a request pad removes its own track, not the first one with
/// the same id (every added track's id is empty before stream-start).
#[test]
fn releasing_a_pad_removes_its_own_track() {
    init();
    let ms = gst::ElementFactory::make("mediastream").build().unwrap();
    let first = ms.request_pad_simple("sink_%u").unwrap();
    let second = ms.request_pad_simple("sink_%u").unwrap();
    ms.release_request_pad(&second);
    let left: Vec<String> = ms
        .sink_pads()
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    assert_eq!(left, [first.name().to_string()]);
    assert!(second.parent().is_none());
    // Its pass-through leaves the bin from a thread of its own.
    track::wait_until(
        "track::children_made_by(&ms, 'identity').len() == 1",
        || track::children_made_by(&ms, "identity").len() == 1,
    );
    assert_eq!(track::children_made_by(&ms, "identity").len(), 1);
    // An empty id is no track's.
    assert!(!ms.emit_by_name::<bool>("remove-track", &[&""]));
    ms.release_request_pad(&first);
    assert!(ms.sink_pads().is_empty());
}

/// A stream let go with tracks added: its request pads are released while
/// it is disposed, and their pass-throughs go with it on this thread. Handed
/// to GStreamer's async pool then, a pass-through would outlive the drop,
/// and the pool's reference to the stream raced the last one (GLib 2.74
/// then finalized the stream twice).
#[test]
fn a_stream_let_go_with_added_tracks_goes_at_once() {
    init();
    let ms = gst::ElementFactory::make("mediastream").build().unwrap();
    ms.request_pad_simple("sink_%u").unwrap();
    ms.request_pad_simple("sink_%u").unwrap();
    let passes: Vec<_> = track::children_made_by(&ms, "identity")
        .iter()
        .map(|e| e.downgrade())
        .collect();
    assert_eq!(passes.len(), 2);
    let stream = ms.downgrade();
    drop(ms);
    assert!(stream.upgrade().is_none());
    for pass in passes {
        assert!(
            pass.upgrade().is_none(),
            "a pass-through outlived its stream"
        );
    }
}

/// Paused, a sink holds the added track's last buffer until PLAYING:
/// removeTrack returns at once and the pad goes when the buffer has passed.
#[test]
fn remove_track_while_paused_does_not_wait_for_playing() {
    init();
    let p = gst::Pipeline::new();
    let ms = gst::ElementFactory::make("mediastream").build().unwrap();
    let v = gst::ElementFactory::make("videotestsrc").build().unwrap();
    let sink = gst::ElementFactory::make("fakesink")
        .property("sync", true)
        .build()
        .unwrap();
    p.add_many([&ms, &v, &sink]).unwrap();
    let linked = sink.static_pad("sink").unwrap();
    ms.connect_pad_added(move |_, pad| {
        if pad.direction() == gst::PadDirection::Src {
            pad.link(&linked).unwrap();
        }
    });
    let input = ms.request_pad_simple("sink_%u").unwrap();
    v.static_pad("src").unwrap().link(&input).unwrap();
    p.set_state(gst::State::Paused).unwrap();
    // The sink prerolled: it holds a buffer and the track's thread.
    assert_eq!(
        sink.state(gst::ClockTime::from_seconds(5)).0,
        Ok(gst::StateChangeSuccess::Success)
    );
    let ids = ms.property::<Vec<String>>("track-ids");
    let id = ids.first().expect("the added track").clone();
    let stream = ms.clone();
    let removed = track::within(
        "remove-track while paused",
        Duration::from_secs(5),
        move || stream.emit_by_name::<bool>("remove-track", &[&id]),
    );
    assert!(removed);
    assert_eq!(ms.property::<Vec<String>>("track-ids").len(), 0);
    p.set_state(gst::State::Playing).unwrap();
    track::wait_until("ms.src_pads().is_empty()", || ms.src_pads().is_empty());
    assert!(ms.src_pads().is_empty(), "the track's pad is gone");
    // The application's source never saw not-linked.
    let bus = p.bus().unwrap();
    assert!(bus.pop_filtered(&[gst::MessageType::Error]).is_none());
    p.set_state(gst::State::Null).unwrap();
}

#[test]
fn the_gst_launch_pipeline_of_the_readme() {
    init();
    let p = gst::parse::launch(
        r#"mediastream constraints="{\"video\":true,\"audio\":true}" name=s s. ! queue ! mediastreamtracksink name=a sink=fakesink s. ! queue ! mediastreamtracksink name=b sink=fakesink"#,
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    p.set_state(gst::State::Playing).unwrap();
    let (a, b) = (p.by_name("a").unwrap(), p.by_name("b").unwrap());
    track::wait_until(
        "a.property::<u64>('frames') > 5 && b.property::<u64>('frames",
        || a.property::<u64>("frames") > 5 && b.property::<u64>("frames") > 5,
    );
    let mut kinds = vec![
        a.property::<Option<String>>("kind"),
        b.property::<Option<String>>("kind"),
    ];
    kinds.sort();
    assert_eq!(kinds, [Some("audio".to_owned()), Some("video".to_owned())]);
    assert!(a.property::<u64>("frames") > 5 && b.property::<u64>("frames") > 5);
    p.set_state(gst::State::Null).unwrap();
}

#[test]
fn constraints_changed_in_ready_select_again_and_are_refused_once_playing() {
    init();
    let (p, ms, sinks) = stream(r#"{"video":{"width":320}}"#);
    p.set_state(gst::State::Ready).unwrap();
    ms.set_property("constraints", r#"{"video":{"width":1280},"audio":true}"#);
    p.set_state(gst::State::Playing).unwrap();
    let mut got: Vec<String> = {
        let sinks = sinks.lock().unwrap().clone();
        sinks
            .iter()
            .map(|s| {
                let sample = pull(s).expect("a sample on every pad");
                let caps = sample.caps().unwrap().structure(0).unwrap().to_owned();
                match caps.get::<i32>("width") {
                    Ok(w) => format!("video {w}"),
                    Err(_) => "audio".to_owned(),
                }
            })
            .collect()
    };
    got.sort();
    assert_eq!(
        got,
        ["audio", "video 1280"],
        "the stream of the new constraints"
    );
    // Playing: the pads are out, the value is refused and reads back as it was.
    ms.set_property("constraints", r#"{"video":{"width":320}}"#);
    assert_eq!(
        ms.property::<Option<String>>("constraints").as_deref(),
        Some(r#"{"video":{"width":1280},"audio":true}"#)
    );
    assert_eq!(sinks.lock().unwrap().len(), 2);
    p.set_state(gst::State::Null).unwrap();
}

#[test]
fn a_new_track_never_takes_the_name_of_a_pad_still_there() {
    init();
    // Three added video tracks: the first is removed while the second
    // stays, then a third comes.
    let p = gst::Pipeline::new();
    let ms = gst::ElementFactory::make("mediastream").build().unwrap();
    p.add(&ms).unwrap();
    // Buffers seen at each src pad of the stream, by pad name.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::<
        String,
        u32,
    >::new()));
    let weak = p.downgrade();
    let s = seen.clone();
    ms.connect_pad_added(move |_, pad| {
        if pad.direction() != gst::PadDirection::Src {
            return;
        }
        let p = weak.upgrade().unwrap();
        track::fakesink_for(&p, pad);
        let s = s.clone();
        pad.add_probe(gst::PadProbeType::BUFFER, move |pad, _| {
            *s.lock().unwrap().entry(pad.name().to_string()).or_default() += 1;
            gst::PadProbeReturn::Ok
        });
    });
    // (track id, pad) of each track that joined, from its pad.
    let added = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let list = added.clone();
    let stream = ms.downgrade();
    ms.connect_pad_added(move |_, pad| {
        let Some(ms) = stream.upgrade() else { return };
        if pad.direction() != gst::PadDirection::Src {
            return;
        }
        let id = ms
            .property::<Vec<String>>("track-ids")
            .into_iter()
            .find(|id| {
                ms.emit_by_name::<Option<gst::Pad>>("get-track-by-id", &[id])
                    .as_ref()
                    == Some(pad)
            })
            .expect("the new pad's track");
        list.lock().unwrap().push((id, pad.name().to_string()));
    });
    p.set_state(gst::State::Playing).unwrap();
    let add = |n: usize| {
        let src = track::live_source("videotestsrc");
        p.add(&src).unwrap();
        let pad = ms.request_pad_simple("sink_%u").unwrap();
        src.static_pad("src").unwrap().link(&pad).unwrap();
        src.sync_state_with_parent().unwrap();
        track::wait_until("added.lock().unwrap().len() == n", || {
            added.lock().unwrap().len() == n
        });
        let (id, name) = added.lock().unwrap().last().cloned().expect("a new track");
        (src, id, name)
    };
    let (_a, a_id, _) = add(1);
    let (_b, _, b_pad) = add(2);
    assert!(ms.emit_by_name::<bool>("remove-track", &[&a_id]));
    let (_c, _, c_pad) = add(3);
    assert_ne!(c_pad, b_pad, "the third track took the second's pad name");
    assert!(
        ms.static_pad(&c_pad).is_some(),
        "{c_pad} is a pad of the stream"
    );
    // Both remaining tracks flow, and nothing failed.
    let before = seen.lock().unwrap().clone();
    track::wait_until("frames on both remaining tracks", || {
        let now = seen.lock().unwrap().clone();
        let grew = |name: &str| {
            now.get(name).copied().unwrap_or(0) > before.get(name).copied().unwrap_or(0)
        };
        grew(&b_pad) && grew(&c_pad)
    });
    let now = seen.lock().unwrap().clone();
    assert!(
        now.get(&c_pad).copied().unwrap_or(0) > before.get(&c_pad).copied().unwrap_or(0)
            && now.get(&b_pad).copied().unwrap_or(0) > before.get(&b_pad).copied().unwrap_or(0),
        "frames on {b_pad} and {c_pad}: before {before:?}, now {now:?}"
    );
    if let Some(msg) = p.bus().unwrap().pop_filtered(&[gst::MessageType::Error]) {
        panic!("error on the bus: {msg:?}");
    }
    p.set_state(gst::State::Null).unwrap();
}

/// The element messages on `bus`, popped.
fn element_messages(bus: &gst::Bus) -> Vec<gst::Structure> {
    std::iter::from_fn(|| bus.pop_filtered(&[gst::MessageType::Element]))
        .filter_map(|m| m.structure().map(|s| s.to_owned()))
        .collect()
}

/// W3C addTrack: a track already in the set is not added again (cf. WPT
/// mediacapture-streams/MediaStream-add-remove-tracks.https.html). Two
/// branches of one source (a `tee`) give one track; the second branch's
/// pad stays, its data dropped, and a warning names the track.
#[test]
fn a_second_branch_of_a_track_is_not_added_again() {
    init();
    let p = gst::Pipeline::new();
    let ms = gst::ElementFactory::make("mediastream").build().unwrap();
    let v = track::live_source("videotestsrc");
    let tee = gst::ElementFactory::make("tee").build().unwrap();
    p.add_many([&ms, &v, &tee]).unwrap();
    v.link(&tee).unwrap();
    let weak = p.downgrade();
    let frames = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let f = frames.clone();
    ms.connect_pad_added(move |_, pad| {
        if pad.direction() == gst::PadDirection::Src {
            track::fakesink_for(&weak.upgrade().unwrap(), pad);
            let f = f.clone();
            pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                f.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                gst::PadProbeReturn::Ok
            });
        }
    });
    let first = ms.request_pad_simple("sink_%u").unwrap();
    let second = ms.request_pad_simple("sink_%u").unwrap();
    tee.request_pad_simple("src_%u")
        .unwrap()
        .link(&first)
        .unwrap();
    tee.request_pad_simple("src_%u")
        .unwrap()
        .link(&second)
        .unwrap();
    let bus = p.bus().unwrap();
    p.set_state(gst::State::Playing).unwrap();
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(10),
            &[gst::MessageType::Warning, gst::MessageType::Error],
        )
        .expect("a warning for the second branch");
    let gst::MessageView::Warning(w) = msg.view() else {
        panic!("{msg:?}");
    };
    let id = v
        .static_pad("src")
        .unwrap()
        .sticky_event::<gst::event::StreamStart>(0)
        .unwrap()
        .stream_id()
        .to_owned();
    assert!(w.error().message().contains(&id), "{}", w.error().message());
    assert_eq!(ms.property::<Vec<String>>("track-ids"), [id]);
    // The frames go on through the one track, and the tee never sees
    // not-linked from the second branch.
    track::wait_until("frames on the track", || {
        frames.load(std::sync::atomic::Ordering::SeqCst) > 10
    });
    let pads: Vec<String> = ms.src_pads().iter().map(|p| p.name().to_string()).collect();
    assert_eq!(pads, ["video_0"], "one pad for one track");
    assert!(bus.pop_filtered(&[gst::MessageType::Error]).is_none());
    // The second branch's pad is released like any request pad.
    ms.release_request_pad(&second);
    assert_eq!(ms.sink_pads().len(), 1);
    p.set_state(gst::State::Null).unwrap();
}

/// W3C: `addtrack` / `removetrack` fire for the user agent's changes (a
/// remote stream's peer adding or removing a track), never for
/// addTrack() / removeTrack() (cf. WPT mediacapture-streams/
/// MediaStream-add-remove-tracks.https.html and
/// MediaStream-removetrack.https.html). The application's changes to a
/// local stream give pad-added / pad-removed only; a `remote` stream's
/// tracks that join, and its released pads, fire them.
#[test]
fn the_application_s_own_changes_fire_no_addtrack_or_removetrack() {
    init();
    for remote in [false, true] {
        let p = gst::Pipeline::new();
        let ms = gst::ElementFactory::make("mediastream")
            .property("remote", remote)
            .build()
            .unwrap();
        p.add(&ms).unwrap();
        let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        for signal in ["addtrack", "removetrack"] {
            let list = events.clone();
            ms.connect(signal, false, move |args| {
                let pad = args[2].get::<gst::Pad>().unwrap();
                list.lock()
                    .unwrap()
                    .push(format!("{signal} {}", pad.name()));
                None
            });
        }
        let pads = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let (list, weak) = (pads.clone(), p.downgrade());
        ms.connect_pad_added(move |_, pad| {
            if pad.direction() == gst::PadDirection::Src {
                track::fakesink_for(&weak.upgrade().unwrap(), pad);
                list.lock().unwrap().push(format!("added {}", pad.name()));
            }
        });
        let list = pads.clone();
        ms.connect_pad_removed(move |_, pad| {
            if pad.direction() == gst::PadDirection::Src {
                list.lock().unwrap().push(format!("removed {}", pad.name()));
            }
        });
        p.set_state(gst::State::Playing).unwrap();
        let mut inputs = Vec::new();
        for _ in 0..2 {
            let src = track::live_source("videotestsrc");
            p.add(&src).unwrap();
            let input = ms.request_pad_simple("sink_%u").unwrap();
            src.static_pad("src").unwrap().link(&input).unwrap();
            src.sync_state_with_parent().unwrap();
            inputs.push(input);
        }
        // Both listed and both exposed: a track is listed (its id) a moment
        // before its pad is added.
        track::wait_until("two tracks", || {
            ms.property::<Vec<String>>("track-ids").len() == 2 && pads.lock().unwrap().len() == 2
        });
        // removeTrack (the application's, on any stream), then a release
        // (the peer's, on a remote stream).
        let ids = ms.property::<Vec<String>>("track-ids");
        let by_id = ms
            .emit_by_name::<Option<gst::Pad>>("get-track-by-id", &[&ids[0]])
            .unwrap()
            .name()
            .to_string();
        let other = if by_id == "video_0" {
            "video_1"
        } else {
            "video_0"
        };
        assert!(ms.emit_by_name::<bool>("remove-track", &[&ids[0]]));
        // The input of the track still in the stream (its source's stream-id).
        let kept = inputs
            .iter()
            .find(|i| {
                i.peer()
                    .and_then(|peer| peer.sticky_event::<gst::event::StreamStart>(0))
                    .is_some_and(|s| s.stream_id() == ids[1])
            })
            .cloned()
            .unwrap();
        ms.release_request_pad(&kept);
        track::wait_until("both pads removed", || ms.src_pads().is_empty());
        let mut got = pads.lock().unwrap().clone();
        got.sort();
        assert_eq!(
            got,
            [
                "added video_0",
                "added video_1",
                "removed video_0",
                "removed video_1"
            ],
            "remote: {remote}"
        );
        let bus = p.bus().unwrap();
        let posted = std::cell::RefCell::new(Vec::new());
        let count = |name: &str| {
            posted
                .borrow()
                .iter()
                .filter(|s: &&gst::Structure| s.name() == name)
                .count()
        };
        if remote {
            // A joining track's signal and message come from its own
            // thread, a moment after its pad: wait for them, then check
            // there is nothing more.
            track::wait_until("the peer's addtrack and removetrack", || {
                posted.borrow_mut().extend(element_messages(&bus));
                events.lock().unwrap().len() >= 3
                    && count("mediastream-addtrack") >= 2
                    && count("mediastream-removetrack") >= 1
            });
        }
        posted.borrow_mut().extend(element_messages(&bus));
        let mut fired = events.lock().unwrap().clone();
        fired.sort();
        let messages = (
            count("mediastream-addtrack"),
            count("mediastream-removetrack"),
        );
        if remote {
            // Both joined by the peer's doing; one left by it (the
            // release), one by the application (remove-track).
            assert_eq!(
                fired,
                [
                    "addtrack video_0".to_owned(),
                    "addtrack video_1".to_owned(),
                    format!("removetrack {other}"),
                ]
            );
            assert_eq!(messages, (2, 1));
        } else {
            assert!(fired.is_empty(), "{fired:?}");
            assert_eq!(messages, (0, 0));
        }
        p.set_state(gst::State::Null).unwrap();
    }
}

/// W3C MediaStream.clone(): the clone of an ended track is ended, and a
/// stream whose tracks all ended is inactive (cf. WPT mediacapture-streams/
/// MediaStream-clone.https.html). Its ended tracks open no device, and
/// their pads have EOS.
#[test]
fn a_clone_of_ended_tracks_has_ended_tracks() {
    use gstmediastream::track::ReadyState;
    init();
    let (p, ms, _) = stream(r#"{"video": true, "audio": true}"#);
    p.set_state(gst::State::Playing).unwrap();
    let of_kind = |ms: &gst::Element, kind: &str| {
        track::children_made_by(ms, "mediastreamsrc")
            .into_iter()
            .find(|t| {
                t.property::<gstmediastream::track::TrackKind>("kind")
                    .as_str()
                    == kind
            })
            .unwrap()
    };
    let state = |e: &gst::Element| e.property_value("ready-state").get::<ReadyState>().unwrap();
    let audio = of_kind(&ms, "audio");
    audio.emit_by_name::<()>("stop", &[]);
    assert_eq!(state(&audio), ReadyState::Ended);

    // One ended track: the clone's is ended, its video live.
    let clone = ms.emit_by_name::<gst::Element>("clone", &[]);
    let (c, sinks) = play_with_appsinks(&clone);
    assert!(clone.property::<bool>("active"), "its video is live");
    assert_eq!(state(&of_kind(&clone, "audio")), ReadyState::Ended);
    assert_eq!(state(&of_kind(&clone, "video")), ReadyState::Live);
    assert!(
        track::children_made_by(&of_kind(&clone, "audio"), "mediastreamfakesrc").is_empty(),
        "the ended clone opened no device"
    );
    for sink in sinks.lock().unwrap().iter() {
        if sink.name() == "sink_audio_0" {
            assert!(pull(sink).is_none() && sink.property::<bool>("eos"));
        } else {
            assert!(pull(sink).is_some(), "the live video flows");
        }
    }
    c.set_state(gst::State::Null).unwrap();

    // Every track ended: the clone is inactive, and stays so.
    of_kind(&ms, "video").emit_by_name::<()>("stop", &[]);
    let clone = ms.emit_by_name::<gst::Element>("clone", &[]);
    let (c, sinks) = play_with_appsinks(&clone);
    assert!(!clone.property::<bool>("active"));
    assert_eq!(clone.property::<Vec<String>>("track-ids").len(), 2);
    let sinks = sinks.lock().unwrap().clone();
    assert_eq!(sinks.len(), 2);
    for sink in &sinks {
        assert!(pull(sink).is_none(), "{} gets no media", sink.name());
        assert!(sink.property::<bool>("eos"), "{} had EOS", sink.name());
    }
    assert!(!clone.property::<bool>("active"));
    c.set_state(gst::State::Null).unwrap();
    p.set_state(gst::State::Null).unwrap();
}

/// `ms` in a pipeline of its own, an appsink on each pad, PLAYING.
fn play_with_appsinks(
    ms: &gst::Element,
) -> (
    gst::Pipeline,
    std::sync::Arc<std::sync::Mutex<Vec<gst::Element>>>,
) {
    let p = gst::Pipeline::new();
    p.add(ms).unwrap();
    let sinks = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (s, weak) = (sinks.clone(), p.downgrade());
    ms.connect_pad_added(move |_, pad| {
        let p = weak.upgrade().unwrap();
        let sink = gst::ElementFactory::make("appsink")
            .name(format!("sink_{}", pad.name()))
            .property("sync", false)
            .build()
            .unwrap();
        track::add_fed_by(&p, &sink, pad);
        s.lock().unwrap().push(sink);
    });
    p.set_state(gst::State::Playing).unwrap();
    (p, sinks)
}

/// W3C: ended tracks are members of a stream, and a stream is active only
/// if a member is live (cf. WPT mediacapture-streams/
/// MediaStream-MediaElement-srcObject.https.html for `active`). A track
/// that ended before it is linked to `sink_%u` joins at once from its
/// sticky events: its id listed, its pad made, EOS on it.
#[test]
fn an_ended_track_linked_in_joins_the_stream() {
    init();
    let p = gst::Pipeline::new();
    let src = gst::ElementFactory::make("mediastreamsrc").build().unwrap();
    let first = gst::ElementFactory::make("fakesink").build().unwrap();
    p.add_many([&src, &first]).unwrap();
    src.link(&first).unwrap();
    // It runs (a buffer), then stops (EOS).
    let (tx, seen) = std::sync::mpsc::channel();
    first.static_pad("sink").unwrap().add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_DOWNSTREAM,
        move |_, info| {
            match &info.data {
                Some(gst::PadProbeData::Buffer(_)) => {
                    let _ = tx.send("buffer");
                }
                Some(gst::PadProbeData::Event(e)) if e.type_() == gst::EventType::Eos => {
                    let _ = tx.send("eos");
                }
                _ => {}
            }
            gst::PadProbeReturn::Ok
        },
    );
    p.set_state(gst::State::Playing).unwrap();
    let next = || seen.recv_timeout(Duration::from_secs(10));
    assert_eq!(next(), Ok("buffer"), "the track ran");
    src.emit_by_name::<()>("stop", &[]);
    while next() == Ok("buffer") {}
    // Stored on the track's pad before it went downstream.
    assert!(
        src.static_pad("src")
            .unwrap()
            .sticky_event::<gst::event::Eos>(0)
            .is_some(),
        "the stopped track's EOS"
    );
    src.unlink(&first);

    let ms = gst::ElementFactory::make("mediastream").build().unwrap();
    p.add(&ms).unwrap();
    ms.sync_state_with_parent().unwrap();
    let sinks = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (s, weak) = (sinks.clone(), p.downgrade());
    ms.connect_pad_added(move |_, pad| {
        if pad.direction() != gst::PadDirection::Src {
            return;
        }
        let p = weak.upgrade().unwrap();
        // Not async: a preroll would make the running pipeline set every
        // child to PLAYING again, also a source added but not yet linked.
        let sink = gst::ElementFactory::make("appsink")
            .property("sync", false)
            .property("async", false)
            .build()
            .unwrap();
        track::add_fed_by(&p, &sink, pad);
        s.lock().unwrap().push(sink);
    });
    let input = ms.request_pad_simple("sink_%u").unwrap();
    src.static_pad("src").unwrap().link(&input).unwrap();
    // Joined at once, ended: listed, with its pad, and not active.
    let id = src.property::<String>("track-id");
    assert_eq!(
        ms.property::<Vec<String>>("track-ids"),
        std::slice::from_ref(&id)
    );
    assert!(
        ms.emit_by_name::<Option<gst::Pad>>("get-track-by-id", &[&id])
            .is_some()
    );
    assert!(!ms.property::<bool>("active"), "its only track ended");
    let sink = sinks.lock().unwrap().first().cloned().expect("its pad");
    assert!(pull(&sink).is_none() && sink.property::<bool>("eos"));
    let start = sink
        .static_pad("sink")
        .unwrap()
        .sticky_event::<gst::event::StreamStart>(0)
        .unwrap();
    assert_eq!(start.stream_id(), id);
    // A live track joins: now the stream is active.
    let live = track::live_source("videotestsrc");
    // Held in NULL until linked: started unlinked, it would end at once
    // (not-linked) and join as an ended track.
    live.set_locked_state(true);
    p.add(&live).unwrap();
    live.link_pads(Some("src"), &ms, Some("sink_%u")).unwrap();
    live.set_locked_state(false);
    live.sync_state_with_parent().unwrap();
    track::wait_until("a live member", || ms.property::<bool>("active"));
    assert_eq!(ms.property::<Vec<String>>("track-ids").len(), 2);
    // Through READY (which clears every pad's events) and back: the ended
    // track's pad has its EOS again.
    p.set_state(gst::State::Ready).unwrap();
    p.set_state(gst::State::Playing).unwrap();
    assert!(pull(&sink).is_none() && sink.property::<bool>("eos"));
    p.set_state(gst::State::Null).unwrap();
}
