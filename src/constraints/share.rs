// SPDX-License-Identifier: MPL-2.0

//! The mode a device shared by several tracks runs (docs/mediastreamsrc.md,
//! "One camera, many tracks"): what a capture delivers for a track's
//! settings, whether a running mode gives a track exactly its settings, and
//! where the device moves when a track wants more than it runs. Pure: no
//! GStreamer.

use super::{
    AudioMode, DeviceInfo, Fraction, IntRange, Kind, NativeMode, ResizeMode, SelectOptions,
    Settings, TrackConstraints, VideoMode, VideoSettings, select_on_device,
};

/// What a capture for `settings` from the native mode `mode` delivers,
/// decoded: the mode itself for crop-and-scale (the track crops and
/// scales), the settings' own size for a native track.
pub fn running_mode(settings: &Settings, mode: &NativeMode) -> NativeMode {
    match (settings, mode) {
        (Settings::Video(v), NativeMode::Video(m)) => {
            let (width, height) = match v.resize_mode {
                ResizeMode::None => (v.width, v.height),
                ResizeMode::CropAndScale => (m.width.max, m.height.max),
            };
            let rate = device_rate(v, m);
            NativeMode::Video(VideoMode {
                width: IntRange::fixed(width),
                height: IntRange::fixed(height),
                min_rate: rate,
                max_rate: rate,
                media_type: "video/x-raw".into(),
                formats: if m.is_encoded() {
                    Vec::new()
                } else {
                    m.formats.clone()
                },
                structure_index: 0,
            })
        }
        (Settings::Audio(a), NativeMode::Audio(m)) => NativeMode::Audio(AudioMode {
            rate: IntRange::fixed(a.sample_rate),
            channels: IntRange::fixed(a.channel_count),
            sample_size: m.sample_size,
            format: m.format.clone(),
            structure_index: 0,
        }),
        _ => mode.clone(),
    }
}

/// The rate the device runs for video settings from mode `m`: the chosen
/// one where the mode offers it, else the mode's highest (then decimated).
pub fn device_rate(v: &VideoSettings, m: &VideoMode) -> Fraction {
    let rate = v.frame_rate_fraction;
    let offered =
        m.min_rate.to_f64() - 1e-9 <= rate.to_f64() && rate.to_f64() <= m.max_rate.to_f64() + 1e-9;
    if v.resize_mode == ResizeMode::None || offered {
        rate
    } else {
        m.max_rate
    }
}

/// `device` as a track on a running capture sees it: the running mode only.
pub fn with_mode(device: &DeviceInfo, mode: &NativeMode) -> DeviceInfo {
    let mut running = device.clone();
    running.modes = vec![mode.clone()];
    running
}

/// Whether a capture running `mode` (a fixed raw mode) on `device` gives a
/// track exactly `settings`: the same size, frame rate and resize mode, so
/// nothing the track reports changes.
pub fn gives(settings: &Settings, device: &DeviceInfo, mode: &NativeMode) -> bool {
    match (settings, mode) {
        (Settings::Video(v), NativeMode::Video(_)) => {
            let exact = format!(
                r#"{{"width": {{"exact": {}}}, "height": {{"exact": {}}}, "frameRate": {{"exact": {}}}, "resizeMode": {{"exact": "{}"}}}}"#,
                v.width,
                v.height,
                v.frame_rate,
                v.resize_mode.as_str()
            );
            let Ok(constraints) = TrackConstraints::parse(&exact) else {
                return false;
            };
            let opts = SelectOptions::default();
            select_on_device(Kind::Video, &constraints, &with_mode(device, mode), &opts).is_ok_and(
                |sel| match sel.settings {
                    Settings::Video(got) => {
                        (got.width, got.height, got.resize_mode)
                            == (v.width, v.height, v.resize_mode)
                            && (got.frame_rate - v.frame_rate).abs() <= 1e-6
                    }
                    Settings::Audio(_) => false,
                },
            )
        }
        // The audio chain converts nothing: the running rate and channels
        // are the track's.
        (Settings::Audio(a), NativeMode::Audio(m)) => {
            (m.rate.min..=m.rate.max).contains(&a.sample_rate)
                && (m.channels.min..=m.channels.max).contains(&a.channel_count)
        }
        _ => false,
    }
}

