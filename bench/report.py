#!/usr/bin/env python3
"""Turn the raw results of bench/run.sh into a markdown table (stdout + PREFIX.md) and PREFIX.json.

usage: report.py WORK_DIR PREFIX
WORK_DIR holds results.tsv (proxy, scenario, metric, value), meta.tsv (key, value) and
commands.tsv (proxy, command line), all written by run.sh. Standard library only.
"""
import json
import sys

PROXY_ORDER = ["direct", "haproxy", "nginx", "aegis", "aegis-nolog", "aegis-ppv2", "aegis-sni"]

# (scenario, metric, label, better): better is "up" (higher is better), "down", or None for
# context figures (CPU, errors, loss) that get no ratio.
FIXED = [
    ("tcp_throughput", "gbps_p1", "Gbit/s, 1 stream (iperf3 -P1)", "up"),
    ("tcp_throughput", "gbps_p4", "Gbit/s, 4 streams (iperf3 -P4)", "up"),
    ("tcp_throughput", "proxy_cpu_p1", "proxy CPU %, -P1", None),
    ("tcp_throughput", "proxy_cpu_p4", "proxy CPU %, -P4", None),
    ("http_keepalive", "rps", "req/s (wrk -t1 -c64)", "up"),
    ("http_keepalive", "p50_ms", "p50 ms", "down"),
    ("http_keepalive", "p99_ms", "p99 ms", "down"),
    ("http_keepalive", "errors", "errors", None),
    ("http_keepalive", "proxy_cpu", "proxy CPU %", None),
    ("http_close", "rps", "req/s (-c64, Connection: close)", "up"),
    ("http_close", "p50_ms", "p50 ms", "down"),
    ("http_close", "p99_ms", "p99 ms", "down"),
    ("http_close", "errors", "errors", None),
    ("http_close", "proxy_cpu", "proxy CPU %", None),
    ("tls_close", "rps", "req/s (-c64, a TLS handshake per request)", "up"),
    ("tls_close", "p50_ms", "p50 ms", "down"),
    ("tls_close", "p99_ms", "p99 ms", "down"),
    ("tls_close", "errors", "errors", None),
    ("tls_close", "proxy_cpu", "proxy CPU %", None),
    ("latency_light", "p50_ms", "p50 ms (wrk -c1)", "down"),
    ("latency_light", "p99_ms", "p99 ms (wrk -c1)", "down"),
    ("latency_light", "rps", "req/s on one connection", "up"),
    ("udp_pps", "pps_1", "replies/s, 1 session (64 in flight)", "up"),
    ("udp_pps", "loss_pct_1", "loss %, 1 session", None),
    ("udp_pps", "pps_64", "replies/s, 64 sessions (4 in flight each)", "up"),
    ("udp_pps", "loss_pct_64", "loss %, 64 sessions", None),
    ("udp_pps", "proxy_cpu_1", "proxy CPU %, 1 session", None),
    ("udp_pps", "proxy_cpu_64", "proxy CPU %, 64 sessions", None),
    ("rss_idle", "rss_mb", "RSS MB, idle after start", "down"),
    ("rss_under_load", "peak_mb", "peak RSS MB, sampled during http_keepalive", "down"),
    ("rss_under_load", "hwm_mb", "VmHWM MB (kernel's peak) after http_keepalive", "down"),
    ("idle_conns", "base_mb", "RSS MB before connecting", "down"),
]
IDLE = [
    ("held", "connections held (checked by a 1-byte echo)", None),
    ("connect_s", "seconds to open them", None),
    ("rss_mb", "RSS MB", "down"),
    ("kib_per_conn", "KiB per connection ((RSS - base) / held)", "down"),
]
GC = [
    ("pauses", "GC pauses, all groups", None),
    ("total_pause_ms", "GC pause ms, all groups", None),
    ("max_pause_ms", "longest GC pause ms", None),
]


def read_tsv(path, columns):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t", columns - 1)
            if len(parts) == columns:
                rows.append(parts)
    return rows


