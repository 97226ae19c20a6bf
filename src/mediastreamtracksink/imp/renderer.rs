// SPDX-License-Identifier: MPL-2.0

//! The renderer: the one the `sink` or `sink-id` property names, else the
//! auto sink of the track's kind (from upstream's caps query once started,
//! else from the first caps), installed behind the sink pad and checked
//! against the kind.

use super::MediaStreamTrackSink;
use crate::constraints::ConstraintError;
use crate::devices::monitor::MediaDevices;
use crate::mediastreamtracksink::CAT;
use crate::track;
use crate::track::TrackKind;
use gst::prelude::*;
use gst::subclass::prelude::*;

/// Why the renderer cannot be set up: a W3C error (sink-id), posted with
/// its details, or a GStreamer one.
pub(super) enum Failure {
    W3c(ConstraintError),
    Gst(gst::ErrorMessage),
}

impl MediaStreamTrackSink {
    /// The renderer the settings name: the `sink` property, or the
    /// `sink-id` output device. `None`: chosen by the track's kind.
    pub(super) fn configured_renderer(&self) -> Result<Option<gst::Element>, Failure> {
        let (sink, sink_id) = {
            let s = self.settings.lock();
            (s.sink.clone(), s.sink_id.clone())
        };
        match (sink, sink_id) {
            (Some(sink), _) => Ok(Some(sink)),
            (None, Some(id)) if !id.is_empty() => {
                let device = MediaDevices::get()
                    .devices()
                    .map_err(|e| Failure::W3c(ConstraintError::not_found(e)))?
                    .into_iter()
                    .find(|d| {
                        d.info.device_id == id
                            && d.info.kind == crate::constraints::DeviceKind::AudioOutput
                    })
                    .ok_or_else(|| {
                        Failure::W3c(ConstraintError::not_found(format!(
                            "no audiooutput device with deviceId '{id}'"
                        )))
                    })?;
                gst::debug!(CAT, imp = self, "sink-id {id}: '{}'", device.info.label);
                let element = device.create_element(None).map_err(|e| {
                    Failure::W3c(ConstraintError::not_readable(format!(
                        "cannot open '{}': {e}",
                        device.info.label
                    )))
                })?;
                Ok(Some(element))
            }
            _ => Ok(None),
        }
    }

    /// NULL -> READY: the configured renderer, if any. Otherwise the
    /// choice waits for upstream to say its kind (READY -> PAUSED, or the
    /// first caps).
    pub(super) fn setup(&self) -> Result<(), Failure> {
        match self.configured_renderer()? {
            Some(renderer) => self.install(renderer, false),
            None => Ok(()),
        }
    }

    /// READY -> PAUSED: with no renderer yet, the auto sink for the kind
    /// upstream's caps query names, if it names one kind only (a source
    /// not yet started answers anything); with one, a check that it can
    /// render that kind.
    pub(super) fn setup_by_peer(&self) -> Result<(), Failure> {
        let peer = self.sinkpad.peer_query_caps(None);
        let Some(kind) = TrackKind::of_caps(&peer) else {
            gst::debug!(
                CAT,
                imp = self,
                "upstream offers {peer}: kind not known yet"
            );
            return Ok(());
        };
        gst::debug!(CAT, imp = self, "upstream sends {}", kind.as_str());
        let renderer = self.state.lock().renderer.clone();
        match renderer {
            Some(renderer) => self.check_renderer(&renderer, kind, &peer),
            None => self.install(auto_sink(kind)?, false),
        }
    }

    /// Adds `renderer` (unless it is in the bin already) and targets the
    /// sink pad at it; `sync` brings it to the bin's state (added while
    /// running).
    pub(super) fn install(&self, renderer: gst::Element, sync: bool) -> Result<(), Failure> {
        gst::debug!(CAT, imp = self, "rendering with {}", renderer.name());
        let obj = self.obj();
        let name = renderer.name();
        let added = renderer.parent().is_none();
        if added {
            obj.add(&renderer).map_err(|e| {
                Failure::Gst(gst::error_msg!(
                    gst::CoreError::Failed,
                    ("cannot add the sink '{name}': {e}")
                ))
            })?;
        }
        let target = match renderer.static_pad("sink") {
            // A property value the element cannot use.
            None => Err(gst::error_msg!(
                gst::ResourceError::Settings,
                ("the sink '{name}' has no sink pad")
            )),
            // A filter (identity, a converter) would push into nothing and
            // fail later with a bare not-linked.
            Some(_) if !is_a_sink(&renderer) => Err(gst::error_msg!(
                gst::ResourceError::Settings,
                (
                    "the sink '{name}'{} is not a sink: it has a source pad, whose output would go nowhere; set sink to a sink element (fakesink, appsink, autovideosink) or a bin that ends in one",
                    renderer
                        .factory()
                        .map(|f| format!(" ({})", f.name()))
                        .unwrap_or_default()
                )
            )),
            Some(pad) => self.sinkpad.set_target(Some(&pad)).map_err(|e| {
                gst::error_msg!(
                    gst::CoreError::Pad,
                    ("cannot link to the sink '{name}': {e}")
                )
            }),
        };
        if let Err(e) = target {
            // Not left in the bin to pile up with each retry.
            if added {
                crate::plumbing::discard(*CAT, &*obj, &renderer);
            }
            return Err(Failure::Gst(e));
        }
        if sync && renderer.sync_state_with_parent().is_err() {
            return Err(Failure::Gst(gst::error_msg!(
                gst::CoreError::StateChange,
                ("the sink '{name}' failed to start")
            )));
        }
        self.state.lock().renderer = Some(renderer);
        Ok(())
    }

