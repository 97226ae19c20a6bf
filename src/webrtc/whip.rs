// SPDX-License-Identifier: MPL-2.0

//! A WHIP client (RFC 9725): the offer POSTed to the endpoint, the answer
//! and the session's resource (`Location`) back; DELETE on the resource to
//! leave; trickled candidates with PATCH where the server takes them.
//!
//! Blocking HTTP with `ureq` (no async runtime in a GStreamer element: the
//! calls run on GStreamer's thread pool, each bounded by a timeout). Plain
//! `http://` and `https://` (rustls, the webpki roots).

use crate::excerpt::excerpt;
use std::time::Duration;

/// How long one request may take, end to end.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A published session: what the endpoint answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The SDP answer.
    pub answer: String,
    /// The session's URL (from `Location`, made absolute): PATCH and
    /// DELETE go there.
    pub resource: String,
    /// The `ETag` of the session, for `If-Match` on PATCH.
    pub etag: Option<String>,
    /// ICE servers the endpoint offers (`Link: <url>; rel="ice-server"`).
    pub ice_servers: Vec<String>,
}

/// Why a WHIP request failed, with what the server said.
#[derive(Debug, Clone, PartialEq)]
pub enum WhipError {
    /// No HTTP answer: the server cannot be reached (or the URL is wrong).
    Unreachable { url: String, detail: String },
    /// The server answered with an error status; `body` is what it said.
    Status {
        url: String,
        status: u16,
        body: String,
    },
    /// The answer is not a WHIP answer (no `Location`, no SDP).
    Protocol { url: String, detail: String },
}

impl std::fmt::Display for WhipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WhipError::Unreachable { url, detail } => {
                write!(
                    f,
                    "the WHIP server at {} cannot be reached: {}",
                    excerpt(url),
                    excerpt(detail)
                )
            }
            WhipError::Status { url, status, body } => {
                let why = match status {
                    401 | 403 => " (check the bearer token: auth-token)",
                    404 => " (no such endpoint: check the URL)",
                    409 | 503 => " (the endpoint is busy: another publisher?)",
                    _ => "",
                };
                write!(
                    f,
                    "the WHIP server at {} answered {status}{why}",
                    excerpt(url)
                )?;
                if !body.trim().is_empty() {
                    write!(f, ": {}", excerpt(body.trim()))?;
                }
                Ok(())
            }
            WhipError::Protocol { url, detail } => {
                write!(
                    f,
                    "{} did not answer as a WHIP endpoint: {}",
                    excerpt(url),
                    excerpt(detail)
                )
            }
        }
    }
}

impl std::error::Error for WhipError {}

/// A WHIP endpoint and its bearer token.
#[derive(Clone)]
pub struct Client {
    endpoint: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .finish()
    }
}

impl Client {
    pub fn new(endpoint: &str, token: Option<&str>) -> Client {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            // Error statuses come back as answers: their body says why.
            .http_status_as_error(false)
            // A redirect would carry the offer (and the token) elsewhere.
            .max_redirects(0)
            .build()
            .into();
        Client {
            endpoint: endpoint.to_owned(),
            token: token.filter(|t| !t.is_empty()).map(str::to_owned),
            agent,
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn authorize<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(t) => req.header("Authorization", format!("Bearer {t}")),
            None => req,
        }
    }

    /// POSTs `offer` (with its candidates, or trickled later) and reads the
    /// answer: `201 Created` with `Location`.
    pub fn publish(&self, offer: &str) -> Result<Session, WhipError> {
        let url = self.endpoint.clone();
        let req = self
            .authorize(self.agent.post(&url))
            .header("Content-Type", "application/sdp");
        let mut resp = req.send(offer).map_err(|e| unreachable(&url, e))?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let location = header("location");
        let etag = header("etag");
        let ice_servers = resp
            .headers()
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(ice_servers_of)
            .collect();
        let body = read_body(&mut resp);
        if status != 201 && status != 200 {
            return Err(WhipError::Status { url, status, body });
        }
        let Some(location) = location else {
            return Err(WhipError::Protocol {
                url,
                detail: format!("{status} without a Location header"),
            });
        };
        if !body.trim_start().starts_with("v=0") {
            return Err(WhipError::Protocol {
                url,
                detail: format!("the answer is not SDP: '{}'", excerpt(body.trim())),
            });
        }
        Ok(Session {
            answer: body,
            resource: resolve(&self.endpoint, &location),
            etag,
            ice_servers,
        })
    }

    /// Trickles candidates (an `application/trickle-ice-sdpfrag`). Whether
    /// the server took them: a server without trickle answers 405 or 501,
    /// which is not an error (the candidates in the offer are enough).
    pub fn trickle(&self, session: &Session, fragment: &str) -> Result<bool, WhipError> {
        let url = session.resource.clone();
        let mut req = self
            .authorize(self.agent.patch(&url))
            .header("Content-Type", "application/trickle-ice-sdpfrag");
        if let Some(etag) = &session.etag {
            req = req.header("If-Match", etag);
        }
        let mut resp = req.send(fragment).map_err(|e| unreachable(&url, e))?;
        let status = resp.status().as_u16();
        match status {
            200..=299 => Ok(true),
            405 | 501 => Ok(false),
            _ => Err(WhipError::Status {
                url,
                status,
                body: read_body(&mut resp),
            }),
        }
    }

