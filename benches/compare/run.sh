#!/usr/bin/env bash
# Qingling and pygeoapi side by side on the same GeoPackage, one command (issue 11, item 5):
#
#   bash benches/compare/run.sh [--db bench-data/province.gpkg] [--duration 20] [--only bbox,tile]
#
# Installs what is missing (wrk, python3-venv and GDAL's Python bindings from Debian; a
# virtualenv under target/ with pygeoapi 0.21 and gunicorn from PyPI), builds Qingling's release
# binary if there is none, then runs benches/compare/compare.py, which serves the GeoPackage with
# both, drives each with wrk in turn and prints the table (also in target/compare/results.json).
# `--help` lists the options. Nothing is installed into the repository.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
work="$repo/target/compare"
venv="$repo/target/compare-venv"
mkdir -p "$work"
: > "$work/pids"

# The servers run in their own process groups; compare.py stops them, and this stops whatever
# it left (a crash, a kill -9), by the ids it wrote down: only processes this run started.
cleanup() {
    local pid
    while read -r pid; do
        [ -n "$pid" ] || continue
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM -- "-$pid" 2>/dev/null || true
            sleep 1
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
    done < "$work/pids"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Debian packages: wrk to drive the servers; /usr/bin/python3's venv module; GDAL's bindings,
# which pygeoapi's OGR provider imports (`from osgeo import ogr`) and which PyPI only has as a
# source build against the system GDAL.
need=()
command -v wrk >/dev/null || need+=(wrk)
/usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
/usr/bin/python3 -c 'from osgeo import ogr' 2>/dev/null || need+=(python3-gdal)
if [ ${#need[@]} -gt 0 ]; then
    echo "compare: installing ${need[*]} (apt-get)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The virtualenv sees the system site-packages for osgeo (GDAL's bindings must match the
# system's libgdal, which Debian's package does).
if [ ! -x "$venv/bin/gunicorn" ] || ! "$venv/bin/python" -c 'import pygeoapi, osgeo' 2>/dev/null; then
    echo "compare: creating $venv (pygeoapi 0.21, gunicorn)" >&2
    /usr/bin/python3 -m venv --system-site-packages "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'pygeoapi==0.21.*' gunicorn
fi

case " $* " in
    *" --help "* | *" -h "*) ;;
    *)
        if [ ! -x target/release/qingling ]; then
            echo "compare: building target/release/qingling (cargo build --release)" >&2
            cargo build --release --bin qingling
        fi
        ;;
esac

# Not exec: the EXIT trap above must run after it.
"$venv/bin/python" "$here/compare.py" "$@"
