#!/usr/bin/env bash
# Build the desktop app's one-folder bundle from build.spec and smoke-test it headless:
# `tandem --version`, then `tandem smoke` (demo server, encrypted cache, sync, a PDF report,
# every bundled module imported, main window rendered offscreen), in a throwaway HOME so
# nothing touches this user's files.
# Prints the bundle's size and start times; the last line is one JSON object.
# scripts/build_deb.sh then packs it as a .deb; tests/bundle launches both on X.
#
#   scripts/build_bundle.sh            # from the repository root, with the venv's PyInstaller
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
VERSION=$("$PYTHON" -c 'import fieldapp; print(fieldapp.__version__)')
BUNDLE=dist/tandem-$VERSION

"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN build.spec

HOME_DIR=$(mktemp -d)
trap 'rm -rf "$HOME_DIR"' EXIT
run() {  # the bundle, isolated: no display, no keyring, a throwaway home
    env -i PATH=/usr/bin:/bin HOME="$HOME_DIR" XDG_DATA_HOME="$HOME_DIR/data" \
        XDG_CONFIG_HOME="$HOME_DIR/config" QT_QPA_PLATFORM=offscreen \
        PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring "$BUNDLE/tandem" "$@"
}
ms() { date +%s%N | cut -c1-13; }

reported=$(run --version)
[ "$reported" = "tandem $VERSION" ] || { echo "bundle reports '$reported', expected tandem $VERSION" >&2; exit 1; }
run --version >/dev/null  # once more with a warm file cache; time the next run
t0=$(ms); run --version >/dev/null; version_ms=$(( $(ms) - t0 ))
run smoke >/dev/null 2>&1 || true  # warm-up
t0=$(ms); smoke=$(run smoke 2>/dev/null | tail -n 1); smoke_ms=$(( $(ms) - t0 ))
echo "smoke: $smoke"
echo "$smoke" | "$PYTHON" -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["ok"] else 1)' \
    || { echo "the bundle's smoke test failed" >&2; exit 1; }

bytes=$(du -sb "$BUNDLE" | cut -f1)
files=$(find "$BUNDLE" -type f | wc -l)
qt_libs=$(find "$BUNDLE" -name 'libQt6*.so*' -printf '%f\n' | sed 's/\.so.*//' | sort -u | paste -sd, -)
echo "bundle $BUNDLE: $((bytes / 1048576)) MiB in $files files; Qt libraries: $qt_libs"
printf '{"bundle": "%s", "bundle_bytes": %s, "bundle_files": %s, "version_start_ms": %s, "smoke_total_ms": %s, "smoke": %s}\n' \
    "$BUNDLE" "$bytes" "$files" "$version_ms" "$smoke_ms" "$smoke"
