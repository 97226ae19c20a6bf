// SPDX-License-Identifier: MPL-2.0

//! What an error message shows of a value the user gave: the whole value
//! when it is short, else its first 100 characters, an ellipsis and its
//! length, so a 1 MB property value never comes back as a 1 MB message.

use std::borrow::Cow;

/// Characters of a long value a message shows.
const SHOWN: usize = 100;

/// `value` itself when it has at most 100 characters; else its first 100
/// (cut on a character boundary), `…` and its length in characters.
pub fn excerpt(value: &str) -> Cow<'_, str> {
    match value.char_indices().nth(SHOWN) {
        None => Cow::Borrowed(value),
        Some((cut, _)) => Cow::Owned(format!(
            "{}… ({} characters)",
            &value[..cut],
            value.chars().count()
        )),
    }
}

/// [`excerpt`] in double quotes: `"abc"`, `"xxx…" (1048576 characters)`.
pub fn quoted(value: &str) -> String {
    match value.char_indices().nth(SHOWN) {
        None => format!("\"{value}\""),
        Some((cut, _)) => format!(
            "\"{}…\" ({} characters)",
            &value[..cut],
            value.chars().count()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::{excerpt, quoted};

    #[test]
    fn short_values_are_whole_long_ones_cut() {
        assert_eq!(excerpt("fake-camera-front"), "fake-camera-front");
        let exactly = "a".repeat(100);
        assert_eq!(excerpt(&exactly), exactly);
        // Cut on a character boundary.
        assert_eq!(
            excerpt(&"é".repeat(101)),
            format!("{}… (101 characters)", "é".repeat(100))
        );
        let long = "x".repeat(1 << 20);
        let shown = excerpt(&long);
        assert!(shown.ends_with("… (1048576 characters)"), "{shown}");
        assert!(shown.len() < 200);
        assert_eq!(quoted("user"), "\"user\"");
        assert_eq!(
            quoted(&long),
            format!("\"{}…\" (1048576 characters)", "x".repeat(100))
        );
    }
}
