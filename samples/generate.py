#!/usr/bin/env python3
"""Deterministic generator of SYNTHETIC demo data for Qingling (清零), Wuhai (乌海市).

ALL DATA PRODUCED HERE IS INVENTED: boundaries, names, companies, licence numbers and fires.
Locations are only roughly plausible (mining-area centres from DOMAIN.md, +-5 km).

Run from the repository root:

    python3 samples/generate.py           # regenerate every file, then run the checks
    python3 samples/generate.py --check   # only check the files already on disk

Python 3 standard library only. Fixed seed: the output is byte-for-byte reproducible.
Writes next to this file: districts.geojson, mines.geojson, waste_dumps.geojson,
gangue_heaps.geojson, fire_points.geojson, README.md.
"""

import json
import math
import os
import random
import re
import sys
import uuid
from collections import Counter
from datetime import date, datetime, timedelta, timezone

SEED = 20261128
HERE = os.path.dirname(os.path.abspath(__file__))
TZ = timezone(timedelta(hours=8))
DATA_START = datetime(2025, 12, 1, 0, 0, tzinfo=TZ)
NOW = datetime(2026, 11, 28, 0, 0, tzinfo=TZ)  # the data set's "now": everything happens before it
OPEN_FROM = datetime(2026, 9, 1, 0, 0, tzinfo=TZ)
DAY = timedelta(days=1)

# ---------------------------------------------------------------------------------------------
# Local metric frame (equirectangular around the city centre; error < 0.5 % over the extent)
# ---------------------------------------------------------------------------------------------
LON0, LAT0 = 106.83, 39.56
KX = 111320.0 * math.cos(math.radians(LAT0))
KY = 110574.0


def to_m(p):
    return ((p[0] - LON0) * KX, (p[1] - LAT0) * KY)


def to_ll(x, y):
    return (round(LON0 + x / KX, 6), round(LAT0 + y / KY, 6))


# ---------------------------------------------------------------------------------------------
# Geometry helpers (all in metres). A ring is a list of (x, y) WITHOUT the closing repeat;
# a polygon is [exterior, hole, ...]; a multipolygon is [polygon, ...].
# ---------------------------------------------------------------------------------------------

def orient(a, b, c):
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_seg(a, b, c):
    return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])


def seg_intersect(a, b, c, d):
    """True if closed segments ab and cd share at least one point."""
    d1, d2 = orient(c, d, a), orient(c, d, b)
    d3, d4 = orient(a, b, c), orient(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    if d1 == 0 and _on_seg(c, d, a):
        return True
    if d2 == 0 and _on_seg(c, d, b):
        return True
    if d3 == 0 and _on_seg(a, b, c):
        return True
    if d4 == 0 and _on_seg(a, b, d):
        return True
    return False


def pt_seg_dist(p, a, b):
    dx, dy = b[0] - a[0], b[1] - a[1]
    L = dx * dx + dy * dy
    t = 0.0 if L == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / L))
    qx, qy = a[0] + t * dx, a[1] + t * dy
    return math.hypot(p[0] - qx, p[1] - qy)


def seg_seg_dist(a, b, c, d):
    if seg_intersect(a, b, c, d):
        return 0.0
    return min(pt_seg_dist(a, c, d), pt_seg_dist(b, c, d), pt_seg_dist(c, a, b), pt_seg_dist(d, a, b))


def edges(ring):
    n = len(ring)
    return [(ring[i], ring[(i + 1) % n]) for i in range(n)]


def multi_edges(mp):
    return [e for poly in mp for ring in poly for e in edges(ring)]


def signed_area(ring):
    s = 0.0
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i]
        x2, y2 = ring[(i + 1) % n]
        s += x1 * y2 - x2 * y1
    return s / 2.0


def pt_in_ring(p, ring):
    x, y = p
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y):
            xc = xi + (y - yi) * (xj - xi) / (yj - yi)
            if x < xc:
                inside = not inside
        j = i
    return inside


def pt_in_poly(p, poly):
    return pt_in_ring(p, poly[0]) and not any(pt_in_ring(p, h) for h in poly[1:])


def pt_in_multi(p, mp):
    return any(pt_in_poly(p, poly) for poly in mp)


def pt_boundary_dist(p, mp):
    return min(pt_seg_dist(p, a, b) for a, b in multi_edges(mp))


def multi_area(mp):
    return sum(abs(signed_area(poly[0])) - sum(abs(signed_area(h)) for h in poly[1:]) for poly in mp)


def bbox(mp):
    xs = [p[0] for poly in mp for r in poly for p in r]
    ys = [p[1] for poly in mp for r in poly for p in r]
    return min(xs), min(ys), max(xs), max(ys)


def bbox_gap(b1, b2):
    dx = max(0.0, b1[0] - b2[2], b2[0] - b1[2])
    dy = max(0.0, b1[1] - b2[3], b2[1] - b1[3])
    return math.hypot(dx, dy)


def edges_cross(A, B):
    ea, eb = multi_edges(A), multi_edges(B)
    return any(seg_intersect(a, b, c, d) for a, b in ea for c, d in eb)


def boundary_gap(A, B):
    """Minimum distance between the boundaries of A and B (0 if they touch or cross)."""
    ea, eb = multi_edges(A), multi_edges(B)
    return min(seg_seg_dist(a, b, c, d) for a, b in ea for c, d in eb)


def contains(B, A):
    """B contains A (interiors), boundaries do not touch."""
    if any(not pt_in_multi(p, B) for poly in A for r in poly for p in r):
        return False
    if edges_cross(A, B):
        return False
    # a hole of B lying wholly inside A would not be caught above
    for poly in B:
        for h in poly[1:]:
            if any(pt_in_multi(p, A) for p in h):
                return False
    return True


def disjoint(A, B):
    if bbox_gap(bbox(A), bbox(B)) > 0:
        return True
    if edges_cross(A, B):
        return False
    if any(pt_in_multi(p, B) for poly in A for r in poly for p in r):
        return False
    if any(pt_in_multi(p, A) for poly in B for r in poly for p in r):
        return False
    return True


def ring_self_intersects(ring):
    n = len(ring)
    es = edges(ring)
    for i in range(n):
        a, b = es[i]
        # adjacent edge: reject spikes (the next edge folding back along this one)
        c, d = es[(i + 1) % n]
        if orient(a, b, d) == 0 and ((b[0] - a[0]) * (d[0] - c[0]) + (b[1] - a[1]) * (d[1] - c[1])) < 0:
            return True
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            c, d = es[j]
            if seg_intersect(a, b, c, d):
                return True
    return False


def rings_intersect(r1, r2):
    return any(seg_intersect(a, b, c, d) for a, b in edges(r1) for c, d in edges(r2))


# lon/lat <-> metres for whole geometries
def mp_m(mp_ll):
    return [[[to_m(p) for p in ring] for ring in poly] for poly in mp_ll]


def ring_ll_from_m(ring_m):
    out = []
    for x, y in ring_m:
        q = to_ll(x, y)
        if not out or out[-1] != q:
            out.append(q)
    if out[0] == out[-1]:
        out.pop()
    return out


def geojson_multipolygon(mp_ll):
    coords = []
    for poly in mp_ll:
        rings = []
        for ring in poly:
            r = [[p[0], p[1]] for p in ring]
            r.append([ring[0][0], ring[0][1]])
            rings.append(r)
        coords.append(rings)
    return {"type": "MultiPolygon", "coordinates": coords}


def parse_multipolygon(geom):
    """GeoJSON MultiPolygon -> metres multipolygon (closing vertex removed)."""
    assert geom["type"] == "MultiPolygon", geom["type"]
    out = []
    for poly in geom["coordinates"]:
        rings = []
        for ring in poly:
            assert len(ring) >= 4, "ring needs >= 4 positions"
            assert ring[0] == ring[-1], "ring not closed"
            rings.append([to_m(p) for p in ring[:-1]])
        out.append(rings)
    return out


# ---------------------------------------------------------------------------------------------
# Irregular star-shaped polygons (simple by construction: strictly increasing angles)
# ---------------------------------------------------------------------------------------------

def star_ring(rng, cx, cy, area_m2, n, amp=0.22, elong=None, ccw=True, jitter=None):
    phis = [rng.uniform(0, 2 * math.pi) for _ in range(3)]
    amps = [rng.uniform(0.3, 1.0) * amp, rng.uniform(0, 0.7) * amp, rng.uniform(0, 0.5) * amp]
    step = 2 * math.pi / n
    if jitter is None:
        jitter = 0.35 / math.sqrt(n)
    pts = []
    for i in range(n):
        th = i * step + rng.uniform(-0.3, 0.3) * step
        r = 1.0 + sum(a * math.cos((k + 1) * th + ph) for k, (a, ph) in enumerate(zip(amps, phis)))
        r = max(0.35, r + rng.uniform(-jitter, jitter))
        pts.append((r * math.cos(th), r * math.sin(th)))
    e = elong if elong is not None else rng.uniform(1.0, 1.45)
    rot = rng.uniform(0, math.pi)
    cr, sr = math.cos(rot), math.sin(rot)
    pts = [((x * e) * cr - (y / e) * sr, (x * e) * sr + (y / e) * cr) for x, y in pts]
    s = math.sqrt(area_m2 / abs(signed_area(pts)))
    ring_m = [(cx + s * x, cy + s * y) for x, y in pts]
    ring = ring_ll_from_m(ring_m)
    if not ccw:
        ring.reverse()
    return ring


def ll_of_area(area_key, dx_km, dy_km):
    lon, lat = AREAS[area_key][1], AREAS[area_key][2]
    x, y = to_m((lon, lat))
    return x + dx_km * 1000.0, y + dy_km * 1000.0


# ---------------------------------------------------------------------------------------------
# Districts: outer outline + river (Wuda border) + two cross lines, assembled from shared arcs
# ---------------------------------------------------------------------------------------------
# Outer outline, counter-clockwise from the south-west corner; junctions marked.
OUTER = [
    (106.600, 39.262), (106.655, 39.256), (106.712, 39.259), (106.768, 39.251), (106.826, 39.250),
    (106.884, 39.255), (106.945, 39.262), (107.005, 39.268), (107.058, 39.281),
    (107.076, 39.318), (107.072, 39.372), (107.079, 39.430), (107.074, 39.482),
    "E1",
    (107.075, 39.578), (107.068, 39.640), (107.062, 39.700), (107.055, 39.758), (107.043, 39.808),
    (107.022, 39.846), (106.988, 39.867),
    (106.935, 39.870), (106.875, 39.868),
    "NR",
    (106.760, 39.857), (106.705, 39.849), (106.655, 39.834),
    (106.620, 39.800), (106.600, 39.752), (106.590, 39.700), (106.584, 39.640), (106.581, 39.580),
    (106.580, 39.520), (106.582, 39.462),
    "W1",
    (106.588, 39.352), (106.594, 39.300),
]
JUNCTIONS = {"E1": (107.078, 39.524), "NR": (106.816, 39.864), "W1": (106.585, 39.405)}
R_K = (106.772, 39.410)   # river meets the Wuda south line
R_M = (106.797, 39.538)   # river meets the Haibowan south line
# Yellow River, south to north, from R_K to NR (wiggly)
RIVER_K_M = [R_K, (106.779, 39.426), (106.775, 39.444), (106.784, 39.461), (106.791, 39.477),
             (106.786, 39.494), (106.794, 39.510), (106.800, 39.523), R_M]
RIVER_M_N = [R_M, (106.804, 39.553), (106.799, 39.570), (106.792, 39.588), (106.797, 39.606),
             (106.790, 39.624), (106.784, 39.642), (106.789, 39.660), (106.783, 39.678),
             (106.778, 39.697), (106.784, 39.716), (106.792, 39.735), (106.788, 39.754),
             (106.796, 39.773), (106.803, 39.792), (106.799, 39.812), (106.806, 39.832),
             (106.812, 39.850), JUNCTIONS["NR"]]
# Wuda / Hainan line, west to east (W1 -> R_K)
LINE_WUDA_S = [JUNCTIONS["W1"], (106.622, 39.398), (106.661, 39.404), (106.700, 39.396),
               (106.738, 39.403), R_K]
# Haibowan / Hainan line, west to east (R_M -> E1)
LINE_HBW_S = [R_M, (106.842, 39.531), (106.890, 39.539), (106.940, 39.529), (106.990, 39.534),
              (107.036, 39.527), JUNCTIONS["E1"]]


def _outer_ring():
    ring, idx = [], {}
    for v in OUTER:
        if isinstance(v, str):
            idx[v] = len(ring)
            ring.append(JUNCTIONS[v])
        else:
            ring.append(v)
    return ring, idx


def _cyc(ring, i, j):
    """ring[i..j] inclusive, cyclic, walking forward."""
    out = [ring[i]]
    k = i
    while k != j:
        k = (k + 1) % len(ring)
        out.append(ring[k])
    return out


