"""From samples to what a reader sees: medians and ranges, ratios against the best peer,
the markdown tables, the check of issue 4's targets, the JSON record and the chart."""

import json
import statistics

HEADLINE = 32  # the concurrency the conn table and the targets quote


def values(samples, key):
    return [s[key] for s in samples if "error" not in s and s.get(key) is not None]


def spread(samples, key):
    """(median, min, max) of KEY over the good samples, or None when there are none."""
    xs = values(samples, key)
    return (statistics.median(xs), min(xs), max(xs)) if xs else None


class Summary:
    """Medians per server and metric, and which peer is best at each."""

    def __init__(self, servers, results, levels):
        self.servers = servers
        self.results = results
        self.levels = levels
        self.peers = [s.name for s in servers if s.peer]

    def samples(self, name, workload, level=None):
        found = self.results.get(name, {}).get(workload)
        if level is not None:
            found = (found or {}).get(level)
        return found or []

    def stat(self, name, workload, key, level=None):
        return spread(self.samples(name, workload, level), key)

    def median(self, name, workload, key, level=None):
        found = self.stat(name, workload, key, level)
        return found[0] if found else None

    def best_peer(self, workload, key, higher_is_better, level=None):
        """(name, median) of the peer with the best median, or (None, None)."""
        scored = [(self.median(p, workload, key, level), p) for p in self.peers]
        scored = [(v, p) for v, p in scored if v is not None]
        if not scored:
            return None, None
        value, name = (max if higher_is_better else min)(scored)
        return name, value

    def errors(self, name, workload, level=None):
        """Errors summed over the rounds, or None when nothing ran."""
        samples = [s for s in self.samples(name, workload, level) if "error" not in s]
        return sum(s["errors"] for s in samples) if samples else None

    def as_dict(self):
        """{server: {workload: {metric: {median, min, max}}}} for the JSON record."""
        def stat(*where):
            found = self.stat(*where)
            return dict(zip(("median", "min", "max"), found)) if found else None

        out = {}
        for server in self.servers:
            n = server.name
            entry = {
                "stream": {k: stat(n, "stream", k) for k in ("mb_per_s", "cpu_s_per_gib")},
                "conn": {str(level): {k: stat(n, "conn", k, level) for k in
                                      ("requests_per_s", "p99_ms", "cpu_us_per_request",
                                       "opens_per_request")}
                         | {"errors": self.errors(n, "conn", level)} for level in self.levels},
                "parallel": {"mb_per_s": stat(n, "parallel", "mb_per_s"),
                             "errors": self.errors(n, "parallel")},
                "integrity": (self.results.get(n, {}).get("integrity") or {}).get("ok"),
            }
            out[n] = entry
        return out


def _num(value, digits=None):
    if value is None:
        return "—"
    if digits is None:
        digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f}"


def _range(stat):
    return f"{_num(stat[1])}–{_num(stat[2])}" if stat else "—"


def _ratio(value, best):
    if value is None or not best:
        return "—"
    return f"{value / best:.2f}×"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _metric_columns(summary, name, workload, key, higher, level=None):
    stat = summary.stat(name, workload, key, level)
    _, best = summary.best_peer(workload, key, higher, level)
    return [_num(stat[0]) if stat else "—", _range(stat), _ratio(stat[0] if stat else None, best)]


def _best_line(summary, items):
    parts = []
    for label, workload, key, higher, level in items:
        name, value = summary.best_peer(workload, key, higher, level)
        if name:
            parts.append(f"{label}: {name} ({_num(value)})")
    return "Best peer — " + "; ".join(parts) + "." if parts else "No peer measured."