def number(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def fmt(v):
    n = number(v)
    if n is None:
        return str(v)
    if abs(n) >= 1000:
        return f"{n:,.0f}"
    return f"{n:g}"


def main():
    work, prefix = sys.argv[1], sys.argv[2]
    meta = dict(read_tsv(f"{work}/meta.tsv", 2))
    results = {}
    for proxy, scen, metric, value in read_tsv(f"{work}/results.tsv", 4):
        results.setdefault(proxy, {}).setdefault(scen, {})[metric] = number(value) if number(value) is not None else value
    commands = {}
    for proxy, cmd in read_tsv(f"{work}/commands.tsv", 2):
        commands.setdefault(proxy, [])
        if cmd not in commands[proxy]:
            commands[proxy].append(cmd)

    listed = meta.get("proxies", "").split()
    proxies = [p for p in PROXY_ORDER if p in listed]

    # GC totals over the scenario groups, from the per-group figures run.sh recorded.
    for p in proxies:
        gc = results.get(p, {}).get("gc")
        if not gc:
            continue
        per = lambda key: [v for k, v in gc.items() if k.startswith(key + "_") and isinstance(v, float)]
        gc["pauses"] = sum(per("pauses"))
        gc["total_pause_ms"] = round(sum(per("total_pause_ms")), 1)
        gc["max_pause_ms"] = max(per("max_pause_ms"), default=0.0)

    rows = list(FIXED)
    levels = sorted({int(m.split("_")[-1]) for p in proxies for m in results.get(p, {}).get("idle_conns", {})
                     if m.split("_")[-1].isdigit()})
    for n in levels:
        rows += [("idle_conns", f"{key}_{n}", f"{label}, N={n}", better) for key, label, better in IDLE]
    rows += [("gc", key, label, better) for key, label, better in GC]
    # Anything else run.sh recorded (an "error" when a proxy did not start, say) is shown as is.
    known = {(s, m) for s, m, _, _ in rows}
    for p in proxies:
        for s, metrics in results.get(p, {}).items():
            for m in metrics:
                if (s, m) not in known and not (s == "gc" and m.rsplit("_", 1)[-1].isalpha()):
                    rows.append((s, m, m, None))
                    known.add((s, m))

    def value(p, s, m):
        return results.get(p, {}).get(s, {}).get(m)

    present = [r for r in rows if any(value(p, r[0], r[1]) is not None for p in proxies)]
    subject = "aegis" if "aegis" in proxies else ("aegis-nolog" if "aegis-nolog" in proxies else None)
    pairs = []
    if subject:
        pairs = [(subject, b) for b in ("haproxy", "nginx", "direct") if b in proxies]
        for variant in ("aegis-nolog", "aegis-ppv2", "aegis-sni"):
            if subject == "aegis" and variant in proxies:
                pairs.append((variant, "aegis"))

    ratios = {f"{a}/{b}": {} for a, b in pairs}
    out = []
    out.append(f"## Aegis benchmark {meta.get('timestamp', '')}\n")
    out.append(f"- Command: `{meta.get('command', 'bench/run.sh')}` (runtime {meta.get('runtime_s', '?')} s)")
    out.append(f"- Machine: {meta.get('cpu', '?')}, {meta.get('cpus', '?')} CPUs, {meta.get('memory_mb', '?')} MB RAM, "
               f"Linux {meta.get('kernel', '?')}; load average {meta.get('load_before', '?')} before, "
               f"{meta.get('load_after', '?')} after")
    versions = [f"{k} {meta[k]}" for k in ("aegis", "java", "haproxy", "nginx", "wrk", "iperf3") if k in meta]
    out.append(f"- Versions: {', '.join(versions)}")
    layout = ("proxy on CPU 0, load generators and backends on CPU 1" if meta.get("pin") == "1" else "not pinned")
    out.append(f"- Layout: {layout}; {meta.get('duration_s')} s per measurement "
               f"({meta.get('lat_duration_s')} s for latency_light) after {meta.get('warmup_s')} s of warm-up; "
               f"fd limit {meta.get('fd_limit')}; every proxy restarted per scenario group")
    out.append("")
    head = ["scenario", "metric", ""] + proxies + [f"{a}/{b}" for a, b in pairs]
    out.append("| " + " | ".join(head) + " |")
    out.append("|---|---|:-:|" + "---:|" * (len(head) - 3))
    arrows = {"up": "↑", "down": "↓", None: ""}
    for scen, metric, label, better in present:
        cells = [scen, label, arrows[better]]
        for p in proxies:
            v = value(p, scen, metric)
            cells.append("–" if v is None else fmt(v))
        for a, b in pairs:
            va, vb = number(value(a, scen, metric)), number(value(b, scen, metric))
            if better and va is not None and vb:
                r = va / vb
                ratios[f"{a}/{b}"][f"{scen}.{metric}"] = round(r, 3)
                cells.append(f"{r:.2f}")
            else:
                cells.append("")
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    out.append("↑ higher is better, ↓ lower is better. A ratio a/b above 1 means a has the larger figure "
               "(better for ↑, worse for ↓). \"–\": not measured or not applicable "
               "(no RSS for direct, no UDP in HAProxy 2.6).")

    if "direct" in proxies and any(value(p, "latency_light", "p50_ms") is not None for p in proxies):
        d50, d99 = number(value("direct", "latency_light", "p50_ms")), number(value("direct", "latency_light", "p99_ms"))
        out.append("\nLatency added to one request on one connection, vs direct (µs):\n")
        out.append("| proxy | p50 | p99 |")
        out.append("|---|---:|---:|")
        for p in proxies:
            if p == "direct":
                continue
            a50, a99 = number(value(p, "latency_light", "p50_ms")), number(value(p, "latency_light", "p99_ms"))
            added = lambda x, y: f"{(x - y) * 1000:+.0f}" if x is not None and y is not None else "–"
            out.append(f"| {p} | {added(a50, d50)} | {added(a99, d99)} |")

    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(prefix + ".md", "w") as f:
        f.write(text)
    doc = {
        "timestamp": meta.get("timestamp"),
        "command": meta.get("command"),
        "runtime_s": number(meta.get("runtime_s")),
        "machine": {k: meta.get(k) for k in ("cpu", "cpus", "memory_mb", "kernel", "load_before", "load_after",
                                              "fd_limit", "tcp_tw_reuse")},
        "versions": {k: meta[k] for k in ("aegis", "java", "haproxy", "nginx", "wrk", "iperf3") if k in meta},
        "params": {k: meta.get(k) for k in ("duration_s", "lat_duration_s", "warmup_s", "pin", "scenarios",
                                             "idle_conns")},
        "proxies": proxies,
        "labels": {f"{s}.{m}": {"label": label, "better": better} for s, m, label, better in present},
        "results": results,
        "ratios": ratios,
        "commands": commands,
    }
    with open(prefix + ".json", "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
