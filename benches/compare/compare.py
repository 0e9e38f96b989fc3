"""Qingling and pygeoapi side by side on the same GeoPackage (issue 11, item 5).

Started by benches/compare/run.sh, which installs what this needs and runs it with the
harness's virtualenv (pygeoapi, gunicorn, PyYAML; GDAL's bindings from Debian). This program:

1. copies the GeoPackage twice under target/compare/: one copy for Qingling (opening it may
   migrate it, and a bench account is added to it), one read-only copy for pygeoapi;
2. draws the request paths from the data (seeded): 0.05-degree windows centred in random mines
   (the issue's workload) and on fire points,
   fire ids, status filters, the pages of the mines layer, past dates, tiles over fires;
3. starts Qingling (`qingling serve`, a manager signed in through /api/login) and pygeoapi
   (its OGR provider on the copy, gunicorn with one sync worker per core);
4. for each kind of request and each server in turn (never both under load at once): checks one
   request, warms up, then drives it with wrk (benches/compare/paths.lua), reading the server's
   CPU time and peak memory from /proc around the measured run;
5. prints one table and writes it as JSON to target/compare/results.json.

Both servers are stopped on the way out, whatever happens (run.sh also kills them on exit).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import secrets
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TICK = os.sysconf("SC_CLK_TCK")
WINDOW_DEG = 0.05
# The account the harness signs in with; its password is new on every run (the copy is new too).
BENCH_USER = "compare-manager"


def log(msg: str) -> None:
    print(f"compare: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# The data: request paths drawn from the GeoPackage.


def gpkg_point(blob: bytes) -> tuple[float, float]:
    """The x, y of a GeoPackage point geometry (the GP header, then WKB)."""
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry")
    flags = blob[3]
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 7]
    wkb = blob[8 + envelope :]
    order = "<" if wkb[0] == 1 else ">"
    x, y = struct.unpack(order + "dd", wkb[5:21])
    return x, y


def gpkg_outer_ring(blob: bytes) -> list[tuple[float, float]]:
    """The outer ring of a GeoPackage polygon (or of a multipolygon's first part), 2D."""
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry")
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(blob[3] >> 1) & 7]
    wkb = blob[8 + envelope :]
    order = "<" if wkb[0] == 1 else ">"
    (kind,) = struct.unpack(order + "I", wkb[1:5])
    if kind == 6:  # MultiPolygon: skip its part count, read the first polygon
        wkb = wkb[9:]
        order = "<" if wkb[0] == 1 else ">"
        (kind,) = struct.unpack(order + "I", wkb[1:5])
    if kind != 3:
        raise ValueError(f"not a polygon (WKB type {kind})")
    (n,) = struct.unpack(order + "I", wkb[9:13])
    return list(struct.iter_unpack(order + "dd", wkb[13 : 13 + 16 * n]))


def inside(ring: list[tuple[float, float]], x: float, y: float) -> bool:
    """Even-odd rule over the ring's edges."""
    c = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            c = not c
    return c


def point_in_mine(rng: random.Random, ring: list[tuple[float, float]]) -> tuple[float, float]:
    """A uniform point inside the ring (rejection in its envelope), as the issue's boxes were drawn."""
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    for _ in range(1000):
        x, y = rng.uniform(min(xs), max(xs)), rng.uniform(min(ys), max(ys))
        if inside(ring, x, y):
            return x, y
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The WebMercatorQuad column and row holding a point at zoom z."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