def _join(*parts):
    out = []
    for part in parts:
        for p in part:
            if not out or out[-1] != p:
                out.append(p)
    if out[0] == out[-1]:
        out.pop()
    return out


def build_districts():
    ring, ix = _outer_ring()
    river = _join(RIVER_K_M, RIVER_M_N)
    wuda = _join(river, _cyc(ring, ix["NR"], ix["W1"]), LINE_WUDA_S)
    hbw = _join(LINE_HBW_S, _cyc(ring, ix["E1"], ix["NR"]), list(reversed(RIVER_M_N)))
    hainan = _join(_cyc(ring, ix["W1"], ix["E1"]), list(reversed(LINE_HBW_S)),
                   list(reversed(RIVER_K_M)), list(reversed(LINE_WUDA_S)))
    return [
        ("海勃湾区", "150302", [[hbw]]),
        ("乌达区", "150303", [[wuda]]),
        ("海南区", "150304", [[hainan]]),
    ]


# ---------------------------------------------------------------------------------------------
# Holders, mining areas, mines, dumps, heaps
# ---------------------------------------------------------------------------------------------
DEMO_OWNER = "骆驼山示例煤业有限公司"
HOLDERS = [
    "乌海示例能源有限公司",
    DEMO_OWNER,
    "苏海图示例矿业有限责任公司",
    "五虎山示例煤炭有限公司",
    "黄白茨示例煤业有限公司",
    "卡布其示例能源有限责任公司",
    "旧洞沟示例矿业有限公司",
    "公乌素示例煤业集团有限公司",
    "老石旦示例煤炭有限责任公司",
    "海南示例洗煤有限公司",
    "乌海示例建材有限公司",
    "黄河示例焦化煤业有限公司",
]

# name, lon, lat (DOMAIN.md, +-5 km)
AREAS = {
    "SHT": ("苏海图", 106.63, 39.53),
    "WHS": ("五虎山", 106.61, 39.49),
    "HBC": ("黄白茨", 106.62, 39.45),
    "KBQ": ("卡布其", 106.95, 39.75),
    "JDG": ("旧洞沟", 106.92, 39.80),
    "LTS": ("骆驼山", 106.95, 39.58),
    "GWS": ("公乌素", 106.93, 39.36),
    "LSD": ("老石旦", 106.90, 39.30),
}

# key, name, area, dx km, dy km, km2, vertices, kind, status, holder, extra
MINES = [
    ("m01", "苏海图示例一号露天煤矿", "SHT", 0.0, 0.5, 4.5, 34, "open_pit", "producing", "苏海图示例矿业有限责任公司", {}),
    ("m02", "苏海图示例二号煤矿", "SHT", 2.8, -0.8, 2.0, 18, "underground", "closed", "苏海图示例矿业有限责任公司", {}),
    ("m03", "苏海图示例无主矿区", "SHT", 0.8, 3.3, 1.5, 14, "underground", "ownerless", "", {}),
    ("m04", "五虎山示例露天煤矿", "WHS", 1.8, 0.0, 5.0, 38, "open_pit", "producing", "五虎山示例煤炭有限公司", {}),
    ("m05", "五虎山示例洗煤厂", "WHS", 4.3, 0.6, 0.8, 9, "washing_plant", "producing", "乌海示例能源有限公司", {}),
    ("m06", "五虎山示例二号煤矿", "WHS", 3.8, -2.0, 1.8, 16, "underground", "suspended", "五虎山示例煤炭有限公司", {}),
    ("m07", "黄白茨示例煤矿", "HBC", 0.5, 0.0, 2.5, 22, "underground", "producing", "黄白茨示例煤业有限公司", {}),
    ("m08", "黄白茨示例无主一号矿区", "HBC", -1.4, -2.0, 0.9, 11, "underground", "ownerless", "", {}),
    ("m09", "黄白茨示例无主二号矿区", "HBC", 3.0, -1.5, 1.2, 12, "open_pit", "ownerless", "", {}),
    ("m10", "卡布其示例露天煤矿", "KBQ", 0.0, 0.0, 5.5, 40, "open_pit", "producing", "卡布其示例能源有限责任公司", {}),
    ("m11", "卡布其示例二号煤矿", "KBQ", 3.3, -1.0, 2.2, 20, "underground", "producing", "黄河示例焦化煤业有限公司", {}),
    ("m12", "卡布其示例无主矿区", "KBQ", -2.8, -2.0, 1.0, 10, "underground", "ownerless", "", {}),
    ("m13", "旧洞沟示例煤矿", "JDG", -1.0, 0.8, 1.6, 16, "underground", "producing", "旧洞沟示例矿业有限公司",
     {"part2": (2.6, 1.0, 0.9, 12)}),
    ("m14", "旧洞沟示例露天煤矿", "JDG", 2.0, -2.2, 3.0, 26, "open_pit", "suspended", "旧洞沟示例矿业有限公司", {}),
    ("m15", "旧洞沟示例石灰岩矿", "JDG", -3.5, -1.5, 0.7, 8, "non_coal", "producing", "乌海示例建材有限公司", {}),
    ("m16", "骆驼山示例露天煤矿", "LTS", 0.0, 0.5, 5.0, 36, "open_pit", "producing", DEMO_OWNER, {}),
    ("m17", "骆驼山示例二号井", "LTS", 3.2, 1.8, 2.0, 18, "underground", "producing", DEMO_OWNER, {}),
    ("m18", "骆驼山示例洗煤厂", "LTS", -3.0, 1.6, 0.9, 10, "washing_plant", "producing", DEMO_OWNER, {}),
    ("m19", "骆驼山示例北山煤矿", "LTS", 3.9, 2.6, 1.5, 14, "underground", "producing", "乌海示例能源有限公司", {}),
    ("m20", "骆驼山示例南坡煤矿", "LTS", 1.5, -2.0, 1.2, 12, "underground", "closed", "黄河示例焦化煤业有限公司", {}),
    ("m21", "公乌素示例一号煤矿", "GWS", 0.0, 0.0, 5.8, 40, "underground", "producing", "公乌素示例煤业集团有限公司",
     {"hole": (0.3, 0.2, 0.15, 10)}),
    ("m22", "公乌素示例露天煤矿", "GWS", 3.4, 1.2, 3.0, 28, "open_pit", "producing", "公乌素示例煤业集团有限公司", {}),
    ("m23", "公乌素示例三号煤矿", "GWS", -3.2, 1.8, 2.0, 18, "underground", "suspended", "乌海示例能源有限公司", {}),
    ("m24", "公乌素示例洗煤厂", "GWS", 0.5, -3.0, 0.6, 9, "washing_plant", "producing", "海南示例洗煤有限公司", {}),
    ("m25", "老石旦示例煤矿", "LSD", 0.0, 0.5, 3.5, 30, "underground", "producing", "老石旦示例煤炭有限责任公司", {}),
    ("m26", "老石旦示例无主矿区", "LSD", -3.3, -0.5, 1.1, 12, "open_pit", "ownerless", "", {}),
    ("m27", "老石旦示例二号煤矿", "LSD", 3.0, -1.8, 1.4, 13, "underground", "closed", "黄河示例焦化煤业有限公司", {}),
    ("m28", "公乌素示例四号煤矿", "GWS", 3.6, -2.2, 1.0, 11, "underground", "producing", "老石旦示例煤炭有限责任公司", {}),
]
DISPUTE = ("m17", "m19")  # the one pair of overlapping mining rights (boundary dispute)

# key, name, owning mine, placement, km2, vertices
#   placement "in" = random spot inside the owning mine; ("at", area, dx, dy) = fixed spot outside every mine
DUMPS = [
    ("d01", "苏海图示例一号露天煤矿北排土场", "m01", "in", 0.25, 14),
    ("d02", "苏海图示例一号露天煤矿南排土场", "m01", "in", 0.18, 12),
    ("d03", "五虎山示例露天煤矿东排土场", "m04", "in", 0.30, 16),
    ("d04", "五虎山示例露天煤矿西排土场", "m04", "in", 0.20, 12),
    ("d05", "黄白茨示例煤矿排土场", "m07", "in", 0.15, 10),
    ("d06", "黄白茨示例无主二号矿区遗留排土场", "m09", "in", 0.12, 10),
    ("d07", "卡布其示例露天煤矿内排土场", "m10", "in", 0.35, 16),
    ("d08", "卡布其示例露天煤矿外排土场", "m10", ("at", "KBQ", 0.0, -2.7), 0.30, 14),
    ("d09", "旧洞沟示例露天煤矿排土场", "m14", "in", 0.20, 12),
    ("d10", "骆驼山示例露天煤矿内排土场", "m16", "in", 0.30, 14),
    ("d11", "骆驼山示例露天煤矿外排土场", "m16", ("at", "LTS", -1.9, -1.9), 0.25, 13),
    ("d12", "骆驼山示例二号井排土场", "m17", "in", 0.12, 10),
    ("d13", "公乌素示例一号煤矿排土场", "m21", "in", 0.35, 15),
    ("d14", "公乌素示例露天煤矿排土场", "m22", "in", 0.30, 14),
    ("d15", "老石旦示例煤矿排土场", "m25", "in", 0.25, 12),
]

# key, name, holder, placement ("in", mine) or ("at", area, dx, dy), km2, vertices
HEAPS = [
    ("h01", "五虎山示例洗煤厂煤矸石堆场", "乌海示例能源有限公司", ("in", "m05"), 0.06, 9),
    ("h02", "骆驼山示例洗煤厂煤矸石堆场", DEMO_OWNER, ("in", "m18"), 0.10, 10),
    ("h03", "公乌素示例洗煤厂煤矸石堆场", "海南示例洗煤有限公司", ("in", "m24"), 0.06, 9),
    ("h04", "公乌素示例煤矸石集中堆场", "公乌素示例煤业集团有限公司", ("at", "GWS", -1.2, -2.7), 0.12, 11),
    ("h05", "卡布其示例煤矸石堆场", "黄河示例焦化煤业有限公司", ("at", "KBQ", 2.1, 2.0), 0.10, 10),
    ("h06", "苏海图示例一号露天煤矿煤矸石堆场", "苏海图示例矿业有限责任公司", ("in", "m01"), 0.10, 10),
    ("h07", "五虎山示例露天煤矿煤矸石堆场", "五虎山示例煤炭有限公司", ("in", "m04"), 0.08, 9),
    ("h08", "老石旦示例煤矸石堆场", "老石旦示例煤炭有限责任公司", ("at", "LSD", 1.8, 2.9), 0.10, 10),
]

DISTRICT_MARGIN_M = 250.0    # every feature keeps this far from district borders
EDGE_MARGIN_M = 40.0         # dump / heap fires keep this far inside their polygon
MINE_EDGE_MARGIN_M = 60.0    # seam fires keep this far from mining-right borders
MIN_SPACING_M = 60.0         # between fire points (except deliberate duplicates)
DUP_RADIUS_M = 30.0


def build_mines(rng, districts_m):
    mines = {}
    for key, name, area, dx, dy, km2, n, kind, status, holder, extra in MINES:
        cx, cy = ll_of_area(area, dx, dy)
        if "part2" in extra:
            # two parts; the stated size is the total
            p2dx, p2dy, p2km2, p2n = extra["part2"]
            ring1 = star_ring(rng, cx, cy, (km2 - p2km2) * 1e6, n)
            ring2 = star_ring(rng, cx + p2dx * 1000, cy + p2dy * 1000, p2km2 * 1e6, p2n)
            mp = [[ring1], [ring2]]
        elif "hole" in extra:
            hdx, hdy, hkm2, hn = extra["hole"]
            ext = star_ring(rng, cx, cy, (km2 + hkm2) * 1e6, n, amp=0.15)
            hole = star_ring(rng, cx + hdx * 1000, cy + hdy * 1000, hkm2 * 1e6, hn, amp=0.12, ccw=False)
            mp = [[ext, hole]]
        else:
            mp = [[star_ring(rng, cx, cy, km2 * 1e6, n)]]
        mines[key] = dict(key=key, name=name, kind=kind, status=status, holder=holder, ll=mp, m=mp_m(mp))
    keys = list(mines)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            dj = disjoint(mines[a]["m"], mines[b]["m"])
            if (a, b) == DISPUTE:
                assert not dj, "dispute pair does not overlap"
            else:
                assert dj, "mines overlap: %s %s" % (a, b)
                assert boundary_gap(mines[a]["m"], mines[b]["m"]) > 150, "mines too close: %s %s" % (a, b)
    return mines


def _in_district_with_margin(mp, districts_m):
    for _, _, dm in districts_m:
        if contains(dm, mp) and boundary_gap(dm, mp) >= DISTRICT_MARGIN_M + 50:
            return True
    return False


