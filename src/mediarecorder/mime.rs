// SPDX-License-Identifier: MPL-2.0

//! MediaRecorderOptions.mimeType: parsing a MIME type, and choosing the
//! container, codecs and GStreamer elements that record it. Pure logic:
//! whether an element is installed is asked through a closure, so all of
//! this is testable without a pipeline.

use crate::excerpt::excerpt;
use std::fmt;

/// A container the recorder writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// `video/webm`, `audio/webm`: `webmmux`, streamable.
    Webm,
    /// `video/x-matroska`, `audio/x-matroska`: `matroskamux`, streamable.
    Matroska,
    /// `audio/ogg`: `oggmux`.
    Ogg,
    /// `video/mp4`, `audio/mp4`: `mp4mux`, fragmented and streamable.
    Mp4,
}

/// A codec the recorder encodes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Vp8,
    Vp9,
    Av1,
    H264,
    Opus,
    Aac,
}

/// The elements each supported codec can be encoded with, in order of
/// preference.
const AAC_ENCODERS: [&str; 3] = ["voaacenc", "avenc_aac", "fdkaacenc"];

impl Codec {
    pub fn is_video(self) -> bool {
        matches!(self, Codec::Vp8 | Codec::Vp9 | Codec::Av1 | Codec::H264)
    }

    /// The name written in a `codecs` parameter.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Vp8 => "vp8",
            Codec::Vp9 => "vp9",
            Codec::Av1 => "av01",
            Codec::H264 => "avc1",
            Codec::Opus => "opus",
            Codec::Aac => "mp4a.40.2",
        }
    }

    /// Encoder factories that make this codec, best first.
    pub fn encoders(self) -> &'static [&'static str] {
        match self {
            Codec::Vp8 => &["vp8enc"],
            Codec::Vp9 => &["vp9enc"],
            Codec::Av1 => &["av1enc"],
            Codec::H264 => &["openh264enc"],
            Codec::Opus => &["opusenc"],
            Codec::Aac => &AAC_ENCODERS,
        }
    }

    /// The parser between encoder and muxer, if the muxer needs one: H.264
    /// in the `avc` stream format with its codec data; AV1 in whole
    /// temporal units; VP9 in MP4, whose muxer wants the chroma format and
    /// bit depth vp9parse adds to the caps.
    pub fn parser(self, container: Container) -> Option<&'static str> {
        match self {
            Codec::H264 => Some("h264parse"),
            Codec::Av1 => Some("av1parse"),
            Codec::Vp9 if container == Container::Mp4 => Some("vp9parse"),
            _ => None,
        }
    }

    /// One codec name of a `codecs` parameter (RFC 6381 forms included:
    /// `vp8.0`, `vp09.00.10.08`, `avc1.42E01E`, `mp4a.40.2`).
    fn parse(s: &str) -> Option<Codec> {
        let s = s.trim().trim_matches('"').to_ascii_lowercase();
        let head = s.split('.').next().unwrap_or("");
        match head {
            "vp8" => Some(Codec::Vp8),
            "vp9" | "vp09" => Some(Codec::Vp9),
            "av01" | "av1" => Some(Codec::Av1),
            "avc1" | "avc3" | "h264" => Some(Codec::H264),
            "opus" => Some(Codec::Opus),
            "mp4a" if s == "mp4a" || s == "mp4a.40.2" || s == "mp4a.40.02" => Some(Codec::Aac),
            "aac" => Some(Codec::Aac),
            _ => None,
        }
    }
}

/// H.264's profile_idc of Baseline, which openh264enc writes (with the
/// constraint flag of Constrained Baseline).
const BASELINE: u8 = 66;

/// The profile_idc of an RFC 6381 `avc1.PPCCLL` / `avc3.PPCCLL` (hex);
/// `None` without one (plain `avc1`, `h264`) or for another codec.
fn h264_profile(name: &str) -> Option<u8> {
    let s = name.trim().trim_matches('"').to_ascii_lowercase();
    let (head, rest) = s.split_once('.')?;
    if !matches!(head, "avc1" | "avc3") {
        return None;
    }
    u8::from_str_radix(rest.get(..2)?, 16).ok()
}

fn profile_name(profile: u8) -> &'static str {
    match profile {
        66 => "Baseline",
        77 => "Main",
        88 => "Extended",
        100 => "High",
        110 => "High 10",
        122 => "High 4:2:2",
        244 => "High 4:4:4",
        _ => "not a profile openh264enc knows",
    }
}

