// SPDX-License-Identifier: MPL-2.0

//! The README's commands run as written on a machine without a display.
//!
//! Every fenced block tagged ```` ```sh headless ```` is run: each command
//! (a line, with its `\` continuations) from the repository's folder, after
//! the block's `export` lines, under `bash`, with no `DISPLAY` or
//! `WAYLAND_DISPLAY`, this build's plugin on `GST_PLUGIN_PATH`, a registry
//! of its own and `GST_MEDIASTREAM_FAKE_DEVICES` unset unless the block sets
//! it. `cargo run --example NAME [-- ARGS]` runs the example this
//! `cargo test` built. Each command must exit 0 within a time limit and
//! produce something: output, `Got EOS` from `gst-launch-1.0` (the pipeline
//! ran to its end), a non-empty file at each `location=`. Blocks tagged
//! ```` ```sh display ```` (a window, the speakers) are not run; each must
//! follow a headless block, and no other block may need a display.

mod common;
#[path = "common/sfu.rs"]
mod sfu;
#[path = "webrtc_common/mod.rs"]
mod webrtc_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Per command; a debug build's gst-launch line takes about a second.
const LIMIT: Duration = Duration::from_secs(90);

/// Elements and tools that need a display or a sound card.
const NEEDS_DISPLAY: [&str; 4] = [
    "autovideosink",
    "autoaudiosink",
    "gst-play-1.0",
    "xvimagesink",
];

struct Block {
    tag: String,
    /// README line of the opening fence.
    line: usize,
    /// (README line, logical line) of each non-blank, non-comment line.
    lines: Vec<(usize, String)>,
}

fn blocks(readme: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    let mut pending = String::new();
    let mut pending_line = 0;
    for (i, raw) in readme.lines().enumerate() {
        let n = i + 1;
        let trimmed = raw.trim();
        match current.as_mut() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    current = Some(Block {
                        tag: info.trim().to_owned(),
                        line: n,
                        lines: Vec::new(),
                    });
                }
            }
            Some(block) => {
                if trimmed == "```" {
                    out.push(current.take().unwrap());
                    continue;
                }
                if pending.is_empty() {
                    if trimmed.is_empty() || trimmed.starts_with('#') {
                        continue;
                    }
                    pending_line = n;
                }
                match raw.strip_suffix('\\') {
                    Some(head) => {
                        pending.push_str(head);
                        pending.push_str("\\\n");
                    }
                    None => {
                        pending.push_str(raw);
                        block
                            .lines
                            .push((pending_line, std::mem::take(&mut pending)));
                    }
                }
            }
        }
    }
    assert!(current.is_none(), "README.md: a code block is not closed");
    out
}

/// `cargo run --example NAME [-- ARGS]` -> the example this build made.
fn built_examples(command: &str) -> String {
    const RUN: &str = "cargo run --example ";
    let Some(at) = command.find(RUN) else {
        return command.to_owned();
    };
    let rest = &command[at + RUN.len()..];
    let name_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let name = &rest[..name_end];
    let mut tail = &rest[name_end..];
    if let Some(args) = tail.strip_prefix(" --")
        && (args.is_empty() || args.starts_with(char::is_whitespace))
    {
        tail = args;
    }
    let path = common::example(name);
    format!(
        "{}{}{}",
        &command[..at],
        common::shell_quote(path.to_str().unwrap()),
        built_examples(tail)
    )
}

/// Each `location=` a command writes.
fn locations(command: &str) -> Vec<PathBuf> {
    command
        .split_whitespace()
        .filter_map(|word| word.strip_prefix("location="))
        .map(|p| PathBuf::from(p.trim_matches(|c| c == '\'' || c == '"')))
        .collect()
}

fn run(root: &Path, registry: &Path, script: &str) -> std::io::Result<Output> {
    Command::new("timeout")
        .args([
            "-k",
            "10",
            &LIMIT.as_secs().to_string(),
            "bash",
            "-c",
            script,
        ])
        .current_dir(root)
        .env("GST_PLUGIN_PATH", common::plugin_dir())
        .env("GST_REGISTRY", registry)
        .env_remove("GST_MEDIASTREAM_FAKE_DEVICES")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(std::process::Stdio::null())
        .output()
}

fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