/// Where a shared capture goes for a track whose constraints select
/// `wanted` from native mode `mode_index` of `device` (what it would get
/// alone), while the device runs `running` for tracks with the settings
/// `others`: `Some(the mode to run)` when the running mode does not give
/// `wanted` and the mode that does gives every other track its own
/// settings; `None` when the device stays (the track is then adapted from
/// the running mode, or refused). The device moves between modes of the
/// format it runs (raw to raw, MJPEG to MJPEG), never to audio or back.
pub fn move_for(
    wanted: &Settings,
    mode_index: usize,
    device: &DeviceInfo,
    running_native: usize,
    running: &NativeMode,
    others: &[Settings],
) -> Option<NativeMode> {
    if gives(wanted, device, running) {
        return None;
    }
    let (NativeMode::Video(to), Some(NativeMode::Video(from))) = (
        device.modes.get(mode_index)?,
        device.modes.get(running_native),
    ) else {
        return None;
    };
    if to.media_type != from.media_type {
        return None;
    }
    let target = running_mode(wanted, &device.modes[mode_index]);
    (gives(wanted, device, &target) && others.iter().all(|s| gives(s, device, &target)))
        .then_some(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(w: u32, h: u32, media_type: &str, index: usize) -> NativeMode {
        NativeMode::Video(VideoMode {
            width: IntRange::fixed(w),
            height: IntRange::fixed(h),
            min_rate: Fraction::new(30, 1),
            max_rate: Fraction::new(30, 1),
            media_type: media_type.into(),
            formats: if media_type == "video/x-raw" {
                vec!["I420".into()]
            } else {
                Vec::new()
            },
            structure_index: index,
        })
    }

    /// 1280x720 and 640x480 raw, 1920x1080 MJPEG, all at 30 fps.
    fn camera() -> DeviceInfo {
        crate::constraints::device::test_camera(
            None,
            vec![
                mode(1280, 720, "video/x-raw", 0),
                mode(640, 480, "video/x-raw", 1),
                mode(1920, 1080, "image/jpeg", 2),
            ],
        )
    }

    /// What `json` selects on the whole camera: settings and mode index.
    fn alone(json: &str) -> (Settings, usize) {
        let c = TrackConstraints::parse(json).unwrap();
        let sel = select_on_device(Kind::Video, &c, &camera(), &SelectOptions::default()).unwrap();
        (sel.settings, sel.mode_index)
    }

    const SMALL: &str =
        r#"{"width": {"exact": 320}, "height": {"exact": 240}, "resizeMode": "crop-and-scale"}"#;
    const VGA: &str =
        r#"{"width": {"exact": 640}, "height": {"exact": 480}, "resizeMode": "none"}"#;
    const HD: &str = r#"{"width": 1280, "height": 720}"#;

    /// What a capture of mode `i` runs for a track alone on it.
    fn running(json: &str) -> (NativeMode, usize) {
        let (settings, i) = alone(json);
        (running_mode(&settings, &camera().modes[i]), i)
    }

    #[test]
    fn a_running_mode_gives_what_it_can_crop_and_scale_or_equals() {
        let cam = camera();
        let (small, _) = alone(SMALL);
        let (vga, _) = alone(VGA);
        let (hd, _) = alone(HD);
        let vga_mode = running_mode(&vga, &cam.modes[1]);
        let hd_mode = running_mode(&hd, &cam.modes[0]);
        assert!(gives(&small, &cam, &vga_mode));
        assert!(gives(&small, &cam, &hd_mode));
        assert!(gives(&vga, &cam, &vga_mode));
        // Native 640x480 is not native on 1280x720 (it would become a crop).
        assert!(!gives(&vga, &cam, &hd_mode));
        // Nothing scales up.
        assert!(!gives(&hd, &cam, &vga_mode));
    }

    #[test]
    fn the_device_moves_only_to_a_mode_that_keeps_every_other_track() {
        let cam = camera();
        let (hd, hd_index) = alone(HD);
        let (small, _) = alone(SMALL);
        let (vga, _) = alone(VGA);
        let (vga_mode, vga_index) = running(VGA);
        // Alone, 320x240 crop-and-scale runs the 4:3 mode (no crop).
        assert_eq!(alone(SMALL).1, vga_index);
        // A 320x240 track on 640x480: the device moves to 1280x720 for a
        // newcomer that wants it, and the 320x240 track keeps its settings.
        let to = move_for(
            &hd,
            hd_index,
            &cam,
            vga_index,
            &vga_mode,
            std::slice::from_ref(&small),
        );
        assert_eq!(to, Some(running_mode(&hd, &cam.modes[hd_index])));
        // A native 640x480 track would lose its native size: no move.
        assert_eq!(
            move_for(
                &hd,
                hd_index,
                &cam,
                vga_index,
                &vga_mode,
                &[small.clone(), vga]
            ),
            None
        );
        // What the running mode gives already: no move.
        let (small_again, i) = alone(SMALL);
        assert_eq!(
            move_for(&small_again, i, &cam, vga_index, &vga_mode, &[small]),
            None
        );
    }

    #[test]
    fn the_device_keeps_its_format() {
        let cam = camera();
        let (full_hd, i) = alone(r#"{"width": {"exact": 1920}, "height": {"exact": 1080}}"#);
        assert_eq!(i, 2);
        let (vga_mode, vga_index) = running(VGA);
        assert_eq!(move_for(&full_hd, i, &cam, vga_index, &vga_mode, &[]), None);
    }
}
