// SPDX-License-Identifier: MPL-2.0

//! What an error message shows of a value the user gave: the whole value
//! when it is short, else its start and its length, so a 1 MB property
//! value never comes back as a 1 MB message.

use std::borrow::Cow;

/// Characters of a long value an error message shows.
const SHOWN: usize = 60;

/// `value` itself when it has at most [`SHOWN`] characters; else its
/// first ones, an ellipsis and the whole length in bytes.
pub fn excerpt(value: &str) -> Cow<'_, str> {
    match value.char_indices().nth(SHOWN) {
        None => Cow::Borrowed(value),
        Some((cut, _)) => Cow::Owned(format!("{}… ({} bytes)", &value[..cut], value.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn short_values_are_whole_long_ones_cut() {
        assert_eq!(excerpt("fake-camera-front"), "fake-camera-front");
        let long = "é".repeat(1 << 19);
        let shown = excerpt(&long);
        assert!(shown.starts_with(&"é".repeat(60)), "{shown}");
        assert!(shown.ends_with("… (1048576 bytes)"), "{shown}");
        assert!(shown.len() < 200);
        let exactly = "a".repeat(60);
        assert_eq!(excerpt(&exactly), exactly);
    }
}
