// SPDX-License-Identifier: MPL-2.0

//! MediaStream identity over `webrtcbin` (docs/webrtc.md).
//!
//! A browser's `ontrack` reads a track's stream id and track id from the
//! SDP's msid. GStreamer 1.22's `webrtcbin` writes no `a=msid` line; for
//! each sending media it writes only
//! `a=ssrc:N msid:<sink pad's msid property, else the cname> <transceiver name>`
//! (and only once caps with an `ssrc` reached the sink pad). So the one
//! place that gives a sender its identity, [`set_sender_identity`], sets the
//! sink pad's `msid` to the MediaStream's id and names the pad's transceiver
//! after the track id. Renaming a transceiver leans on how webrtcbin builds
//! that line; `tests/webrtc_sdp.rs` checks the SDP webrtcbin writes, so a
//! GStreamer that changes it fails the tests instead of the browser.

use gst::glib;
use gst::prelude::*;
use std::sync::LazyLock;

pub mod ids;
pub mod janus;
pub mod signalling;
pub mod whip;

pub(crate) static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "mediastreamwebrtc",
        gst::DebugColorFlags::empty(),
        Some("MediaStream identity over webrtcbin"),
    )
});

/// Whether `pad` is a sink pad of a `webrtcbin`.
pub fn is_webrtcbin_sink_pad(pad: &gst::Pad) -> bool {
    pad.direction() == gst::PadDirection::Sink
        && pad
            .parent_element()
            .and_then(|e| e.factory())
            .is_some_and(|f| f.name() == "webrtcbin")
}

/// The `webrtcbin` whose sink pad `pad` is.
pub fn webrtcbin_of(pad: &gst::Pad) -> Option<gst::Element> {
    is_webrtcbin_sink_pad(pad)
        .then(|| pad.parent_element())
        .flatten()
}

/// Gives the track sent through `pad` (a `webrtcbin` sink pad) its
/// MediaStream identity, so that the remote peer's `ontrack` sees
/// `event.streams[0].id == stream_id` and `event.track.id == track_id`:
/// the pad's `msid` is the stream id, its transceiver is named after the
/// track id. Call it before the offer or answer is created. Returns false
/// (and logs why) when `pad` is not a `webrtcbin` sink pad or its
/// transceiver cannot be renamed.
pub fn set_sender_identity(pad: &gst::Pad, stream_id: &str, track_id: &str) -> bool {
    if !is_webrtcbin_sink_pad(pad) {
        gst::warning!(CAT, obj = pad, "not a webrtcbin sink pad: identity not set");
        return false;
    }
    if pad.find_property("msid").is_some() && !stream_id.is_empty() {
        pad.set_property("msid", stream_id);
    }
    if track_id.is_empty() {
        return true;
    }
    let Some(trans) = pad.property::<Option<gst::Object>>("transceiver") else {
        gst::warning!(CAT, obj = pad, "the pad has no transceiver yet");
        return false;
    };
    if trans.name() == track_id {
        return true;
    }
    // A GstObject cannot be renamed while it has a parent: take it out of
    // webrtcbin (holding our own reference), rename it, put it back.
    // webrtcbin keeps its transceivers in its own list, so nothing else
    // sees the object without a parent.
    let parent = trans.parent();
    if let Some(parent) = &parent {
        trans.unparent();
        trans.set_property("name", track_id);
        // SAFETY: `trans` is alive (we hold a reference) and gets back the
        // parent it had a moment ago, which webrtcbin set at its creation.
        match unsafe { trans.set_parent(parent) } {
            // The reference set_parent took is the parent's, as before:
            // not ours to drop.
            Ok(parents) => std::mem::forget(parents),
            Err(_) => {
                gst::error!(
                    CAT,
                    obj = pad,
                    "could not give the transceiver back to webrtcbin"
                );
                return false;
            }
        }
    } else {
        trans.set_property("name", track_id);
    }
    gst::debug!(
        CAT,
        obj = pad,
        "msid {stream_id}, transceiver named {track_id}"
    );
    trans.name() == track_id
}

