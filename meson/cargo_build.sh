#!/bin/sh
# meson custom_target helper: cargo build, then copy the plugin to meson's output.
# usage: cargo_build.sh CARGO MANIFEST TARGET_DIR PROFILE OUTPUT
set -eu
cargo=$1 manifest=$2 target_dir=$3 profile=$4 output=$5
if [ "$profile" = release ]; then
  "$cargo" build --lib --release --manifest-path "$manifest" --target-dir "$target_dir"
else
  "$cargo" build --lib --manifest-path "$manifest" --target-dir "$target_dir"
fi
cp "$target_dir/$profile/libgstmediastream.so" "$output"
