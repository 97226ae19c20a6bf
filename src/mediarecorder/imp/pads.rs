// SPDX-License-Identifier: MPL-2.0

//! The recorder's tracks: a request pad per track, MediaRecorder(stream)
//! linking a `mediastream`'s pads (again after the stream's NULL cycle),
//! and what each pad's probe lets through to the recording.

use super::{MediaRecorder, Track};
use crate::constraints::ConstraintError;
use crate::fault::Guarded;
use crate::mediarecorder::CAT;
use crate::mediarecorder::encode;
use crate::track::TrackKind;
use gst::prelude::*;
use gst::subclass::prelude::*;

impl MediaRecorder {
    pub(super) fn new_track_pad(
        &self,
        templ: &gst::PadTemplate,
        name: Option<&str>,
    ) -> Option<gst::Pad> {
        let kind = if templ.name_template().starts_with("audio") {
            TrackKind::Audio
        } else {
            TrackKind::Video
        };
        let obj = self.obj();
        let name = crate::plumbing::track_pad_name(obj.upcast_ref(), templ, name);
        let pad = gst::GhostPad::builder_from_template(templ)
            .name(name.as_str())
            .build();
        let weak = obj.downgrade();
        pad.add_probe(
            gst::PadProbeType::BUFFER
                | gst::PadProbeType::BUFFER_LIST
                | gst::PadProbeType::EVENT_DOWNSTREAM
                | gst::PadProbeType::QUERY_DOWNSTREAM,
            move |pad, info| {
                let Some(obj) = weak.upgrade() else {
                    return gst::PadProbeReturn::Ok;
                };
                let pad = pad.downcast_ref::<gst::GhostPad>().unwrap();
                let verdict = obj.imp().guard(
                    || None,
                    |imp| {
                        crate::fault::point("mediarecorder:probe");
                        Some(imp.track_probe(pad, info))
                    },
                );
                match verdict {
                    Some(r) => r,
                    None => crate::fault::drop_item(info),
                }
            },
        );
        let weak = obj.downgrade();
        pad.connect_unlinked(move |pad, peer| {
            if let Some(obj) = weak.upgrade() {
                obj.imp().guard(
                    || (),
                    |imp| {
                        imp.track_left(pad.upcast_ref(), "unlinked");
                        imp.remember_stream_pad(pad, peer);
                    },
                );
            }
        });
        self.tracks.lock().push(Track {
            pad: pad.clone(),
            kind,
            ended: false,
            segment: None,
            was: None,
        });
        pad.set_active(true).ok()?;
        obj.add_pad(&pad).ok()?;
        gst::debug!(CAT, imp = self, "track pad {name}");
        let recording = self.state.lock().as_ref().is_some_and(|r| !r.stopping);
        if recording {
            self.fail(ConstraintError::invalid_modification(format!(
                "a track was added to the stream while recording (pad {name})"
            )));
        }
        Some(pad.upcast())
    }

    /// MediaRecorder(stream): links the stream's src pads, now and as they
    /// come, to new pads of their kind.
    pub(super) fn follow_stream(&self, stream: gst::Element) {
        let weak = self.obj().downgrade();
        let id = stream.connect_pad_added(move |_, pad| {
            if let Some(obj) = weak.upgrade() {
                obj.imp().guard(|| (), |imp| imp.link_stream_pad(pad));
            }
        });
        for pad in stream.src_pads() {
            self.link_stream_pad(&pad);
        }
        gst::debug!(CAT, imp = self, "recording the tracks of {}", stream.name());
        self.settings.lock().stream = Some((stream, id));
    }

    pub(super) fn link_stream_pad(&self, pad: &gst::Pad) {
        if pad.direction() != gst::PadDirection::Src || pad.is_linked() || self.relink(pad) {
            return;
        }
        let templ = if pad.name().starts_with("audio") {
            "audio_%u"
        } else {
            "video_%u"
        };
        let linked = self
            .obj()
            .request_pad_simple(templ)
            .map(|sink| pad.link(&sink));
        gst::debug!(CAT, imp = self, "stream pad {}: {linked:?}", pad.name());
    }

