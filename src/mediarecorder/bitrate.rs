// SPDX-License-Identifier: MPL-2.0

//! MediaRecorderOptions' bitrates (`videoBitsPerSecond`,
//! `audioBitsPerSecond`, `bitsPerSecond`) and what the recorder's
//! `videoBitsPerSecond` / `audioBitsPerSecond` attributes read: plain
//! logic, no pipeline.
//!
//! - Not given: the encoder's own default, which the attribute reads back
//!   (the encoder of the type the recorder would use).
//! - Given: that value, clamped by the encoder to what it takes. 0 reads 0
//!   and leaves the encoder at its default, as WPT expects of browsers.
//! - `bitsPerSecond` (a total) is split at once: audio a tenth, between
//!   6 kbit/s and 128 kbit/s, video the rest and at least 10 kbit/s; at
//!   start a stream of one kind gives that kind all of it and the other 0.

/// The least audio and video get of a total, however small: a bitrate of
/// 0 would be the encoder's default, no small bitrate.
pub const MIN_AUDIO_SHARE: u32 = 6_000;
pub const MIN_VIDEO_SHARE: u32 = 10_000;
/// Audio's share of a total stops here: more goes to video.
pub const MAX_AUDIO_SHARE: u32 = 128_000;

/// The options as given; `None` is "not given".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bitrates {
    pub video: Option<u32>,
    pub audio: Option<u32>,
    /// `bitsPerSecond`: kept for start, which gives a stream of one kind
    /// all of it.
    pub total: Option<u32>,
}

impl Bitrates {
    /// `bitsPerSecond`: overrides the kinds' values (as in the
    /// constructor, where it wins over both).
    pub fn set_total(&mut self, total: u32) {
        let (audio, video) = split(total);
        *self = Bitrates {
            video: Some(video),
            audio: Some(audio),
            total: Some(total),
        };
    }

    /// `videoBitsPerSecond` set after a total: the application now chose
    /// per kind, the total is forgotten.
    pub fn set_video(&mut self, bps: u32) {
        self.video = Some(bps);
        self.total = None;
    }

    pub fn set_audio(&mut self, bps: u32) {
        self.audio = Some(bps);
        self.total = None;
    }

    /// What start makes of them for the track set it records: with a
    /// total, a stream of one kind gives it all to that kind and 0 to the
    /// other; otherwise unchanged.
    pub fn for_tracks(self, has_video: bool, has_audio: bool) -> Bitrates {
        match self.total {
            Some(total) if has_video && !has_audio => Bitrates {
                video: Some(total.max(MIN_VIDEO_SHARE)),
                audio: Some(0),
                total: Some(total),
            },
            Some(total) if has_audio && !has_video => Bitrates {
                video: Some(0),
                audio: Some(total.max(MIN_AUDIO_SHARE)),
                total: Some(total),
            },
            _ => self,
        }
    }
}

/// What an attribute reads: the value given, else the encoder's default
/// (looked up only then).
pub fn read(given: Option<u32>, encoder_default: impl FnOnce() -> u32) -> u32 {
    given.unwrap_or_else(encoder_default)
}

/// What the encoder is set to: `None` leaves its default (not given, or 0).
pub fn target(given: Option<u32>) -> Option<u32> {
    given.filter(|bps| *bps > 0)
}

/// A total's (audio, video) split.
pub fn split(total: u32) -> (u32, u32) {
    let audio = (total / 10).clamp(MIN_AUDIO_SHARE, MAX_AUDIO_SHARE);
    let video = total.saturating_sub(audio).max(MIN_VIDEO_SHARE);
    (audio, video)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_given_reads_the_encoder_default_and_sets_nothing() {
        let b = Bitrates::default();
        assert_eq!(read(b.video, || 256_000), 256_000);
        assert_eq!(target(b.video), None);
    }

    #[test]
    fn zero_reads_zero_and_leaves_the_encoder_default() {
        let mut b = Bitrates::default();
        b.set_audio(0);
        assert_eq!(read(b.audio, || 128_000), 0);
        assert_eq!(target(b.audio), None);
        assert_eq!(read(b.video, || 256_000), 256_000);
    }

    #[test]
    fn a_total_is_split_and_adds_up() {
        for total in [500_000, 1_000_000, 2_000_000, 100_000_000] {
            let (a, v) = split(total);
            assert_eq!(a + v, total, "{total}");
            assert!((MIN_AUDIO_SHARE..=MAX_AUDIO_SHARE).contains(&a));
        }
        assert_eq!(split(500_000), (50_000, 450_000));
        assert_eq!(split(2_000_000), (128_000, 1_872_000));
    }

    #[test]
    fn a_total_of_zero_gives_each_kind_a_little() {
        let (a, v) = split(0);
        assert_eq!((a, v), (MIN_AUDIO_SHARE, MIN_VIDEO_SHARE));
        assert!(a + v < 100_000);
    }

    #[test]
    fn a_total_overrides_the_kinds_and_a_kind_set_later_forgets_it() {
        let mut b = Bitrates::default();
        b.set_video(1_000_000);
        b.set_audio(100_000);
        b.set_total(0);
        assert_eq!(b.video, Some(MIN_VIDEO_SHARE));
        assert_eq!(b.audio, Some(MIN_AUDIO_SHARE));
        b.set_video(300_000);
        assert_eq!(b.total, None);
        assert_eq!(b.for_tracks(true, false).video, Some(300_000));
    }

    #[test]
    fn start_gives_a_one_kind_stream_the_whole_total() {
        let mut b = Bitrates::default();
        b.set_total(500_000);
        let audio = b.for_tracks(false, true);
        assert_eq!((audio.audio, audio.video), (Some(500_000), Some(0)));
        let video = b.for_tracks(true, false);
        assert_eq!((video.audio, video.video), (Some(0), Some(500_000)));
        assert_eq!(b.for_tracks(true, true), b);
    }
}