    /// Ends the session: DELETE on its resource. A resource already gone
    /// (404) is ended too.
    pub fn delete(&self, session: &Session) -> Result<(), WhipError> {
        let url = session.resource.clone();
        let mut resp = self
            .authorize(self.agent.delete(&url))
            .call()
            .map_err(|e| unreachable(&url, e))?;
        match resp.status().as_u16() {
            200..=299 | 404 => Ok(()),
            status => Err(WhipError::Status {
                url,
                status,
                body: read_body(&mut resp),
            }),
        }
    }
}

fn unreachable(url: &str, e: ureq::Error) -> WhipError {
    WhipError::Unreachable {
        url: url.to_owned(),
        detail: e.to_string(),
    }
}

/// The body as text, at most 64 KiB (an error page is shown in part).
fn read_body(resp: &mut ureq::http::Response<ureq::Body>) -> String {
    resp.body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .unwrap_or_default()
}

/// `Location` made absolute against the endpoint: an absolute URL as it
/// is, `/path` on the endpoint's origin, anything else beside the
/// endpoint's last path segment (RFC 3986 reference resolution, the cases
/// servers use).
pub fn resolve(endpoint: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    let origin_end = endpoint
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| endpoint[start..].find('/').map(|j| start + j))
        .unwrap_or(endpoint.len());
    if location.starts_with('/') {
        return format!("{}{location}", &endpoint[..origin_end]);
    }
    let path = endpoint[origin_end..]
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "/",
    };
    format!("{}{dir}{location}", &endpoint[..origin_end])
}

/// The offer as sent: every candidate is in it, so each media section
/// says so (`a=end-of-candidates`, RFC 8840), which webrtcbin 1.22 does
/// not write, and it offers no trickle (`a=ice-options:trickle` left
/// out: this client sends no candidate later). A server that waits for
/// trickled candidates otherwise (Janus 1.1.2: "trickle pending") never
/// gives up on a publisher that vanished.
pub fn with_end_of_candidates(sdp: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut in_media = false;
    let mut ended = false;
    for line in sdp.lines().filter(|l| *l != "a=ice-options:trickle") {
        if line.starts_with("m=") {
            if in_media && !ended {
                out.push("a=end-of-candidates");
            }
            in_media = true;
            ended = false;
        }
        ended |= line == "a=end-of-candidates";
        out.push(line);
    }
    if in_media && !ended {
        out.push("a=end-of-candidates");
    }
    let mut text = out.join("\r\n");
    text.push_str("\r\n");
    text
}

/// The ICE server URLs of one `Link` header value.
fn ice_servers_of(link: &str) -> Vec<String> {
    link.split(',')
        .filter(|l| {
            l.split(';')
                .skip(1)
                .any(|p| p.trim().eq_ignore_ascii_case("rel=\"ice-server\""))
        })
        .filter_map(|l| {
            let url = l.split(';').next()?.trim();
            Some(url.strip_prefix('<')?.strip_suffix('>')?.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_is_made_absolute_as_servers_give_it() {
        let e = "http://127.0.0.1:7080/whip/endpoint/abc";
        assert_eq!(
            resolve(e, "/whip/resource/abc"),
            "http://127.0.0.1:7080/whip/resource/abc"
        );
        assert_eq!(resolve(e, "https://other/x"), "https://other/x", "absolute");
        assert_eq!(
            resolve(e, "res/1"),
            "http://127.0.0.1:7080/whip/endpoint/res/1"
        );
        assert_eq!(resolve("http://h:1", "/r"), "http://h:1/r");
        assert_eq!(resolve("http://h:1/a?x=/y", "b"), "http://h:1/b");
    }

    #[test]
    fn every_media_section_ends_its_candidates_once() {
        let sdp = "v=0\r\ns=-\r\na=ice-options:trickle\r\nm=video 9 X 96\r\na=ice-options:trickle\r\na=candidate:1 1 UDP 1 10.0.0.1 5 typ host\r\nm=audio 0 X 111\r\na=end-of-candidates\r\nm=application 0 Y z\r\na=mid:2\r\n";
        let out = with_end_of_candidates(sdp);
        let sections: Vec<&str> = out.split("m=").skip(1).collect();
        assert_eq!(sections.len(), 3);
        for s in sections {
            assert_eq!(s.matches("a=end-of-candidates").count(), 1, "{s}");
        }
        assert!(out.starts_with("v=0\r\ns=-\r\nm=") && out.ends_with("\r\n"));
        assert!(!out.contains("trickle"), "{out}");
    }

    #[test]
    fn ice_servers_come_from_link_headers() {
        assert_eq!(
            ice_servers_of(
                "<stun:stun.example.net>; rel=\"ice-server\", <https://x/y>; rel=\"next\", <turn:t.example.net?transport=udp>; rel=\"ice-server\"; username=\"u\""
            ),
            ["stun:stun.example.net", "turn:t.example.net?transport=udp"]
        );
        assert!(ice_servers_of("<https://x>; rel=\"next\"").is_empty());
    }

    #[test]
    fn errors_say_what_the_server_said_and_never_the_token() {
        let e = WhipError::Status {
            url: "http://h/whip".into(),
            status: 403,
            body: "Unauthorized\n".into(),
        };
        let text = e.to_string();
        assert!(text.contains("403"), "{text}");
        assert!(text.contains("auth-token"), "{text}");
        assert!(text.ends_with(": Unauthorized"), "{text}");
        let c = Client::new("http://h/whip", Some("s3cret"));
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