/// Turns on `keepalive-conncheck` of the `NiceAgent` under `webrtc`
/// (`ice-agent` → `agent`): its keepalives are then STUN requests that
/// must be answered, so a peer that vanished fails ICE and `webrtcbin`'s
/// `connection-state` goes `failed` (measured: 66 s after Chromium was
/// SIGKILLed, 47 s between two webrtcbin; still connected 135 s after
/// with the default indications). Slower than
/// `mediastreamrtpdec`'s `peer-timeout`, but it tells `webrtcbin` itself,
/// and so the sending side (`mediastreamrtpenc` stops sending). RFC 7675
/// `consent-freshness` would be the standard way; it is construct-only on
/// the agent, which `webrtcbin` 1.22 creates with it off. Returns whether
/// it was set.
pub fn keepalive_conncheck(webrtc: &gst::Element) -> bool {
    let agent = webrtc
        .find_property("ice-agent")
        .and_then(|_| webrtc.property::<Option<gst::glib::Object>>("ice-agent"))
        .and_then(|ice| {
            ice.find_property("agent")
                .and_then(|_| ice.property::<Option<gst::glib::Object>>("agent"))
        });
    let Some(agent) = agent.filter(|a| a.find_property("keepalive-conncheck").is_some()) else {
        gst::debug!(CAT, obj = webrtc, "no NiceAgent with keepalive-conncheck");
        return false;
    };
    if !agent.property::<bool>("keepalive-conncheck") {
        agent.set_property("keepalive-conncheck", true);
        gst::debug!(CAT, obj = webrtc, "keepalive-conncheck on");
    }
    true
}

/// Follows `webrtc`'s `connection-state`, for an element feeding it or fed
/// by it: `changed` runs with each new state, on whichever thread
/// webrtcbin notifies from, and the keepalive conncheck is turned on
/// ([`keepalive_conncheck`]) so that a peer that vanished fails the
/// connection. Returns the handler, to disconnect, and the state now.
pub(crate) fn follow_connection(
    webrtc: &gst::Element,
    changed: impl Fn(&gst::Element, gst_webrtc::WebRTCPeerConnectionState) + Send + Sync + 'static,
) -> (
    gst::glib::SignalHandlerId,
    gst_webrtc::WebRTCPeerConnectionState,
) {
    keepalive_conncheck(webrtc);
    let id = webrtc.connect_notify(Some("connection-state"), move |w, _| {
        changed(w, connection_state(w))
    });
    (id, connection_state(webrtc))
}

fn connection_state(webrtc: &gst::Element) -> gst_webrtc::WebRTCPeerConnectionState {
    webrtc.property::<gst_webrtc::WebRTCPeerConnectionState>("connection-state")
}

/// The `(stream id, track id)` pairs of an SDP media section as a
/// browser reads them: `a=msid:` when present, else the ssrc-level
/// `a=ssrc:N msid:` (what webrtcbin 1.22 writes).
pub fn media_msids(media: &gst_sdp::SDPMediaRef) -> Vec<(String, String)> {
    let split = |v: &str| {
        let mut it = v.split_whitespace();
        let stream = it.next()?.to_string();
        let track = it.next().unwrap_or_default().to_string();
        Some((stream, track))
    };
    let direct: Vec<_> = media
        .attributes()
        .filter(|a| a.key() == "msid")
        .filter_map(|a| a.value().and_then(split))
        .collect();
    if !direct.is_empty() {
        return direct;
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for a in media.attributes().filter(|a| a.key() == "ssrc") {
        let Some(v) = a.value() else { continue };
        let Some((_ssrc, rest)) = v.split_once(' ') else {
            continue;
        };
        if let Some(msid) = rest.strip_prefix("msid:")
            && let Some(pair) = split(msid)
            && !out.contains(&pair)
        {
            out.push(pair);
        }
    }
    out
}

/// The media section of `sdp` whose `a=mid` is `mid`.
pub fn media_by_mid<'a>(
    sdp: &'a gst_sdp::SDPMessageRef,
    mid: &str,
) -> Option<&'a gst_sdp::SDPMediaRef> {
    sdp.medias().find(|m| m.attribute_val("mid") == Some(mid))
}

