// SPDX-License-Identifier: MPL-2.0

//! WHIP: the offer once every track's caps reached webrtcbin (webrtcbin
//! 1.22 writes a sender's SSRC and msid only then, and WHIP has no
//! renegotiation: every track must be in the one offer), with every ICE
//! candidate (simple-whip-server takes no trickled candidates); the
//! answer; the DELETE when the stream ends or the element stops.

use super::MediaStreamWhipSink;
use crate::fault::Guarded;
use crate::mediastreamwhipsink::CAT;
use crate::webrtc::ids::{self, Ids};
use crate::webrtc::signalling;
use crate::webrtc::whip::{self, WhipError};
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_webrtc::WebRTCSDPType;

impl MediaStreamWhipSink {
    /// Publishes once every track has caps at webrtcbin.
    pub(super) fn maybe_offer(&self) {
        let webrtc = {
            let mut state = self.state.lock();
            let ready = !state.tracks.is_empty()
                && state
                    .tracks
                    .iter()
                    .all(|t| t.webrtc_pad.current_caps().is_some());
            if !ready || state.offered {
                return;
            }
            state.offered = true;
            state.webrtc.clone()
        };
        let Some(webrtc) = webrtc else { return };
        gst::debug!(CAT, imp = self, "every track has caps: publishing");
        // Off webrtcbin's (or the streaming) thread: the exchange waits
        // for ICE gathering and the server.
        self.obj().call_async(move |obj| {
            obj.imp().guard(|| (), |imp| imp.publish(&webrtc));
        });
    }

    fn publish(&self, webrtc: &gst::Element) {
        let settings = self.settings.lock().clone();
        let Some(endpoint) = settings.endpoint.filter(|e| !e.is_empty()) else {
            gst::element_imp_error!(
                self,
                gst::ResourceError::Settings,
                ("no WHIP endpoint: set whip-endpoint to the server's endpoint URL")
            );
            return;
        };
        let client = whip::Client::new(&endpoint, settings.token.as_deref());
        // Before the offer, so that it has the data channel's m-line.
        let channel = settings.send_ids.then(|| {
            webrtc.emit_by_name::<Option<gst_webrtc::WebRTCDataChannel>>(
                "create-data-channel",
                &[&ids::LABEL, &None::<gst::Structure>],
            )
        });
        let channel = match channel {
            Some(c) => c,
            None => {
                gst::debug!(CAT, imp = self, "send-ids off: no data channel");
                None
            }
        };
        if channel.is_none() && settings.send_ids {
            gst::warning!(
                CAT,
                imp = self,
                "no data channel (sctpenc missing?): subscribers get the ids the server gives"
            );
        }
        let offer = (|| {
            let offer = signalling::create_offer(webrtc)?;
            signalling::set_description(webrtc, true, &offer)?;
            signalling::wait_gathered(webrtc)?;
            signalling::local_sdp(webrtc).ok_or_else(|| "no local description".to_owned())
        })();
        let offer = match offer {
            Ok(o) => o,
            Err(e) => {
                gst::element_imp_error!(
                    self,
                    gst::CoreError::Negotiation,
                    ("cannot make the WHIP offer: {e}")
                );
                return;
            }
        };
        gst::debug!(CAT, imp = self, "POST to {endpoint}");
        let session = match client.publish(&whip::with_end_of_candidates(&offer)) {
            Ok(s) => s,
            Err(e) => {
                self.post_whip_error(&e);
                return;
            }
        };
        gst::info!(CAT, imp = self, "published: {}", session.resource);
        let applied = signalling::description(WebRTCSDPType::Answer, &session.answer)
            .and_then(|a| signalling::set_description(webrtc, false, &a));
        {
            let mut state = self.state.lock();
            state.client = Some(client);
            state.session = Some(session);
            state.ids_channel = channel;
        }
        self.obj().notify("resource");
        if settings.send_ids {
            self.send_ids_repeatedly();
        }
        if let Err(e) = applied {
            gst::element_imp_error!(
                self,
                gst::CoreError::Negotiation,
                ("the WHIP server's answer was not taken: {e}")
            );
        }
    }

    fn post_whip_error(&self, e: &WhipError) {
        let domain = match e {
            WhipError::Unreachable { .. } => gst::ResourceError::OpenWrite,
            WhipError::Status {
                status: 401 | 403, ..
            } => gst::ResourceError::NotAuthorized,
            WhipError::Status { status: 404, .. } => gst::ResourceError::NotFound,
            WhipError::Status {
                status: 409 | 503, ..
            } => gst::ResourceError::Busy,
            _ => gst::ResourceError::Failed,
        };
        gst::element_imp_error!(self, domain, ("{e}"));
    }

    /// The stream's ids, by the mids of our SDP.
    fn ids(&self) -> Option<Ids> {
        let state = self.state.lock();
        let mut ids = Ids::default();
        for t in &state.tracks {
            let mid = t
                .webrtc_pad
                .property::<Option<gst_webrtc::WebRTCRTPTransceiver>>("transceiver")
                .and_then(|tr| tr.mid())?;
            ids.stream = t.enc.property::<Option<String>>("stream-id")?;
            let track = t.enc.property::<Option<String>>("track-id")?;
            ids.tracks.insert(mid.to_string(), track);
        }
        Some(ids)
    }

    /// The ids on the data channel now and every [`ids::INTERVAL_MS`], from
    /// the system clock's thread, while published.
    fn send_ids_repeatedly(&self) {
        let Some(ids) = self.ids() else {
            gst::warning!(CAT, imp = self, "the stream's ids are not known: not sent");
            return;
        };
        let message = ids.to_message();
        gst::debug!(CAT, imp = self, "ids: {message}");
        let clock = gst::SystemClock::obtain();
        let id = clock.new_periodic_id(
            clock.time(),
            gst::ClockTime::from_mseconds(ids::INTERVAL_MS),
        );
        let life = self.gate.lifeline(&*self.obj());
        let scheduled = id.wait_async(move |_, _, _| {
            life.with(|obj| {
                obj.imp().guard(
                    || (),
                    |imp| {
                        let channel = imp.state.lock().ids_channel.clone();
                        gst::log!(
                            CAT,
                            imp = imp,
                            "ids channel {:?}",
                            channel.as_ref().map(|c| c.ready_state())
                        );
                        let open = channel.filter(|c| {
                            c.ready_state() == gst_webrtc::WebRTCDataChannelState::Open
                        });
                        if let Some(c) = open
                            && let Err(e) = c.send_string_full(Some(&message))
                        {
                            gst::debug!(CAT, imp = imp, "ids not sent: {e}");
                        }
                    },
                )
            });
        });
        if scheduled.is_ok() {
            self.state.lock().ids_clock = Some(id);
        }
    }

    /// Ends the WHIP session (DELETE), if there is one.
    pub(super) fn leave(&self, why: &str) {
        let (client, session) = {
            let mut state = self.state.lock();
            state.offered = false;
            if let Some(id) = state.ids_clock.take() {
                id.unschedule();
            }
            state.ids_channel = None;
            (state.client.take(), state.session.take())
        };
        let (Some(client), Some(session)) = (client, session) else {
            return;
        };
        gst::info!(CAT, imp = self, "DELETE {} ({why})", session.resource);
        if let Err(e) = client.delete(&session) {
            gst::element_imp_warning!(self, gst::ResourceError::Close, ("{e}"));
        }
        self.obj().notify("resource");
    }
}
