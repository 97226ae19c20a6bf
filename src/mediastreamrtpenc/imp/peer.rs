// SPDX-License-Identifier: MPL-2.0

//! The webrtcbin fed: its connection followed (frames pass once
//! connected, from a key frame on), and the identity its sink pad gets
//! (the stream id and the track id, crate::webrtc).

use super::MediaStreamRtpEnc;
use crate::fault::Guarded;
use crate::mediastreamrtpenc::CAT;
use crate::webrtc;
use gst::prelude::*;
use gst::subclass::prelude::*;
use std::sync::atomic::Ordering;

impl MediaStreamRtpEnc {
    pub(super) fn linked(&self, peer: Option<&gst::Pad>) {
        let webrtc = peer.and_then(webrtc::webrtcbin_of);
        self.watch(webrtc);
        self.apply_identity();
    }

    /// Follows `webrtc`'s connection state (or none: frames pass).
    pub(super) fn watch(&self, webrtc: Option<gst::Element>) {
        let old = self.state.lock().webrtc.take();
        if let Some((element, id)) = old {
            element.disconnect(id);
        }
        let Some(webrtc) = webrtc else {
            gst::debug!(CAT, imp = self, "not feeding webrtcbin: frames pass");
            self.connected.store(true, Ordering::Release);
            return;
        };
        gst::debug!(CAT, imp = self, "following {}'s connection", webrtc.name());
        // A peer that vanished fails the connection (in about a minute)
        // instead of leaving it connected for ever: then frames stop.
        let life = self.gate.lifeline(&*self.obj());
        let (id, now) = webrtc::follow_connection(&webrtc, move |_, state| {
            life.with(|obj| obj.imp().guard(|| (), |imp| imp.connection_changed(state)));
        });
        self.state.lock().webrtc = Some((webrtc, id));
        self.connection_changed(now);
    }

    pub(super) fn connection_changed(&self, state: gst_webrtc::WebRTCPeerConnectionState) {
        let connected = state == gst_webrtc::WebRTCPeerConnectionState::Connected;
        let was = self.connected.swap(connected, Ordering::AcqRel);
        gst::debug!(CAT, imp = self, "webrtcbin connection-state {state:?}");
        if connected && !was {
            let (video, pay_sink) = {
                let state = self.state.lock();
                (state.video, state.pay_sink.clone())
            };
            if video {
                self.need_key.store(true, Ordering::Release);
                if let Some(pad) = pay_sink {
                    let ev = gst_video::UpstreamForceKeyUnitEvent::builder()
                        .all_headers(true)
                        .build();
                    let asked = pad.push_event(ev);
                    gst::info!(CAT, imp = self, "connected: key frame asked for ({asked})");
                }
            } else {
                gst::info!(CAT, imp = self, "connected: audio flows");
            }
        } else if !connected && was {
            gst::info!(CAT, imp = self, "not connected ({state:?}): frames dropped");
        }
    }

    /// Gives the webrtcbin sink pad fed its identity, once both ids are
    /// known.
    pub(super) fn apply_identity(&self) {
        let (stream, track) = {
            let state = self.state.lock();
            (state.stream_id.clone(), state.track_id.clone())
        };
        let Some(peer) = self.srcpad.peer() else {
            return;
        };
        if !webrtc::is_webrtcbin_sink_pad(&peer) {
            return;
        }
        let (Some(stream), Some(track)) = (stream, track) else {
            gst::debug!(CAT, imp = self, "identity not known yet");
            return;
        };
        gst::debug!(
            CAT,
            imp = self,
            "{}: msid {stream}, track {track}",
            peer.name()
        );
        if !webrtc::set_sender_identity(&peer, &stream, &track) {
            gst::element_imp_warning!(
                self,
                gst::CoreError::Negotiation,
                (
                    "could not give webrtcbin's pad {} the track id {track}",
                    peer.name()
                )
            );
        }
    }
}
/// The `id` of the `mediastream` upstream of `pad`, through elements with
/// one sink pad (a queue, a tee).
pub(super) fn upstream_stream_id(pad: &gst::Pad) -> Option<String> {
    let start = pad.peer()?.parent_element()?;
    crate::track::upstream_element(start, crate::track::is_mediastream)
        .map(|stream| stream.property::<String>("id"))
}