impl Container {
    /// The muxer factory.
    pub fn muxer(self) -> &'static str {
        match self {
            Container::Webm => "webmmux",
            Container::Matroska => "matroskamux",
            Container::Ogg => "oggmux",
            Container::Mp4 => "mp4mux",
        }
    }

    /// Codecs the container can hold (video, audio), the default first.
    fn codecs(self) -> (&'static [Codec], &'static [Codec]) {
        match self {
            Container::Webm => (&[Codec::Vp8, Codec::Vp9, Codec::Av1], &[Codec::Opus]),
            Container::Matroska => (
                &[Codec::Vp8, Codec::Vp9, Codec::Av1, Codec::H264],
                &[Codec::Opus, Codec::Aac],
            ),
            Container::Ogg => (&[], &[Codec::Opus]),
            Container::Mp4 => (
                &[Codec::H264, Codec::Vp9, Codec::Av1],
                &[Codec::Aac, Codec::Opus],
            ),
        }
    }

    fn subtype(self) -> &'static str {
        match self {
            Container::Webm => "webm",
            Container::Matroska => "x-matroska",
            Container::Ogg => "ogg",
            Container::Mp4 => "mp4",
        }
    }
}

/// Every type the recorder knows, for messages and docs.
pub const KNOWN: &str =
    "video/webm, audio/webm, video/x-matroska, audio/x-matroska, audio/ogg, video/mp4, audio/mp4";

/// Why a type cannot be recorded: the W3C NotSupportedError, with the
/// missing element when that is the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotSupported {
    pub message: String,
    /// The element (or alternatives, `a, b or c`) that is not installed.
    pub missing: Option<String>,
}

impl fmt::Display for NotSupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NotSupportedError: {}", self.message)
    }
}

/// The parameters after a type's essence, `;key=value`, the value a token
/// or a quoted string (RFC 9110, 5.6.6), keys in lower case. A quote left
/// open or a stray quote is NotSupportedError; a parameter without `=` is
/// skipped.
fn parameters(rest: &str, mime: &str) -> Result<Vec<(String, String)>, NotSupported> {
    let quote = || unsupported(format!("unbalanced quote in '{}'", excerpt(mime)));
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ';').is_some() {}
        if chars.peek().is_none() {
            return Ok(params);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && *c != ';') {
            key.push(c);
        }
        if key.contains('"') {
            return Err(quote());
        }
        if chars.next_if_eq(&'=').is_none() {
            continue;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => value.push(c),
                }
            }
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            if !closed || chars.peek().is_some_and(|c| *c != ';') {
                return Err(quote());
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ';') {
                value.push(c);
            }
            if value.contains('"') {
                return Err(quote());
            }
        }
        params.push((key.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
}

fn unsupported(message: impl Into<String>) -> NotSupported {
    NotSupported {
        message: message.into(),
        missing: None,
    }
}

/// A parsed MIME type: container, and the codecs it lists (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MimeType {
    pub container: Container,
    /// `video/...` (may hold video) or `audio/...` (audio only).
    pub video_allowed: bool,
    pub video: Option<Codec>,
    pub audio: Option<Codec>,
    /// A `codecs` parameter was given.
    pub codecs_given: bool,
}