def markdown(summary, meta, plan, targets, problems):
    """The whole report as markdown: context, one table per workload, targets, problems."""
    names = [s.name for s in summary.servers]
    out = [f"# bench/compare ({meta['mode']})", ""]
    out += [f"- when: {meta['started']} UTC, {meta['seconds']:.0f} s; command: `{meta['command']}`",
            f"- machine: {meta['machine']['cpu']}, {meta['machine']['cpus']} CPUs, "
            f"Linux {meta['machine']['kernel']}; load average {meta['load_before']} before, "
            f"{meta['load_after']} after",
            f"- cells: median over rounds, then min–max; ×: the server's median over the best "
            f"peer's (peers: every server but ferry); MB = 10⁶ bytes",
            ""]

    out += [f"## stream — one {plan['big_label']} download, curl to /dev/null "
            f"({plan['stream_rounds']} round{'s' if plan['stream_rounds'] > 1 else ''})", ""]
    rows = [[n] + _metric_columns(summary, n, "stream", "mb_per_s", True)
            + _metric_columns(summary, n, "stream", "cpu_s_per_gib", False) for n in names]
    out += _table(["server", "MB/s", "min–max", "× best peer", "server CPU s/GiB", "min–max",
                   "× best peer"], rows)
    out += ["", _best_line(summary, [("MB/s", "stream", "mb_per_s", True, None),
                                     ("CPU s/GiB", "stream", "cpu_s_per_gib", False, None)]), ""]

    out += [f"## conn — 1 KiB page, new connection per request, {HEADLINE} concurrent "
            f"({plan['rounds']} × {plan['conn_seconds']} s)", ""]
    rows = []
    for n in names:
        rows.append([n] + _metric_columns(summary, n, "conn", "requests_per_s", True, HEADLINE)
                    + [_num(summary.median(n, "conn", "p99_ms", HEADLINE))]
                    + _metric_columns(summary, n, "conn", "cpu_us_per_request", False, HEADLINE)
                    + [_num(summary.errors(n, "conn", HEADLINE), 0),
                       _num(summary.median(n, "conn", "opens_per_request", HEADLINE), 2)])
    out += _table(["server", "req/s", "min–max", "× best peer", "p99 ms", "server CPU µs/req",
                   "min–max", "× best peer", "errors", "TCP opens/req"], rows)
    out += ["", _best_line(summary, [("req/s", "conn", "requests_per_s", True, HEADLINE),
                                     ("CPU µs/req", "conn", "cpu_us_per_request", False, HEADLINE)]),
            ""]
    for server in summary.servers:
        if server.announces_close is False:
            out += [f"{server.name} closes the connection after answering a `Connection: close` "
                    "request but does not say so in its response (no `Connection: close` "
                    "header), so wrk writes its next request to the closed socket and counts a "
                    "read error before reconnecting: its errors are those closes.", ""]

    out += ["## conn sweep — requests/s (median) by concurrency; errors summed over all levels", ""]
    rows = []
    for n in names:
        errors = [summary.errors(n, "conn", level) for level in plan["levels"]]
        known = [e for e in errors if e is not None]
        rows.append([n] + [_num(summary.median(n, "conn", "requests_per_s", level))
                           for level in plan["levels"]]
                    + [_num(summary.median(n, "conn", "p99_ms", plan["levels"][-1]))]
                    + [_num(sum(known), 0) if known else "—"])
    out += _table(["server"] + [f"c={level}" for level in plan["levels"]]
                  + [f"p99 ms at c={plan['levels'][-1]}", "errors"], rows)
    out += [""]

    out += [f"## parallel — {plan['parallel_connections']} clients downloading 100 KiB in a loop "
            f"({plan['rounds']} × {plan['parallel_seconds']} s; keep-alive where offered)", ""]
    rows = [[n] + _metric_columns(summary, n, "parallel", "mb_per_s", True)
            + [_num(summary.errors(n, "parallel"), 0)] for n in names]
    out += _table(["server", "MB/s", "min–max", "× best peer", "errors"], rows)
    out += ["", _best_line(summary, [("MB/s", "parallel", "mb_per_s", True, None)]), ""]

    out += [f"## integrity — sha256 of the {plan['big_label']} body", ""]
    rows = []
    for n in names:
        sample = summary.results.get(n, {}).get("integrity")
        rows.append([n, "—" if sample is None else "ok" if sample["ok"] else
                     "MISMATCH: " + sample.get("error", "")])
    out += _table(["server", "sha256 equals the source"], rows)
    out += [""]

    out += ["## targets (issue 4, part 3)", ""]
    out += _table(["target", "measured", "met"],
                  [[t["target"], t["measured"], {True: "yes", False: "no", None: "—"}[t["met"]]]
                   for t in targets])
    out += [""]

    out += ["## servers", ""]
    out += _table(["server", "what", "version"],
                  [[s.name, s.description, meta["versions"].get(s.name) or "—"]
                   for s in summary.servers])
    out += [""]
    if problems:
        out += ["## problems", ""] + [f"- {p}" for p in problems] + [""]
    return "\n".join(out)