def place_polygon(rng, area_m2, n, inside_mp, others, centre=None, min_gap=60.0, tries=4000):
    """A star polygon inside `inside_mp` (or near `centre`), clear of every geometry in `others`."""
    for _ in range(tries):
        if centre is not None:
            cx, cy = centre[0] + rng.uniform(-250, 250), centre[1] + rng.uniform(-250, 250)
        else:
            x0, y0, x1, y1 = bbox(inside_mp)
            cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if not pt_in_multi((cx, cy), inside_mp):
                continue
        ring = star_ring(rng, cx, cy, area_m2, n, amp=0.2)
        mp_ll = [[ring]]
        mp = mp_m(mp_ll)
        if inside_mp is not None:
            if not contains(inside_mp, mp) or boundary_gap(inside_mp, mp) < min_gap:
                continue
        ok = True
        for o in others:
            if bbox_gap(bbox(o), bbox(mp)) > min_gap:
                continue
            if not disjoint(o, mp) or boundary_gap(o, mp) < min_gap:
                ok = False
                break
        if ok:
            return mp_ll, mp
    raise RuntimeError("could not place polygon")


def build_dumps_heaps(rng, mines, districts_m):
    placed = []  # metres geometries of dumps + heaps so far

    def place(key, mine, placement, km2, n, gap_in_mine):
        """A pile inside `mine` (kept `gap_in_mine` m from the others), or where `placement` puts
        it outside every mine; inside a district either way."""
        if mine is not None:
            others = placed + [mines[k]["m"] for k in mines if k != mine]
            ll, m = place_polygon(rng, km2 * 1e6, n, mines[mine]["m"], others, min_gap=gap_in_mine)
        else:
            _, area, dx, dy = placement
            others = placed + [mines[k]["m"] for k in mines]
            ll, m = place_polygon(rng, km2 * 1e6, n, None, others, centre=ll_of_area(area, dx, dy), min_gap=150.0)
        assert _in_district_with_margin(m, districts_m), key
        return ll, m

    dumps, heaps = {}, {}
    for key, name, mine, placement, km2, n in DUMPS:
        ll, m = place(key, mine if placement == "in" else None, placement, km2, n, 80.0)
        dumps[key] = dict(key=key, name=name, mine=mine, outside=placement != "in", ll=ll, m=m)
        placed.append(m)
    for key, name, holder, placement, km2, n in HEAPS:
        mine = placement[1] if placement[0] == "in" else None
        if mine is not None:
            assert mines[mine]["holder"] == holder
        ll, m = place(key, mine, placement, km2, n, 60.0)
        heaps[key] = dict(key=key, name=name, holder=holder, outside=placement[0] != "in", ll=ll, m=m)
        placed.append(m)
    return dumps, heaps


# ---------------------------------------------------------------------------------------------
# Fires: where, what and how their life went
# ---------------------------------------------------------------------------------------------
# Scripts: C confirm, S start_treatment, P progress, K control, I- low inspect (<50),
# I+ inspect >= 50 (re-ignites a controlled / extinguished / cleared fire), Ib inspect while
# burning, OBS 3-4 low inspects ending >= 30 days after control, X extinguish, L clear,
# W watch inspect (low), Dr dismiss (false report), Dd dismiss (duplicate). "?" = optional.
SCRIPTS = {
    "R": [],
    "Ri": ["Ib"],
    "CF": ["C"],
    "CFi": ["C", "Ib"],
    "TR": ["C", "S", "P?"],
    "TR2": ["C", "S", "P?", "K", "I-", "I+", "S", "P?"],
    "CT": ["C", "S", "P?", "K", "I-?", "I-?"],
    "EX": ["C", "S", "P?", "K", "OBS", "X"],
    "CL": ["C", "S", "P?", "K", "OBS", "X", "L", "W?"],
    "CLRR": ["C", "S", "K", "I+", "S", "P?", "K", "OBS", "X", "L"],
    "CLRR2": ["C", "S", "K", "OBS", "X", "L", "I+", "S", "P?", "K", "OBS", "X", "L"],
    "RIc": ["C", "S", "P?", "K", "OBS", "X", "L", "W?", "I+"],
    "RIk": ["C", "S", "K", "I-", "I+"],
    "RIx": ["C", "S", "K", "OBS", "X", "I+"],
    "DF": ["Dr"],
    "DFi": ["I-", "Dr"],
    "DD": ["Dd"],
}

# key, kind, where, script, reported between (dates, inclusive)
#   where: ("mine", key[, part]) | ("dump", key) | ("heap", key) | ("none", area, dx, dy) | ("dup", fire key)
FIRES = [
    # --- 骆驼山示例煤业有限公司 (demo owner) ---
    ("f01", "coal_seam", ("mine", "m16"), "TR", ("2026-10-08", "2026-10-25")),
    ("f02", "coal_seam", ("mine", "m16"), "CL", ("2026-02-20", "2026-03-20")),
    ("f03", "waste_dump", ("dump", "d10"), "RIc", ("2026-05-20", "2026-06-30")),
    ("f04", "waste_dump", ("dump", "d11"), "TR", ("2026-11-10", "2026-11-20")),
    ("f05", "waste_dump", ("dump", "d11"), "CL", ("2026-01-25", "2026-02-25")),
    ("f06", "coal_seam", ("mine", "m17"), "CT", ("2026-09-15", "2026-09-30")),
    ("f07", "coal_seam", ("mine", "m17"), "EX", ("2026-07-20", "2026-08-15")),
    ("f08", "waste_dump", ("dump", "d12"), "CL", ("2026-05-01", "2026-05-31")),
    ("f09", "gangue_heap", ("heap", "h02"), "CLRR", ("2026-01-05", "2026-01-31")),
    ("f10", "gangue_heap", ("heap", "h02"), "CF", ("2026-11-18", "2026-11-22")),
    # --- the neighbour in the boundary dispute ---
    ("f11", "coal_seam", ("mine", "m19"), "CL", ("2026-06-01", "2026-06-30")),
    # --- 苏海图 / 五虎山 / 黄白茨 (乌达区) ---
    ("f12", "coal_seam", ("mine", "m01"), "CLRR2", ("2025-12-02", "2025-12-20")),
    ("f13", "coal_seam", ("mine", "m01"), "R", ("2026-11-04", "2026-11-06")),
    ("f14", "waste_dump", ("dump", "d01"), "CL", ("2026-01-05", "2026-01-31")),
    ("f15", "waste_dump", ("dump", "d01"), "TR", ("2026-10-05", "2026-10-25")),
    ("f16", "waste_dump", ("dump", "d02"), "CL", ("2026-07-01", "2026-07-31")),
    ("f17", "gangue_heap", ("heap", "h06"), "CL", ("2026-03-01", "2026-03-31")),
    ("f18", "coal_seam", ("mine", "m02"), "CL", ("2026-02-01", "2026-02-28")),
    ("f19", "coal_seam", ("mine", "m03"), "TR2", ("2026-05-01", "2026-05-31")),
    ("f20", "coal_seam", ("mine", "m03"), "R", ("2026-11-27", "2026-11-27")),
    ("f21", "coal_seam", ("mine", "m04"), "CL", ("2026-04-01", "2026-04-30")),
    ("f22", "coal_seam", ("mine", "m04"), "EX", ("2026-08-25", "2026-09-10")),
    ("f23", "waste_dump", ("dump", "d03"), "CL", ("2026-06-01", "2026-06-30")),
    ("f24", "waste_dump", ("dump", "d04"), "CT", ("2026-11-01", "2026-11-12")),
    ("f25", "gangue_heap", ("heap", "h07"), "CL", ("2026-08-01", "2026-08-20")),
    ("f26", "coal_seam", ("mine", "m06"), "CFi", ("2026-10-20", "2026-10-30")),
    ("f27", "coal_seam", ("mine", "m07"), "CL", ("2026-05-01", "2026-05-31")),
    ("f28", "waste_dump", ("dump", "d05"), "TR", ("2026-11-10", "2026-11-20")),
    ("f29", "coal_seam", ("mine", "m08"), "CL", ("2026-01-05", "2026-01-31")),
    ("f30", "coal_seam", ("mine", "m08"), "Ri", ("2026-10-19", "2026-10-21")),
    ("f31", "coal_seam", ("mine", "m09"), "CT", ("2026-09-20", "2026-10-10")),
    ("f32", "waste_dump", ("dump", "d06"), "CL", ("2026-04-01", "2026-04-30")),
    ("f33", "waste_dump", ("dump", "d06"), "TR", ("2026-11-05", "2026-11-20")),
    ("f34", "coal_seam", ("none", "SHT", 3.6, 2.2), "CL", ("2026-02-01", "2026-02-28")),
    ("f35", "gangue_heap", ("heap", "h01"), "DF", ("2026-07-10", "2026-08-10")),
    # --- 卡布其 / 旧洞沟 / 骆驼山 (海勃湾区) ---
    ("f36", "coal_seam", ("none", "LTS", -3.6, -1.0), "TR", ("2026-10-01", "2026-10-20")),
    ("f37", "coal_seam", ("none", "KBQ", 1.5, -3.6), "DFi", ("2026-03-01", "2026-03-31")),
    ("f38", "coal_seam", ("mine", "m10"), "CL", ("2025-12-05", "2025-12-31")),
    ("f39", "coal_seam", ("mine", "m10"), "RIk", ("2026-09-05", "2026-09-25")),
    ("f40", "waste_dump", ("dump", "d07"), "CL", ("2026-02-01", "2026-02-28")),
    ("f41", "waste_dump", ("dump", "d07"), "EX", ("2026-09-01", "2026-09-20")),
    ("f42", "waste_dump", ("dump", "d08"), "CL", ("2026-06-01", "2026-06-30")),
    ("f43", "waste_dump", ("dump", "d08"), "CF", ("2026-11-12", "2026-11-20")),
    ("f44", "coal_seam", ("mine", "m11"), "CL", ("2026-07-01", "2026-07-25")),
    ("f45", "coal_seam", ("mine", "m12"), "CL", ("2026-03-01", "2026-03-31")),
    ("f46", "coal_seam", ("mine", "m13", 1), "CL", ("2026-04-01", "2026-04-30")),
    ("f47", "coal_seam", ("mine", "m13", 0), "TR", ("2026-09-01", "2026-09-15")),
    ("f48", "coal_seam", ("mine", "m14"), "CT", ("2026-09-25", "2026-10-10")),
    ("f49", "waste_dump", ("dump", "d09"), "CL", ("2026-05-01", "2026-05-31")),
    ("f50", "gangue_heap", ("heap", "h05"), "CL", ("2026-06-01", "2026-06-30")),
    ("f51", "gangue_heap", ("heap", "h05"), "R", ("2026-11-21", "2026-11-22")),
    ("f52", "coal_seam", ("mine", "m20"), "DF", ("2026-06-01", "2026-06-30")),
    # --- 公乌素 / 老石旦 (海南区) ---
    ("f53", "coal_seam", ("mine", "m21"), "CL", ("2026-01-05", "2026-01-31")),
    ("f54", "coal_seam", ("mine", "m21"), "RIx", ("2026-07-01", "2026-07-20")),
    ("f55", "waste_dump", ("dump", "d13"), "CL", ("2026-03-01", "2026-03-31")),
    ("f56", "waste_dump", ("dump", "d13"), "TR", ("2026-10-10", "2026-10-30")),
    ("f57", "coal_seam", ("mine", "m22"), "CL", ("2026-08-01", "2026-08-15")),
    ("f58", "waste_dump", ("dump", "d14"), "CT", ("2026-11-03", "2026-11-12")),
    ("f59", "gangue_heap", ("heap", "h04"), "CL", ("2026-07-01", "2026-07-31")),
    ("f60", "gangue_heap", ("heap", "h03"), "EX", ("2026-09-01", "2026-09-20")),
    ("f61", "coal_seam", ("mine", "m23"), "CF", ("2026-11-08", "2026-11-16")),
    ("f62", "coal_seam", ("mine", "m25"), "CL", ("2026-02-01", "2026-02-28")),
    ("f63", "waste_dump", ("dump", "d15"), "CL", ("2026-06-01", "2026-06-30")),
    ("f64", "coal_seam", ("mine", "m26"), "CL", ("2026-04-01", "2026-04-30")),
    ("f65", "coal_seam", ("mine", "m26"), "DF", ("2026-10-01", "2026-10-31")),
    ("f66", "coal_seam", ("mine", "m27"), "CL", ("2026-03-01", "2026-03-31")),
    ("f67", "gangue_heap", ("heap", "h08"), "CL", ("2026-05-01", "2026-05-31")),
    ("f68", "gangue_heap", ("heap", "h08"), "R", ("2026-11-14", "2026-11-16")),
    ("f69", "coal_seam", ("mine", "m28"), "CT", ("2026-10-01", "2026-10-15")),
    ("f70", "coal_seam", ("none", "LSD", -1.6, 2.6), "R", ("2026-11-26", "2026-11-26")),
    ("f71", "coal_seam", ("mine", "m22"), "CL", ("2025-12-10", "2026-01-10")),
    ("f72", "waste_dump", ("dump", "d15"), "CL", ("2025-12-15", "2026-01-15")),
    # --- deliberate duplicates (a second patrol reported the same fire) ---
    ("f73", "waste_dump", ("dup", "f15"), "DD", None),
    ("f74", "coal_seam", ("dup", "f01"), "DD", None),
]

