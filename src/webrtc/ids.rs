// SPDX-License-Identifier: MPL-2.0

//! The sender's ids on a data channel, where the signalling drops them.
//!
//! An SFU may rewrite the msid (Janus 1.1.2 gives its subscribers
//! `a=msid:<feed id> <its own mid>`, and keeps at most the publisher's
//! mids, 16 bytes long, in its JSON). So `mediastreamwhipsink` opens a
//! data channel labelled [`LABEL`] and sends, once a second, the stream id
//! and each track's id by the mid it has in the publisher's SDP;
//! `mediastreamjanussrc` reads it, and its tracks get the sender's ids.
//! The message: `{"stream": "<id>", "tracks": {"<mid>": "<track id>"}}`.

use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The data channel's label.
pub const LABEL: &str = "mediastream-ids";

/// How often the sender repeats the ids: a subscriber joining later hears
/// them within this time (an SFU forwards only what comes after it joined).
pub const INTERVAL_MS: u64 = 1000;

/// A stream's ids.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ids {
    pub stream: String,
    /// The track id of each mid (the sender's SDP).
    pub tracks: BTreeMap<String, String>,
}

impl Ids {
    pub fn to_message(&self) -> String {
        json!({"stream": self.stream, "tracks": self.tracks}).to_string()
    }

    /// The ids a message carries; `None` for anything else (a message of
    /// another application on a channel of that name is ignored).
    pub fn from_message(text: &str) -> Option<Ids> {
        let v: Value = serde_json::from_str(text).ok()?;
        let stream = v["stream"].as_str().filter(|s| !s.is_empty())?.to_owned();
        let tracks = v["tracks"]
            .as_object()?
            .iter()
            .filter_map(|(mid, id)| Some((mid.clone(), id.as_str()?.to_owned())))
            .collect();
        Some(Ids { stream, tracks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_reads_back_and_nothing_else_is_taken() {
        let ids = Ids {
            stream: "0b7c5a3e-4a1f-4a55-9f0e-2b9c3d1e7f10".into(),
            tracks: [
                ("video0".to_owned(), "v-1".to_owned()),
                ("audio1".to_owned(), "a-1".to_owned()),
            ]
            .into_iter()
            .collect(),
        };
        assert_eq!(Ids::from_message(&ids.to_message()), Some(ids));
        for other in [
            "",
            "hello",
            "{}",
            r#"{"stream":""}"#,
            r#"{"stream":"s","tracks":[1]}"#,
        ] {
            assert_eq!(Ids::from_message(other), None, "{other}");
        }
    }
}
