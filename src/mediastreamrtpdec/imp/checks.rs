// SPDX-License-Identifier: MPL-2.0

//! The clock checks: mute while no RTP arrives for `mute-timeout`, the
//! peer gone when nothing arrives for `peer-timeout`; each one
//! single-shot clock id at the last arrival plus the timeout.

use super::MediaStreamRtpDec;
use crate::fault::Guarded;
use crate::mediastreamrtpdec::CAT;
use crate::track;
use crate::track::liveness::{Liveness, MuteClock, Verdict};
use gst::prelude::*;
use gst::subclass::prelude::*;

impl MediaStreamRtpDec {
    /// On the streaming thread, for every RTP buffer: the time of the
    /// last packet, and unmute if it was muted.
    pub(super) fn packet(&self) {
        let unmuted = {
            let mut guard = self.state.lock();
            let state = &mut *guard;
            if let Some(peer) = &state.peer {
                state.last_arrival = Some(peer.now());
            }
            let Some(mute) = state.mute.as_mut() else {
                // Not PLAYING: no mute detection to feed.
                return;
            };
            let now = mute.now();
            if let Some(l) = state.liveness.as_mut() {
                l.media(now);
            }
            if state.muted && !state.ended {
                state.muted = false;
                state.dirty = true;
                // The check stopped when it muted: due again from now.
                schedule(mute, now + self.mute_timeout(), &self.obj());
                // A track whose id is unknown (not from webrtcbin) still
                // unmutes; its messages carry an empty id.
                Some(state.track_id.clone().unwrap_or_default())
            } else {
                None
            }
        };
        if let Some(id) = unmuted {
            gst::info!(CAT, imp = self, "packets again: unmuted");
            self.announce(track::TrackEvent::Unmute, &id);
        }
    }

    pub(super) fn mute_timeout(&self) -> gst::ClockTime {
        gst::ClockTime::from_mseconds(*self.mute_timeout.lock() as u64)
    }

    /// On a transport's streaming thread: something arrived from the
    /// peer.
    pub(super) fn arrival(&self) {
        let mut state = self.state.lock();
        if let Some(peer) = &state.peer {
            state.last_arrival = Some(peer.now());
        }
    }

    pub(super) fn peer_timeout(&self) -> Option<gst::ClockTime> {
        match *self.peer_timeout.lock() {
            0 => None,
            ms => Some(gst::ClockTime::from_mseconds(ms as u64)),
        }
    }

    /// PAUSED -> PLAYING: the first mute check mute-timeout from now, the
    /// first peer check peer-timeout from now.
    pub(super) fn start_check(&self) {
        let obj = self.obj();
        let Some(clock) = obj.clock() else {
            gst::warning!(
                CAT,
                imp = self,
                "no clock: the track cannot mute, nor notice a peer that is gone"
            );
            return;
        };
        let timeout = self.mute_timeout();
        let mut mute = MuteClock::new(clock.clone());
        let now = mute.now();
        schedule(&mut mute, now + timeout, &obj);
        {
            let mut state = self.state.lock();
            state.liveness = Some(Liveness::new(timeout, Some(now)));
            state.last_arrival = Some(now);
            state.mute = Some(mute);
            state.peer = Some(MuteClock::new(clock));
        }
        gst::debug!(CAT, imp = self, "mute after {timeout} without packets");
        self.arm_peer();
    }

    /// While PLAYING and not ended: the peer check at the last arrival +
    /// peer-timeout (none with peer-timeout 0).
    pub(super) fn arm_peer(&self) {
        let obj = self.obj();
        let timeout = self.peer_timeout();
        let mut guard = self.state.lock();
        let state = &mut *guard;
        if state.ended {
            return;
        }
        let (Some(peer), Some(timeout)) = (state.peer.as_mut(), timeout) else {
            return;
        };
        let last = state.last_arrival.unwrap_or_else(|| peer.now());
        schedule_peer(peer, last + timeout, &obj);
        gst::debug!(CAT, imp = self, "peer gone after {timeout} of silence");
    }

    pub(super) fn stop_check(&self) {
        // Dropping them unschedules the pending checks.
        let (mute, peer) = {
            let mut state = self.state.lock();
            (state.mute.take(), state.peer.take())
        };
        if mute.is_some() || peer.is_some() {
            gst::debug!(CAT, imp = self, "mute and peer checks stopped");
        }
    }

