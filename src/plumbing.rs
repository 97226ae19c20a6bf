// SPDX-License-Identifier: MPL-2.0

//! Plumbing shared by the plugin's bins: taking children out again (one
//! way, [`discard_all`]), installing a chain between a bin's ghost pads,
//! and handing a chain built late (on the first caps: `mediastreamrtpenc`,
//! `mediastreamrtpdec`, `mediastreamfakesrc`, `mediastreamtracksink`) the
//! events its ghost pad kept meanwhile.

use gst::prelude::*;

/// Stops `element` and removes it from `bin`, for teardown or a chain that
/// failed half way. Failures are logged in `cat`, not returned: the caller
/// is already on its way out, and the element goes with the bin anyway.
pub(crate) fn discard(cat: gst::DebugCategory, bin: &impl IsA<gst::Bin>, element: &gst::Element) {
    discard_all(cat, bin, std::slice::from_ref(element), &[]);
}

/// The one way the plugin takes elements out of its bins: stops all of
/// `elements` in their order (a chain upstream first, so nothing pushes
/// into an element already stopped or gone), clears the targets of
/// `ghosts` (the bin's pads that led to them), then removes them,
/// downstream first. Failures are logged in `cat`, not returned.
pub(crate) fn discard_all(
    cat: gst::DebugCategory,
    bin: &impl IsA<gst::Bin>,
    elements: &[gst::Element],
    ghosts: &[&gst::GhostPad],
) {
    for e in elements {
        if e.set_state(gst::State::Null).is_err() {
            gst::warning!(cat, obj = bin, "{} did not stop cleanly", e.name());
        }
    }
    for g in ghosts {
        clear_target(g);
    }
    for e in elements.iter().rev() {
        // Already out (a bin's own teardown, or a second call) is fine.
        if e.parent().as_ref() != Some(bin.upcast_ref::<gst::Bin>().upcast_ref::<gst::Object>()) {
            gst::debug!(cat, obj = bin, "{} is not in the bin any more", e.name());
            continue;
        }
        match bin.remove(e) {
            Ok(()) => gst::debug!(cat, obj = bin, "removed {}", e.name()),
            Err(err) => gst::warning!(cat, obj = bin, "cannot remove {}: {err}", e.name()),
        }
    }
}

/// The name a request pad of `templ` gets: `name` if given, else the first
/// `video_N` / `audio_N` (by the template's kind) `element` has no pad of.
pub(crate) fn track_pad_name(
    element: &gst::Element,
    templ: &gst::PadTemplate,
    name: Option<&str>,
) -> String {
    if let Some(n) = name {
        return n.to_owned();
    }
    let prefix = if templ.name_template().starts_with("audio") {
        "audio"
    } else {
        "video"
    };
    (0..)
        .map(|i| format!("{prefix}_{i}"))
        .find(|n| element.static_pad(n).is_none())
        .unwrap()
}

/// The pad templates of an element whose pads are tracks: `video_%u`
/// (raw video) and `audio_%u` (raw audio), of `direction` and `presence`.
pub(crate) fn track_pad_templates(
    direction: gst::PadDirection,
    presence: gst::PadPresence,
) -> Vec<gst::PadTemplate> {
    [("video_%u", "video/x-raw"), ("audio_%u", "audio/x-raw")]
        .into_iter()
        .map(|(name, media)| {
            gst::PadTemplate::new(
                name,
                direction,
                presence,
                &gst::Caps::builder(media).build(),
            )
            .unwrap()
        })
        .collect()
}

/// Clears a ghost pad's target. Only setting a new target can fail (its
/// link); clearing one cannot.
pub(crate) fn clear_target(pad: &gst::GhostPad) {
    let _ = pad.set_target(None::<&gst::Pad>);
}

/// Pushes the sticky events `pad` stored before its chain existed
/// (stream-start, the track's state, segment; not caps, which built the
/// chain and go next), in order, into the chain through the ghost pad's
/// internal pad.
pub(crate) fn forward_sticky(cat: gst::DebugCategory, pad: &gst::GhostPad) {
    let Some(internal) = pad.internal() else {
        return;
    };
    pad.sticky_events_foreach(|ev| {
        if ev.type_() != gst::EventType::Caps && !internal.push_event(ev.clone()) {
            // Stays sticky on the pad; the next event or buffer carries it.
            gst::debug!(
                cat,
                obj = pad,
                "{:?} not taken by the new chain",
                ev.type_()
            );
        }
        std::ops::ControlFlow::Continue(gst::EventForeachAction::Keep)
    });
}

/// Adds `chain` to `bin`, links it, targets `sink` at its first element
/// and `src` at its last, and starts it with the bin. On failure the chain
/// is taken out again, and the error says which step failed on `what`
/// ("the encoding chain"): these are plumbing errors (CoreError), not a
/// property of the media.
pub(crate) fn install(
    cat: gst::DebugCategory,
    bin: &impl IsA<gst::Bin>,
    chain: &[gst::Element],
    sink: &gst::GhostPad,
    src: &gst::GhostPad,
    what: &str,
) -> Result<(), gst::ErrorMessage> {
    bin.add_many(chain)
        .map_err(|e| gst::error_msg!(gst::CoreError::Failed, ("cannot add {what}: {e}")))?;
    let plumbed = (|| {
        gst::Element::link_many(chain)
            .map_err(|e| gst::error_msg!(gst::CoreError::Pad, ("cannot link {what}: {e}")))?;
        let (Some(first), Some(last)) = (chain.first(), chain.last()) else {
            return Ok(());
        };
        let target = |ghost: &gst::GhostPad, pad: Option<gst::Pad>| {
            ghost
                .set_target(pad.as_ref())
                .map_err(|e| gst::error_msg!(gst::CoreError::Pad, ("cannot target {what}: {e}")))
        };
        target(sink, first.static_pad("sink"))?;
        target(src, last.static_pad("src"))?;
        for e in chain {
            e.sync_state_with_parent().map_err(|err| {
                gst::error_msg!(
                    gst::CoreError::StateChange,
                    ("{} of {what} did not start: {err}", e.name())
                )
            })?;
        }
        Ok(())
    })();
    if plumbed.is_err() {
        clear_target(sink);
        clear_target(src);
        for e in chain {
            discard(cat, bin, e);
        }
    }
    plumbed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discard_all_stops_clears_the_targets_and_removes_once() {
        gst::init().unwrap();
        let bin = gst::Bin::new();
        let a = gst::ElementFactory::make("identity").build().unwrap();
        let b = gst::ElementFactory::make("identity").build().unwrap();
        bin.add_many([&a, &b]).unwrap();
        a.link(&b).unwrap();
        let src = gst::GhostPad::with_target(&b.static_pad("src").unwrap()).unwrap();
        bin.add_pad(&src).unwrap();
        bin.set_state(gst::State::Paused).unwrap();
        let cat = gst::DebugCategory::new("plumbing-test", gst::DebugColorFlags::empty(), None);
        let chain = [a.clone(), b.clone()];
        discard_all(cat, &bin, &chain, &[&src]);
        assert!(bin.children().is_empty());
        assert!(src.target().is_none());
        assert_eq!(a.current_state(), gst::State::Null);
        assert_eq!(b.current_state(), gst::State::Null);
        // A second time finds nothing to take out, and says so only in the log.
        discard_all(cat, &bin, &chain, &[&src]);
        bin.set_state(gst::State::Null).unwrap();
    }
}
