// SPDX-License-Identifier: MPL-2.0

//! The fake device's pipeline: its settings resolved from the device file,
//! the source (a test pattern, a square, a tone) built at the caps the
//! device offers, encoded where the device sends encoded media, and the
//! caps a forced mode answers.

use super::{MediaStreamFakeSrc, Settings};
use crate::constraints::Kind;
use crate::devices::fake::{self, FakeSource, FileWatcher};
use crate::fault::Guarded;
use crate::mediastreamfakesrc::{CAT, square};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use std::path::PathBuf;

impl MediaStreamFakeSrc {
    /// The settings, completed from the fake device named by `device-id`
    /// when no caps were given (`gst-launch-1.0 mediastreamfakesrc device-id=..`).
    pub(super) fn resolved_settings(&self) -> Result<(Settings, gst::Caps), gst::ErrorMessage> {
        let mut settings = self.settings.lock().clone();
        if let Some(caps) = settings.caps.clone() {
            return Ok((settings, caps));
        }
        let source = FakeSource::from_env().ok_or_else(|| {
            bad_setting(format!(
                "no caps set, and {} is not set to look up device-id",
                fake::ENV
            ))
        })?;
        let specs = source.load().map_err(|e| not_found(e.to_string()))?;
        let (index, spec) = specs
            .iter()
            .enumerate()
            .find(|(_, s)| s.device_id == settings.device_id)
            .ok_or_else(|| {
                not_found(format!(
                    "no fake device '{}' in {}",
                    crate::excerpt::excerpt(&settings.device_id),
                    source.origin()
                ))
            })?;
        let caps = spec
            .parsed_caps(&source.origin(), index)
            .map_err(|e| bad_setting(e.to_string()))?;
        if !settings.pattern_set {
            settings.pattern = fake::pattern_of(spec, index);
        }
        if !settings.frequency_set {
            settings.frequency = fake::frequency_for(index);
        }
        settings.is_live = spec.live;
        settings.broken = spec.broken;
        settings.exclusive = spec.exclusive;
        if let FakeSource::File(p) = &source {
            settings.file = p.display().to_string();
        }
        Ok((settings, caps))
    }

    /// Builds the source chain for the caps downstream asked for.
    pub(super) fn build(&self) -> Result<(), gst::ErrorMessage> {
        let (settings, caps) = self.resolved_settings()?;
        if settings.broken {
            gst::element_imp_error!(
                self,
                gst::ResourceError::OpenRead,
                (
                    "Could not open device '{}': it is busy or broken",
                    settings.device_id
                ),
                ["the fake device is marked \"broken\""]
            );
            return Err(gst::error_msg!(
                gst::ResourceError::OpenRead,
                ("device '{}' is broken", settings.device_id)
            ));
        }
        let open = crate::devices::opened::open(&settings.device_id, settings.exclusive)
            .map_err(|busy| gst::error_msg!(gst::ResourceError::Busy, ("{}", busy)))?;
        gst::debug!(CAT, imp = self, "device '{}' opened", settings.device_id);
        self.state.lock().open = Some(open);
        let audio = Kind::of_caps(&caps) == Some(Kind::Audio);
        let (raw, encoded) = split(&caps);
        // Encode only when downstream cannot take a raw mode.
        let peer = self.srcpad.peer_query_caps(None);
        let jpeg = !encoded.is_empty() && (raw.is_empty() || !peer.can_intersect(&raw));
        gst::debug!(
            CAT,
            imp = self,
            "building for {caps} (peer {peer}, jpeg {jpeg})"
        );

        let source = if audio {
            let s = make("audiotestsrc")?;
            s.set_property("freq", settings.frequency);
            s
        } else {
            let s = make("videotestsrc")?;
            self.set_pattern(&s, &settings.pattern)
                .map_err(bad_setting)?;
            s
        };
        source.set_property("is-live", settings.is_live);
        source.set_property("num-buffers", settings.num_buffers);
        // Stamp with the clock, as capture drivers do, so a source restarted
        // in a running pipeline (applyConstraints) continues in time.
        source.set_property("do-timestamp", settings.is_live);
        let filter = make("capsfilter")?;
        let mut chain = vec![source.clone(), filter.clone()];
        if jpeg {
            filter.set_property("caps", raw_for(&encoded));
            let enc = make("jpegenc")?;
            let out = make("capsfilter")?;
            out.set_property("caps", &encoded);
            chain.extend([enc, out]);
        } else {
            filter.set_property("caps", if raw.is_empty() { &caps } else { &raw });
        }
        let obj = self.obj();
        obj.add_many(&chain)
            .map_err(|e| gst::error_msg!(gst::CoreError::Failed, ("{}", e)))?;
        let last = chain.last().unwrap().static_pad("src").unwrap();
        let linked = gst::Element::link_many(&chain)
            .map_err(|e| gst::error_msg!(gst::CoreError::Pad, ("{}", e)))
            .and_then(|()| {
                self.srcpad
                    .set_target(Some(&last))
                    .map_err(|e| gst::error_msg!(gst::CoreError::Pad, ("{}", e)))
            });
        if let Err(e) = linked {
            // Not left in the bin to pile up with each retry.
            for e in &chain {
                crate::plumbing::discard(*CAT, &*obj, e);
            }
            return Err(e);
        }

        let mut state = self.state.lock();
        state.source = Some(source);
        state.filter = (!jpeg).then_some(filter);
        state.caps = Some(caps);
        state.forced = None;
        if !settings.file.is_empty() && !settings.device_id.is_empty() {
            let weak = obj.downgrade();
            let id = settings.device_id.clone();
            let file = settings.file.clone();
            state.watcher = Some(FileWatcher::new(PathBuf::from(&settings.file), move |r| {
                let (Some(obj), Ok(specs)) = (weak.upgrade(), r) else {
                    return;
                };
                obj.imp().guard(
                    || (),
                    |imp| {
                        crate::fault::point("mediastreamfakesrc:file-changed");
                        match specs.iter().enumerate().find(|(_, s)| s.device_id == id) {
                            None => imp.unplugged(),
                            Some((i, spec)) => {
                                if let Ok(caps) = spec.parsed_caps(&file, i) {
                                    imp.caps_changed(caps);
                                }
                            }
                        }
                    },
                );
            }));
        }
        Ok(())
    }

