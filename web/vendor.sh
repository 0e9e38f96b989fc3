#!/usr/bin/env bash
# Copies the map library from node_modules into web/vendor/ so the server serves it itself:
# the app must work with no internet (no CDN), and has no build step at run time.
# Run after `npm ci` (or `npm i`) at the repository root; safe to run again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/node_modules/leaflet"
dest="$root/web/vendor/leaflet"
if [ ! -f "$src/dist/leaflet-src.esm.js" ]; then
  echo "vendor.sh: $src missing — run 'npm ci' at the repository root first" >&2
  exit 1
fi
version="$(node -p "require('$src/package.json').version")"
rm -rf "$dest"
mkdir -p "$dest/images"
# The ES module build: the app's modules import it directly, no global L needed.
cp "$src/dist/leaflet-src.esm.js" "$src/dist/leaflet.css" "$dest/"
cp "$src/dist/images/"*.png "$dest/images/"
cp "$src/LICENSE" "$dest/LICENSE"
echo "$version" > "$dest/VERSION"
echo "vendor.sh: leaflet $version -> web/vendor/leaflet"
