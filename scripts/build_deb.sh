#!/usr/bin/env bash
# Pack the one-folder bundle (build.spec) as a Debian package, the way Linux fleets install
# software (apt, or dpkg -i from the agency's management tool):
#   /opt/tandem/                                       the bundle
#   /usr/bin/tandem -> ../../opt/tandem/tandem         the command on the PATH
#   /usr/share/applications/tandem.desktop             the menu entry (deploy/tandem.desktop)
#   /usr/share/icons/hicolor/scalable/apps/tandem.svg  its icon
# Depends: the packages holding the system libraries the bundle links and does not carry
# (glibc, OpenGL, and build.spec's SYSTEM_LIBS), asked of dpkg on this machine; build on the
# oldest Debian or Ubuntu release the fleet runs.
#
#   scripts/build_deb.sh dist/tandem-VERSION [OUT_DIR]    # prints the .deb's path
set -euo pipefail
BUNDLE=$(cd "$1" && pwd)
OUT=$(cd "${2:-$(dirname "$BUNDLE")}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=$("$BUNDLE/tandem" --version | awk '{print $2}')
ARCH=$(dpkg --print-architecture)

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
chmod 0755 "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
         "$STAGE/usr/share/icons/hicolor/scalable/apps"
cp -a "$BUNDLE" "$STAGE/opt/tandem"
ln -s ../../opt/tandem/tandem "$STAGE/usr/bin/tandem"
install -m 0644 "$ROOT/deploy/tandem.desktop" "$STAGE/usr/share/applications/tandem.desktop"
install -m 0644 "$ROOT/resources/icons/tandem.svg" \
        "$STAGE/usr/share/icons/hicolor/scalable/apps/tandem.svg"

# The libraries the bundle's files link and the bundle does not carry, found where its
# launcher finds them (the bundle's folder first), and the packages that hold them.
elf() { find "$BUNDLE" -type f \( -name '*.so*' -o -name tandem \) -print0; }
carried=$(find "$BUNDLE" -name '*.so*' -printf '%f\n' | sort -u)
needed=$(elf | xargs -0 objdump -p | awk '$1 == "NEEDED" {print $2}' | sort -u)
found=$(elf | LD_LIBRARY_PATH="$BUNDLE/_internal" xargs -0 ldd 2>/dev/null | awk '
    $2 == "=>" {print $1, $3}
    $1 ~ /^\// && $2 ~ /^\(/ {n = split($1, part, "/"); print part[n], $1}' | sort -u)
packages=()
for lib in $(comm -23 <(echo "$needed") <(echo "$carried")); do
    path=$(echo "$found" | awk -v lib="$lib" '$1 == lib {print $2; exit}')
    if [ -z "$path" ] || [ "$path" = "not" ]; then
        echo "build_deb: the bundle needs $lib, which this machine lacks" >&2
        exit 1
    fi
    packages+=("$(dpkg -S "*${path#/usr}" | head -1 | cut -d: -f1)")
done
libc=$(dpkg-query -W -f='${Version}' libc6)
depends=$(printf '%s\n' "${packages[@]}" | sort -u | sed "s/^libc6\$/libc6 (>= ${libc%%-*})/" \
          | paste -sd, - | sed 's/,/, /g')

cat > "$STAGE/DEBIAN/control" <<EOF
Package: tandem
Version: $VERSION
Architecture: $ARCH
Maintainer: Tandem <eng@tandem.invalid>
Section: misc
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
Depends: $depends
Description: Offline-first field app for police and mental-health co-responder teams
 Shifts, encounters, outreach contacts, follow-ups and CRC drop-offs, kept in an
 encrypted cache on the laptop and synced with the agency's Tandem server.
EOF

DEB="$OUT/tandem_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zgzip --build "$STAGE" "$DEB" >/dev/null
echo "$DEB"