/// Sends `stream`'s tracks (a `mediastream`, or any element whose src
/// pads carry tracks) to the peer: each src pad it adds goes through a new
/// `mediastreamrtpenc` into `webrtc`, in `webrtc`'s bin, so the peer's
/// `ontrack` sees the track's and the stream's ids. Failures are logged.
pub fn send_stream(stream: &gst::Element, webrtc: &gst::Element) {
    let webrtc = webrtc.downgrade();
    stream.connect_pad_added(move |_, pad| {
        let (Some(webrtc), gst::PadDirection::Src) = (webrtc.upgrade(), pad.direction()) else {
            return;
        };
        if let Err(e) = send_track(&webrtc, pad) {
            gst::error!(CAT, obj = pad, "cannot send the track: {e}");
        }
    });
}

fn send_track(webrtc: &gst::Element, pad: &gst::Pad) -> Result<(), String> {
    let bin = webrtc
        .parent()
        .and_downcast::<gst::Bin>()
        .ok_or("webrtcbin is in no bin")?;
    let enc = gst::ElementFactory::make("mediastreamrtpenc")
        .build()
        .map_err(|e| e.to_string())?;
    bin.add(&enc).map_err(|e| e.to_string())?;
    let linked = pad
        .link(&enc.static_pad("sink").unwrap())
        .map_err(|e| format!("{e:?}"))
        .and_then(|_| enc.link(webrtc).map_err(|e| e.to_string()))
        .and_then(|()| enc.sync_state_with_parent().map_err(|e| e.to_string()));
    if linked.is_err() {
        crate::plumbing::discard(*CAT, &bin, &enc);
    }
    gst::debug!(CAT, obj = pad, "sending through {}", enc.name());
    linked
}

/// A renegotiation switched a transceiver's codec: `webrtcbin` 1.22 gives
/// the new payload type a pad of its own. The track goes on (as in a
/// browser): its decoder now takes the new pad, and decodes the new codec
/// (mediastreamrtpdec rebuilds its chain on the new caps); what still
/// comes on the old pad is dropped there. Called on the streaming thread
/// that feeds both pads, so nothing is in flight on the old one.
fn switch_codec(pad: &gst::Pad, dec: &gst::Element) {
    let sink = dec.static_pad("sink").unwrap();
    if let Some(old) = sink.peer() {
        let _ = old.unlink(&sink);
        old.add_probe(gst::PadProbeType::DATA_DOWNSTREAM, |_, info| {
            crate::fault::drop_item(info)
        });
    }
    match pad.link(&sink) {
        Ok(_) => gst::info!(
            CAT,
            obj = pad,
            "the codec changed: {} decodes it",
            dec.name()
        ),
        Err(e) => gst::error!(CAT, obj = pad, "cannot take the new codec's pad: {e:?}"),
    }
}

/// Receives the peer's MediaStreams: each `webrtcbin` src pad becomes a
/// track (`mediastreamrtpdec`: decoded, the sender's track id, muted while
/// no packets arrive, ended with EOS when removed, when the connection
/// closes, or when nothing arrived from the peer for its `peer-timeout`)
/// of a remote `mediastream` whose `id` is the sender's stream id (the
/// pad's `msid`),
/// one `mediastream` per remote stream, added to `webrtc`'s bin.
/// `on_stream` is called with each new `mediastream` before it starts,
/// where an application connects its `pad-added` (the tracks' pads
/// `video_%u` / `audio_%u` come as on any `mediastream`).
pub fn receive_streams<F>(webrtc: &gst::Element, on_stream: F)
where
    F: Fn(&gst::Element) + Send + Sync + 'static,
{
    receive_streams_named(webrtc, |_| None, on_stream)
}