@dataclass
class Data:
    """What was sampled from the GeoPackage, and the paths for each kind of request."""

    fires: int
    mines: int
    history: tuple[str, str]
    statuses: dict[str, int]
    id_field: str
    paths: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def sample(db: Path, n: int, seed: int) -> Data:
    rng = random.Random(seed)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        fid_lo, fid_hi, fires = con.execute(
            "SELECT min(fid), max(fid), count(*) FROM fire_points"
        ).fetchone()
        mines = con.execute("SELECT count(*) FROM mines").fetchone()[0]
        if not fires or not mines:
            raise SystemExit("compare: the GeoPackage has no fire points or no mines")
        # Random fires, by fid (fids may have gaps: draw more than needed, keep what exists).
        want = sorted({rng.randint(fid_lo, fid_hi) for _ in range(3 * n)})
        rows: list[tuple[int, str, bytes, str]] = []
        for i in range(0, len(want), 500):
            chunk = want[i : i + 500]
            q = ",".join("?" * len(chunk))
            rows += con.execute(
                f"SELECT fid, uuid, geom, status FROM fire_points WHERE fid IN ({q})", chunk
            ).fetchall()
        rng.shuffle(rows)
        rows = rows[:n]
        statuses = dict(
            con.execute("SELECT status, count(*) FROM fire_points GROUP BY status").fetchall()
        )
        first, last = con.execute(
            "SELECT min(reported_at), max(reported_at) FROM fire_points"
        ).fetchone()
        # Random mines (by rank: mine fids need not be dense), for windows centred in mines.
        ranks = [rng.randrange(mines) for _ in range(n)]
        mine_rings = [
            gpkg_outer_ring(
                con.execute("SELECT geom FROM mines ORDER BY fid LIMIT 1 OFFSET ?", (k,)).fetchone()[0]
            )
            for k in ranks
        ]
        # pygeoapi's OGR provider finds a feature by `id_field = 'value'`: by uuid when the
        # table has an index on it (the same ids as Qingling), else by fid, the primary key.
        indexed = any(
            con.execute(f"PRAGMA index_info('{name}')").fetchall()[0][2] == "uuid"
            for (name,) in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'fire_points'"
            )
            if len(con.execute(f"PRAGMA index_info('{name}')").fetchall()) == 1
        )
    finally:
        con.close()

    d = Data(
        fires=fires,
        mines=mines,
        history=(str(first)[:10], str(last)[:10]),
        statuses=statuses,
        id_field="uuid" if indexed else "fid",
    )
    h = WINDOW_DEG / 2
    points = [gpkg_point(r[2]) for r in rows]

    def bbox(x: float, y: float) -> str:
        return ",".join(f"{v:.6f}" for v in (x - h, y - h, x + h, y + h))

    items = "/collections/fire_points/items"
    # Windows centred at a uniform point in a random mine: the workload (its table's
    # figures were measured on these).
    in_mines = [bbox(*point_in_mine(rng, ring)) for ring in mine_rings]
    bbox_paths = [f"{items}?bbox={b}&limit=1000&f=json" for b in in_mines]
    d.paths["bbox"] = {"qingling": bbox_paths, "pygeoapi": bbox_paths}
    # Windows centred on fires: where the map looks, densest where fires crowd (heavier answers).
    windows = [bbox(x, y) for x, y in points]
    dense = [f"{items}?bbox={b}&limit=1000&f=json" for b in windows]
    d.paths["bbox_fires"] = {"qingling": dense, "pygeoapi": dense}

    d.paths["by_id"] = {
        "qingling": [f"{items}/{r[1]}?f=json" for r in rows],
        "pygeoapi": [f"{items}/{r[1] if indexed else r[0]}?f=json" for r in rows],
    }

    # A status filter in the same windows, cycling over the statuses present. pygeoapi's OGR
    # provider takes no CQL2 (it drops `filter` without a word and answers unfiltered), so
    # both servers get the property filter `status=…`, which both turn into the same predicate;
    # Qingling's CQL2 `filter` is measured on its own row below.
    present = sorted(statuses)
    filt = [
        f"bbox={b}&status={present[i % len(present)]}&limit=1000&f=json"
        for i, b in enumerate(windows)
    ]
    d.paths["filter"] = {
        "qingling": [f"{items}?{q}" for q in filt],
        "pygeoapi": [f"{items}?{q}" for q in filt],
    }
    d.paths["cql2"] = {
        "qingling": [
            f"{items}?bbox={b}&filter=status%3D%27{present[i % len(present)]}%27"
            f"&filter-lang=cql2-text&limit=1000&f=json"
            for i, b in enumerate(windows)
        ]
    }

    # The paged walk: every page of the mines layer in order, then again.
    pages = [f"/collections/mines/items?limit=100&offset={o}&f=json" for o in range(0, mines, 100)]
    d.paths["paged"] = {"qingling": pages, "pygeoapi": pages}

    # Pages of the fire list as the dashboard asks for them: open fires soonest deadline first,
    # the first pages and some further in, and the same as of a past day.
    d.paths["fires"] = {
        "qingling": [
            f"/api/fires?status=open&limit=100&offset={100 * rng.randint(0, 9)}" for _ in range(n)
        ]
    }
    d.paths["clearance"] = {"qingling": ["/api/clearance"]}
    lo = dt.date.fromisoformat(d.history[0])
    hi = dt.date.fromisoformat(d.history[1])
    span = max((hi - lo).days, 1)
    days = [lo + dt.timedelta(days=rng.randint(0, span)) for _ in range(n)]
    d.paths["clearance_at"] = {"qingling": [f"/api/clearance?at={day}" for day in days]}
    d.paths["fires_at"] = {
        "qingling": [f"/api/fires?status=open&limit=100&at={day}" for day in days]
    }
    d.paths["daily"] = {
        "qingling": [
            f"/api/clearance/daily?from={day - dt.timedelta(days=89)}&to={day}" for day in days
        ]
    }
    # Tiles over fires, at zooms from a district's view (aggregated points) to the street's.
    tiles = []
    for x, y in points:
        z = rng.randint(6, 16)
        tx, ty = tile_of(x, y, z)
        tiles.append(f"/collections/fire_points/tiles/WebMercatorQuad/{z}/{ty}/{tx}")
    d.paths["tile"] = {"qingling": tiles}
    return d