impl MimeType {
    /// Parses `type/subtype;codecs=a,b` (case-insensitive, quotes and
    /// spaces allowed, other parameters ignored; `codecs` at most once,
    /// quotes balanced). The codecs must suit the container; the first
    /// video and the first audio codec are used.
    pub fn parse(mime: &str) -> Result<MimeType, NotSupported> {
        let (essence, rest) = mime.split_once(';').unwrap_or((mime, ""));
        let essence = essence.trim().to_ascii_lowercase();
        let (container, video_allowed) = match essence.as_str() {
            "video/webm" => (Container::Webm, true),
            "audio/webm" => (Container::Webm, false),
            "video/x-matroska" => (Container::Matroska, true),
            "audio/x-matroska" => (Container::Matroska, false),
            "audio/ogg" => (Container::Ogg, false),
            "video/mp4" => (Container::Mp4, true),
            "audio/mp4" => (Container::Mp4, false),
            "" => return Err(unsupported("empty MIME type")),
            other => {
                return Err(unsupported(format!(
                    "'{}' is not a type the recorder knows (it knows {KNOWN})",
                    excerpt(other)
                )));
            }
        };
        let (vcodecs, acodecs) = container.codecs();
        let mut out = MimeType {
            container,
            video_allowed,
            video: None,
            audio: None,
            codecs_given: false,
        };
        for (key, value) in parameters(rest, mime)? {
            if key != "codecs" {
                continue;
            }
            if std::mem::replace(&mut out.codecs_given, true) {
                return Err(unsupported(format!(
                    "the codecs parameter is given more than once in '{}'",
                    excerpt(mime)
                )));
            }
            for name in value.split(',').filter(|n| !n.trim().is_empty()) {
                let codec = Codec::parse(name).ok_or_else(|| {
                    unsupported(format!(
                        "unknown codec '{}' in '{}'",
                        excerpt(name.trim()),
                        excerpt(mime)
                    ))
                })?;
                let allowed = if codec.is_video() {
                    video_allowed && vcodecs.contains(&codec)
                } else {
                    acodecs.contains(&codec)
                };
                if !allowed {
                    return Err(unsupported(format!(
                        "{essence} cannot hold {} (it holds {})",
                        codec.name(),
                        codec_list(if video_allowed { vcodecs } else { &[] }, acodecs)
                    )));
                }
                if let Some(profile) = h264_profile(name).filter(|p| *p != BASELINE) {
                    return Err(unsupported(format!(
                        "'{}' asks for H.264 profile {profile} ({}); the H.264 encoder used (openh264enc) writes Constrained Baseline only: ask for avc1.42E0xx, or avc1 with no profile",
                        excerpt(name.trim()),
                        profile_name(profile)
                    )));
                }
                let slot = if codec.is_video() {
                    &mut out.video
                } else {
                    &mut out.audio
                };
                slot.get_or_insert(codec);
            }
            if out.video.is_none() && out.audio.is_none() {
                return Err(unsupported(format!("no codec in '{}'", excerpt(mime))));
            }
        }
        Ok(out)
    }

    /// The codecs that record tracks of these kinds, with the elements they
    /// need checked through `installed`. Without a `codecs` parameter the
    /// container's defaults are used; with one, a track kind it has no codec
    /// for is NotSupportedError.
    pub fn plan(
        &self,
        has_video: bool,
        has_audio: bool,
        installed: &dyn Fn(&str) -> bool,
    ) -> Result<Plan, NotSupported> {
        let (vcodecs, acodecs) = self.container.codecs();
        let default_video = vcodecs.first().copied().filter(|_| self.video_allowed);
        let default_audio = acodecs.first().copied();
        let pick = |given: Option<Codec>, default: Option<Codec>, kind: &str| match (
            given,
            self.codecs_given,
        ) {
            (Some(c), _) => Ok(Some(c)),
            (None, false) if default.is_some() => Ok(default),
            _ => Err(unsupported(format!(
                "{} cannot record the stream's {kind} track{}",
                self.essence(),
                if self.codecs_given {
                    " (the codecs parameter lists no codec for it)"
                } else {
                    ""
                }
            ))),
        };
        let video = if has_video {
            pick(self.video, default_video, "video")?
        } else {
            None
        };
        let audio = if has_audio {
            pick(self.audio, default_audio, "audio")?
        } else {
            None
        };
        let plan = Plan {
            container: self.container,
            video_allowed: self.video_allowed,
            video,
            audio,
        };
        plan.check(installed)?;
        Ok(plan)
    }

    /// isTypeSupported: the type parses and every element it needs (its
    /// codecs, or the container's defaults) is installed.
    pub fn supported(&self, installed: &dyn Fn(&str) -> bool) -> Result<(), NotSupported> {
        let (vcodecs, acodecs) = self.container.codecs();
        let plan = if self.codecs_given {
            Plan {
                container: self.container,
                video_allowed: self.video_allowed,
                video: self.video,
                audio: self.audio,
            }
        } else {
            Plan {
                container: self.container,
                video_allowed: self.video_allowed,
                video: vcodecs.first().copied().filter(|_| self.video_allowed),
                audio: acodecs.first().copied(),
            }
        };
        plan.check(installed)
    }

    fn essence(&self) -> String {
        let top = if self.video_allowed { "video" } else { "audio" };
        format!("{top}/{}", self.container.subtype())
    }
}