# open scripts whose last action should be recent (days before NOW)
RECENT_DAYS = {"RIc": 45, "RIk": 45, "RIx": 45}

METHODS = {
    "coal_seam": ["grouting", "nitrogen", "strip_dig", "sealing", "water"],
    "waste_dump": ["loess_cover", "strip_dig", "water"],
    "gangue_heap": ["loess_cover", "water", "strip_dig"],
}
REPORT_NOTES = {
    "coal_seam": ["露头煤层冒烟，地表有裂缝", "采场边帮煤层露头发红，有硫磺味", "老窑口冒烟，周边地表塌陷裂缝",
                  "台阶坡面煤层自燃，烟气明显", "地表裂缝冒热气，有刺激性气味", "煤层露头处可见明火"],
    "waste_dump": ["排土场坡面冒烟，有硫磺味", "排土场平台局部地表发烫，冒白烟", "排土场坡脚有烟气溢出",
                   "新排弃物料中夹煤自燃"],
    "gangue_heap": ["矸石堆顶部冒烟", "矸石堆坡面局部发红，有硫磺味", "矸石堆底部冒烟，地表温度高"],
}
PROGRESS_NOTES = {
    "strip_dig": "已剥挖火区约{p}%，高温物料摊晾降温",
    "loess_cover": "黄土覆盖碾压已完成约{p}%",
    "grouting": "已完成注浆钻孔{n}个",
    "water": "打孔注水进行中，累计注水{n}立方米",
    "nitrogen": "注氮系统已连续运行{n}天",
    "sealing": "已封闭地表裂缝{n}处",
}
INSPECT_LOW_NOTES = ["无烟，地表温度正常", "覆盖层完好，无异常", "无烟无味，裂缝已闭合", "测温正常"]
INSPECT_HIGH_NOTES = ["仍有烟气，温度较高", "烟气减弱，局部仍高温", "火区范围未扩大"]
REIGNITE_NOTES = ["复燃：覆盖层裂缝处冒烟", "复燃：坡面局部发红", "复燃：原火区边缘冒烟，有硫磺味"]
FALSE_REASONS = ["误报：为热源反射", "误报：为锅炉房排烟", "误报：阳光照射岩面温度偏高，无燃烧迹象"]


def fmt(t):
    return t.isoformat()


class Clock:
    def __init__(self, rng, t):
        self.rng, self.t = rng, t

    def step(self, lo_days, hi_days):
        """Advance by lo..hi days, landing in working hours (08:00-18:30) when possible."""
        rng = self.rng
        cand = self.t + timedelta(days=rng.uniform(lo_days, hi_days))
        day = cand.date()
        minute = rng.randint(8 * 60, 18 * 60 + 30)
        t = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=TZ)
        if t <= self.t + timedelta(minutes=20):
            t = self.t + timedelta(minutes=rng.randint(25, 180))
            t = t.replace(second=0, microsecond=0)
        self.t = t
        return t


def gen_history(rng, kind, script, rep_at, resp_actor, dup_of=None):
    seam = kind == "coal_seam"
    ck = Clock(rng, rep_at)
    hist = []
    control_at = None
    method = None
    temp_now = None
    for tok in script:
        if tok.endswith("?"):
            if rng.random() < 0.5:
                continue
            tok = tok[:-1]
        if tok == "C":
            hist.append({"action": "confirm", "at": ck.step(0.05, 1.5), "actor": "manager"})
        elif tok == "S":
            at = ck.step(1.0, 6.0) if seam else ck.step(0.1, 1.8)
            choices = [m for m in METHODS[kind] if m != method] if method else METHODS[kind]
            method = rng.choice(choices)
            a = {"action": "start_treatment", "at": at, "actor": resp_actor, "method": method}
            if seam:
                a["plan_due"] = (at.date() + timedelta(days=rng.randint(20, 55))).isoformat()
            hist.append(a)
        elif tok == "P":
            at = ck.step(5.0, 18.0) if seam else ck.step(1.0, 4.0)
            note = PROGRESS_NOTES[method].format(p=rng.choice([30, 40, 50, 60, 70, 80]), n=rng.randint(4, 60))
            hist.append({"action": "progress", "at": at, "actor": resp_actor, "note": note})
        elif tok == "K":
            at = ck.step(10.0, 30.0) if seam else ck.step(2.0, 9.0)
            control_at = at
            hist.append({"action": "control", "at": at, "actor": resp_actor,
                         "temp_c": rng.randint(24, 46), "note": "表面最高温度已降至50°C以下"})
        elif tok in ("I-", "W"):
            at = ck.step(5.0, 12.0) if tok == "I-" else ck.step(15.0, 45.0)
            hist.append(_inspect(rng, at, rng.randint(8, 45), low=True))
        elif tok == "OBS":
            n = rng.choice([3, 3, 4])
            for i in range(n):
                lo, hi = (5.0, 12.0) if i == 0 else (8.0, 14.0)
                if i == n - 1:
                    need = (control_at + timedelta(days=31) - ck.t) / DAY
                    lo = max(lo, need)
                    hi = max(hi, lo + 4.0)
                hist.append(_inspect(rng, ck.step(lo, hi), rng.randint(8, 45), low=True))
        elif tok == "X":
            hist.append({"action": "extinguish", "at": ck.step(0.5, 4.0), "actor": "manager",
                         "note": "连续30天以上地表最高温度低于50°C，判定熄灭"})
        elif tok == "L":
            hist.append({"action": "clear", "at": ck.step(3.0, 20.0), "actor": "manager",
                         "note": "经验收合格，予以销号"})
        elif tok == "I+":
            prev = hist[-1]["action"]
            if prev in ("control", "inspect"):
                at = ck.step(4.0, 20.0)
            elif prev == "extinguish":
                at = ck.step(10.0, 60.0)
            else:  # on the one-year watch after clearing
                at = ck.step(20.0, 110.0)
            a = _inspect(rng, at, rng.randint(55, 260), low=False)
            a["note"] = rng.choice(REIGNITE_NOTES)
            hist.append(a)
        elif tok == "Ib":
            temp_now = rng.randint(70, 380)
            hist.append(_inspect(rng, ck.step(2.0, 20.0), temp_now, low=False))
        elif tok == "Dr":
            hist.append({"action": "dismiss", "at": ck.step(0.2, 3.0), "actor": "manager",
                         "reason": rng.choice(FALSE_REASONS)})
        elif tok == "Dd":
            hist.append({"action": "dismiss", "at": ck.step(0.1, 1.5), "actor": "manager",
                         "duplicate_of": dup_of})
        else:
            raise ValueError(tok)
    return hist


def _inspect(rng, at, temp, low):
    a = {"action": "inspect", "at": at, "actor": "patrol", "temp_c": temp}
    if rng.random() < 0.6:
        a["co_ppm"] = rng.randint(0, 9) if low else rng.randint(20, 400)
    if rng.random() < 0.7:
        a["note"] = rng.choice(INSPECT_LOW_NOTES if low else INSPECT_HIGH_NOTES)
    return a


def _parse_day(s):
    y, m, d = map(int, s.split("-"))
    return datetime(y, m, d, tzinfo=TZ)


def rand_report_time(rng, d_from, d_to):
    days = (d_to - d_from).days
    day = d_from + timedelta(days=rng.randint(0, days))
    minute = rng.randint(8 * 60, 18 * 60 + 30)
    return day + timedelta(minutes=minute)


def responsible(where, mines, dumps, heaps):
    """(holder or '', actor) for a fire location descriptor."""
    if where[0] == "mine":
        h = mines[where[1]]["holder"]
    elif where[0] == "dump":
        h = mines[dumps[where[1]]["mine"]]["holder"]
    elif where[0] == "heap":
        h = heaps[where[1]]["holder"]
    else:
        h = ""
    return h, ("owner" if h else "district")


def place_fire(rng, kind, where, mines, dumps, heaps, districts_m, placed, near=None):
    """Random point matching the position rules; `placed` = metres points already used."""
    dumps_heaps = [d["m"] for d in dumps.values()] + [h["m"] for h in heaps.values()]
    for _ in range(20000):
        if near is not None:
            ang = rng.uniform(0, 2 * math.pi)
            r = rng.uniform(8.0, 25.0)
            p = (near[0] + r * math.cos(ang), near[1] + r * math.sin(ang))
        elif where[0] in ("mine", "dump", "heap"):
            if where[0] == "mine":
                mp = mines[where[1]]["m"]
                if len(where) > 2:
                    mp = [mp[where[2]]]
            else:
                mp = (dumps if where[0] == "dump" else heaps)[where[1]]["m"]
            x0, y0, x1, y1 = bbox(mp)
            p = (rng.uniform(x0, x1), rng.uniform(y0, y1))
        else:
            cx, cy = ll_of_area(where[1], where[2], where[3])
            p = (cx + rng.uniform(-1200, 1200), cy + rng.uniform(-1200, 1200))
        p = to_m(to_ll(*p))  # rounded
        if where[0] in ("dump", "heap") or (near is not None and kind != "coal_seam"):
            coll = dumps if kind == "waste_dump" else heaps
            hit = [g for g in coll.values() if pt_in_multi(p, g["m"])]
            if len(hit) != 1 or pt_boundary_dist(p, hit[0]["m"]) < EDGE_MARGIN_M + 8:
                continue
            if where[0] in ("dump", "heap") and hit[0]["key"] != where[1]:
                continue
        else:  # coal seam
            if any(pt_in_multi(p, g) or pt_boundary_dist(p, g) < 60 for g in dumps_heaps):
                continue
            in_mines = [k for k, mn in mines.items() if pt_in_multi(p, mn["m"])]
            if where[0] == "mine" and in_mines != [where[1]]:
                continue
            if where[0] == "none" and in_mines:
                continue
            if where[0] == "dup" and len(in_mines) > 1:
                continue
            near_edge = min(pt_boundary_dist(p, mn["m"]) for mn in mines.values())
            if near_edge < (MINE_EDGE_MARGIN_M + 10 if where[0] != "none" else 150):
                continue
        dd = [pt_boundary_dist(p, dm) for _, _, dm in districts_m if pt_in_multi(p, dm)]
        if len(dd) != 1 or dd[0] < DISTRICT_MARGIN_M + 50:
            continue
        if any(math.hypot(p[0] - q[0], p[1] - q[1]) < MIN_SPACING_M + 15 for q in placed):
            continue
        return p
    raise RuntimeError("could not place fire %r" % (where,))


def build_fires(rng, mines, dumps, heaps, districts_m):
    fires = {}
    placed = []
    for key, kind, where, script, window in FIRES:
        fid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if where[0] == "dup":
            orig = fires[where[1]]
            others = [q for q in placed if q != orig["pm"]]
            pm = place_fire(rng, kind, where, mines, dumps, heaps, districts_m, others, near=orig["pm"])
            holder, actor = orig["holder"], orig["actor"]
        else:
            pm = place_fire(rng, kind, where, mines, dumps, heaps, districts_m, placed)
            holder, actor = responsible(where, mines, dumps, heaps)
        placed.append(pm)
        for _ in range(500):
            if where[0] == "dup":
                orig = fires[where[1]]
                rep = orig["reported_at"] + timedelta(days=rng.uniform(0.5, 3.0))
                rep = rep.replace(hour=rng.randint(8, 17), minute=rng.randint(0, 59), second=0, microsecond=0)
                if rep <= orig["reported_at"]:
                    continue
                hist = gen_history(rng, kind, SCRIPTS[script], rep, actor, dup_of=orig["id"])
            else:
                rep = rand_report_time(rng, _parse_day(window[0]), _parse_day(window[1]))
                hist = gen_history(rng, kind, SCRIPTS[script], rep, actor)
            if rep < NOW and all(a["at"] < NOW for a in hist):
                if script in RECENT_DAYS and NOW - hist[-1]["at"] > timedelta(days=RECENT_DAYS[script]):
                    continue
                break
        else:
            raise RuntimeError("no history fits before NOW for " + key)
        if kind == "coal_seam":
            temp = rng.randint(80, 600)
            area = rng.randint(50, 5000)
        elif kind == "waste_dump":
            temp = rng.randint(60, 450)
            area = rng.randint(20, 1500)
        else:
            temp = rng.randint(60, 350)
            area = rng.randint(5, 800)
        if script == "DD":
            temp = max(60, min(600, fires[where[1]]["temp_c"] + rng.randint(-30, 30)))
            area = fires[where[1]]["area_m2"]
        if script.startswith("DF"):
            temp = rng.randint(60, 78)
        signs = ["smoke"] if rng.random() < 0.9 or temp < 300 else []
        if temp >= 300 and rng.random() < 0.7:
            signs.append("flame")
        if rng.random() < 0.5:
            signs.append("sulphur")
        if kind == "coal_seam" and rng.random() < 0.6:
            signs.append("cracks")
        if not signs:
            signs = ["smoke"]
        signs = [s for s in ("smoke", "flame", "sulphur", "cracks") if s in signs]
        src = "map" if rng.random() < 0.12 else "gps"
        acc = rng.randint(12, 25) if src == "map" else rng.randint(3, 12)
        if script == "DD":
            note = "疑似重复上报：" + rng.choice(REPORT_NOTES[kind])
        else:
            note = rng.choice(REPORT_NOTES[kind])
        fires[key] = dict(key=key, id=fid, kind=kind, where=where, script=script, pm=pm,
                          holder=holder, actor=actor, reported_at=rep, temp_c=temp, area_m2=area,
                          signs=signs, note=note, accuracy_m=acc, position_source=src, history=hist)
    return fires


