// SPDX-License-Identifier: MPL-2.0

//! `mediastream://` URIs: the MediaStreamConstraints JSON a URI stands for
//! (plain Rust, tested without a pipeline).

use crate::constraints::StreamConstraints;
use crate::excerpt::excerpt;

/// The MediaStreamConstraints JSON a `mediastream://` URI stands for. The
/// scheme is read in any case (`MEDIASTREAM://`, as URI schemes are); each
/// query key may be given once.
pub fn constraints_from_uri(uri: &str) -> Result<String, String> {
    const SCHEME: &str = "mediastream://";
    let rest = uri
        .get(..SCHEME.len())
        .filter(|scheme| scheme.eq_ignore_ascii_case(SCHEME))
        .map(|_| &uri[SCHEME.len()..])
        .ok_or("not a mediastream:// URI")?;
    let query = rest
        .strip_prefix('?')
        .or_else(|| rest.strip_prefix("/?"))
        .ok_or("expected ?video=..., ?audio=... or ?constraints=... after mediastream://")?;
    let mut map = serde_json::Map::new();
    let mut whole = None;
    let mut seen = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("'{}' has no value", excerpt(pair)))?;
        if seen.contains(&key) {
            return Err(format!(
                "'{}' is given twice: give each of video, audio and constraints once",
                excerpt(key)
            ));
        }
        seen.push(key);
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| format!("the value of '{}' is not UTF-8 once decoded", excerpt(key)))?;
        match key {
            "video" | "audio" => {
                let v: serde_json::Value = serde_json::from_str(&value).map_err(|e| {
                    format!(
                        "{key}: '{}' is not true, false or a JSON object ({e})",
                        excerpt(&value)
                    )
                })?;
                map.insert(key.to_owned(), v);
            }
            "constraints" => whole = Some(value.into_owned()),
            other => {
                return Err(format!(
                    "unknown parameter '{}' (use video, audio or constraints)",
                    excerpt(other)
                ));
            }
        }
    }
    let json = match whole {
        Some(_) if !map.is_empty() => {
            return Err("use either constraints= or video=/audio=, not both".into());
        }
        Some(json) => json,
        None => serde_json::Value::Object(map).to_string(),
    };
    StreamConstraints::parse(&json).map_err(|e| e.to_string())?;
    Ok(json)
}
