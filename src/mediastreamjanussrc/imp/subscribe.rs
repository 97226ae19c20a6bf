// SPDX-License-Identifier: MPL-2.0

//! The subscription: Janus's session and handle, the publisher chosen,
//! its offer given the publisher's ids, our answer; then what Janus says
//! unasked. The tracks end (ended, EOS; no error) when Janus renegotiates
//! every stream to inactive (the publisher left: DELETE, or Janus found
//! its connection dead), or when the session ends (a hangup, the server
//! gone): then the element applies such an offer itself, so both ends
//! look the same downstream. webrtcbin 1.22 cannot answer an inactive
//! offer ("transceiver direction changes are not implemented"): it is
//! applied, never answered, and the handle left.

use super::{MediaStreamJanusSrc, Settings};
use crate::fault::Guarded;
use crate::mediastreamjanussrc::CAT;
use crate::webrtc::janus::{self, Connection, Event, JanusError};
use crate::webrtc::signalling;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_webrtc::WebRTCSDPType;
use std::time::{Duration, Instant};

/// How often the room is asked for its publishers while waiting for one.
const POLL: Duration = Duration::from_millis(250);

/// What went wrong, for the element error.
enum Failure {
    Janus(JanusError),
    WebRtc(String),
    NoPublisher(String),
}

impl MediaStreamJanusSrc {
    /// READY->PAUSED, on the pool: subscribes, or posts the error.
    pub(super) fn subscribe(&self) {
        let settings = self.settings.lock().clone();
        let Some(webrtc) = self.state.lock().as_ref().map(|s| s.webrtc.clone()) else {
            return;
        };
        match self.try_subscribe(&settings, &webrtc) {
            Ok((conn, feed)) => {
                let mut state = self.state.lock();
                match state.as_mut().filter(|s| !s.stopping) {
                    Some(s) => {
                        s.conn = Some(conn);
                        s.feed = feed;
                        drop(state);
                        self.obj().notify("feed-id");
                    }
                    // Stopped meanwhile: the connection closes here.
                    None => drop(state),
                }
            }
            Err(failure) => {
                if self.state.lock().as_ref().is_none_or(|s| s.stopping) {
                    return;
                }
                let (domain, text) = match failure {
                    Failure::Janus(e @ JanusError::Unreachable { .. }) => {
                        (gst::ResourceError::OpenRead, e.to_string())
                    }
                    Failure::Janus(
                        e @ JanusError::VideoRoom {
                            code: 429 | 433, ..
                        },
                    ) => (gst::ResourceError::NotAuthorized, e.to_string()),
                    Failure::Janus(
                        e @ JanusError::VideoRoom {
                            code: 426 | 428, ..
                        },
                    ) => (gst::ResourceError::NotFound, e.to_string()),
                    Failure::Janus(e) => (gst::ResourceError::Failed, e.to_string()),
                    Failure::NoPublisher(t) => (gst::ResourceError::NotFound, t),
                    Failure::WebRtc(t) => (gst::ResourceError::Failed, t),
                };
                gst::element_imp_error!(
                    self,
                    domain,
                    ("{text}"),
                    [
                        "Janus {} room {}",
                        crate::excerpt::excerpt(&settings.url),
                        settings.room
                    ]
                );
            }
        }
    }

    fn try_subscribe(
        &self,
        settings: &Settings,
        webrtc: &gst::Element,
    ) -> Result<(Connection, u64), Failure> {
        let life = self.gate.lifeline(&*self.obj());
        let conn = Connection::open(&settings.url, move |event| {
            life.with(|obj| obj.imp().guard(|| (), |imp| imp.janus_event(event)));
        })
        .map_err(Failure::Janus)?;
        gst::debug!(CAT, imp = self, "Janus session {}", conn.session());
        let feed = self.choose_feed(&conn, settings)?;
        let (data, offer) = conn
            .subscribe(settings.room, feed, settings.pin.as_deref())
            .map_err(Failure::Janus)?;
        let streams = janus::streams_of(&data);
        let display = data["streams"]
            .as_array()
            .and_then(|s| s.iter().find_map(|s| s["feed_display"].as_str()))
            .unwrap_or_default()
            .to_owned();
        gst::info!(
            CAT,
            imp = self,
            "subscribed to feed {feed} ({display}): {streams:?}"
        );
        // The publisher's ids as far as Janus carries them (docs/webrtc.md):
        // the stream is the feed's display name (its feed id without one),
        // a track its publisher-side mid.
        let stream_id = if display.is_empty() {
            feed.to_string()
        } else {
            display
        };
        let offer = janus::offer_with_ids(&offer, |mid| {
            let (_, feed_mid, _, _) = streams.iter().find(|(m, ..)| m == mid)?;
            Some((
                stream_id.clone(),
                feed_mid.clone().unwrap_or_else(|| mid.to_owned()),
            ))
        });
        {
            let mut heard = self.ids.heard.lock();
            heard.mids = streams
                .iter()
                .filter_map(|(ours, theirs, ..)| Some((ours.clone(), theirs.clone()?)))
                .collect();
            heard.data = streams.iter().any(|(_, _, kind, _)| kind == "data");
        }
        gst::log!(CAT, imp = self, "offer:\n{offer}");
        let has_data = self.ids.heard.lock().data;
        let answer =
            answer(webrtc, &offer, has_data.then_some(&self.ids)).map_err(Failure::WebRtc)?;
        gst::log!(CAT, imp = self, "answer:\n{answer}");
        conn.start(&answer).map_err(Failure::Janus)?;
        gst::info!(CAT, imp = self, "started: feed {feed}");
        Ok((conn, feed))
    }