fn codec_list(v: &[Codec], a: &[Codec]) -> String {
    v.iter()
        .chain(a)
        .map(|c| c.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a recording is made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub container: Container,
    pub video_allowed: bool,
    pub video: Option<Codec>,
    pub audio: Option<Codec>,
}

impl Plan {
    /// The default for a stream's tracks (an empty `mime-type`): WebM with
    /// VP8 and Opus, as browsers pick; but a remote video track that
    /// arrived in a codec WebM holds (`received_video`: `vp9`, `av1`) is
    /// recorded in that codec when its encoder is installed, so the type
    /// names the codec the peer sent, as a browser's passthrough has it.
    pub fn default_for(
        has_video: bool,
        has_audio: bool,
        received_video: Option<&str>,
        installed: &dyn Fn(&str) -> bool,
    ) -> Result<Plan, NotSupported> {
        let received = match received_video.filter(|_| has_video) {
            Some("vp9") => Some("vp9"),
            Some("av1") => Some("av01"),
            _ => None,
        };
        if let Some(codec) = received {
            let audio = if has_audio { ",opus" } else { "" };
            let mime = format!("video/webm;codecs={codec}{audio}");
            if let Ok(plan) = MimeType::parse(&mime)
                .expect("a known type")
                .plan(has_video, has_audio, installed)
            {
                return Ok(plan);
            }
        }
        let mime = if has_video {
            "video/webm"
        } else {
            "audio/webm"
        };
        MimeType::parse(mime)
            .expect("a known type")
            .plan(has_video, has_audio, installed)
    }

    /// The full type with codecs, as MediaRecorder.mimeType reads once
    /// recording starts: `video/webm;codecs=vp8,opus`.
    pub fn mime_type(&self) -> String {
        let top = if self.video_allowed { "video" } else { "audio" };
        let codecs: Vec<&str> = self
            .video
            .iter()
            .chain(&self.audio)
            .map(|c| c.name())
            .collect();
        format!(
            "{top}/{};codecs={}",
            self.container.subtype(),
            codecs.join(",")
        )
    }

    /// The encoder factory for a codec: the first installed.
    pub fn encoder(codec: Codec, installed: &dyn Fn(&str) -> bool) -> Option<&'static str> {
        codec.encoders().iter().copied().find(|f| installed(f))
    }

    /// Every element the plan needs is installed, or NotSupportedError
    /// naming the first that is not.
    pub fn check(&self, installed: &dyn Fn(&str) -> bool) -> Result<(), NotSupported> {
        let missing = |what: String, element: String| NotSupported {
            message: format!(
                "{} needs {what}, which is not installed (install the GStreamer plugin that provides it)",
                self.mime_type()
            ),
            missing: Some(element),
        };
        let muxer = self.container.muxer();
        if !installed(muxer) {
            return Err(missing(format!("the muxer '{muxer}'"), muxer.into()));
        }
        for codec in self.video.iter().chain(&self.audio) {
            if Plan::encoder(*codec, installed).is_none() {
                let names = codec.encoders();
                let list = match names {
                    [one] => format!("'{one}'"),
                    _ => {
                        let (last, rest) = names.split_last().unwrap();
                        format!(
                            "{} or '{last}'",
                            rest.iter()
                                .map(|n| format!("'{n}'"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                };
                return Err(missing(
                    format!("a {} encoder ({list})", codec.name()),
                    names.join(", "),
                ));
            }
            if let Some(parser) = codec.parser(self.container)
                && !installed(parser)
            {
                return Err(missing(format!("the parser '{parser}'"), parser.into()));
            }
        }
        Ok(())
    }
}

/// The types the docs and tests list, each with what it records.
pub const LISTED: [&str; 11] = [
    "video/webm;codecs=vp8,opus",
    "video/webm;codecs=vp9,opus",
    "video/webm;codecs=av01,opus",
    "video/mp4;codecs=vp9,opus",
    "video/mp4;codecs=av01,opus",
    "audio/webm;codecs=opus",
    "video/x-matroska",
    "video/x-matroska;codecs=avc1,opus",
    "audio/ogg;codecs=opus",
    "video/mp4;codecs=avc1,mp4a.40.2",
    "audio/mp4;codecs=mp4a.40.2",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn all(_: &str) -> bool {
        true
    }

    #[test]
    fn types_parse_with_their_codecs() {
        let m = MimeType::parse("video/webm;codecs=vp8,opus").unwrap();
        assert_eq!(
            (m.container, m.video, m.audio),
            (Container::Webm, Some(Codec::Vp8), Some(Codec::Opus))
        );
        let m = MimeType::parse(r#"Video/WebM; codecs="vp09.00.10.08, opus""#).unwrap();
        assert_eq!(m.video, Some(Codec::Vp9));
        for high in [
            "video/mp4;codecs=avc1.64003E,mp4a.40.2",
            "video/mp4;codecs=avc3.4D401F",
        ] {
            let e = MimeType::parse(high).unwrap_err();
            assert!(
                e.message.contains("Constrained Baseline only"),
                "{high}: {e:?}"
            );
        }
        let m = MimeType::parse("video/mp4;codecs=avc1.42E01E,mp4a.40.2").unwrap();
        assert_eq!(
            (m.container, m.video, m.audio),
            (Container::Mp4, Some(Codec::H264), Some(Codec::Aac))
        );
        let m = MimeType::parse("video/x-matroska").unwrap();
        assert!(!m.codecs_given);
        for t in LISTED {
            MimeType::parse(t).unwrap().supported(&all).unwrap();
        }
        // The types Chromium records beyond WebM VP8/VP9.
        for (t, video) in [
            ("video/mp4;codecs=vp9,opus", Codec::Vp9),
            ("video/mp4;codecs=av01,opus", Codec::Av1),
            ("video/webm;codecs=av01,opus", Codec::Av1),
            ("video/webm;codecs=av1,opus", Codec::Av1),
            ("video/mp4;codecs=av01.0.04M.08,opus", Codec::Av1),
        ] {
            let m = MimeType::parse(t).unwrap();
            assert_eq!((m.video, m.audio), (Some(video), Some(Codec::Opus)), "{t}");
        }
        assert_eq!(Codec::Vp9.parser(Container::Mp4), Some("vp9parse"));
        assert_eq!(Codec::Vp9.parser(Container::Webm), None);
    }

    #[test]
    fn bad_types_are_not_supported_and_say_why() {
        for (t, says) in [
            ("video/avi", "not a type the recorder knows"),
            ("", "empty"),
            ("audio/webm;codecs=vp8", "audio/webm cannot hold vp8"),
            ("video/webm;codecs=avc1", "video/webm cannot hold avc1"),
            ("audio/ogg;codecs=vp8", "cannot hold vp8"),
            ("video/webm;codecs=theora", "unknown codec 'theora'"),
            ("audio/ogg;codecs=mp4a.40.2", "cannot hold mp4a.40.2"),
        ] {
            let e = MimeType::parse(t).unwrap_err();
            assert!(e.to_string().starts_with("NotSupportedError: "), "{e}");
            assert!(e.message.contains(says), "{t}: {e}");
        }
    }

    #[test]
    fn malformed_parameters_are_not_supported() {
        for (t, says) in [
            (r#"video/webm;codecs="vp8,opus"#, "unbalanced quote"),
            (r#"video/webm;codecs=vp8,opus""#, "unbalanced quote"),
            (r#"video/webm;codecs="vp8"opus"#, "unbalanced quote"),
            (r#"video/webm;"codecs=vp8"#, "unbalanced quote"),
            (
                "video/webm;codecs=vp8;codecs=vp9",
                "codecs parameter is given more than once",
            ),
            (
                "video/webm; CODECS=vp8 ; codecs=opus",
                "codecs parameter is given more than once",
            ),
        ] {
            let e = MimeType::parse(t).unwrap_err();
            assert!(e.message.contains(says), "{t}: {e}");
            assert!(MimeType::parse(t).and_then(|m| m.supported(&all)).is_err());
        }
        // Quoted values may hold ';' and escaped quotes are no stray quotes;
        // other parameters are still ignored.
        let m = MimeType::parse(r#"video/webm;x="a;b\"c";codecs="vp9, opus""#).unwrap();
        assert_eq!((m.video, m.audio), (Some(Codec::Vp9), Some(Codec::Opus)));
        let m = MimeType::parse("video/webm;codecs=vp8;rate=1;flag").unwrap();
        assert_eq!(m.video, Some(Codec::Vp8));
    }

    #[test]
    fn messages_cut_a_huge_type() {
        let huge = format!("video/{}", "x".repeat(1 << 20));
        let e = MimeType::parse(&huge).unwrap_err();
        assert!(e.message.len() < 400, "{} bytes", e.message.len());
        assert!(
            e.message.contains(&format!(
                "video/{}… ({} characters)",
                "x".repeat(94),
                huge.len()
            )),
            "{}",
            e.message
        );
        let huge = format!("video/webm;codecs={}", "y".repeat(1 << 20));
        let e = MimeType::parse(&huge).unwrap_err();
        assert!(e.message.len() < 400, "{}", e.message);
        assert!(e.message.starts_with("unknown codec 'yyy"), "{}", e.message);
    }

    #[test]
    fn plans_use_defaults_and_read_back_full_types() {
        let p = Plan::default_for(true, true, None, &all).unwrap();
        assert_eq!(p.mime_type(), "video/webm;codecs=vp8,opus");
        assert_eq!(
            Plan::default_for(false, true, None, &all)
                .unwrap()
                .mime_type(),
            "audio/webm;codecs=opus"
        );
        assert_eq!(
            Plan::default_for(true, false, None, &all)
                .unwrap()
                .mime_type(),
            "video/webm;codecs=vp8"
        );
        // A remote track's codec, where WebM holds it and it is installed.
        for (received, mime) in [
            ("vp9", "video/webm;codecs=vp9,opus"),
            ("av1", "video/webm;codecs=av01,opus"),
            ("vp8", "video/webm;codecs=vp8,opus"),
            ("h264", "video/webm;codecs=vp8,opus"),
        ] {
            let p = Plan::default_for(true, true, Some(received), &all).unwrap();
            assert_eq!(p.mime_type(), mime, "{received}");
        }
        let no_vp9 = |f: &str| f != "vp9enc";
        assert_eq!(
            Plan::default_for(true, false, Some("vp9"), &no_vp9)
                .unwrap()
                .mime_type(),
            "video/webm;codecs=vp8"
        );
        assert_eq!(
            Plan::default_for(false, true, Some("vp9"), &all)
                .unwrap()
                .mime_type(),
            "audio/webm;codecs=opus"
        );
        let m = MimeType::parse("video/x-matroska").unwrap();
        assert_eq!(
            m.plan(true, true, &all).unwrap().mime_type(),
            "video/x-matroska;codecs=vp8,opus"
        );
        // A video track with an audio-only type.
        let m = MimeType::parse("audio/ogg;codecs=opus").unwrap();
        assert!(
            m.plan(true, true, &all)
                .unwrap_err()
                .message
                .contains("video track")
        );
        // codecs given without one for a kind.
        let m = MimeType::parse("video/webm;codecs=vp8").unwrap();
        assert!(
            m.plan(true, true, &all)
                .unwrap_err()
                .message
                .contains("audio track")
        );
        // A codec for a kind the stream lacks is not used.
        let m = MimeType::parse("video/webm;codecs=vp8,opus").unwrap();
        assert_eq!(m.plan(true, false, &all).unwrap().audio, None);
    }

    #[test]
    fn missing_elements_are_named() {
        let no_aac = |f: &str| !AAC_ENCODERS.contains(&f);
        let m = MimeType::parse("video/mp4;codecs=avc1,mp4a.40.2").unwrap();
        let e = m.supported(&no_aac).unwrap_err();
        assert!(
            e.message.contains("'voaacenc', 'avenc_aac' or 'fdkaacenc'"),
            "{e}"
        );
        assert_eq!(e.missing.as_deref(), Some("voaacenc, avenc_aac, fdkaacenc"));
        let no_mux = |f: &str| f != "webmmux";
        let e = MimeType::parse("audio/webm")
            .unwrap()
            .supported(&no_mux)
            .unwrap_err();
        assert_eq!(e.missing.as_deref(), Some("webmmux"));
        let only_fdk = |f: &str| f != "voaacenc" && f != "avenc_aac";
        assert_eq!(Plan::encoder(Codec::Aac, &only_fdk), Some("fdkaacenc"));
        let no_parser = |f: &str| f != "h264parse";
        let e = MimeType::parse("video/x-matroska;codecs=avc1")
            .unwrap()
            .supported(&no_parser)
            .unwrap_err();
        assert_eq!(e.missing.as_deref(), Some("h264parse"));
    }
}
