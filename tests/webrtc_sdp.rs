// SPDX-License-Identifier: MPL-2.0

//! What webrtcbin writes for a sender's MediaStream identity. The plugin
//! gives a webrtcbin sink pad its identity by its `msid` property and its
//! transceiver's name (src/webrtc/mod.rs), because GStreamer 1.22 writes
//! only `a=ssrc:N msid:<msid> <transceiver name>`. If a GStreamer version
//! writes the SDP otherwise, this test fails here rather than in a browser.

#[path = "webrtc_common/mod.rs"]
mod webrtc_common;

use gst::prelude::*;
use webrtc_common as wc;

#[test]
fn offer_carries_the_stream_id_and_each_track_id() {
    if !wc::runnable(wc::missing_gstreamer()) {
        return;
    }
    let (p, ms, webrtc) = wc::sender(r#"{"video":true,"audio":true}"#);
    p.set_state(gst::State::Playing).unwrap();
    wc::wait_for_sink_caps(&webrtc, 2);
    let offer = wc::create_offer(&webrtc);
    let stream_id = ms.property::<String>("id");
    let track_ids = ms.property::<Vec<String>>("track-ids");
    assert_eq!(track_ids.len(), 2);
    let sdp = offer.sdp();
    let text = sdp.as_text().unwrap();
    let mut seen = Vec::new();
    for media in sdp.medias() {
        let msids = gstmediastream::webrtc::media_msids(media);
        assert_eq!(msids.len(), 1, "one msid per media in\n{text}");
        let (stream, track) = &msids[0];
        assert_eq!(stream, &stream_id, "stream id in\n{text}");
        assert!(track_ids.contains(track), "track id {track} in\n{text}");
        seen.push(track.clone());
    }
    seen.sort();
    let mut want = track_ids.clone();
    want.sort();
    assert_eq!(seen, want, "every track once in\n{text}");
    // The form 1.22 writes, which the identity relies on: only the
    // ssrc-level msid. A new `a=msid:` line (a newer webrtcbin) must carry
    // the same ids, which media_msids prefers, as Chromium does.
    for media in sdp.medias() {
        let direct = media.attributes().any(|a| a.key() == "msid");
        let ssrc_level = media
            .attributes()
            .any(|a| a.key() == "ssrc" && a.value().is_some_and(|v| v.contains(" msid:")));
        assert!(
            ssrc_level || direct,
            "webrtcbin wrote no msid at all: the identity needs another way\n{text}"
        );
        if gst::version() < (1, 24, 0, 0) {
            assert!(
                ssrc_level && !direct,
                "GStreamer 1.22's SDP form changed:\n{text}"
            );
        }
    }
    p.set_state(gst::State::Null).unwrap();
}

#[test]
fn set_sender_identity_names_the_transceiver() {
    if !wc::runnable(wc::missing_gstreamer()) {
        return;
    }
    wc::init();
    let webrtc = gst::ElementFactory::make("webrtcbin").build().unwrap();
    let pad = webrtc.request_pad_simple("sink_%u").unwrap();
    assert!(gstmediastream::webrtc::set_sender_identity(
        &pad, "stream-a", "track-b"
    ));
    assert_eq!(pad.property::<String>("msid"), "stream-a");
    let trans = pad.property::<gst::Object>("transceiver");
    assert_eq!(trans.name(), "track-b");
    assert_eq!(
        trans.parent().as_ref(),
        Some(webrtc.upcast_ref::<gst::Object>())
    );
    // Renaming again (a renegotiation) keeps it whole.
    assert!(gstmediastream::webrtc::set_sender_identity(
        &pad, "stream-a", "track-c"
    ));
    assert_eq!(trans.name(), "track-c");
    let other = gst::ElementFactory::make("identity").build().unwrap();
    assert!(!gstmediastream::webrtc::set_sender_identity(
        &other.static_pad("sink").unwrap(),
        "s",
        "t"
    ));
}
