// SPDX-License-Identifier: MPL-2.0

//! The peer, watched: the webrtcbin the track comes from (the sender's
//! ids from its remote description, its connection state, a new remote
//! description that no longer sends the track) and every packet from the
//! peer counted at its `nicesrc`s.

use super::MediaStreamRtpDec;
use crate::fault::Guarded;
use crate::mediastreamrtpdec::CAT;
use crate::webrtc;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

impl MediaStreamRtpDec {
    /// Linked to a webrtcbin src pad: the ids, and the watch for ended.
    pub(super) fn linked(&self, peer: &gst::Pad) {
        let Some(webrtc) = peer
            .parent_element()
            .filter(|e| e.factory().is_some_and(|f| f.name() == "webrtcbin"))
        else {
            return;
        };
        let stream_id = peer
            .find_property("msid")
            .and_then(|_| peer.property::<Option<String>>("msid"));
        let mid = peer
            .property::<Option<glib::Object>>("transceiver")
            .and_then(|t| t.property::<Option<String>>("mid"));
        let remote =
            webrtc.property::<Option<gst_webrtc::WebRTCSessionDescription>>("remote-description");
        let track_id = remote.as_ref().and_then(|d| {
            let media = webrtc::media_by_mid(d.sdp(), mid.as_deref()?)?;
            webrtc::media_msids(media)
                .into_iter()
                .next()
                .map(|(_, t)| t)
        });
        gst::debug!(
            CAT,
            imp = self,
            "remote track: stream {stream_id:?}, track {track_id:?}, mid {mid:?}"
        );
        let (given_stream, given_track) = self.given_ids.lock().clone();
        {
            let mut state = self.state.lock();
            state.stream_id = given_stream.or(stream_id);
            state.track_id = given_track.or(track_id);
            state.mid = mid;
        }
        self.unwatch();
        let mut ids = Vec::new();
        let life = self.gate.lifeline(&*self.obj());
        // Also turns the keepalive conncheck on: a peer that vanished
        // fails the connection.
        let (id, _) = webrtc::follow_connection(&webrtc, move |_, state| {
            if matches!(
                state,
                gst_webrtc::WebRTCPeerConnectionState::Closed
                    | gst_webrtc::WebRTCPeerConnectionState::Failed
            ) {
                life.with(|obj| {
                    obj.imp()
                        .guard(|| (), |imp| imp.end("the connection closed"))
                });
            }
        });
        ids.push(id);
        // webrtcbin 1.22 does not notify remote-description: a new one
        // shows as a change of signaling-state.
        for prop in ["remote-description", "signaling-state"] {
            let life = self.gate.lifeline(&*self.obj());
            ids.push(webrtc.connect_notify(Some(prop), move |w, _| {
                life.with(|obj| {
                    obj.imp()
                        .guard(|| (), |imp| imp.remote_description_changed(w))
                });
            }));
        }
        // A transport webrtcbin makes later (a renegotiation without
        // bundle) is watched too.
        let life = self.gate.lifeline(&*self.obj());
        ids.push(
            webrtc
                .downcast_ref::<gst::Bin>()
                .unwrap()
                .connect_deep_element_added(move |_, _, element| {
                    life.with(|obj| obj.imp().guard(|| (), |imp| imp.watch_transport(element)));
                }),
        );
        self.state.lock().webrtc = Some((webrtc.clone(), ids));
        for element in webrtc.downcast_ref::<gst::Bin>().unwrap().iterate_recurse() {
            match element {
                Ok(e) => self.watch_transport(&e),
                // The bin changed while iterating: a new element comes
                // through deep-element-added.
                Err(_) => break,
            }
        }
    }

    /// A `nicesrc` inside the webrtcbin watched: everything it delivers
    /// is a sign of life of the peer.
    pub(super) fn watch_transport(&self, element: &gst::Element) {
        if element.factory().is_none_or(|f| f.name() != "nicesrc") {
            return;
        }
        let Some(pad) = element.static_pad("src") else {
            return;
        };
        let mut state = self.state.lock();
        if state.transport_probes.iter().any(|(p, _)| *p == pad) {
            return;
        }
        let life = self.gate.lifeline(&*self.obj());
        let id = pad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
            move |_, _| {
                life.with(|obj| obj.imp().guard(|| (), |imp| imp.arrival()));
                gst::PadProbeReturn::Ok
            },
        );
        if let Some(id) = id {
            gst::debug!(
                CAT,
                imp = self,
                "the peer's packets counted at {}",
                element.name()
            );
            state.transport_probes.push((pad, id));
        }
    }

    pub(super) fn unwatch(&self) {
        let (webrtc, probes) = {
            let mut state = self.state.lock();
            (
                state.webrtc.take(),
                std::mem::take(&mut state.transport_probes),
            )
        };
        if let Some((w, ids)) = webrtc {
            for id in ids {
                w.disconnect(id);
            }
        }
        for (pad, id) in probes {
            pad.remove_probe(id);
        }
    }

    /// A new remote description: ended if it no longer sends our media.
    pub(super) fn remote_description_changed(&self, webrtc: &gst::Element) {
        let Some(mid) = self.state.lock().mid.clone() else {
            return;
        };
        let Some(desc) =
            webrtc.property::<Option<gst_webrtc::WebRTCSessionDescription>>("remote-description")
        else {
            return;
        };
        let sending = match webrtc::media_by_mid(desc.sdp(), &mid) {
            None => false,
            // Port 0 with bundle-only is an m-line in the bundle (RFC
            // 8843; webrtcbin's max-bundle offers after the first have
            // it), not a removed one.
            Some(media) => {
                (media.port() != 0 || media.attributes().any(|a| a.key() == "bundle-only"))
                    && !media
                        .attributes()
                        .any(|a| a.key() == "recvonly" || a.key() == "inactive")
            }
        };
        gst::debug!(
            CAT,
            imp = self,
            "new remote description: mid {mid} sending: {sending}"
        );
        if !sending {
            self.end("the sender removed the track");
        }
    }
}
