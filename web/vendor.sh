#!/usr/bin/env bash
# Copies the map library (MapLibre GL JS) from node_modules into web/vendor/ so the server serves
# it itself: the app must work with no internet (no CDN), and has no build step at run time.
# Run after `npm ci` (or `npm i`) at the repository root; safe to run again.
# MapLibre 6 is ES modules only: the app imports maplibre-gl.mjs, which starts its workers from
# maplibre-gl-worker.mjs beside it (same origin, module workers), so both must be served over http.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/node_modules/maplibre-gl"
dest="$root/web/vendor/maplibre-gl"
if [ ! -f "$src/dist/maplibre-gl.mjs" ]; then
  echo "vendor.sh: $src missing — run 'npm ci' at the repository root first" >&2
  exit 1
fi
version="$(node -p "require('$src/package.json').version")"
rm -rf "$dest" "$root/web/vendor/leaflet"
mkdir -p "$dest"
cp "$src/dist/maplibre-gl.mjs" "$src/dist/maplibre-gl-worker.mjs" "$src/dist/maplibre-gl.css" "$dest/"
cp "$src/LICENSE.txt" "$dest/LICENSE.txt"
echo "$version" > "$dest/VERSION"
echo "vendor.sh: maplibre-gl $version -> web/vendor/maplibre-gl"