    /// The feed to subscribe to: `feed`, else the publisher named
    /// `display`, else the first; waiting up to `publisher-timeout` for it.
    fn choose_feed(&self, conn: &Connection, settings: &Settings) -> Result<u64, Failure> {
        if settings.feed != 0 {
            return Ok(settings.feed);
        }
        let deadline = Instant::now() + Duration::from_millis(settings.publisher_timeout_ms.into());
        let clock = gst::SystemClock::obtain();
        loop {
            let publishers = conn.publishers(settings.room).map_err(Failure::Janus)?;
            let found = publishers.iter().find(|(_, d)| {
                settings
                    .display
                    .as_ref()
                    .is_none_or(|want| want.is_empty() || want == d)
            });
            if let Some((feed, display)) = found {
                gst::debug!(CAT, imp = self, "publisher {feed} ({display})");
                return Ok(*feed);
            }
            if Instant::now() >= deadline || self.state.lock().as_ref().is_none_or(|s| s.stopping) {
                let who = match &settings.display {
                    Some(d) if !d.is_empty() => {
                        format!("no publisher named '{}'", crate::excerpt::excerpt(d))
                    }
                    _ => "no publisher".to_owned(),
                };
                let seen: Vec<&str> = publishers.iter().map(|(_, d)| d.as_str()).collect();
                return Err(Failure::NoPublisher(format!(
                    "{who} in room {} within {} ms (publishing: {seen:?})",
                    settings.room, settings.publisher_timeout_ms
                )));
            }
            // A clock wait, not a sleep: the pool thread waits on the
            // system clock.
            let _ = clock
                .new_single_shot_id(
                    clock.time() + gst::ClockTime::from_nseconds(POLL.as_nanos() as u64),
                )
                .wait();
        }
    }

    /// What Janus says unasked, on its connection's thread.
    fn janus_event(&self, event: Event) {
        gst::debug!(CAT, imp = self, "Janus: {event:?}");
        match event {
            Event::Plugin { data, jsep } => {
                if data["videoroom"] != "updated" {
                    return;
                }
                // The data channel's stream may stay active: the media decide.
                let active = janus::streams_of(&data)
                    .iter()
                    .any(|(_, _, kind, active)| *active && (kind == "video" || kind == "audio"));
                match jsep.as_ref().and_then(|j| j["sdp"].as_str()) {
                    Some(sdp) if !active => self.end_tracks(Some(sdp), "the publisher left"),
                    Some(_) => gst::warning!(
                        CAT,
                        imp = self,
                        "Janus renegotiates to new media: webrtcbin 1.22 cannot take it; the tracks stay as they are"
                    ),
                    None => {}
                }
            }
            Event::Hangup { reason } => self.end_tracks(None, &format!("Janus hung up ({reason})")),
            Event::Closed { detail } => self.end_tracks(None, &detail),
            Event::WebrtcUp | Event::Media { .. } => {}
        }
    }

    /// Ends every track the way a browser sees it: an offer with every
    /// stream inactive (Janus's own, or made from the current one).
    fn end_tracks(&self, offer: Option<&str>, why: &str) {
        let webrtc = {
            let mut state = self.state.lock();
            let Some(s) = state.as_mut().filter(|s| !s.stopping && !s.ended) else {
                return;
            };
            s.ended = true;
            s.webrtc.clone()
        };
        gst::info!(CAT, imp = self, "the tracks end: {why}");
        let sdp = match offer {
            Some(o) => o.to_owned(),
            None => {
                let Some(current) = webrtc
                    .property::<Option<gst_webrtc::WebRTCSessionDescription>>("remote-description")
                    .and_then(|d| d.sdp().as_text().ok())
                else {
                    return;
                };
                janus::all_inactive(&current)
            }
        };
        let applied = signalling::description(WebRTCSDPType::Offer, &sdp)
            .and_then(|d| signalling::set_description(&webrtc, false, &d));
        if let Err(e) = applied {
            gst::warning!(CAT, imp = self, "the inactive offer was not applied: {e}");
        }
    }