    /// Posts a failure: a W3C error with its details, else as it is.
    pub(super) fn post_failure(&self, failure: Failure) {
        match failure {
            Failure::W3c(e) => track::post_error(&*self.obj(), &e),
            Failure::Gst(m) => self.post_error_message(m),
        }
    }

    /// Caps arrive: the renderer is chosen now if it was not, else checked
    /// against the track's kind. Whether the caps may go on.
    pub(super) fn on_caps(&self, caps: &gst::CapsRef) -> bool {
        let Some(kind) = TrackKind::of_caps(caps) else {
            return true;
        };
        let renderer = self.state.lock().renderer.clone();
        let result = match renderer {
            None => {
                gst::debug!(
                    CAT,
                    imp = self,
                    "{} caps, no sink yet: the auto sink",
                    kind.as_str()
                );
                auto_sink(kind).and_then(|sink| self.install(sink, true))
            }
            Some(renderer) => self.check_renderer(&renderer, kind, caps),
        };
        match result {
            Ok(()) => true,
            Err(failure) => {
                self.post_failure(failure);
                false
            }
        }
    }

    /// A configured renderer that cannot take the track is an error that
    /// names both, before negotiation fails with a bare not-negotiated.
    pub(super) fn check_renderer(
        &self,
        renderer: &gst::Element,
        kind: TrackKind,
        caps: &gst::CapsRef,
    ) -> Result<(), Failure> {
        let name = renderer.name();
        let (sink, sink_id) = {
            let s = self.settings.lock();
            (s.sink.clone(), s.sink_id.clone())
        };
        if let Some(id) = sink_id.filter(|id| !id.is_empty())
            && sink.is_none()
        {
            return match kind {
                TrackKind::Audio => Ok(()),
                TrackKind::Video => Err(wrong_type(format!(
                    "a video track cannot play on the audio output '{id}' (sink-id is for audio tracks): unset sink-id, or set sink to a video sink"
                ))),
            };
        }
        let accepts = renderer
            .static_pad("sink")
            .is_some_and(|pad| pad.query_caps(None).can_intersect(caps));
        if accepts {
            return Ok(());
        }
        gst::debug!(CAT, imp = self, "{name} refuses {caps}");
        Err(wrong_type(format!(
            "the sink '{name}' cannot render this {kind} track ({caps}): give {article} {kind} sink, or leave sink unset to pick one by the caps",
            kind = kind.as_str(),
            article = match kind {
                TrackKind::Audio => "an",
                TrackKind::Video => "a",
            },
        )))
    }
}
/// A renderer that cannot render the track's kind.
pub(super) fn wrong_type(msg: String) -> Failure {
    Failure::Gst(gst::error_msg!(gst::StreamError::WrongType, ("{}", msg)))
}

/// The auto sink for a kind.
pub(super) fn auto_sink(kind: TrackKind) -> Result<gst::Element, Failure> {
    let factory = match kind {
        TrackKind::Audio => "autoaudiosink",
        TrackKind::Video => "autovideosink",
    };
    gst::ElementFactory::make(factory).build().map_err(|_| {
        Failure::Gst(gst::error_msg!(
            gst::CoreError::MissingPlugin,
            ("the element '{factory}' is missing")
        ))
    })
}

/// Whether `element` renders: flagged a sink (a bin is, once it holds one),
/// or without any source pad to push into.
pub(super) fn is_a_sink(element: &gst::Element) -> bool {
    element.element_flags().contains(gst::ElementFlags::SINK)
        || (element.src_pads().is_empty()
            && !element
                .pad_template_list()
                .iter()
                .any(|t| t.direction() == gst::PadDirection::Src))
}