# The rows of the table, in order: key, label.
KINDS = [
    ("bbox", "bbox 0.05° in a random mine, limit 1000 (fire_points)"),
    ("bbox_fires", "bbox 0.05° centred on a fire, limit 1000"),
    ("by_id", "one feature by id (fire_points)"),
    ("filter", "status=… in a 0.05° window (property filter)"),
    ("paged", "paged walk, limit 100 (mines)"),
    ("cql2", "CQL2 status='…' in a 0.05° window"),
    ("fires", "/api/fires?status=open, a page of 100"),
    ("fires_at", "/api/fires?status=open&at=past day, a page of 100"),
    ("clearance", "/api/clearance"),
    ("clearance_at", "/api/clearance?at=past day"),
    ("daily", "/api/clearance/daily (90 days)"),
    ("tile", "tile fire_points z6–16"),
]


# ---------------------------------------------------------------------------------------------
# Processes: CPU time and peak memory from /proc.


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def tree(pid: int) -> list[int]:
    """pid and its descendants (gunicorn's master and its workers)."""
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += children(p)
    return seen


def cpu_seconds(pid: int) -> float:
    """CPU time of the tree: each live process's user+system time, plus what its children that
    have ended left in it (cutime+cstime), so a worker gunicorn replaces is still counted."""
    ticks = 0
    for p in tree(pid):
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        # Fields after the command (which may hold spaces) in parentheses.
        f = stat[stat.rindex(")") + 2 :].split()
        ticks += sum(int(v) for v in f[11:15])  # utime stime cutime cstime
    return ticks / TICK


def reset_peak(pid: int) -> bool:
    """Resets each process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0, as root)."""
    ok = True
    for p in tree(pid):
        try:
            Path(f"/proc/{p}/clear_refs").write_text("5")
        except OSError:
            ok = False
    return ok


def peak_mb(pid: int) -> float:
    """Peak RSS in MB, summed over the tree (each process's own peak: for gunicorn an upper
    bound of the workers' peak together)."""
    kb = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    kb += int(line.split()[1])
        except OSError:
            pass
    return kb / 1024


# ---------------------------------------------------------------------------------------------
# The servers.