    /// A track muted or unmuted: with every track muted, the publisher is
    /// taken for gone after `gone-timeout` (a clock id on the system clock:
    /// the pipeline's may be paused), unless a track unmutes first.
    pub(super) fn track_muted(&self, id: String, muted: bool) {
        let timeout = self.settings.lock().gone_timeout_ms;
        let stream = self.state.lock().as_ref().and_then(|s| s.stream.clone());
        let tracks = stream.map_or(0, |s| s.property::<Vec<String>>("track-ids").len());
        gst::debug!(
            CAT,
            imp = self,
            "track {id} muted: {muted} ({tracks} tracks)"
        );
        let mut state = self.state.lock();
        let Some(s) = state.as_mut() else { return };
        s.muted.retain(|m| *m != id);
        if muted {
            s.muted.push(id);
        }
        let all = tracks > 0 && s.muted.len() >= tracks && !s.ended && !s.stopping;
        match (all && timeout > 0, s.gone.is_some()) {
            (true, false) => {
                let clock = gst::SystemClock::obtain();
                let at = clock.time() + gst::ClockTime::from_mseconds(timeout.into());
                let id = clock.new_single_shot_id(at);
                let life = self.gate.lifeline(&*self.obj());
                // GStreamer also calls back an id that was unscheduled (a
                // track unmuted, the element stops): only a due one that is
                // still pending counts.
                let scheduled = id.wait_async(move |clock, _, id| {
                    if clock.time() < at {
                        return;
                    }
                    life.with(|obj| obj.imp().guard(|| (), |imp| imp.gone_due(id, timeout)));
                });
                if scheduled.is_ok() {
                    gst::debug!(CAT, imp = self, "every track muted: gone in {timeout} ms");
                    s.gone = Some(id);
                }
            }
            (false, true) => {
                if let Some(id) = s.gone.take() {
                    id.unschedule();
                }
            }
            _ => {}
        }
    }

    /// `gone-timeout` passed with every track muted: the publisher is gone,
    /// if `id` is still the pending check.
    fn gone_due(&self, id: &gst::ClockId, timeout: u32) {
        let due = {
            let mut state = self.state.lock();
            let pending = state.as_mut().and_then(|s| s.gone.take_if(|g| &**g == id));
            pending.is_some()
        };
        if due {
            self.end_tracks(
                None,
                &format!("no packet from the publisher for {timeout} ms"),
            );
        }
    }

    /// PAUSED->READY: leaves the room and closes the session.
    pub(super) fn unsubscribe(&self) {
        {
            let mut heard = self.ids.heard.lock();
            heard.closed = true;
            self.ids.changed.notify_all();
        }
        let conn = {
            let mut state = self.state.lock();
            let Some(s) = state.as_mut() else { return };
            s.stopping = true;
            if let Some(id) = s.gone.take() {
                id.unschedule();
            }
            s.conn.take()
        };
        if let Some(mut conn) = conn {
            gst::debug!(CAT, imp = self, "leaving");
            conn.close();
        }
    }
}

/// Our answer to `offer`, with its candidates (Janus takes them in the
/// SDP; no trickle).
/// With `ids`, a data channel of ours too: Janus forwards a publisher's
/// data to a subscriber only once that subscriber opened a channel
/// (janus.js opens one for the same reason); the ids come on it.
fn answer(
    webrtc: &gst::Element,
    offer: &str,
    ids: Option<&std::sync::Arc<super::IdsSlot>>,
) -> Result<String, String> {
    let offer = signalling::description(WebRTCSDPType::Offer, offer)?;
    signalling::set_description(webrtc, false, &offer)?;
    if let Some(slot) = ids {
        let channel = webrtc.emit_by_name::<Option<gst_webrtc::WebRTCDataChannel>>(
            "create-data-channel",
            &[&crate::webrtc::ids::LABEL, &None::<gst::Structure>],
        );
        if let Some(c) = channel {
            super::listen_for_ids(slot, &c);
        }
    }
    let answer = signalling::create_answer(webrtc)?;
    signalling::set_description(webrtc, true, &answer)?;
    signalling::wait_gathered(webrtc)?;
    signalling::local_sdp(webrtc).ok_or_else(|| "webrtcbin has no local description".into())
}