    /// A track pad lost its link to a `mediastream`'s pad: the stream may
    /// give a pad of that name again (after a NULL cycle), to be linked
    /// back to this one.
    pub(super) fn remember_stream_pad(&self, pad: &gst::GhostPad, peer: &gst::Pad) {
        let Some(stream) = peer.parent_element().filter(crate::track::is_mediastream) else {
            return;
        };
        let name = peer.name().to_string();
        gst::debug!(
            CAT,
            imp = self,
            "{}: links again to {}'s next {name}",
            pad.name(),
            stream.name()
        );
        if let Some(t) = self.tracks.lock().iter_mut().find(|t| &t.pad == pad) {
            t.was = Some((stream.downgrade(), name));
        }
        let mut watched = self.watched.lock();
        watched.retain(|(w, _)| w.upgrade().is_some());
        if watched
            .iter()
            .any(|(w, _)| w.upgrade().as_ref() == Some(&stream))
        {
            return;
        }
        let weak = self.obj().downgrade();
        let id = stream.connect_pad_added(move |_, pad| {
            if let Some(obj) = weak.upgrade() {
                obj.imp().guard(
                    || (),
                    |imp| {
                        imp.relink(pad);
                    },
                );
            }
        });
        watched.push((stream.downgrade(), id));
    }

    /// Links a stream's new pad to the track pad that had its name, if
    /// that one is still unlinked: whether it did.
    pub(super) fn relink(&self, pad: &gst::Pad) -> bool {
        let Some(stream) = pad.parent_element() else {
            return false;
        };
        let target =
            self.tracks
                .lock()
                .iter_mut()
                .find(|t| {
                    t.was.as_ref().is_some_and(|(s, n)| {
                        s.upgrade().as_ref() == Some(&stream) && *n == pad.name()
                    }) && !t.pad.is_linked()
                })
                .map(|t| {
                    t.was = None;
                    t.pad.clone()
                });
        let Some(target) = target else {
            return false;
        };
        if pad.is_linked() {
            return false;
        }
        let linked = pad.link(&target);
        gst::debug!(
            CAT,
            imp = self,
            "{}'s new {} -> {}: {linked:?}",
            stream.name(),
            pad.name(),
            target.name()
        );
        let recording = self.state.lock().as_ref().is_some_and(|r| !r.stopping);
        if linked.is_ok() && recording {
            // A track joined the stream, as through a new pad.
            self.fail(ConstraintError::invalid_modification(format!(
                "a track was added to the stream while recording (pad {})",
                target.name()
            )));
        }
        linked.is_ok()
    }

    /// A track's pad went (released, or its link broken by the stream's
    /// remove-track) while recording: the spec's track-set change, even
    /// for a track that had ended (the stream may send EOS before it
    /// removes the pad).
    pub(super) fn track_left(&self, pad: &gst::Pad, how: &str) {
        let recorded = self.state.lock().as_ref().is_some_and(|r| {
            !r.stopping
                && r.branches
                    .iter()
                    .any(|b| b.pad.upcast_ref::<gst::Pad>() == pad)
        });
        gst::debug!(
            CAT,
            imp = self,
            "pad {} {how}; recorded: {recorded}",
            pad.name()
        );
        if recorded {
            self.fail(ConstraintError::invalid_modification(format!(
                "a track was removed from the stream while recording (pad {} {how})",
                pad.name()
            )));
        }
    }

    /// What passes a track pad: buffers only into a recording that is not
    /// paused; events on (a lone EOS is swallowed); queries answered from
    /// the template while there is no recording to answer them.
    /// Whether the recording's branch of `pad` took a frame (no recording:
    /// nothing to protect).
    fn branch_fed(&self, pad: &gst::GhostPad) -> bool {
        let mut state = self.state.lock();
        match state.as_mut() {
            Some(rec) => rec.branch_mut(pad).is_none_or(|b| b.fed),
            None => true,
        }
    }