def targets(summary, plan):
    """Issue 4's part 3, each target with what this run measured and whether it holds
    (None when a number it needs is missing)."""
    m = summary.median
    checks = []

    def add(target, measured, met):
        checks.append({"target": target, "measured": measured, "met": met})

    def both(*xs):
        return all(x is not None for x in xs)

    ferry_mb, ferry_cpu = m("ferry", "stream", "mb_per_s"), m("ferry", "stream", "cpu_s_per_gib")
    peer, peer_mb = summary.best_peer("stream", "mb_per_s", True)
    add("stream: ferry MB/s ≥ best peer's", f"{_num(ferry_mb)} vs {peer} {_num(peer_mb)}",
        ferry_mb >= peer_mb if both(ferry_mb, peer_mb) else None)
    peer, peer_cpu = summary.best_peer("stream", "cpu_s_per_gib", False)
    add("stream: ferry CPU/GiB ≤ lowest peer's", f"{_num(ferry_cpu)} vs {peer} {_num(peer_cpu)} s",
        ferry_cpu <= peer_cpu if both(ferry_cpu, peer_cpu) else None)

    copy_cpu, copy_mb = m("ferry-copy", "stream", "cpu_s_per_gib"), m("ferry-copy", "stream", "mb_per_s")
    add("copy: ferry --copy CPU/GiB ≥ 2× ferry's", f"{_num(copy_cpu)} vs {_num(ferry_cpu)} s",
        copy_cpu >= 2 * ferry_cpu if both(copy_cpu, ferry_cpu) else None)
    nosf_mb = m("nginx-nosendfile", "stream", "mb_per_s")
    add("copy: ferry --copy MB/s ≥ nginx sendfile off", f"{_num(copy_mb)} vs {_num(nosf_mb)}",
        copy_mb >= nosf_mb if both(copy_mb, nosf_mb) else None)

    rps = m("ferry", "conn", "requests_per_s", HEADLINE)
    peer, peer_rps = summary.best_peer("conn", "requests_per_s", True, HEADLINE)
    add(f"conn: ferry req/s ≥ best peer's at {HEADLINE}", f"{_num(rps)} vs {peer} {_num(peer_rps)}",
        rps >= peer_rps if both(rps, peer_rps) else None)
    cpu = m("ferry", "conn", "cpu_us_per_request", HEADLINE)
    peer, peer_cpu = summary.best_peer("conn", "cpu_us_per_request", False, HEADLINE)
    add("conn: ferry CPU/request ≤ best peer's", f"{_num(cpu)} vs {peer} {_num(peer_cpu)} µs",
        cpu <= peer_cpu if both(cpu, peer_cpu) else None)
    epoll_rps = m("ferry-epoll", "conn", "requests_per_s", HEADLINE)
    peer, peer_rps = summary.best_peer("conn", "requests_per_s", True, HEADLINE)
    add(f"conn: ferry --model epoll req/s ≥ best peer's at {HEADLINE}",
        f"{_num(epoll_rps)} vs {peer} {_num(peer_rps)}",
        epoll_rps >= peer_rps if both(epoll_rps, peer_rps) else None)
    errors = [summary.errors("ferry", "conn", level) for level in plan["levels"]]
    known = [e for e in errors if e is not None]
    add(f"conn: ferry errors up to {plan['levels'][-1]} concurrent = 0",
        _num(sum(known), 0) if known else "—", sum(known) == 0 if known else None)
    py = m("python", "conn", "requests_per_s", HEADLINE)
    add("conn: ferry req/s ≥ 10× python's", f"{_num(rps)} vs {_num(py)}",
        rps >= 10 * py if both(rps, py) else None)

    verdicts = [(s.name, (summary.results.get(s.name, {}).get("integrity") or {}).get("ok"))
                for s in summary.servers]
    bad = [n for n, ok in verdicts if ok is False]
    add("integrity: every byte right, every server", "mismatch: " + ", ".join(bad) if bad else
        f"{sum(1 for _, ok in verdicts if ok)} of {len(verdicts)} servers ok",
        not bad and all(ok for _, ok in verdicts))
    return checks


def write_json(path, meta, plan, files, servers, results, summary, target_checks, problems):
    record = {
        "meta": meta,
        "plan": plan,
        "files": files,
        "servers": {s.name: {"description": s.description, "peer": s.peer, "command": s.command,
                             "announces_close": s.announces_close,
                             "version": meta["versions"].get(s.name)} for s in servers},
        "samples": {name: {workload: ({str(k): v for k, v in data.items()}
                                      if workload == "conn" else data)
                           for workload, data in workloads.items()}
                    for name, workloads in results.items()},
        "summary": summary.as_dict(),
        "targets": target_checks,
        "problems": problems,
    }
    with open(path, "w") as f:
        json.dump(record, f, indent=1, sort_keys=False)
        f.write("\n")


def write_chart(pyplot, path, summary, levels, title):
    """Requests/s against concurrency (the conn sweep), one line per server."""
    figure, axes = pyplot.subplots(figsize=(8, 5), dpi=120)
    for server in summary.servers:
        points = [(level, summary.median(server.name, "conn", "requests_per_s", level))
                  for level in levels]
        points = [(x, y) for x, y in points if y is not None]
        if not points:
            continue
        xs, ys = zip(*points)
        ferry = not server.peer
        axes.plot(xs, ys, marker="o", linewidth=2.6 if ferry else 1.4,
                  linestyle="-" if ferry else "--", label=server.name)
    axes.set_xscale("log", base=2)
    axes.set_xticks(levels)
    axes.set_xticklabels([str(level) for level in levels])
    axes.set_xlabel("concurrent connections (new connection per request)")
    axes.set_ylabel("requests/s (median)")
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.set_title(title)
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)
