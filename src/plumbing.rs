// SPDX-License-Identifier: MPL-2.0

//! Plumbing shared by the plugin's bins that build their chain late
//! (`mediastreamrtpenc`, `mediastreamrtpdec`, `mediastreamfakesrc`,
//! `mediastreamtracksink`): taking children out again, and handing a new
//! chain the events its ghost pad kept meanwhile.

use gst::prelude::*;

/// Stops `element` and removes it from `bin`, for teardown or a chain that
/// failed half way. Failures are logged in `cat`, not returned: the caller
/// is already on its way out, and the element goes with the bin anyway.
pub(crate) fn discard(cat: gst::DebugCategory, bin: &impl IsA<gst::Bin>, element: &gst::Element) {
    if element.set_state(gst::State::Null).is_err() {
        gst::warning!(cat, obj = bin, "{} did not stop cleanly", element.name());
    }
    match bin.remove(element) {
        Ok(()) => gst::debug!(cat, obj = bin, "removed {}", element.name()),
        Err(e) => gst::warning!(cat, obj = bin, "cannot remove {}: {e}", element.name()),
    }
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
