#!/usr/bin/env bash
# Builds the tree in DIR (`make build`: build/, `make build-asan`: build-asan/). meson setup, with
# the OPTIONS given, when DIR is missing (or a setup died half-way); --reconfigure when a
# meson.build is newer than DIR's build.ninja. ninja would regenerate by itself too, but not
# after a setup that failed or a meson upgrade.
# Usage: scripts/build.sh DIR [MESON-SETUP-OPTION...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
if [ ! -f "$dir/build.ninja" ]; then
    rm -rf "$dir" && meson setup "$dir" "$@"
elif [ -n "$(find . -path ./build -prune -o -path ./build-asan -prune -o -path ./.git -prune \
        -o -name node_modules -prune -o \( -name meson.build -o -name meson_options.txt \) \
        -newer "$dir/build.ninja" -print | head -n 1)" ]; then
    meson setup --reconfigure "$dir"
fi
exec ninja -C "$dir"