class Server:
    def __init__(self, name: str, port: int, logfile: Path):
        self.name = name
        self.port = port
        self.logfile = logfile
        self.proc: subprocess.Popen | None = None
        self.auth: str | None = None
        self.peak = 0.0

    def start(self, argv: list[str], env: dict[str, str] | None = None, cwd: Path = REPO):
        log(f"starting {self.name} on 127.0.0.1:{self.port} (log {self.logfile})")
        out = open(self.logfile, "wb")
        # Its own process group, so that stopping it reaches gunicorn's workers too, and a
        # Ctrl-C in the terminal reaches this program, which stops it in order.
        self.proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
        )
        with open(REPO / "target/compare/pids", "a") as f:
            f.write(f"{self.proc.pid}\n")

    def get(self, path: str, timeout: float = 60.0) -> tuple[int, bytes]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        if self.auth:
            req.add_header("Authorization", self.auth)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def wait_ready(self, path: str, seconds: float) -> None:
        end = time.time() + seconds
        while time.time() < end:
            if self.proc and self.proc.poll() is not None:
                raise SystemExit(
                    f"compare: {self.name} exited ({self.proc.returncode}); see {self.logfile}"
                )
            try:
                status, _ = self.get(path, timeout=5)
                if status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"compare: {self.name} not answering after {seconds:.0f} s")

    def stop(self) -> None:
        if not self.proc or self.proc.poll() is not None:
            return
        log(f"stopping {self.name}")
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_qingling(args, db: Path) -> Server:
    binary = Path(args.qingling)
    password = secrets.token_urlsafe(24)
    # The account is added on the copy before the server opens it; the token then comes from
    # the ordinary sign-in, as a client would get it.
    r = subprocess.run(
        [binary, "user", "add", "--db", db, "--username", BENCH_USER, "--password", password,
         "--role", "manager"],
        capture_output=True, text=True, cwd=REPO,
    )
    if r.returncode != 0:
        raise SystemExit(f"compare: qingling user add failed: {r.stderr.strip() or r.stdout}")
    s = Server("qingling", free_port(), REPO / "target/compare/qingling.log")
    s.start([str(binary), "serve", "--db", str(db), "--addr", f"127.0.0.1:{s.port}"])
    # Opening a big database the first time (migrations, the read model) may take a while.
    s.wait_ready("/conformance", args.start_timeout)
    body = json.dumps({"username": BENCH_USER, "password": password}).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{s.port}/api/login",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        s.auth = "Bearer " + json.load(r)["token"]
    return s


def layer_extent(db: Path, table: str) -> list[float]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute(
            "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?", (table,)
        ).fetchone()
        if not row or None in row:
            # Qingling leaves the extent of the layers it writes feature by feature empty: the
            # layer's R-tree has it.
            try:
                row = con.execute(
                    f'SELECT min(minx), min(miny), max(maxx), max(maxy) FROM "rtree_{table}_geom"'
                ).fetchone()
            except sqlite3.OperationalError:
                row = None
    finally:
        con.close()
    if row and None not in row:
        return [float(v) for v in row]
    return [-180.0, -90.0, 180.0, 90.0]