    pub(super) fn track_probe(
        &self,
        pad: &gst::GhostPad,
        info: &mut gst::PadProbeInfo,
    ) -> gst::PadProbeReturn {
        match &mut info.data {
            Some(gst::PadProbeData::Buffer(b)) => {
                let pts = b.pts();
                self.verdict(self.pass_buffer(pad, pts), info)
            }
            Some(gst::PadProbeData::BufferList(l)) => {
                let pts = l.get(0).and_then(|b| b.pts());
                self.verdict(self.pass_buffer(pad, pts), info)
            }
            Some(gst::PadProbeData::Event(ev)) => match ev.view() {
                gst::EventView::Segment(s) => {
                    if let Ok(seg) = s.segment().clone().downcast::<gst::ClockTime>()
                        && let Some(t) = self.tracks.lock().iter_mut().find(|t| &t.pad == pad)
                    {
                        t.segment = Some(seg);
                    }
                    gst::PadProbeReturn::Ok
                }
                gst::EventView::Eos(_) => {
                    let pass = self.track_eos(pad);
                    self.verdict(pass, info)
                }
                gst::EventView::Caps(c) => {
                    self.track_caps(pad, c.caps());
                    gst::PadProbeReturn::Ok
                }
                // A gap before the branch's first frame: its encoder would
                // pass it on before it has output caps, and the muxer would
                // write its header without this track ("Caps on pad
                // arrived late"). Nothing is missing from a recording that
                // has no frame of the track yet.
                gst::EventView::Gap(_) if !self.branch_fed(pad) => {
                    gst::log!(
                        CAT,
                        imp = self,
                        "{}: gap before the first frame: dropped",
                        pad.name()
                    );
                    gst::PadProbeReturn::Drop
                }
                // remove-track on the stream: a change of the track set,
                // not the track's end (the EOS that follows).
                _ if crate::track::is_removed_event(ev) => {
                    self.track_left(pad.upcast_ref(), "removed from the stream");
                    gst::PadProbeReturn::Ok
                }
                _ => gst::PadProbeReturn::Ok,
            },
            Some(gst::PadProbeData::Query(q)) => {
                if pad.target().is_some() {
                    return gst::PadProbeReturn::Ok;
                }
                let templ = pad.pad_template_caps();
                match q.view_mut() {
                    gst::QueryViewMut::Caps(c) => {
                        let caps = match c.filter() {
                            Some(f) => f.intersect_with_mode(&templ, gst::CapsIntersectMode::First),
                            None => templ,
                        };
                        c.set_result(&caps);
                        gst::PadProbeReturn::Handled
                    }
                    gst::QueryViewMut::AcceptCaps(a) => {
                        let ok = a.caps().can_intersect(&templ);
                        a.set_result(ok);
                        gst::PadProbeReturn::Handled
                    }
                    _ => gst::PadProbeReturn::Ok,
                }
            }
            _ => gst::PadProbeReturn::Ok,
        }
    }

    /// A video track's caps: the first ones fix the recording's size (when
    /// the branch was built before any); later ones of another size are
    /// scaled to it by the branch's `videoconvertscale`.
    pub(super) fn track_caps(&self, pad: &gst::GhostPad, caps: &gst::CapsRef) {
        let set = {
            let mut state = self.state.lock();
            let Some(b) = state.as_mut().and_then(|r| r.branch_mut(pad)) else {
                return;
            };
            let Some(filter) = b.encode.size_filter.clone() else {
                return;
            };
            let Some(size) = encode::first_size(caps) else {
                return;
            };
            match &b.size {
                None => {
                    gst::debug!(CAT, imp = self, "{}: recording at {size}", pad.name());
                    b.size = Some(size.clone());
                    Some((filter, size))
                }
                Some(first) if first != &size => {
                    gst::debug!(
                        CAT,
                        imp = self,
                        "{}: the track is now {size}: scaled to {first}",
                        pad.name()
                    );
                    None
                }
                Some(_) => None,
            }
        };
        // No lock held: the capsfilter asks upstream to renegotiate.
        if let Some((filter, size)) = set {
            filter.set_property("caps", size);
        }
    }

    /// Passes the item, or consumes it (crate::fault::drop_item).
    pub(super) fn verdict(&self, pass: bool, info: &mut gst::PadProbeInfo) -> gst::PadProbeReturn {
        if pass {
            gst::PadProbeReturn::Ok
        } else {
            crate::fault::drop_item(info)
        }
    }

    /// A track's EOS: into its branch when recording (the muxer finishes
    /// that stream), swallowed otherwise; when every track has ended and
    /// nothing records, the recorder's own EOS.
    pub(super) fn track_eos(&self, pad: &gst::GhostPad) -> bool {
        {
            let mut tracks = self.tracks.lock();
            if let Some(t) = tracks.iter_mut().find(|t| &t.pad == pad) {
                t.ended = true;
            }
        }
        let into_branch = {
            let mut state = self.state.lock();
            match state.as_mut().and_then(|r| r.branch_mut(pad)) {
                Some(b) if !b.ended => {
                    b.ended = true;
                    true
                }
                _ => false,
            }
        };
        gst::debug!(
            CAT,
            imp = self,
            "{}: the track ended; into the recording: {into_branch}",
            pad.name()
        );
        if !into_branch {
            self.maybe_post_eos();
        }
        into_branch
    }
}
