#!/usr/bin/env python3
"""Draw the SVG chart of one bench/run.sh result: usage: chart.py RESULT.json OUT.svg

Top panel: throughput-type figures (higher is better) of each proxy divided by the baseline's
(direct when it ran, else haproxy, else nginx), so 1.0 = as fast as the baseline. Bottom panel:
memory in absolute units, each group on its own scale. Plain SVG written by hand (standard
library only).
"""
import json
import sys
from xml.sax.saxutils import escape

COLORS = {"direct": "#8c8c8c", "haproxy": "#3b6fb6", "nginx": "#3a9a4f", "aegis": "#d1495b", "aegis-nolog": "#f0a3a8",
          "aegis-ppv2": "#9b59b6", "aegis-sni": "#e67e22"}
SPEED = [
    ("tcp_throughput", "gbps_p1", "TCP 1 stream"),
    ("tcp_throughput", "gbps_p4", "TCP 4 streams"),
    ("http_keepalive", "rps", "HTTP keep-alive"),
    ("http_close", "rps", "HTTP conn/request"),
    ("latency_light", "rps", "1 conn req/s (1/latency)"),
    ("udp_pps", "pps_1", "UDP 1 session"),
    ("udp_pps", "pps_64", "UDP 64 sessions"),
]
WIDTH, LEFT, RIGHT = 980, 60, 20
FONT = 'font-family="Helvetica,Arial,sans-serif"'


def num(v):
    return v if isinstance(v, (int, float)) else None


def text(x, y, s, size=11, anchor="middle", color="#222", weight="normal"):
    return (f'<text x="{x:.1f}" y="{y:.1f}" {FONT} font-size="{size}" text-anchor="{anchor}" '
            f'fill="{color}" font-weight="{weight}">{escape(s)}</text>')


def bars(groups, proxies, top, height, scale_of, label_of):
    """groups: [(title, {proxy: value})]. Returns svg elements; scale_of(values) -> axis max."""
    out = []
    inner = WIDTH - LEFT - RIGHT
    gw = inner / max(len(groups), 1)
    bw = min(26.0, (gw - 16) / max(len(proxies), 1))
    base = top + height
    for gi, (title, vals) in enumerate(groups):
        gx = LEFT + gi * gw
        vmax = scale_of(vals)
        x0 = gx + (gw - bw * len(proxies)) / 2
        for pi, p in enumerate(proxies):
            x = x0 + pi * bw
            v = vals.get(p)
            if v is None:
                out.append(text(x + bw / 2, base - 4, "n/a", 9, color="#999"))
                continue
            h = max(0.0, min(v / vmax, 1.0)) * height if vmax else 0
            out.append(f'<rect x="{x + 1:.1f}" y="{base - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" '
                       f'fill="{COLORS.get(p, "#666")}"><title>{escape(p)}: {escape(label_of(v))}</title></rect>')
            out.append(text(x + bw / 2, base - h - 3, label_of(v), 9))
        for li, line in enumerate(title.split("\n")):
            out.append(text(gx + gw / 2, base + 15 + 13 * li, line, 11))
    out.append(f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" stroke="#444"/>')
    return out


def main():
    doc = json.load(open(sys.argv[1]))
    res, proxies = doc["results"], doc["proxies"]
    get = lambda p, s, m: num(res.get(p, {}).get(s, {}).get(m))
    base = next((b for b in ("direct", "haproxy", "nginx") if b in proxies), None)
    shown = [p for p in proxies if p != base]
    svg, y = [], 30
    params = doc.get("params", {})
    machine = doc.get("machine", {})
    svg.append(text(WIDTH / 2, y, f"Aegis vs HAProxy vs nginx on loopback — {doc.get('timestamp', '')}", 16,
                    weight="bold"))
    y += 18
    svg.append(text(WIDTH / 2, y, f"{machine.get('cpu', '?')}, {machine.get('cpus', '?')} CPUs; "
                    f"{'proxy pinned to 1 core, load on the other' if params.get('pin') == '1' else 'unpinned'}; "
                    f"{params.get('duration_s', '?')} s per run", 11, color="#555"))
    y += 22
    lx = LEFT
    for p in [p for p in proxies if p != "direct" or base != "direct"]:
        svg.append(f'<rect x="{lx}" y="{y - 10}" width="12" height="12" fill="{COLORS.get(p, "#666")}"/>')
        svg.append(text(lx + 17, y, p, 12, anchor="start"))
        lx += 30 + 8 * len(p)
    y += 20

    speed = []
    if base:
        for s, m, title in SPEED:
            b = get(base, s, m)
            vals = {p: (get(p, s, m) / b if b and get(p, s, m) is not None else None) for p in shown}
            if b and any(v is not None for v in vals.values()):
                speed.append((title, vals))
    if speed:
        h = 220
        svg.append(text(LEFT, y + 6, f"Throughput relative to {base} (higher is better; {base} = 1.0)", 13,
                        anchor="start", weight="bold"))
        top = y + 20
        vmax = max([1.2] + [v * 1.15 for _, vals in speed for v in vals.values() if v is not None])
        for tick in [t / 4 for t in range(0, int(vmax * 4) + 1)]:
            ty = top + h - tick / vmax * h
            dash = ' stroke-dasharray="5,4" stroke="#444"' if tick == 1 else ' stroke="#e4e4e4"'
            svg.append(f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}"{dash}/>')
            svg.append(text(LEFT - 6, ty + 4, f"{tick:g}", 10, anchor="end", color="#666"))
        svg += bars(speed, shown, top, h, lambda vals: vmax, lambda v: f"{v:.2f}")
        y = top + h + 50

    memory = []
    with_rss = [p for p in proxies if p != "direct"]
    idle_levels = sorted({int(k.rsplit("_", 1)[1]) for p in with_rss for k in res.get(p, {}).get("idle_conns", {})
                          if k.startswith("kib_per_conn_")})
    mem_metrics = [("rss_idle", "rss_mb", "RSS idle\n(MB)"),
                   ("rss_under_load", "peak_mb", "peak RSS, HTTP load\n(MB)")]
    if idle_levels:
        n = idle_levels[-1]
        mem_metrics += [("idle_conns", f"rss_mb_{n}", f"RSS with {n} idle conns\n(MB)"),
                        ("idle_conns", f"kib_per_conn_{n}", f"per idle connection\n(KiB)")]
    for s, m, title in mem_metrics:
        vals = {p: get(p, s, m) for p in with_rss}
        if any(v is not None for v in vals.values()):
            memory.append((title, vals))
    if memory:
        h = 160
        svg.append(text(LEFT, y + 6, "Memory (lower is better; each group on its own scale)", 13, anchor="start",
                        weight="bold"))
        top = y + 20
        scale = lambda vals: max([v for v in vals.values() if v is not None] + [1e-9]) * 1.15
        svg += bars(memory, with_rss, top, h, scale, lambda v: f"{v:.1f}" if v < 100 else f"{v:.0f}")
        y = top + h + 50

    if not speed and not memory:
        svg.append(text(WIDTH / 2, y + 20, "nothing to chart in this run", 13, color="#999"))
        y += 40
    svg.append(text(WIDTH - RIGHT, y - 8, f"bench/run.sh — {doc.get('command', '')}", 9, anchor="end", color="#888"))
    with open(sys.argv[2], "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{y:.0f}" '
                f'viewBox="0 0 {WIDTH} {y:.0f}">\n<rect width="100%" height="100%" fill="white"/>\n')
        f.write("\n".join(svg))
        f.write("\n</svg>\n")


if __name__ == "__main__":
    main()
