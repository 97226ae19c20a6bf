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
