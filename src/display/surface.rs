// SPDX-License-Identifier: MPL-2.0

//! The deviceIds of X11 surfaces, as `display-surface` takes them:
//!
//! - a screen: `x11:DISPLAY.SCREEN`, e.g. `x11::99.0` (what
//!   `gst-device-monitor-1.0 Video/Source/Display` lists);
//! - a window: `x11:DISPLAY.SCREEN/WINDOW`, e.g. `x11::99.0/0x400001`, or
//!   the window id alone (`0x400001`, as `xwininfo` prints it, or decimal)
//!   for a window of `$DISPLAY`.

use super::x11::Target;

/// `host:display` of an X display name, without its screen
/// (`:99.0` -> `:99`); `None` when it is not one.
pub fn display_part(name: &str) -> Option<&str> {
    let colon = name.rfind(':')?;
    let number = &name[colon + 1..];
    let display = match number.split_once('.') {
        Some((d, _)) => d,
        None => number,
    };
    (!display.is_empty() && display.bytes().all(|b| b.is_ascii_digit()))
        .then(|| &name[..colon + 1 + display.len()])
}

/// The screen an X display name names (`:99.1` -> 1), if it says.
fn screen_part(name: &str) -> Option<usize> {
    let colon = name.rfind(':')?;
    name[colon + 1..].split_once('.')?.1.parse().ok()
}

/// The deviceId of screen `screen` of `display`.
pub fn screen_id(display: &str, screen: usize) -> String {
    format!("x11:{}.{screen}", display_part(display).unwrap_or(display))
}

/// The deviceId of a window.
pub fn window_id(display: &str, screen: usize, window: u32) -> String {
    format!("{}/0x{window:x}", screen_id(display, screen))
}

fn window_number(s: &str) -> Option<u32> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
    .filter(|w| *w != 0)
}

/// The X11 surface a deviceId names; `None` for any other id (a fake
/// display's, a typo: the caller says it is not found).
pub fn parse(id: &str) -> Option<Target> {
    if let Some(window) = window_number(id) {
        let display = std::env::var("DISPLAY").ok();
        let screen = display.as_deref().and_then(screen_part);
        return Some(Target {
            display,
            screen,
            window: Some(window),
        });
    }
    let rest = id.strip_prefix("x11:")?;
    let (screen_part_str, window) = match rest.split_once('/') {
        Some((s, w)) => (s, Some(window_number(w)?)),
        None => (rest, None),
    };
    let display = display_part(screen_part_str)?;
    let screen = match &screen_part_str[display.len()..] {
        "" => None,
        s => Some(s.strip_prefix('.')?.parse().ok()?),
    };
    Some(Target {
        display: Some(display.to_owned()),
        screen,
        window,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_screens_and_windows_round_trip() {
        assert_eq!(screen_id(":99", 0), "x11::99.0");
        assert_eq!(screen_id(":99.1", 1), "x11::99.1");
        assert_eq!(screen_id("host:10.0", 0), "x11:host:10.0");
        assert_eq!(window_id(":99", 0, 0x400001), "x11::99.0/0x400001");
        assert_eq!(
            parse("x11::99.0"),
            Some(Target {
                display: Some(":99".into()),
                screen: Some(0),
                window: None
            })
        );
        assert_eq!(
            parse("x11::99.0/0x400001"),
            Some(Target {
                display: Some(":99".into()),
                screen: Some(0),
                window: Some(0x400001)
            })
        );
        assert_eq!(parse("x11::99").unwrap().screen, None);
        assert_eq!(parse("4194305").unwrap().window, Some(0x400001));
        for bad in [
            "",
            "fake-monitor",
            "x11:",
            "x11:nohost",
            "x11::99.x",
            "x11::99.0/0xzz",
            "0x0",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(display_part(":99.0"), Some(":99"));
        assert_eq!(display_part("localhost:10"), Some("localhost:10"));
        assert_eq!(display_part("nothing"), None);
    }
}
