// SPDX-License-Identifier: MPL-2.0

//! A broken fake-device file: the device layer lists nothing and selection
//! reports NotFoundError carrying the file's error. One test per binary: the
//! variable is read once per process.

mod common;

use gstmediastream::constraints::{SelectOptions, StreamConstraints};
use gstmediastream::devices::monitor::MediaDevices;

#[test]
fn broken_file_is_not_found_with_the_reason() {
    let dir = common::TempDir::new("broken-layer");
    let path = dir.join("devices.json");
    std::fs::write(
        &path,
        r#"{"devices": [{"kind": "videoinput", "label": "x", "deviceId": "x", "caps": "video/x-raw,width=(int)wide"}]}"#,
    )
    .unwrap();
    // SAFETY: the only test of this binary, before any other thread exists.
    unsafe { std::env::set_var("GST_MEDIASTREAM_FAKE_DEVICES", &path) };
    gst::init().unwrap();
    let media = MediaDevices::get();
    assert!(media.devices().unwrap().is_empty());
    let c = StreamConstraints::parse(r#"{"video": true}"#).unwrap();
    let e = media
        .select_stream(&c, &SelectOptions::default())
        .unwrap_err();
    assert_eq!(e.name(), "NotFoundError");
    assert!(
        e.message()
            .starts_with("no videoinput device found (requested video): ")
            && e.message()
                .contains("devices.json: device 0: field \"caps\""),
        "{e}"
    );
}