/// [`receive_streams`] where the signalling carries the sender's ids
/// itself (an SFU that rewrites the msid: docs/webrtc.md): `name` gives a
/// new webrtcbin src pad its `(stream id, track id)`, or `None` for the
/// SDP's msid. Called on the streaming thread that adds the pad, before
/// its track exists: it may wait there for ids on their way.
pub fn receive_streams_named<N, F>(webrtc: &gst::Element, name: N, on_stream: F)
where
    N: Fn(&gst::Pad) -> Option<(String, String)> + Send + Sync + 'static,
    F: Fn(&gst::Element) + Send + Sync + 'static,
{
    let streams: parking_lot::Mutex<Vec<gst::Element>> = Default::default();
    // The decoder of each transceiver, for a pad that replaces its first.
    let decoders: parking_lot::Mutex<
        Vec<(
            glib::WeakRef<gst_webrtc::WebRTCRTPTransceiver>,
            gst::Element,
        )>,
    > = Default::default();
    webrtc.connect_pad_added(move |webrtc, pad| {
        if pad.direction() != gst::PadDirection::Src {
            return;
        }
        let transceiver = pad
            .find_property("transceiver")
            .and_then(|_| pad.property::<Option<gst_webrtc::WebRTCRTPTransceiver>>("transceiver"));
        if let Some(t) = &transceiver {
            let mut decoders = decoders.lock();
            decoders.retain(|(t, _)| t.upgrade().is_some());
            let known = decoders
                .iter()
                .find(|(w, _)| w.upgrade().as_ref() == Some(t))
                .map(|(_, d)| d.clone());
            drop(decoders);
            if let Some(dec) = known {
                switch_codec(pad, &dec);
                return;
            }
        }
        let Some(bin) = webrtc.parent().and_downcast::<gst::Bin>() else {
            gst::warning!(
                CAT,
                obj = webrtc,
                "webrtcbin is in no bin: no remote stream"
            );
            return;
        };
        let named = name(pad);
        let msid = match &named {
            Some((stream, _)) => stream.clone(),
            None => pad
                .find_property("msid")
                .and_then(|_| pad.property::<Option<String>>("msid"))
                .unwrap_or_default(),
        };
        // One pad at a time: webrtcbin adds a stream's pads from several
        // threads, and the second must find the stream in the bin, started
        // and seen by `on_stream`.
        let mut streams = streams.lock();
        let found = streams
            .iter()
            .find(|s| s.property::<String>("id") == msid)
            .cloned();
        let (stream, new) = match found {
            Some(s) => (s, false),
            None => {
                // Its tracks come and go by the peer's doing: addtrack.
                let mut b = gst::ElementFactory::make("mediastream").property("remote", true);
                if !msid.is_empty() {
                    b = b.property("id", &msid);
                }
                let Ok(s) = b.build() else {
                    gst::error!(CAT, obj = webrtc, "no mediastream element");
                    return;
                };
                streams.push(s.clone());
                (s, true)
            }
        };
        let mut dec = gst::ElementFactory::make("mediastreamrtpdec");
        if let Some((stream, track)) = &named {
            dec = dec
                .property("stream-id", stream)
                .property("track-id", track);
        }
        let Ok(dec) = dec.build() else {
            gst::error!(CAT, obj = webrtc, "no mediastreamrtpdec element");
            return;
        };
        if new {
            if let Err(e) = bin.add(&stream) {
                gst::error!(
                    CAT,
                    obj = webrtc,
                    "cannot add the remote stream {msid}: {e}"
                );
                return;
            }
            on_stream(&stream);
        }
        if let Err(e) = bin.add(&dec) {
            gst::error!(
                CAT,
                obj = webrtc,
                "cannot add the remote track's decoder: {e}"
            );
            return;
        }
        let linked = pad.link(&dec.static_pad("sink").unwrap()).is_ok()
            && stream
                .request_pad_simple("sink_%u")
                .is_some_and(|sink| dec.static_pad("src").unwrap().link(&sink).is_ok());
        if !linked {
            gst::error!(CAT, obj = pad, "could not link the remote track");
        }
        if let Some(t) = &transceiver {
            decoders.lock().push((t.downgrade(), dec.clone()));
        }
        if new && stream.sync_state_with_parent().is_err() {
            gst::warning!(CAT, obj = webrtc, "the remote stream {msid} did not start");
        }
        if dec.sync_state_with_parent().is_err() {
            gst::warning!(
                CAT,
                obj = webrtc,
                "the remote track's decoder did not start"
            );
        }
        gst::debug!(CAT, obj = pad, "remote track of stream {msid}");
    });
}