# ---------------------------------------------------------------------------------------------
# Dust violations (扬尘违规) logged by patrols: a few, in every state and kind
# ---------------------------------------------------------------------------------------------
# A random stream of their own, so that adding them left every file above byte-for-byte as it was.
DUST_SEED = SEED + 1
ISSUE_KINDS = ["open_stockpile", "unhardened_road", "unswept_road", "uncovered_truck",
               "blasting_outside_window", "no_spraying"]
ISSUE_NOTES = {
    "open_stockpile": "煤堆露天堆放，未覆盖防尘网",
    "unhardened_road": "运输道路未硬化，车辆通过时扬尘明显",
    "unswept_road": "场内道路积尘较厚，未清扫",
    "uncovered_truck": "运煤车辆未苫盖驶出矿区",
    "blasting_outside_window": "在规定时段以外进行爆破作业",
    "no_spraying": "装卸作业时未洒水降尘",
}
# key, kind, where (as for fires: ("mine", key) | ("none", area, dx km, dy km)), reported (local),
# history: (action, actor, days after the report, note or None). Actors: the responsible party
# ("owner" / "district") starts and rectifies, a patrol or a manager verifies or rejects.
DUST_ISSUES = [
    ("i1", "open_stockpile", ("mine", "m16"), "2026-11-27T09:40", []),
    ("i2", "uncovered_truck", ("mine", "m18"), "2026-11-20T10:15",
     [("start", "owner", 1.1, "已要求运输车辆全部苫盖后出场")]),
    ("i3", "unswept_road", ("mine", "m17"), "2026-11-02T14:30",
     [("start", "owner", 0.8, None), ("rectified", "owner", 2.0, "场内道路已清扫并洒水"),
      ("verify", "patrol", 4.1, "复查道路整洁，无明显积尘")]),
    ("i4", "no_spraying", ("mine", "m03"), "2026-11-21T11:00", []),
    ("i5", "unhardened_road", ("mine", "m07"), "2026-11-18T15:20",
     [("start", "owner", 1.0, None), ("rectified", "owner", 6.0, "运输道路已铺设碎石并压实")]),
    ("i6", "blasting_outside_window", ("mine", "m04"), "2026-11-10T17:50",
     [("rectified", "owner", 2.0, "已调整爆破作业时间"),
      ("reject", "patrol", 4.0, "复查时仍在规定时段以外爆破")]),
    ("i7", "open_stockpile", ("mine", "m21"), "2026-10-15T10:00",
     [("start", "owner", 1.0, None), ("rectified", "owner", 3.0, "煤堆已覆盖防尘网"),
      ("reject", "manager", 5.0, "防尘网覆盖不全，东侧仍有裸露"),
      ("rectified", "owner", 8.0, "已全部覆盖并加装喷淋"), ("verify", "manager", 10.0, None)]),
    ("i8", "unswept_road", ("none", "LTS", -3.0, -3.4), "2026-11-25T08:50",
     [("start", "district", 1.2, "已通知属地环卫部门清扫")]),
]