def start_pygeoapi(args, db: Path, id_field: str) -> Server:
    s = Server("pygeoapi", free_port(), REPO / "target/compare/pygeoapi.log")
    work = REPO / "target/compare"
    resources = {}
    # The layers Qingling serves as features, from the same file. Fire points are found by
    # `id_field` (see sample()); the area layers by fid.
    for layer in ["fire_points", "mines", "waste_dumps", "gangue_heaps", "districts"]:
        resources[layer] = {
            "type": "collection",
            "title": layer,
            "description": f"{layer} from the Qingling GeoPackage",
            "keywords": ["qingling"],
            "extents": {
                "spatial": {
                    "bbox": layer_extent(db, layer),
                    "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                }
            },
            "providers": [
                {
                    "type": "feature",
                    "name": "OGR",
                    "data": {
                        "source_type": "GPKG",
                        "source": str(db),
                        # Without it, the provider ignores `offset` (every page is the first).
                        "source_capabilities": {"paging": True},
                    },
                    "id_field": id_field if layer == "fire_points" else "fid",
                    "layer": layer,
                }
            ],
        }
    config = {
        "server": {
            "bind": {"host": "127.0.0.1", "port": s.port},
            "url": f"http://127.0.0.1:{s.port}",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "languages": ["en-US"],
            "pretty_print": False,
            # Up to 1000 features a page, as asked of Qingling.
            "limits": {"default_items": 10, "max_items": 10000},
            # Only the HTML pages use it; nothing here asks for them.
            "map": {"url": "http://127.0.0.1/{z}/{x}/{y}.png", "attribution": "none"},
        },
        # Errors only: pygeoapi logs each request at INFO, which would be part of its cost but
        # not of what a deployment keeps.
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "Qingling comparison",
                "description": "pygeoapi serving a Qingling GeoPackage",
                "keywords": ["qingling"],
                "keywords_type": "theme",
                "terms_of_service": "https://creativecommons.org/licenses/by/4.0/",
                "url": f"http://127.0.0.1:{s.port}",
            },
            "license": {"name": "none", "url": "https://example.org/none"},
            "provider": {"name": "none", "url": "https://example.org/none"},
            "contact": {"name": "none"},
        },
        "resources": resources,
    }
    cfg = work / "pygeoapi-config.yml"
    cfg.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    openapi = work / "pygeoapi-openapi.yml"
    env = dict(os.environ, PYGEOAPI_CONFIG=str(cfg), PYGEOAPI_OPENAPI=str(openapi))
    bindir = Path(sys.executable).parent
    r = subprocess.run(
        [bindir / "pygeoapi", "openapi", "generate", cfg, "--output-file", openapi],
        capture_output=True, text=True, env=env,
    )
    if r.returncode != 0:
        raise SystemExit(f"compare: pygeoapi openapi generate failed:\n{r.stderr[-2000:]}")
    workers = os.cpu_count() or 1
    s.workers = workers
    s.start(
        [str(bindir / "gunicorn"), "--workers", str(workers), "--worker-class", "sync",
         "--bind", f"127.0.0.1:{s.port}",
         # A page of a thousand features at 32 connections queues for seconds in 2 workers: a
         # timeout that short would count as pygeoapi failing, not as it being slow.
         "--timeout", "300", "pygeoapi.flask_app:APP"],
        env=env,
    )
    s.wait_ready("/conformance?f=json", args.start_timeout)
    return s


# ---------------------------------------------------------------------------------------------
# Measuring.


def wrk(args, server: Server, paths_file: Path, seconds: float) -> dict:
    env = dict(os.environ)
    env["QL_AUTH"] = server.auth or ""
    argv = [
        "wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{max(1, round(seconds))}s",
        "--timeout", "60s", "-s", str(HERE / "paths.lua"),
        f"http://127.0.0.1:{server.port}", "--", str(paths_file),
    ]
    r = subprocess.run(argv, capture_output=True, text=True, env=env)
    for line in r.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            return json.loads(line[len("WRK_JSON ") :])
    raise SystemExit(f"compare: wrk printed no result:\n{r.stdout}\n{r.stderr}")


def measure(args, server: Server, kind: str, paths: list[str]) -> dict:
    paths_file = REPO / "target/compare" / f"paths-{kind}-{server.name}.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    status, body = server.get(paths[0])
    if status == 404 and kind == "tile":
        return {"served": False, "probe": status}
    if status >= 400:
        raise SystemExit(
            f"compare: {server.name} {paths[0]} → HTTP {status}: {body[:300]!r}"
        )
    if args.warmup > 0:
        wrk(args, server, paths_file, args.warmup)
    reset_ok = reset_peak(server.proc.pid)
    cpu0 = cpu_seconds(server.proc.pid)
    res = wrk(args, server, paths_file, args.duration)
    cpu = cpu_seconds(server.proc.pid) - cpu0
    peak = peak_mb(server.proc.pid)
    server.peak = max(server.peak, peak)
    n = res["requests"]
    secs = res["duration_us"] / 1e6
    p = res["latency_us"]["percentiles"]
    errors = sum(res["errors"].values())
    return {
        "served": True,
        "probe": status,
        "requests": n,
        "req_s": n / secs if secs else 0.0,
        "p50_ms": p["50"] / 1000,
        "p90_ms": p["90"] / 1000,
        "p99_ms": p["99"] / 1000,
        "max_ms": res["latency_us"]["max"] / 1000,
        "cpu_s": cpu,
        "cpu_ms_per_req": 1000 * cpu / n if n else None,
        "kb_per_answer": res["bytes"] / n / 1024 if n else None,
        "peak_mb": peak,
        "peak_reset": reset_ok,
        "errors": res["errors"],
        "error_count": errors,
        "distinct_paths": len(set(paths)),
    }