    /// Sets videotestsrc's pattern; `square` is its black plus the square
    /// drawn in a probe. Other patterns push videotestsrc's own buffers.
    pub(super) fn set_pattern(&self, source: &gst::Element, pattern: &str) -> Result<(), String> {
        let nick = if pattern == square::NAME {
            "black"
        } else {
            pattern
        };
        let value = source
            .find_property("pattern")
            .and_then(|p| glib::EnumClass::with_type(p.value_type()))
            .and_then(|c| c.to_value_by_nick(nick))
            .ok_or_else(|| {
                format!(
                    "pattern '{}' is neither a videotestsrc pattern (gst-inspect-1.0 videotestsrc) nor '{}'",
                    crate::excerpt::excerpt(pattern),
                    square::NAME
                )
            })?;
        source.set_property_from_value("pattern", &value);
        gst::debug!(CAT, imp = self, "pattern {pattern}");
        if pattern == square::NAME {
            let weak = self.obj().downgrade();
            let painter = square::Painter::default();
            let pad = source.static_pad("src").unwrap();
            pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
                let Some(obj) = weak.upgrade() else {
                    return gst::PadProbeReturn::Ok;
                };
                let painted = obj.imp().guard(
                    || None,
                    |imp| {
                        crate::fault::point("mediastreamfakesrc:square");
                        if let Some(e) = painter.paint(pad, info) {
                            gst::element_imp_warning!(imp, gst::StreamError::Format, ("{}", e));
                        }
                        Some(())
                    },
                );
                match painted {
                    Some(()) => gst::PadProbeReturn::Ok,
                    None => crate::fault::drop_item(info),
                }
            });
        }
        Ok(())
    }

    /// While the device forces its caps, it answers downstream's caps
    /// queries itself, so the test source switches whatever downstream
    /// holds (as hardware does; the track then follows).
    pub(super) fn answer_forced(&self, info: &mut gst::PadProbeInfo) -> gst::PadProbeReturn {
        let Some(forced) = self.state.lock().forced.clone() else {
            return gst::PadProbeReturn::Ok;
        };
        let Some(gst::PadProbeData::Query(q)) = info.data.as_mut() else {
            return gst::PadProbeReturn::Ok;
        };

        match q.view_mut() {
            gst::QueryViewMut::Caps(c) => {
                let caps = match c.filter() {
                    Some(f) => f.intersect_with_mode(&forced, gst::CapsIntersectMode::First),
                    None => forced,
                };
                c.set_result(&caps);
                gst::PadProbeReturn::Handled
            }
            gst::QueryViewMut::AcceptCaps(a) => {
                let ok = a.caps().can_intersect(&forced);
                a.set_result(ok);
                gst::PadProbeReturn::Handled
            }
            _ => gst::PadProbeReturn::Ok,
        }
    }
}
pub(super) fn make(factory: &str) -> Result<gst::Element, gst::ErrorMessage> {
    gst::ElementFactory::make(factory).build().map_err(|_| {
        gst::error_msg!(
            gst::CoreError::MissingPlugin,
            ("the element '{factory}' is missing (install gst-plugins-base/good)")
        )
    })
}

/// The device a `device-id` names cannot be found or read.
pub(super) fn not_found(msg: String) -> gst::ErrorMessage {
    gst::error_msg!(gst::ResourceError::NotFound, ("{}", msg))
}

/// A property value (caps, pattern) the element cannot use.
pub(super) fn bad_setting(msg: String) -> gst::ErrorMessage {
    gst::error_msg!(gst::ResourceError::Settings, ("{}", msg))
}

/// The raw (`video/x-raw`, `audio/x-raw`) and the encoded structures of caps.
pub(super) fn split(caps: &gst::Caps) -> (gst::Caps, gst::Caps) {
    let mut raw = gst::Caps::new_empty();
    let mut encoded = gst::Caps::new_empty();
    for s in caps.iter() {
        let target = if s.name().ends_with("/x-raw") {
            &mut raw
        } else {
            &mut encoded
        };
        target.get_mut().unwrap().append_structure(s.to_owned());
    }
    (raw, encoded)
}

/// I420 at the sizes and rates of encoded structures: what jpegenc is fed.
pub(super) fn raw_for(encoded: &gst::Caps) -> gst::Caps {
    let mut raw = gst::Caps::new_empty();
    for s in encoded.iter() {
        let mut r = s.to_owned();
        r.set_name("video/x-raw");
        r.set("format", "I420");
        raw.get_mut().unwrap().append_structure(r);
    }
    raw
}