def build_dust_issues(mines, dumps, heaps, districts_m, fire_points):
    rng = random.Random(DUST_SEED)
    placed = list(fire_points)
    feats = []
    for key, kind, where, reported, history in DUST_ISSUES:
        iid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        # Placed like a coal-seam fire: inside the named mine away from its edges (or in no mine),
        # never in a dump or heap, away from every fire.
        pm = place_fire(rng, "coal_seam", where, mines, dumps, heaps, districts_m, placed)
        placed.append(pm)
        rep = datetime.fromisoformat(reported).replace(tzinfo=TZ)
        hist = []
        for action, actor, days, note in history:
            a = {"action": action, "at": fmt((rep + timedelta(days=days)).replace(second=0, microsecond=0)),
                 "actor": actor}
            if note:
                a["note"] = note
            hist.append(a)
        lon, lat = to_ll(*pm)
        feats.append({"type": "Feature",
                      "properties": {"uuid": iid, "kind": kind, "reported_at": fmt(rep), "reported_by": "patrol",
                                     "note": ISSUE_NOTES[kind], "accuracy_m": rng.randint(3, 12),
                                     "position_source": "gps", "history": hist},
                      "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    return feats


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def write_fc(name, features):
    path = os.path.join(HERE, name)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write('{"type":"FeatureCollection","features":[\n')
        for i, ft in enumerate(features):
            f.write(json.dumps(ft, ensure_ascii=False, separators=(",", ":")))
            f.write(",\n" if i < len(features) - 1 else "\n")
        f.write("]}\n")


def licence_numbers(rng, n):
    out, serials = [], set()
    while len(out) < n:
        serial = rng.randint(1, 9999999)
        if serial in serials:
            continue
        serials.add(serial)
        out.append("C150300%04d%02d112%07d" % (rng.randint(2004, 2019), rng.randint(1, 12), serial))
    return out


def generate():
    rng = random.Random(SEED)
    districts = build_districts()
    districts_m = [(n, c, mp_m(mp)) for n, c, mp in districts]
    mines = build_mines(rng, districts_m)
    for mn in mines.values():
        assert _in_district_with_margin(mn["m"], districts_m), mn["key"]
    lic = licence_numbers(rng, len(mines))
    for mn, no in zip(mines.values(), lic):
        mn["licence_no"] = no
    dumps, heaps = build_dumps_heaps(rng, mines, districts_m)
    fires = build_fires(rng, mines, dumps, heaps, districts_m)

    write_fc("districts.geojson", [
        {"type": "Feature", "properties": {"name": n, "code": c}, "geometry": geojson_multipolygon(mp)}
        for n, c, mp in districts])
    write_fc("mines.geojson", [
        {"type": "Feature",
         "properties": {"name": m["name"], "licence_no": m["licence_no"], "holder": m["holder"],
                        "kind": m["kind"], "status": m["status"]},
         "geometry": geojson_multipolygon(m["ll"])} for m in mines.values()])
    write_fc("waste_dumps.geojson", [
        {"type": "Feature", "properties": {"name": d["name"], "mine": mines[d["mine"]]["licence_no"]},
         "geometry": geojson_multipolygon(d["ll"])} for d in dumps.values()])
    write_fc("gangue_heaps.geojson", [
        {"type": "Feature", "properties": {"name": h["name"], "holder": h["holder"]},
         "geometry": geojson_multipolygon(h["ll"])} for h in heaps.values()])
    feats = []
    for f in sorted(fires.values(), key=lambda f: (f["reported_at"], f["key"])):
        hist = []
        for a in f["history"]:
            a = dict(a)
            a["at"] = fmt(a["at"])
            hist.append(a)
        lon, lat = to_ll(*f["pm"])
        feats.append({"type": "Feature",
                      "properties": {"id": f["id"], "kind": f["kind"], "reported_at": fmt(f["reported_at"]),
                                     "reported_by": "patrol", "temp_c": f["temp_c"], "area_m2": f["area_m2"],
                                     "signs": f["signs"], "note": f["note"], "accuracy_m": f["accuracy_m"],
                                     "position_source": f["position_source"], "history": hist},
                      "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    write_fc("fire_points.geojson", feats)
    write_fc("dust_issues.geojson",
             build_dust_issues(mines, dumps, heaps, districts_m, [f["pm"] for f in fires.values()]))


# ---------------------------------------------------------------------------------------------
# Checks (read back from disk; independent of the generator's internal state)
# ---------------------------------------------------------------------------------------------
SURFACE_THRESHOLD_C = 50
WATCH = timedelta(days=365)
STATES = ["reported", "confirmed", "treating", "controlled", "extinguished", "cleared", "reignited", "dismissed"]
BURNING = {"reported", "confirmed", "treating", "reignited"}
OPEN = BURNING | {"controlled", "extinguished"}
TRANSITIONS = {
    "confirm": ({"reported"}, "confirmed"),
    "dismiss": ({"reported", "confirmed"}, "dismissed"),
    "start_treatment": ({"confirmed", "reignited"}, "treating"),
    "control": ({"treating"}, "controlled"),
    "extinguish": ({"controlled"}, "extinguished"),
    "clear": ({"extinguished"}, "cleared"),
    "progress": ({"treating"}, None),
}
ACTION_KEYS = {  # action -> (required, optional)
    "confirm": ({"action", "at", "actor"}, {"note"}),
    "start_treatment": ({"action", "at", "actor", "method"}, {"plan_due", "note"}),
    "progress": ({"action", "at", "actor", "note"}, set()),
    "control": ({"action", "at", "actor", "temp_c"}, {"note"}),
    "inspect": ({"action", "at", "actor", "temp_c"}, {"co_ppm", "note"}),
    "extinguish": ({"action", "at", "actor"}, {"note"}),
    "clear": ({"action", "at", "actor"}, {"note"}),
    "dismiss": ({"action", "at", "actor"}, {"reason", "duplicate_of"}),
}
ALL_METHODS = {"strip_dig", "loess_cover", "grouting", "water", "nitrogen", "sealing"}
FIRE_KEYS = {"id", "kind", "reported_at", "reported_by", "temp_c", "area_m2", "signs", "note",
             "accuracy_m", "position_source", "history"}
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


def _load(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        fc = json.load(f)
    assert fc["type"] == "FeatureCollection" and "crs" not in fc
    return fc["features"]


def _point_case(f, keys, id_key):
    """A fire's or violation's feature checked alike: exactly `keys`, a rounded Point, and a
    UUID v4 under `id_key`. Returns its properties."""
    pr = f["properties"]
    assert set(pr) == keys, sorted(pr)
    assert f["geometry"]["type"] == "Point"
    _check_coords(f["geometry"]["coordinates"])
    u = uuid.UUID(pr[id_key])
    assert u.version == 4 and str(u) == pr[id_key]
    return pr


def _check_coords(obj):
    if isinstance(obj, list):
        if obj and isinstance(obj[0], (int, float)):
            assert len(obj) == 2
            for c in obj:
                s = repr(float(c))
                assert "e" not in s and len(s.split(".")[1]) <= 6, "coordinate not rounded: %r" % c
        else:
            for o in obj:
                _check_coords(o)


def check_multipolygon_valid(mp, label, min_vertices=4, max_vertices=None):
    for pi, poly in enumerate(mp):
        for ri, ring in enumerate(poly):
            n = len(ring)
            assert len(set(ring)) == n, "%s: repeated vertex" % label
            if ri == 0:
                assert n >= min_vertices and (max_vertices is None or n <= max_vertices), \
                    "%s: %d vertices" % (label, n)
            assert not ring_self_intersects(ring), "%s: ring self-intersects" % label
            a = signed_area(ring)
            assert (a > 0) if ri == 0 else (a < 0), "%s: wrong ring orientation" % label
        for ri, h in enumerate(poly[1:]):
            assert all(pt_in_ring(p, poly[0]) for p in h), "%s: hole outside exterior" % label
            assert not rings_intersect(h, poly[0]), "%s: hole touches exterior" % label
            for h2 in poly[ri + 2:]:
                assert not rings_intersect(h, h2) and not pt_in_ring(h[0], h2) and not pt_in_ring(h2[0], h), label
        for q in mp[pi + 1:]:
            assert disjoint([poly], [q]), "%s: parts overlap" % label


def _dt(s):
    assert ISO_RE.match(s), s
    return datetime.fromisoformat(s)


def replay(props, responsible_actor, kind, fires_by_id, pos_by_id, pos):
    """Replays the history; asserts every rule; returns (final state, facts)."""
    rep = _dt(props["reported_at"])
    state, prev_t = "reported", rep
    control_at, low_since_control, cleared_at = None, [], None
    facts = {"reignitions": 0, "reignited_from": []}
    for a in props["history"]:
        act = a["action"]
        req, opt = ACTION_KEYS[act]
        assert req <= set(a) and set(a) <= req | opt, "bad keys %s" % sorted(a)
        t = _dt(a["at"])
        assert t > prev_t, "history not strictly increasing"
        assert t < NOW, "action after the data set's now"
        prev_t = t
        if act == "inspect":
            assert a["actor"] == "patrol"
            assert isinstance(a["temp_c"], int) and -40 <= a["temp_c"] <= 1000
            assert isinstance(a.get("co_ppm", 0), int) and a.get("co_ppm", 0) >= 0
            assert state != "dismissed"
            temp = a["temp_c"]
            hot = temp >= SURFACE_THRESHOLD_C
            if hot and (state in ("controlled", "extinguished") or (state == "cleared" and t - cleared_at <= WATCH)):
                facts["reignitions"] += 1
                facts["reignited_from"].append(state)
                state = "reignited"
            elif state in ("controlled", "extinguished", "cleared"):
                assert not hot
                if state == "controlled":
                    low_since_control.append(t)
            continue
        allowed_from, to = TRANSITIONS[act]
        assert state in allowed_from, "%s not allowed from %s" % (act, state)
        if act in ("confirm", "extinguish", "clear", "dismiss"):
            assert a["actor"] == "manager", act
        else:
            assert a["actor"] == responsible_actor, "%s by %s, expected %s" % (act, a["actor"], responsible_actor)
        if act == "start_treatment":
            assert a["method"] in ALL_METHODS
            if kind == "coal_seam":
                due = date.fromisoformat(a["plan_due"])
                assert t.date() <= due <= t.date() + timedelta(days=60), "plan_due out of range"
            else:
                assert "plan_due" not in a
        if act == "control":
            assert a["temp_c"] < SURFACE_THRESHOLD_C
            control_at, low_since_control = t, []
        if act == "extinguish":
            assert len(low_since_control) >= 3, "extinguish with < 3 low inspections"
            assert low_since_control[-1] - control_at >= timedelta(days=30), "extinguish before 30 days"
        if act == "clear":
            cleared_at = t
        if act == "dismiss":
            assert ("reason" in a) != ("duplicate_of" in a)
            if "duplicate_of" in a:
                oid = a["duplicate_of"]
                assert oid in fires_by_id and oid != props["id"]
                assert _dt(fires_by_id[oid]["reported_at"]) < rep, "duplicate_of must be an earlier fire"
                q = pos_by_id[oid]
                assert math.hypot(pos[0] - q[0], pos[1] - q[1]) <= DUP_RADIUS_M, "duplicate too far"
                facts["duplicate_of"] = oid
            else:
                assert a["reason"].startswith("误报")
                facts["false_report"] = True
        if to:
            state = to
    if state == "controlled":
        # not yet eligible for extinguishing at "now" (otherwise the system would extinguish it)
        assert not (len(low_since_control) >= 3 and low_since_control[-1] - control_at >= timedelta(days=30))
    return state, facts


def check():
    summary = []
    # ---- districts ----
    dfeats = _load("districts.geojson")
    assert [(f["properties"]["name"], f["properties"]["code"]) for f in dfeats] == \
        [("海勃湾区", "150302"), ("乌达区", "150303"), ("海南区", "150304")]
    dists = []
    for f in dfeats:
        _check_coords(f["geometry"]["coordinates"])
        assert set(f["properties"]) == {"name", "code"}
        mp = parse_multipolygon(f["geometry"])
        check_multipolygon_valid(mp, f["properties"]["name"])
        dists.append((f["properties"]["name"], mp, f["geometry"]["coordinates"]))
    # shared edges: identical vertices, each interior edge used once in each direction
    edge_owner = {}
    for name, _, coords in dists:
        for poly in coords:
            for ring in poly:
                for i in range(len(ring) - 1):
                    e = (tuple(ring[i]), tuple(ring[i + 1]))
                    assert e not in edge_owner, "edge used twice in the same direction (overlap)"
                    edge_owner[e] = name
    shared_pairs, outer = Counter(), []
    for (a, b), name in edge_owner.items():
        other = edge_owner.get((b, a))
        if other is None:
            outer.append((a, b))
        else:
            assert other != name
            shared_pairs[tuple(sorted((name, other)))] += 1
    assert len(shared_pairs) == 3, "each pair of districts must share a border: %s" % shared_pairs
    # unshared edges must chain into ONE closed ring (the city outline): no gaps, no islands
    nxt = {}
    for a, b in outer:
        assert a not in nxt, "outline branches (gap?)"
        nxt[a] = b
    start = outer[0][0]
    ring, p = [], start
    while True:
        ring.append(p)
        p = nxt[p]
        if p == start:
            break
    assert len(ring) == len(outer), "outline is not a single ring: gaps or holes between districts"
    outline = [to_m(p) for p in ring]
    assert signed_area(outline) > 0 and not ring_self_intersects(outline)
    area_sum = sum(multi_area(mp) for _, mp, _ in dists)
    assert abs(area_sum - signed_area(outline)) < 1e-6 * area_sum, "district areas do not add up"
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    assert 106.57 <= min(lons) <= 106.60 and 107.06 <= max(lons) <= 107.09
    assert 39.24 <= min(lats) <= 39.27 and 39.85 <= max(lats) <= 39.88
    # grid sample of the extent
    all_edges = [e for _, mp, _ in dists for e in multi_edges(mp)]
    nx, ny = 40, 52
    inside_n = outside_n = skipped = 0
    for i in range(nx):
        for j in range(ny):
            lon = 106.575 + (107.085 - 106.575) * (i + 0.5) / nx
            lat = 39.245 + (39.875 - 39.245) * (j + 0.5) / ny
            p = to_m((lon, lat))
            if min(pt_seg_dist(p, a, b) for a, b in all_edges) < 30.0:
                skipped += 1
                continue
            hits = sum(pt_in_multi(p, mp) for _, mp, _ in dists)
            if pt_in_ring(p, outline):
                assert hits == 1, "grid point %s in %d districts" % ((lon, lat), hits)
                inside_n += 1
            else:
                assert hits == 0
                outside_n += 1
    assert inside_n > 1500
    summary.append("districts: 3, tile the outline (%d grid points inside, each in exactly one district; "
                   "%d outside; %d skipped on borders); area %.1f km2; shared border edges %s"
                   % (inside_n, outside_n, skipped, area_sum / 1e6,
                      ", ".join("%s/%s %d" % (k[0], k[1], v) for k, v in sorted(shared_pairs.items()))))

    def district_of(mp_or_pt, is_point=False):
        hits = []
        for name, dm, _ in dists:
            if is_point:
                if pt_in_multi(mp_or_pt, dm):
                    hits.append((name, pt_boundary_dist(mp_or_pt, dm)))
            elif all(pt_in_multi(p, dm) for poly in mp_or_pt for r in poly for p in r):
                hits.append((name, boundary_gap(dm, mp_or_pt)))
        assert len(hits) == 1, "feature not inside exactly one district"
        assert hits[0][1] >= DISTRICT_MARGIN_M, "feature too close to a district border (%.0f m)" % hits[0][1]
        return hits[0][0]

    # ---- mines ----
    mfeats = _load("mines.geojson")
    assert len(mfeats) >= 24
    mines = []
    lic_re = re.compile(r"^C\d{22}$")
    for f in mfeats:
        pr = f["properties"]
        assert set(pr) == {"name", "licence_no", "holder", "kind", "status"}
        assert lic_re.match(pr["licence_no"])
        assert pr["kind"] in ("open_pit", "underground", "washing_plant", "non_coal")
        assert pr["status"] in ("producing", "suspended", "closed", "ownerless")
        assert (pr["status"] == "ownerless") == (pr["holder"] == "")
        assert "示例" in pr["name"] and (pr["holder"] == "" or "示例" in pr["holder"])
        _check_coords(f["geometry"]["coordinates"])
        mp = parse_multipolygon(f["geometry"])
        check_multipolygon_valid(mp, pr["name"], 8, 40)
        area = multi_area(mp)
        assert 0.5e6 <= area <= 6e6, "%s: %.2f km2" % (pr["name"], area / 1e6)
        mines.append(dict(pr, m=mp, area=area, district=district_of(mp)))
    assert len({m["licence_no"] for m in mines}) == len(mines)
    by_lic = {m["licence_no"]: m for m in mines}
    overlaps = []
    for i, a in enumerate(mines):
        for b in mines[i + 1:]:
            if not disjoint(a["m"], b["m"]):
                overlaps.append((a, b))
    assert len(overlaps) == 1 and overlaps[0][0]["holder"] != overlaps[0][1]["holder"] \
        and overlaps[0][0]["holder"] and overlaps[0][1]["holder"], "exactly one disputed overlap expected"
    a_m, b_m = overlaps[0][0]["m"], overlaps[0][1]["m"]
    x0, y0, x1, y1 = bbox(a_m)
    N, hits = 120, 0
    for i in range(N):
        for j in range(N):
            q = (x0 + (x1 - x0) * (i + 0.5) / N, y0 + (y1 - y0) * (j + 0.5) / N)
            hits += pt_in_multi(q, a_m) and pt_in_multi(q, b_m)
    overlap_km2 = hits * (x1 - x0) * (y1 - y0) / N / N / 1e6
    assert 0.05 <= overlap_km2 <= 0.5, "dispute overlap %.3f km2" % overlap_km2
    ownerless = [m for m in mines if m["status"] == "ownerless"]
    assert len(ownerless) >= 4
    assert any(len(poly) > 1 for m in mines for poly in m["m"]), "a mine with a hole"
    assert any(len(m["m"]) > 1 for m in mines), "a mine with two parts"
    holders = Counter(m["holder"] for m in mines if m["holder"])
    assert 10 <= len(holders) <= 14 and holders[DEMO_OWNER] >= 3
    areas_hit = {a: sum(1 for m in mines if AREAS[a][0] in m["name"]) for a in AREAS}
    assert all(v >= 1 for v in areas_hit.values()), areas_hit
    summary.append("mines: %d (%s), ownerless %d, %d holders, dispute: %s / %s (%s vs %s, overlap ~%.2f km2), "
                   "district %s"
                   % (len(mines), ", ".join("%s %d" % kv for kv in sorted(Counter(m["kind"] for m in mines).items())),
                      len(ownerless), len(holders), overlaps[0][0]["name"], overlaps[0][1]["name"],
                      overlaps[0][0]["holder"], overlaps[0][1]["holder"], overlap_km2,
                      dict(Counter(m["district"] for m in mines))))

    def mines_containing_poly(mp):
        return [m for m in mines if not disjoint(m["m"], mp)]

    def piles(filename, at_least, owner_key, owners):
        """The dumps or heaps of a file, each checked as every pile is (a name, its owner among
        `owners`, valid coordinates and polygon): its properties, polygon and the mines it meets."""
        feats = _load(filename)
        assert len(feats) >= at_least
        for f in feats:
            pr = f["properties"]
            assert set(pr) == {"name", owner_key} and pr[owner_key] in owners and "示例" in pr["name"]
            _check_coords(f["geometry"]["coordinates"])
            mp = parse_multipolygon(f["geometry"])
            check_multipolygon_valid(mp, pr["name"], 8, 40)
            yield pr, mp, mines_containing_poly(mp)

    # ---- waste dumps ----
    dumps = []
    for pr, mp, touching in piles("waste_dumps.geojson", 12, "mine", by_lic):
        owner = by_lic[pr["mine"]]
        if touching:
            assert len(touching) == 1 and touching[0] is owner and contains(owner["m"], mp), \
                "%s: dump must be inside its own mine or outside every mine" % pr["name"]
            outside = False
        else:
            outside = True
        district_of(mp)
        dumps.append(dict(pr, m=mp, outside=outside, owner=owner))
    outside_dumps = [d for d in dumps if d["outside"]]
    assert len(outside_dumps) >= 2
    assert any(d["owner"]["holder"] == DEMO_OWNER for d in outside_dumps)
    assert sum(1 for d in dumps if d["owner"]["status"] == "ownerless") == 1
    # ---- gangue heaps ----
    heaps = []
    for pr, mp, touching in piles("gangue_heaps.geojson", 7, "holder", holders):
        if touching:
            assert len(touching) == 1 and contains(touching[0]["m"], mp) and touching[0]["holder"] == pr["holder"]
        district_of(mp)
        heaps.append(dict(pr, m=mp, outside=not touching))
    assert sum(1 for h in heaps if h["outside"]) >= 2
    piles = dumps + heaps
    for i, a in enumerate(piles):
        for b in piles[i + 1:]:
            assert disjoint(a["m"], b["m"]), "dumps/heaps overlap: %s %s" % (a["name"], b["name"])
    summary.append("waste dumps: %d (%d outside every mining right, 1 of an ownerless mine); "
                   "gangue heaps: %d (%d outside every mining right)"
                   % (len(dumps), len(outside_dumps), len(heaps), sum(1 for h in heaps if h["outside"])))

    # ---- fire points ----
    ffeats = _load("fire_points.geojson")
    assert len(ffeats) >= 48
    fires_by_id, pos_by_id = {}, {}
    for f in ffeats:
        pr = _point_case(f, FIRE_KEYS, "id")
        assert pr["id"] not in fires_by_id
        fires_by_id[pr["id"]] = pr
        pos_by_id[pr["id"]] = to_m(f["geometry"]["coordinates"])
    dup_pairs = set()
    for pr in fires_by_id.values():
        for a in pr["history"]:
            if a.get("duplicate_of"):
                dup_pairs.add(frozenset((pr["id"], a["duplicate_of"])))
    ids = list(fires_by_id)
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            if frozenset((a, b)) in dup_pairs:
                continue
            pa, pb = pos_by_id[a], pos_by_id[b]
            assert math.hypot(pa[0] - pb[0], pa[1] - pb[1]) >= MIN_SPACING_M, "fires closer than 60 m"

    results = []
    for f in ffeats:
        pr = f["properties"]
        p = pos_by_id[pr["id"]]
        kind = pr["kind"]
        assert kind in ("coal_seam", "waste_dump", "gangue_heap")
        rep = _dt(pr["reported_at"])
        assert DATA_START <= rep < NOW
        assert pr["reported_by"] == "patrol"
        assert 60 <= pr["temp_c"] <= 600 and 5 <= pr["area_m2"] <= 5000
        assert pr["signs"] and set(pr["signs"]) <= {"smoke", "flame", "sulphur", "cracks"} \
            and len(set(pr["signs"])) == len(pr["signs"])
        assert pr["note"] and 3 <= pr["accuracy_m"] <= 25 and pr["position_source"] in ("gps", "map")
        district = district_of(p, is_point=True)
        in_dumps = [d for d in dumps if pt_in_multi(p, d["m"])]
        in_heaps = [h for h in heaps if pt_in_multi(p, h["m"])]
        in_mines = [m for m in mines if pt_in_multi(p, m["m"])]
        margin = max(EDGE_MARGIN_M, pr["accuracy_m"] + 15)
        if kind == "waste_dump":
            assert len(in_dumps) == 1 and not in_heaps
            assert pt_boundary_dist(p, in_dumps[0]["m"]) >= margin, "dump fire near the dump edge"
            owner = in_dumps[0]["owner"]
            holder, where = owner["holder"], ("outside_dump" if in_dumps[0]["outside"] else "dump")
            mine = owner
        elif kind == "gangue_heap":
            assert len(in_heaps) == 1 and not in_dumps
            assert pt_boundary_dist(p, in_heaps[0]["m"]) >= margin, "heap fire near the heap edge"
            holder, where, mine = in_heaps[0]["holder"], "heap", None
        else:
            assert not in_dumps and not in_heaps, "coal-seam fire inside a dump or heap"
            assert len(in_mines) <= 1, "fire in the disputed overlap"
            if in_mines:
                assert pt_boundary_dist(p, in_mines[0]["m"]) >= MINE_EDGE_MARGIN_M
                holder, mine = in_mines[0]["holder"], in_mines[0]
                where = "ownerless_mine" if not holder else "mine"
            else:
                holder, where, mine = "", "no_mine", None
        actor = "owner" if holder else "district"
        state, facts = replay(pr, actor, kind, fires_by_id, pos_by_id, p)
        results.append(dict(id=pr["id"], kind=kind, state=state, facts=facts, holder=holder, where=where,
                            mine=mine, rep=rep, district=district, history=pr["history"]))

    states = Counter(r["state"] for r in results)
    assert set(states) == set(STATES), states
    reported = [r for r in results if r["state"] == "reported"]
    overdue = [r for r in reported if NOW - r["rep"] > timedelta(hours=72)]
    assert len(reported) >= 3 and len(overdue) >= 2 and len(overdue) < len(reported)
    assert states["cleared"] >= 3 and states["reignited"] >= 2
    assert any(r["facts"]["reignited_from"][-1:] == ["cleared"] for r in results if r["state"] == "reignited")
    again = [r for r in results if r["state"] == "cleared" and r["facts"]["reignitions"] > 0]
    assert len(again) >= 2, "two fires re-ignited earlier and cleared again"
    dismissed = [r for r in results if r["state"] == "dismissed"]
    assert any(r["facts"].get("false_report") for r in dismissed)
    assert any(r["facts"].get("duplicate_of") for r in dismissed)
    seam = [r for r in results if r["kind"] == "coal_seam"]
    assert sum(r["where"] == "mine" for r in seam) > len(seam) / 2
    assert sum(r["where"] == "ownerless_mine" for r in seam) >= 2
    assert sum(r["where"] == "no_mine" for r in seam) >= 3
    late = [r for r in results if r["rep"] >= OPEN_FROM]
    early = [r for r in results if r["rep"] < OPEN_FROM]
    late_open = sum(r["state"] in OPEN for r in late)
    early_cleared = sum(r["state"] == "cleared" for r in early)
    assert late_open > len(late) / 2 and early_cleared > len(early) / 2
    # the demo owner
    lts = [r for r in results if r["holder"] == DEMO_OWNER]
    assert len({r["state"] for r in lts}) >= 4
    assert any(r["state"] in BURNING and r["mine"] is not None and r["mine"]["holder"] == DEMO_OWNER
               and r["where"] == "mine" for r in lts), "a burning fire in one of the demo owner's mines"
    assert any(r["where"] == "outside_dump" and r["state"] == "treating" for r in lts)
    suspended = sorted({r["mine"]["name"] for r in results
                        if r["state"] in BURNING and r["mine"] is not None and r["mine"]["holder"]})

    summary.append("fire points: %d — %s" % (len(results), ", ".join("%s %d" % (s, states[s]) for s in STATES)))
    summary.append("  kinds: %s; positions: %s" % (
        dict(Counter(r["kind"] for r in results)), dict(Counter(r["where"] for r in results))))
    summary.append("  reported overdue (> 72 h): %d of %d; re-ignited then cleared again: %d; "
                   "reignited from: %s" % (len(overdue), len(reported), len(again),
                                          [r["facts"]["reignited_from"][-1] for r in results if r["state"] == "reignited"]))
    summary.append("  reported >= 2026-09-01: %d, %d still open; before: %d, %d cleared"
                   % (len(late), late_open, len(early), early_cleared))
    summary.append("  burning by district: %s" % dict(Counter(r["district"] for r in results if r["state"] in BURNING)))
    summary.append("  %s: fires %s; mines with a burning fire (production-suspended): %s"
                   % (DEMO_OWNER, dict(Counter(r["state"] for r in lts)),
                      [n for n in suspended if by_name(mines, n)["holder"] == DEMO_OWNER]))
    summary.append("  all mines with a burning fire: %s" % ", ".join(suspended))
    newest_fire = max([r["rep"] for r in results] + [_dt(a["at"]) for r in results for a in r["history"]])
    issues = check_dust_issues(district_of, mines, dumps, heaps, set(fires_by_id), pos_by_id, newest_fire)
    summary.extend(issues["summary"])
    return summary, dict(states=states, overdue=len(overdue), reported=len(reported), again=len(again),
                         n=len(results), holders=holders, mines=mines, results=results,
                         dumps=dumps, heaps=heaps, suspended=suspended, issues=issues)


ISSUE_STATES = ["open", "rectifying", "rectified", "verified"]
ISSUE_TRANSITIONS = {  # action -> (from states, to, actors allowed besides the responsible party)
    "start": ({"open"}, "rectifying", {"manager"}),
    "rectified": ({"open", "rectifying"}, "rectified", {"manager"}),
    "verify": ({"rectified"}, "verified", {"patrol", "manager"}),
    "reject": ({"rectified"}, "rectifying", {"patrol", "manager"}),
}
ISSUE_KEYS = {"uuid", "kind", "reported_at", "reported_by", "note", "accuracy_m", "position_source", "history"}
ISSUE_DEADLINE_DAYS = 3  # DustIssueRules::default(): due at the end of the local day 3 days on


def check_dust_issues(district_of, mines, dumps, heaps, fire_ids, fire_pos, newest_fire):
    """The dust violations: fields, positions, who answers for each, and histories the rules allow."""
    feats = _load("dust_issues.geojson")
    assert len(feats) >= 6
    seen, rows = set(), []
    for f in feats:
        pr = _point_case(f, ISSUE_KEYS, "uuid")
        assert pr["uuid"] not in seen and pr["uuid"] not in fire_ids, "violation ids are unique, also among fires"
        seen.add(pr["uuid"])
        assert pr["kind"] in ISSUE_KINDS and pr["reported_by"] == "patrol" and pr["note"]
        assert 3 <= pr["accuracy_m"] <= 25 and pr["position_source"] in ("gps", "map")
        p = to_m(f["geometry"]["coordinates"])
        district = district_of(p, is_point=True)
        assert not any(pt_in_multi(p, g["m"]) for g in dumps + heaps), "violation inside a dump or heap"
        in_mines = [m for m in mines if pt_in_multi(p, m["m"])]
        assert len(in_mines) <= 1, "violation in the disputed overlap"
        for q in fire_pos.values():
            assert math.hypot(p[0] - q[0], p[1] - q[1]) >= MIN_SPACING_M, "violation on top of a fire"
        holder = in_mines[0]["holder"] if in_mines else ""
        party = "owner" if holder else "district"
        rep = _dt(pr["reported_at"])
        assert DATA_START <= rep < NOW
        state, last = "open", rep
        for a in pr["history"]:
            assert set(a) <= {"action", "at", "actor", "note"} and {"action", "at", "actor"} <= set(a)
            at = _dt(a["at"])
            assert last < at < NOW, "violation history out of order"
            froms, to, others = ISSUE_TRANSITIONS[a["action"]]
            assert state in froms, "%s from %s" % (a["action"], state)
            who = others | ({party} if a["action"] in ("start", "rectified") else set())
            assert a["actor"] in who, "%s by %s" % (a["action"], a["actor"])
            if a["action"] in ("rectified", "reject"):
                assert a.get("note"), "%s needs a note" % a["action"]
            state, last = to, at
        due = datetime.combine(rep.date() + timedelta(days=ISSUE_DEADLINE_DAYS + 1), datetime.min.time(), TZ)
        rows.append(dict(kind=pr["kind"], state=state, holder=holder, party=party, district=district,
                         mine=in_mines[0]["name"] if in_mines else "", last=last,
                         overdue=state in ("open", "rectifying") and due < NOW,
                         rejected=any(a["action"] == "reject" for a in pr["history"])))
    states = Counter(r["state"] for r in rows)
    assert set(states) == set(ISSUE_STATES), states
    assert set(r["kind"] for r in rows) == set(ISSUE_KINDS)
    assert any(r["holder"] == DEMO_OWNER for r in rows), "a violation for the demo owner"
    assert any(r["party"] == "district" and r["district"] == "乌达区" for r in rows), \
        "a violation the 乌达区 government answers for (the demo district officer)"
    assert any(r["rejected"] for r in rows) and any(r["overdue"] for r in rows)
    newest = max(r["last"] for r in rows)
    assert newest.date() == newest_fire.date(), "the demo shifts violations and fires by the same days"
    summary = ["dust violations: %d — %s; overdue %d; rejected once %d"
               % (len(rows), ", ".join("%s %d" % (s, states[s]) for s in ISSUE_STATES),
                  sum(r["overdue"] for r in rows), sum(r["rejected"] for r in rows)),
               "  by district: %s; %s: %d; district-government: %d"
               % (dict(Counter(r["district"] for r in rows)), DEMO_OWNER,
                  sum(r["holder"] == DEMO_OWNER for r in rows), sum(r["party"] == "district" for r in rows))]
    return dict(rows=rows, states=states, summary=summary)


def by_name(mines, name):
    return next(m for m in mines if m["name"] == name)


# ---------------------------------------------------------------------------------------------
# README (generated so that its counts always match the data)
# ---------------------------------------------------------------------------------------------

def write_readme(info):
    st = info["states"]
    mines = info["mines"]
    holders = info["holders"]
    hold_rows = []
    for h in HOLDERS:
        names = [m["name"] for m in mines if m["holder"] == h]
        heap_names = [x["name"] for x in info["heaps"] if x["holder"] == h]
        extra = " (**demo owner account**)" if h == DEMO_OWNER else ""
        hold_rows.append("| %s%s | %d | %s | %s |" % (h, extra, holders[h], "、".join(names) or "—",
                                                      "、".join(heap_names) or "—"))
    ownerless = [m["name"] for m in mines if not m["holder"]]
    state_rows = "\n".join("| %s | %d |" % (s, st[s]) for s in STATES)
    lts = [r for r in info["results"] if r["holder"] == DEMO_OWNER]
    lts_states = ", ".join("%s %d" % (s, c) for s, c in sorted(Counter(r["state"] for r in lts).items()))
    res = info["results"]
    reign_from = Counter(r["facts"]["reignited_from"][-1] for r in res if r["state"] == "reignited")
    n_false = sum(1 for r in res if r["state"] == "dismissed" and r["facts"].get("false_report"))
    n_dup = sum(1 for r in res if r["state"] == "dismissed" and r["facts"].get("duplicate_of"))
    where_names = {"mine": "in a mine with a holder", "ownerless_mine": "in an ownerless mine",
                   "no_mine": "in no mine", "dump": "in a dump inside its mine",
                   "outside_dump": "in a dump outside every mine", "heap": "in a gangue heap"}
    wc = Counter(r["where"] for r in res)
    where_rows = "\n".join("| %s | %d |" % (where_names[k], wc[k]) for k in where_names)
    kind_counts = ", ".join("%s %d" % kv for kv in sorted(Counter(r["kind"] for r in res).items()))
    actor_counts = Counter("owner" if r["holder"] else "district" for r in res)
    text = README_TEMPLATE.format(
        n=info["n"], n_mines=len(mines), n_dumps=len(info["dumps"]), n_heaps=len(info["heaps"]),
        holder_rows="\n".join(hold_rows), ownerless="、".join(ownerless), state_rows=state_rows,
        overdue=info["overdue"], reported=info["reported"], again=info["again"], lts_states=lts_states,
        suspended="、".join(info["suspended"]), seed=SEED, demo_owner=DEMO_OWNER,
        reign_from=", ".join("%d from %s" % (c, s) for s, c in sorted(reign_from.items())),
        n_false=n_false, n_dup=n_dup, where_rows=where_rows, kind_counts=kind_counts,
        n_owner=actor_counts["owner"], n_district=actor_counts["district"],
        n_heaps_out=sum(1 for h in info["heaps"] if h["outside"]),
        n_issues=len(info["issues"]["rows"]), dust_seed=DUST_SEED,
        issue_rows="\n".join("| %s | %s%s | %s | %s | %s |" % (
            r["kind"], r["state"], " (overdue)" if r["overdue"] else "", r["district"], r["mine"] or "no mine",
            r["holder"] or "district government") for r in info["issues"]["rows"]),
        issue_counts="By final state: %s." % ", ".join(
            "%s %d" % (st, info["issues"]["states"][st]) for st in ISSUE_STATES))
    with open(os.path.join(HERE, "README.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


README_TEMPLATE = """# Sample data — Wuhai (乌海市) — SYNTHETIC

> **Everything in this folder is invented.** District outlines, the river line, mining-right
> boundaries, mine / company / dump / heap names, licence numbers, people's actions and every fire
> are synthetic. Only the rough locations are plausible: the mining areas sit within about ±5 km of
> the mining-area centres given in the project's DOMAIN.md (Geography). Every company and mine name contains
> **示例** ("example") to make that obvious. Do not use these data for anything but demos and tests.

This file is written by `generate.py` (edit the template there, not this file).

## Regenerate

```sh
python3 samples/generate.py          # from the repository root: writes all files, then checks them
python3 samples/generate.py --check  # only re-check the files on disk
```

Python 3 standard library only, fixed seed `{seed}`: the output is byte-for-byte reproducible.
The check section asserts polygon validity (closed rings, exterior CCW / holes CW, no
self-intersections), that the districts tile the city outline with shared edges (grid sample of
~2,000 points), that every feature lies inside a district with ≥ 250 m margin, the fire position
rules, and that every fire history (and every dust violation's) obeys the state machine below.

## Files

All are GeoJSON FeatureCollections (RFC 7946, EPSG:4326 lon/lat — CGCS2000 treated as WGS84,
coordinates rounded to 6 decimals, UTF-8, one feature per line). The data set's "now" is
**2026-11-28T00:00+08:00**: every timestamp is before it.

| file | features | geometry | properties |
| --- | --- | --- | --- |
| `districts.geojson` | 3 | MultiPolygon | `name`, `code` (string admin code) |
| `mines.geojson` | {n_mines} | MultiPolygon | `name`, `licence_no`, `holder`, `kind`, `status` |
| `waste_dumps.geojson` | {n_dumps} | MultiPolygon | `name`, `mine` (owning mine's `licence_no`) |
| `gangue_heaps.geojson` | {n_heaps} | MultiPolygon | `name`, `holder` (company name) |
| `fire_points.geojson` | {n} | Point | see below |
| `dust_issues.geojson` | {n_issues} | Point | see below |
| `generate.py` | | | generator + checks |

### districts

海勃湾区 `150302` (north-east, east of the Yellow River, city seat), 乌达区 `150303` (west of the
river), 海南区 `150304` (south, both banks). They tile an irregular city outline (bbox about
106.58–107.08°E, 39.25–39.87°N) with identical vertices along shared borders; the 乌达区 border is a
wiggly Yellow River line.

### mines (mining rights, 采矿权)

- `licence_no`: `C` + 22 digits, unique (`C150300` + year + month + `112` + 7-digit serial).
- `holder`: company name; `""` for ownerless mines.
- `kind`: `open_pit` | `underground` | `washing_plant` | `non_coal`.
- `status` (licence status): `producing` | `suspended` | `closed` | `ownerless`. The
  *production-suspended because of a fire* state is not stored: the application derives it from
  burning fires.
- Specials: one mine with a hole (a village excluded — 公乌素示例一号煤矿), one with two parts
  (旧洞沟示例煤矿), and exactly one overlapping pair with different holders, a known boundary dispute
  (骆驼山示例二号井 / 骆驼山示例北山煤矿). No fire lies in the overlap.
- Ownerless mines: {ownerless}.

### waste_dumps (排土场) and gangue_heaps (煤矸石堆场)

Most lie inside their owning mine; 卡布其示例露天煤矿外排土场 and 骆驼山示例露天煤矿外排土场 lie
outside every mining right; one dump (黄白茨示例无主二号矿区遗留排土场) belongs to an ownerless mine.
Heaps inside a mining right lie in a mine of the same holder; {n_heaps_out} heaps lie outside every mining right.

### fire_points

| property | type | meaning |
| --- | --- | --- |
| `id` | string | UUID v4, fixed (from the seed) |
| `kind` | string | `coal_seam` \\| `waste_dump` \\| `gangue_heap` |
| `reported_at` | string | ISO 8601 with `+08:00`, 2025-12-01 … 2026-11-27 |
| `reported_by` | string | always `"patrol"` |
| `temp_c` | integer | surface maximum at the report, 60–600 °C |
| `area_m2` | integer | estimated area, 5–5000 m² |
| `signs` | array | subset of `smoke`, `flame`, `sulphur`, `cracks` |
| `note` | string | short Chinese note |
| `accuracy_m` | integer | position accuracy, 3–25 m |
| `position_source` | string | `gps` (most) or `map` |
| `history` | array | actions after the report, oldest first (below) |

Position rules: `waste_dump` fires lie inside a dump polygon at least 40 m (and at least accuracy + 15 m)
from its edge, `gangue_heap` fires likewise inside a heap, `coal_seam` fires inside a mining right
(≥ 60 m from its border) or — at least 3 of them — in no mine at all; none inside a dump or heap.
Fire points are ≥ 60 m apart, except the two deliberate duplicates (≤ 30 m from their originals).

**Responsibility** (not stored; derived from geometry): a fire in a mine, in that mine's dump (even a dump
outside the mine) or in a heap → the holder (account `owner`); in an ownerless mine (or its dump) or in no
mine → the district government containing it (account `district`).

#### history actions

Every action has `action`, `at` (ISO 8601 +08:00, strictly increasing, after `reported_at`, before
2026-11-28) and `actor`:

| action | actor | extra fields | from → to |
| --- | --- | --- | --- |
| `confirm` | `manager` | — | reported → confirmed |
| `dismiss` | `manager` | `reason` (false report, `误报：…`) **or** `duplicate_of` (id of an earlier fire ≤ 30 m away) | reported \\| confirmed → dismissed |
| `start_treatment` | responsible (`owner` / `district`) | `method` ∈ strip_dig, loess_cover, grouting, water, nitrogen, sealing; coal-seam fires also `plan_due` (YYYY-MM-DD, ≤ 60 days after) | confirmed \\| reignited → treating |
| `progress` | responsible | `note` | treating (no change) |
| `control` | responsible | `temp_c` < 50, `note` | treating → controlled |
| `inspect` | `patrol` | `temp_c`, optional `co_ppm`, `note` | no change, except `temp_c` ≥ 50 on controlled / extinguished / cleared (≤ 1 year after clearing) → **reignited** |
| `extinguish` | `manager` | `note` | controlled → extinguished, only after ≥ 3 inspections < 50 °C since the last `control`, the last ≥ 30 days after it |
| `clear` | `manager` | `note` | extinguished → cleared (销号, one-year watch) |

Inspections are also recorded on reported / confirmed / treating / reignited fires (no change), and
low readings on controlled / extinguished / cleared fires are the observation and watch readings. The
final state is obtained by replaying `history`; it is not stored. Every controlled fire is still short of
the extinguishing criterion at "now".

### dust_issues

Dust violations (扬尘违规) logged by patrols. `qingling serve --demo` replays each report and action
through the same rules as `/api/dust/issues` (codes, deadlines and the responsible party come from
there), times shifted by the same days as the fires. Positions and ids come from a second random
stream (seed `{dust_seed}`), so the files above are the same with or without them.

| property | type | meaning |
| --- | --- | --- |
| `uuid` | string | UUID v4, fixed (from the seed), never a fire's id |
| `kind` | string | `open_stockpile` \| `unhardened_road` \| `unswept_road` \| `uncovered_truck` \| `blasting_outside_window` \| `no_spraying` |
| `reported_at` | string | ISO 8601 with `+08:00` |
| `reported_by` | string | always `"patrol"` |
| `note` | string | what the patrol saw |
| `accuracy_m` | integer | position accuracy, 3–12 m |
| `position_source` | string | `gps` |
| `history` | array | `{{action, at, actor, note?}}`, oldest first, strictly increasing, before 2026-11-28 |

| action | actor | from → to |
| --- | --- | --- |
| `start` | responsible (`owner` / `district`) or `manager` | open → rectifying |
| `rectified` (`note` required) | responsible or `manager` | open \| rectifying → rectified |
| `verify` | `patrol` or `manager` | rectified → verified |
| `reject` (`note` required: why) | `patrol` or `manager` | rectified → rectifying |

Positions as for coal-seam fires: inside the named mining right at least 70 m from every border (or
at least 150 m from every mine), never in a dump or heap, at least 60 m from every fire. A violation in
a mine with a holder goes to that holder (account `owner` for {demo_owner}); in an ownerless mine or
in no mine to the district government (account `district` for 乌达区). The deadline is the end of the
local day 3 days after the report.

| kind | final state | district | where | responsible |
| --- | --- | --- | --- | --- |
{issue_rows}

{issue_counts}

## Holders (all fictional)

| holder | mines | mines' names | gangue heaps |
| --- | --- | --- | --- |
{holder_rows}

The demo **owner account is bound to {demo_owner}**. Its fires: {lts_states} — including a burning
coal-seam fire in 骆驼山示例露天煤矿 (so that mine shows as production-suspended) and a waste-dump
fire in treating on its dump outside the mine (骆驼山示例露天煤矿外排土场).

## Fire counts ({n} fires)

By kind: {kind_counts}. Responsible: `owner` {n_owner}, `district` {n_district}.

| position | fires |
| --- | --- |
{where_rows}

By final state (replaying `history` up to 2026-11-28T00:00+08:00):

| state | fires |
| --- | --- |
{state_rows}

- reported: {overdue} of {reported} older than 72 h (overdue); the rest recent.
- reignited: {reign_from} (the state the fire was in when the hot reading came).
- {again} fires re-ignited earlier and were cleared again.
- dismissed: {n_false} false reports (`reason`) and {n_dup} duplicates (`duplicate_of`).
- Fires reported from 2026-09 are mostly still open; earlier ones are mostly cleared.
- Mines with a burning fire (production-suspended in the app): {suspended}.
"""


def main():
    if "--check" not in sys.argv[1:]:
        generate()
    summary, info = check()
    if "--check" not in sys.argv[1:]:
        write_readme(info)
    print("Qingling synthetic samples — all checks passed")
    for line in summary:
        print("  " + line)
    print("  holders: " + "; ".join("%s (%d mines)" % (h, info["holders"][h]) for h in HOLDERS))


if __name__ == "__main__":
    main()
