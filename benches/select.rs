// SPDX-License-Identifier: MPL-2.0

//! SelectSettings over many devices: 10, 100 and 1000 cameras of 50 native
//! modes each (fixed sizes and rates, rate ranges, size ranges), with a basic
//! set and three advanced sets; and over 10 cameras with 10000 advanced sets.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gstmediastream::constraints::{
    DeviceInfo, DeviceKind, Fraction, IntRange, Kind, NativeMode, SelectOptions, TrackConstraints,
    VideoMode, select_track,
};
use std::hint::black_box;

const SIZES: [(u32, u32); 10] = [
    (160, 120),
    (320, 240),
    (424, 240),
    (640, 360),
    (640, 480),
    (848, 480),
    (960, 540),
    (1280, 720),
    (1920, 1080),
    (3840, 2160),
];

fn camera(i: usize) -> DeviceInfo {
    let modes = (0..50)
        .map(|m| {
            let (w, h) = SIZES[(m + i) % SIZES.len()];
            let (width, height) = if m % 10 == 9 {
                // Some drivers give sizes as ranges.
                (IntRange { min: 16, max: w }, IntRange { min: 16, max: h })
            } else {
                (IntRange::fixed(w), IntRange::fixed(h))
            };
            let (min_rate, max_rate) = match m % 3 {
                0 => (Fraction::new(30, 1), Fraction::new(30, 1)),
                1 => (
                    Fraction::new(5, 1),
                    Fraction::new(30 + (m as i32 % 4) * 10, 1),
                ),
                _ => (Fraction::new(15, 1), Fraction::new(15, 1)),
            };
            NativeMode::Video(VideoMode {
                width,
                height,
                min_rate,
                max_rate,
                media_type: if m % 4 == 0 {
                    "image/jpeg"
                } else {
                    "video/x-raw"
                }
                .into(),
                formats: vec!["YUY2".into()],
                structure_index: m,
            })
        })
        .collect();
    DeviceInfo {
        kind: DeviceKind::VideoInput,
        label: format!("Camera {i}"),
        device_id: format!("camera-{i}"),
        group_id: format!("group-{}", i / 2),
        facing_mode: Some(
            if i.is_multiple_of(2) {
                "user"
            } else {
                "environment"
            }
            .into(),
        ),
        is_default: i == 0,
        latency: 0.0,
        modes,
        display: None,
    }
}

const CONSTRAINTS: &str = r#"{
    "width": {"min": 640, "ideal": 1280},
    "height": {"ideal": 720},
    "frameRate": {"ideal": 30, "max": 60},
    "facingMode": "environment",
    "advanced": [
        {"width": 1920, "height": 1080},
        {"aspectRatio": 1.7777777778},
        {"frameRate": {"min": 50}}
    ]
}"#;

/// 10000 advanced sets: skipped ones (a width no camera has), others
/// narrowing the frame rate and the aspect ratio, a device, a size.
fn many_advanced_sets() -> String {
    let sets: Vec<String> = (0..10_000)
        .map(|i| match i % 4 {
            _ if i == 9_999 => r#"{"width": 1000, "height": 500}"#.to_owned(),
            _ if i == 7_777 => r#"{"deviceId": "camera-1"}"#.to_owned(),
            0 => format!(r#"{{"width": {{"exact": {}}}}}"#, 10_000 + i),
            1 => format!(r#"{{"frameRate": {{"min": {}}}}}"#, i as f64 * 0.003),
            2 => format!(
                r#"{{"aspectRatio": {{"min": {}}}}}"#,
                1.0 + i as f64 * 0.00005
            ),
            _ => format!(r#"{{"height": {{"max": {}}}}}"#, 4000 - i / 4),
        })
        .collect();
    format!(
        r#"{{"width": {{"ideal": 1280}}, "advanced": [{}]}}"#,
        sets.join(", ")
    )
}

fn bench(c: &mut Criterion) {
    let constraints = TrackConstraints::parse(CONSTRAINTS).unwrap();
    let opts = SelectOptions::default();
    let mut group = c.benchmark_group("select");
    for n in [10usize, 100, 1000] {
        let devices: Vec<DeviceInfo> = (0..n).map(camera).collect();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("devices", n), &devices, |b, d| {
            b.iter(|| {
                select_track(Kind::Video, black_box(&constraints), black_box(d), &opts).unwrap()
            })
        });
    }
    let many = TrackConstraints::parse(&many_advanced_sets()).unwrap();
    let devices: Vec<DeviceInfo> = (0..10).map(camera).collect();
    group.bench_function("advanced_sets/10000", |b| {
        b.iter(|| select_track(Kind::Video, black_box(&many), black_box(&devices), &opts).unwrap())
    });
    group.finish();
    c.bench_function("parse", |b| {
        b.iter(|| TrackConstraints::parse(black_box(CONSTRAINTS)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