# ---------------------------------------------------------------------------------------------
# The table.


def num(v, digits=1) -> str:
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def ratio(a, b) -> str:
    if not a or not b:
        return "–"
    return f"×{a / b:.1f}"


def table(results: dict, meta: dict) -> str:
    head = [
        "request", "Q req/s", "Q p50 ms", "Q p99 ms", "Q CPU-ms/req", "Q KB", "Q peak MB",
        "P req/s", "P p50 ms", "P p99 ms", "P CPU-ms/req", "P KB", "P peak MB",
        "req/s Q÷P", "CPU P÷Q", "p99 P÷Q",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label in KINDS:
        if key not in results:
            continue
        row = [label]
        q = results[key].get("qingling")
        p = results[key].get("pygeoapi")
        for r in (q, p):
            if r is None:
                row += ["—"] * 6
            elif not r["served"]:
                row += [f"not served (HTTP {r['probe']})"] + [""] * 5
            else:
                err = f" ({r['error_count']} errors)" if r["error_count"] else ""
                row += [
                    num(r["req_s"]) + err, num(r["p50_ms"]), num(r["p99_ms"]),
                    num(r["cpu_ms_per_req"], 2), num(r["kb_per_answer"]), num(r["peak_mb"], 0),
                ]
        if q and p and q["served"] and p["served"]:
            row += [
                ratio(q["req_s"], p["req_s"]),
                ratio(p["cpu_ms_per_req"], q["cpu_ms_per_req"]),
                ratio(p["p99_ms"], q["p99_ms"]),
            ]
        else:
            row += ["", "", ""]
        lines.append("| " + " | ".join(row) + " |")
    notes = [
        "",
        f"Peak memory over the run: Qingling {meta['peak_mb']['qingling']:,.0f} MB, "
        f"pygeoapi {meta['peak_mb']['pygeoapi']:,.0f} MB "
        f"(VmHWM; pygeoapi's summed over gunicorn's master and {meta['workers']} workers).",
        f"{meta['db']}: {meta['fires']:,} fire points, {meta['mines']:,} mines; "
        f"wrk {meta['connections']} connections, {meta['threads']} threads, "
        f"{meta['duration']} s a row after {meta['warmup']} s of warm-up; "
        f"{meta['cores']} cores shared with wrk; pygeoapi {meta['pygeoapi']} (OGR provider, "
        f"gunicorn {meta['workers']} sync workers).",
        "The filter row is the property filter `status=…` on both: pygeoapi's OGR provider "
        "ignores CQL2 `filter` (it answers unfiltered); Qingling's CQL2 is the row below it.",
        f"Fire ids: Qingling's uuid; pygeoapi by {meta['id_field']}"
        + (" (the same features)." if meta["id_field"] != "uuid" else "."),
        "Q = Qingling, P = pygeoapi; CPU-ms/req is the server's CPU time (user+system, all its "
        "processes) over the measured run divided by the answers; KB = mean answer size.",
    ]
    return "\n".join(lines + notes)


# ---------------------------------------------------------------------------------------------


def copy_db(src: Path, dst: Path) -> None:
    for suffix in ("", "-wal"):
        s = Path(str(src) + suffix)
        d = Path(str(dst) + suffix)
        if d.exists():
            d.chmod(0o644)
            d.unlink()
        if s.exists():
            shutil.copyfile(s, d)


def main() -> int:
    ap = argparse.ArgumentParser(prog="benches/compare/run.sh", description=__doc__.split("\n")[0])
    ap.add_argument("--db", default="bench-data/province.gpkg",
                    help="the GeoPackage to serve (copied; the original is never opened)")
    ap.add_argument("--qingling", default="target/release/qingling")
    ap.add_argument("--duration", type=float, default=20, help="seconds measured per row and server")
    ap.add_argument("--warmup", type=float, default=3, help="seconds of warm-up before each")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--paths", type=int, default=2000, help="distinct requests drawn per kind")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--only", help="comma-separated kinds: " + ",".join(k for k, _ in KINDS))
    ap.add_argument("--start-timeout", type=float, default=900)
    ap.add_argument("--keep", action="store_true", help="keep the copies under target/compare")
    args = ap.parse_args()
    os.chdir(REPO)

    src = Path(args.db)
    if not src.exists():
        raise SystemExit(
            f"compare: {src} does not exist (cargo bench --bench province generates it)"
        )
    work = REPO / "target/compare"
    work.mkdir(parents=True, exist_ok=True)
    (work / "pids").write_text("")
    q_db = work / "qingling.gpkg"
    p_db = work / "pygeoapi.gpkg"
    log(f"copying {src} for each server")
    copy_db(src, q_db)
    copy_db(src, p_db)
    # pygeoapi's copy: the WAL folded in and journaling off, then read-only, so GDAL reads it
    # as it is and nothing can change it.
    con = sqlite3.connect(p_db)
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    p_db.chmod(0o444)

    log("drawing the requests from the data")
    data = sample(p_db, args.paths, args.seed)
    kinds = [k for k, _ in KINDS]
    if args.only:
        kinds = [k for k in args.only.split(",") if k in data.paths]

    import pygeoapi

    servers: list[Server] = []

    def on_signal(signum, _frame):
        raise SystemExit(f"compare: signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    results: dict = {}
    try:
        qs = start_qingling(args, q_db)
        servers.append(qs)
        ps = start_pygeoapi(args, p_db, data.id_field)
        servers.append(ps)
        by_name = {"qingling": qs, "pygeoapi": ps}
        for kind in kinds:
            results[kind] = {}
            for name, paths in data.paths[kind].items():
                log(f"{kind}: {name}, {args.duration:g} s")
                r = measure(args, by_name[name], kind, paths)
                results[kind][name] = r
                if r["served"] and not r["requests"]:
                    log(f"  no answer within the {args.duration:g} s (each took longer)")
                elif r["served"]:
                    log(
                        f"  {r['req_s']:.0f} req/s, p50 {r['p50_ms']:.1f} ms, "
                        f"p99 {r['p99_ms']:.1f} ms, {r['cpu_ms_per_req']:.2f} CPU-ms/req, "
                        f"peak {r['peak_mb']:.0f} MB, {r['error_count']} errors"
                    )
                else:
                    log(f"  not served (HTTP {r['probe']})")
    finally:
        for s in reversed(servers):
            s.stop()

    meta = {
        "db": str(src),
        "fires": data.fires,
        "mines": data.mines,
        "statuses": data.statuses,
        "history": data.history,
        "id_field": data.id_field,
        "connections": args.connections,
        "threads": args.threads,
        "duration": args.duration,
        "warmup": args.warmup,
        "cores": os.cpu_count(),
        "workers": getattr(ps, "workers", None),
        "pygeoapi": pygeoapi.__version__,
        "peak_mb": {s.name: s.peak for s in servers},
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip(),
    }
    out = table(results, meta)
    print(out)
    (work / "results.json").write_text(
        json.dumps({"meta": meta, "results": results, "table": out}, indent=2)
    )
    log(f"written to {work / 'results.json'}")
    if not args.keep:
        for db in (q_db, p_db):
            for suffix in ("", "-wal", "-shm"):
                f = Path(str(db) + suffix)
                if f.exists():
                    f.chmod(0o644)
                    f.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