    /// On the clock's thread, at last arrival + peer-timeout (or later):
    /// the peer is gone if nothing came since; else checks again when it
    /// would be due.
    pub(super) fn check_peer(&self) {
        let obj = self.obj();
        let (silence, track_id) = {
            let mut guard = self.state.lock();
            let state = &mut *guard;
            if state.ended {
                return;
            }
            let Some(peer) = state.peer.as_mut() else {
                return;
            };
            let Some(timeout) = self.peer_timeout() else {
                gst::debug!(CAT, imp = self, "peer-timeout is 0: peer checks stop");
                return;
            };
            let now = peer.now();
            let last = state.last_arrival.unwrap_or(now);
            if now < last + timeout {
                gst::log!(
                    CAT,
                    imp = self,
                    "the peer sent something: next check at {}",
                    last + timeout
                );
                schedule_peer(peer, last + timeout, &obj);
                return;
            }
            (now - last, state.track_id.clone().unwrap_or_default())
        };
        let ms = silence.mseconds();
        gst::warning!(
            CAT,
            imp = self,
            "nothing from the peer for {silence}: it is gone"
        );
        track::post(
            &*obj,
            gst::Structure::builder("mediastream-peer-gone")
                .field("track-id", &track_id)
                .field("silence-ms", ms)
                .field("peer-timeout", *self.peer_timeout.lock())
                .build(),
        );
        gst::element_imp_warning!(
            self,
            gst::ResourceError::Read,
            (
                "Nothing arrived from the WebRTC peer for {} s: the peer is gone, its track {} ends",
                ms / 1000,
                track_id
            ),
            [
                "no RTP, RTCP or DTLS packet from the peer for {ms} ms (peer-timeout); webrtcbin's own connection-state may still say connected: close the connection"
            ]
        );
        self.end(&format!("nothing from the peer for {silence}"));
    }

    /// On the clock's thread, at last packet + mute-timeout (or later):
    /// mutes if no packet came since; else checks again when one would be
    /// due. Muted, it waits for the next packet instead.
    pub(super) fn check_mute(&self) {
        let timeout = self.mute_timeout();
        let obj = self.obj();
        let muted = {
            let mut guard = self.state.lock();
            let state = &mut *guard;
            if state.muted || state.ended {
                return;
            }
            let Some(mute) = state.mute.as_mut() else {
                return;
            };
            let now = mute.now();
            let Some(liveness) = state.liveness.as_mut() else {
                return;
            };
            liveness.set_timeout(timeout);
            if let Verdict::Alive { next } = liveness.check(now) {
                gst::log!(CAT, imp = self, "a packet since: next check at {next}");
                schedule(mute, next, &obj);
                return;
            }
            state.muted = true;
            state.track_id.clone().unwrap_or_default()
        };
        gst::info!(CAT, imp = self, "no packet for {timeout}: muted");
        self.announce(track::TrackEvent::Mute, &muted);
        // Downstream learns it at once: nothing flows to carry it. From the
        // pool, not the clock's thread: the push waits for the pad's stream
        // lock, which a streaming thread blocked downstream (a muxer waiting
        // for another track) may hold for long, and every check of every
        // element on this clock would wait with it.
        self.obj().call_async(|obj| {
            obj.imp().guard(
                || (),
                |imp| {
                    let Some(internal) = imp.srcpad.internal() else {
                        return;
                    };
                    let _lock = internal.stream_lock();
                    let ev = {
                        let state = imp.state.lock();
                        if !state.muted || state.ended {
                            return;
                        }
                        imp.track_state(&state)
                    };
                    if !imp.srcpad.push_event(ev) {
                        gst::debug!(CAT, imp = imp, "the muted state event was not taken");
                    }
                },
            )
        });
    }
}
/// The element's `check_peer` at `at`, on the clock's thread.
pub(super) fn schedule_peer(
    peer: &mut MuteClock,
    at: gst::ClockTime,
    obj: &crate::mediastreamrtpdec::MediaStreamRtpDec,
) {
    let life = obj.imp().gate.lifeline(obj);
    peer.check_at(at, move || {
        life.with(|obj| obj.imp().guard(|| (), |imp| imp.check_peer()));
    });
}

/// The element's `check_mute` at `at`, on the clock's thread.
pub(super) fn schedule(
    mute: &mut MuteClock,
    at: gst::ClockTime,
    obj: &crate::mediastreamrtpdec::MediaStreamRtpDec,
) {
    let life = obj.imp().gate.lifeline(obj);
    mute.check_at(at, move || {
        life.with(|obj| {
            obj.imp().guard(
                || (),
                |imp| {
                    crate::fault::point("mediastreamrtpdec:mute");
                    imp.check_mute()
                },
            )
        });
    });
}