#[test]
fn readme_headless_commands_run() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks = blocks(&readme);
    let dir = common::TempDir::new("readme");
    let registry = dir.join("registry.bin");

    // Display blocks follow a headless one; nothing else needs a display.
    let mut previous_headless = false;
    for block in &blocks {
        let headless = block.tag == "sh headless";
        if block.tag == "sh display" {
            assert!(
                previous_headless,
                "README.md:{}: a display block must follow its headless variant",
                block.line
            );
        } else {
            for (n, line) in &block.lines {
                if let Some(tool) = NEEDS_DISPLAY.iter().find(|t| line.contains(*t)) {
                    panic!(
                        "README.md:{n}: {tool} needs a display: put it in a ```sh display block after the headless variant"
                    );
                }
            }
        }
        if headless {
            for (n, line) in &block.lines {
                assert_eq!(
                    line.matches("mediastreamtracksink").count(),
                    line.matches("mediastreamtracksink sink=").count(),
                    "README.md:{n}: a headless mediastreamtracksink needs a sink= (its default renders on the display)"
                );
                assert!(
                    !line.contains("playbin") || line.contains("video-sink="),
                    "README.md:{n}: a headless playbin needs a video-sink="
                );
            }
        }
        previous_headless = headless;
    }

    let mut failures = Vec::new();
    let mut ran = 0;
    for block in blocks.iter().filter(|b| b.tag == "sh headless") {
        let mut exports = String::new();
        for (n, line) in &block.lines {
            if line.trim_start().starts_with("export ") {
                exports.push_str(line);
                exports.push('\n');
                continue;
            }
            ran += 1;
            let command = built_examples(line);
            let files = locations(&command);
            for f in &files {
                let _ = std::fs::remove_file(root.join(f));
            }
            let started = Instant::now();
            let script = format!("set -e\n{exports}{command}\n");
            let out = match run(&root, &registry, &script) {
                Ok(out) => out,
                Err(e) => {
                    failures.push(format!("README.md:{n}: bash under timeout: {e}\n  {line}"));
                    continue;
                }
            };
            let took = started.elapsed();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let mut problems = Vec::new();
            match out.status.code() {
                Some(0) => {}
                Some(124) | Some(137) => problems.push(format!("did not end within {LIMIT:?}")),
                other => problems.push(format!("exit status {other:?}")),
            }
            if stdout.trim().is_empty() {
                problems.push("printed nothing".to_owned());
            }
            if command.contains("gst-launch-1.0") && !stdout.contains("Got EOS from element") {
                problems.push("gst-launch-1.0 did not reach EOS".to_owned());
            }
            for f in &files {
                let path = root.join(f);
                match std::fs::metadata(&path) {
                    Ok(m) if m.len() > 0 => {}
                    _ => problems.push(format!("wrote nothing to {}", path.display())),
                }
            }
            eprintln!(
                "README.md:{n}: {} in {:.1} s",
                if problems.is_empty() { "ok" } else { "FAILED" },
                took.as_secs_f64()
            );
            if !problems.is_empty() {
                failures.push(format!(
                    "README.md:{n}: {}\n  {line}\n--- stdout (end)\n{}\n--- stderr (end)\n{}",
                    problems.join(", "),
                    tail(&out.stdout),
                    tail(&out.stderr)
                ));
            }
        }
    }
    assert!(
        ran >= 12,
        "only {ran} headless commands found in README.md: are the ```sh headless tags still there?"
    );
    assert!(
        failures.is_empty(),
        "{} of {ran} README commands failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The block tagged ```` ```sh sfu ````: its first line publishes, its
/// second receives, against Janus and its WHIP front end run inside this
/// test's network namespace (tests/common/sfu.rs) with the endpoint the
/// README names (`cam1`, token `s3cret`, label `cam1`). The receiver shows
/// the publisher's video and ends with EOS (exit 0) once the publisher,
/// interrupted as Ctrl-C does, has DELETEd its session and ended (exit 0).
#[test]
fn readme_sfu_lines_publish_and_receive() {
    if !webrtc_common::runnable(webrtc_common::missing_network().or_else(sfu::missing))
        || !webrtc_common::in_private_network("readme_sfu_lines_publish_and_receive")
    {
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let block = blocks(&readme)
        .into_iter()
        .find(|b| b.tag == "sh sfu")
        .expect("a ```sh sfu block in README.md");
    let [(_, publish), (_, receive)] = &block.lines[..] else {
        panic!(
            "README.md:{}: the sfu block has two commands: publish, receive",
            block.line
        );
    };
    let sfu = sfu::Sfu::start();
    sfu.create_endpoint("cam1", sfu::ROOM, "s3cret", "cam1");
    let dir = common::TempDir::new("readme-sfu");
    let spawn = |line: &str| {
        Command::new("bash")
            .args(["-c", &format!("exec env {line}")])
            .current_dir(&root)
            .env("GST_PLUGIN_PATH", common::plugin_dir())
            .env("GST_REGISTRY", dir.join("registry.bin"))
            .env_remove("GST_MEDIASTREAM_FAKE_DEVICES")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut publisher = spawn(publish);
    let receiver = spawn(receive);
    // The receiver shows the video's caps (-v) once frames come.
    let (tx, rx) = std::sync::mpsc::channel();
    let mut out = receiver;
    let stdout = out.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !seen
        .iter()
        .any(|l: &String| l.contains("video/x-raw") && l.contains("width=(int)640"))
    {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => seen.push(line),
            Err(_) => {
                let _ = publisher.kill();
                let _ = out.kill();
                let err = |c: &mut std::process::Child| {
                    let mut text = String::new();
                    if let Some(mut e) = c.stderr.take() {
                        use std::io::Read;
                        let _ = e.read_to_string(&mut text);
                    }
                    text
                };
                panic!(
                    "the receiver showed no 640-wide video:\n{}\n--- receiver stderr\n{}\n--- publisher stderr\n{}\n{}",
                    seen.join("\n"),
                    err(&mut out),
                    err(&mut publisher),
                    sfu.logs()
                )
            }
        }
    }
    // Ctrl-C: gst-launch-1.0 -e sends EOS; the publisher DELETEs and ends.
    // SAFETY: a signal to our own child, by its pid.
    unsafe { libc::kill(publisher.id() as i32, libc::SIGINT) };
    let status = wait_for(&mut publisher, Duration::from_secs(20));
    assert_eq!(status, Some(0), "the publisher's exit");
    let status = wait_for(&mut out, Duration::from_secs(20));
    seen.extend(rx.try_iter());
    assert_eq!(status, Some(0), "the receiver's exit:\n{}", seen.join("\n"));
    assert!(
        seen.iter().any(|l| l.contains("Got EOS from element")),
        "the receiver reached EOS:\n{}",
        seen.join("\n")
    );
}

/// `child`'s exit code within `within`; killed (and `None`) after it.
fn wait_for(child: &mut std::process::Child, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    let mut status = None;
    webrtc_common::poll::holds_within(within, || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    });
    if status.is_none() && Instant::now() >= deadline {
        let _ = child.kill();
        let _ = child.wait();
    }
    status.and_then(|s| s.code())
}

/// docs/reliability.md lists every sleep the tests keep, by file and line
/// (the one polling helper's own interval aside), and no other.
#[test]
fn every_sleep_in_the_tests_is_listed_in_reliability_md() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/reliability.md")).unwrap();
    let section = doc
        .split("## Sleeps in tests")
        .nth(1)
        .expect("a 'Sleeps in tests' section")
        .split("\n## ")
        .next()
        .unwrap();
    let mut found = Vec::new();
    for dir in ["tests", "tests/common", "tests/webrtc_common"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, line) in text.lines().enumerate() {
                if line.contains("thread::sleep(") && !line.trim_start().starts_with("//") {
                    found.push((rel.clone(), i + 1));
                }
            }
        }
    }
    for (file, line) in &found {
        if file == "tests/common/poll.rs" || file == "tests/readme.rs" {
            continue;
        }
        let listed = section.contains(&format!("{file}:{line}"))
            || section
                .lines()
                .any(|l| l.contains(file.as_str()) && l.contains(&format!(":{line}")))
            || section.contains(&format!(" :{line} ")) && section.contains(file.as_str());
        assert!(
            listed,
            "{file}:{line} sleeps and docs/reliability.md does not list it"
        );
    }
    let kept = found
        .iter()
        .filter(|(f, _)| f != "tests/common/poll.rs" && f != "tests/readme.rs")
        .count();
    assert!(
        section.contains(&format!("{kept} remain")),
        "docs/reliability.md does not say {kept} remain"
    );
}
