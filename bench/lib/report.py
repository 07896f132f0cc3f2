"""From samples to what a reader sees: medians and ranges, ratios against the best peer,
the markdown tables, the checks of issue 4's and issue 8's targets and of the cost budget,
and the JSON record (the chart is bench/lib/chart.py)."""

import json
import statistics

from .cost import MALLOC_EVENT, WAITS

HEADLINE = 32  # the concurrency the conn and keepalive tables and the targets quote
LEADING_PEERS = ("nginx", "lighttpd", "h2o")  # issue 8's targets compare with the best of these
# DESIGN.md, "The cost of a request": Ferry's most per kept small-file request.
SYSCALL_BUDGET = 3
MALLOC_BUDGET = 2
COST_TARGETS = "the cost of a request, DESIGN.md"
# What a kept request may exceed the budget by: the 32 connections' own calls and
# allocations (accept or hand-over, registration, the read that sees the close, close)
# spread over the requests, a few hundredths per request at 10,000 or more.
CONNECTION_SHARE = 0.05


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

    def best_peer(self, workload, key, higher_is_better, level=None, among=None):
        """(name, median) of the peer (of AMONG, if given) with the best median, or
        (None, None)."""
        peers = [p for p in self.peers if among is None or p in among]
        scored = [(self.median(p, workload, key, level), p) for p in peers]
        scored = [(v, p) for v, p in scored if v is not None]
        if not scored:
            return None, None
        value, name = (max if higher_is_better else min)(scored)
        return name, value

    def once(self, name, workload):
        """The one sample of a workload run once per server (idle, slow, cost), or None."""
        sample = self.results.get(name, {}).get(workload)
        return sample if sample and "error" not in sample else None

    def lowest_peer_once(self, workload, key):
        """(name, value) of the peer whose one sample of WORKLOAD has the lowest KEY, or
        (None, None)."""
        scored = [((self.once(p, workload) or {}).get(key), p) for p in self.peers]
        scored = [(v, p) for v, p in scored if v is not None]
        if not scored:
            return None, None
        value, name = min(scored)
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
                "keepalive": {k: stat(n, "keepalive", k) for k in
                              ("requests_per_s", "p99_ms", "cpu_us_per_request", "opens_per_request")}
                | {"errors": self.errors(n, "keepalive")},
                "parallel": {"mb_per_s": stat(n, "parallel", "mb_per_s"),
                             "opens_per_request": stat(n, "parallel", "opens_per_request"),
                             "errors": self.errors(n, "parallel")},
                "idle": _idle_summary(self.once(n, "idle")),
                "slow": _slow_summary(self.once(n, "slow")),
                "cost": _cost_summary(self.once(n, "cost")),
                "cost_new": _cost_summary(self.once(n, "cost_new")),
                "integrity": (self.results.get(n, {}).get("integrity") or {}).get("ok"),
            }
            out[n] = entry
        return out


def _idle_summary(sample):
    if sample is None:
        return None
    keys = ("connections", "answered", "held", "closed", "failure_kinds", "pss_delta_kib",
            "rss_delta_kib", "pss_bytes_per_connection", "rss_bytes_per_connection")
    return {k: sample.get(k) for k in keys}


def _slow_summary(sample):
    if sample is None:
        return None
    client = ("requests", "ok", "failures", "failure_kinds", "p50_ms", "p99_ms", "max_ms")
    return {"attackers": sample["attackers"], "seconds": sample["seconds"],
            "baseline": {k: sample["baseline"][k] for k in client},
            "attack": {k: sample["attack"][k] for k in client},
            "p99_ratio": sample["p99_ratio"], "attack_at_end": sample["attack_at_end"],
            "recovered_s": sample["recovered_s"]}


def _cost_summary(sample):
    if sample is None:
        return None
    keys = ("requests", "concurrency", "kept", "syscalls_per_request", "epoll_wait_per_request",
            "per_request", "mallocs_per_request", "mallocs_skipped")
    return {k: sample.get(k) for k in keys}


def top_calls(sample, least=0.05):
    """[(system call, calls per request)] of a cost sample, most frequent first, without
    the event loop's waits and the calls made less than LEAST times per request."""
    return [(call, n) for call, n in sample["per_request"].items()
            if call not in WAITS and n >= least]


def reuse(opens_per_request):
    """What the kernel's count of TCP opens per request says about connection reuse."""
    if opens_per_request is None:
        return "—"
    if opens_per_request >= 0.9:
        return "closes every connection"
    if opens_per_request <= 0.01:
        return "kept"
    return f"a new connection every {1 / opens_per_request:,.0f} requests"


def num(value, digits=None):
    if value is None:
        return "—"
    if digits is None:
        digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f}"


def _range(stat):
    return f"{num(stat[1])}–{num(stat[2])}" if stat else "—"


def _ratio(value, best):
    if value is None or not best:
        return "—"
    ratio = value / best
    return f"{ratio:,.0f}×" if ratio >= 100 else f"{ratio:.2f}×"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _metric_columns(summary, name, workload, key, higher, level=None):
    stat = summary.stat(name, workload, key, level)
    _, best = summary.best_peer(workload, key, higher, level)
    return [num(stat[0]) if stat else "—", _range(stat), _ratio(stat[0] if stat else None, best)]


def _best_line(summary, items):
    parts = []
    for label, workload, key, higher, level in items:
        name, value = summary.best_peer(workload, key, higher, level)
        if name:
            parts.append(f"{label}: {name} ({num(value)})")
    return "Best peer — " + "; ".join(parts) + "." if parts else "No peer measured."


def markdown(summary, meta, plan, targets, problems):
    """The whole report as markdown: context, one table per workload, targets, problems."""
    names = [s.name for s in summary.servers]
    out = [f"# bench/compare ({meta['mode']})", ""]
    out += [f"- when: {meta['started']} UTC, {meta['seconds']:.0f} s; command: `{meta['command']}`",
            f"- machine: {meta['machine']['cpu']}, {meta['machine']['cpus']} CPUs, "
            f"Linux {meta['machine']['kernel']}; load average {meta['load_before']} before, "
            f"{meta['load_after']} after",
            "- cells: median over rounds, then min–max; ×: the server's median over the best "
            "peer's (peers: every server but ferry); MB = 10⁶ bytes",
            ""]

    downloads = plan["stream_rounds"]
    out += [f"## stream — one {plan['big_label']} download, curl to /dev/null, the file cached "
            f"({downloads} alternated download{'s' if downloads > 1 else ''} per server)", ""]
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
                    + [num(summary.median(n, "conn", "p99_ms", HEADLINE))]
                    + _metric_columns(summary, n, "conn", "cpu_us_per_request", False, HEADLINE)
                    + [num(summary.errors(n, "conn", HEADLINE), 0),
                       num(summary.median(n, "conn", "opens_per_request", HEADLINE), 2)])
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
        rows.append([n] + [num(summary.median(n, "conn", "requests_per_s", level))
                           for level in plan["levels"]]
                    + [num(summary.median(n, "conn", "p99_ms", plan["levels"][-1]))]
                    + [num(sum(known), 0) if known else "—"])
    out += _table(["server"] + [f"c={level}" for level in plan["levels"]]
                  + [f"p99 ms at c={plan['levels'][-1]}", "errors"], rows)
    out += [""]

    out += [f"## keepalive — 1 KiB page over {HEADLINE} persistent connections "
            f"({plan['rounds']} × {plan['conn_seconds']} s)", ""]
    rows = []
    for n in names:
        opens = summary.median(n, "keepalive", "opens_per_request")
        rows.append([n] + _metric_columns(summary, n, "keepalive", "requests_per_s", True)
                    + [num(summary.median(n, "keepalive", "p99_ms"))]
                    + _metric_columns(summary, n, "keepalive", "cpu_us_per_request", False)
                    + [num(summary.errors(n, "keepalive"), 0), num(opens, 3), reuse(opens)])
    out += _table(["server", "req/s", "min–max", "× best peer", "p99 ms", "server CPU µs/req",
                   "min–max", "× best peer", "errors", "TCP opens/req", "connections"], rows)
    out += ["", _best_line(summary, [("req/s", "keepalive", "requests_per_s", True, None),
                                     ("CPU µs/req", "keepalive", "cpu_us_per_request", False, None)]),
            "", "wrk asks HTTP/1.1 with no `Connection` header, so a server may keep every "
            "connection; TCP opens/req is the kernel's count of connections opened during the "
            "run over the requests (about 0 when kept; about 1 for a server that closes every "
            "connection, whose numbers then measure a handshake per request).", ""]

    out += [f"## parallel — {plan['parallel_connections']} clients looping over 100 KiB "
            f"({plan['rounds']} × {plan['parallel_seconds']} s; keep-alive where offered)", ""]
    rows = []
    for n in names:
        opens = summary.median(n, "parallel", "opens_per_request")
        rows.append([n] + _metric_columns(summary, n, "parallel", "mb_per_s", True)
                    + [num(summary.errors(n, "parallel"), 0), num(opens, 3), reuse(opens)])
    out += _table(["server", "MB/s", "min–max", "× best peer", "errors", "TCP opens/req",
                   "connections"], rows)
    out += ["", _best_line(summary, [("MB/s", "parallel", "mb_per_s", True, None)]), ""]

    out += _idle_section(summary, plan)
    out += _slow_section(summary, plan)
    out += _cost_section(summary, plan, meta["cost"], targets.get(COST_TARGETS, []))
    out += _new_connection_cost_section(summary, plan, meta["cost"])

    out += [f"## integrity — sha256 of the {plan['big_label']} body", ""]
    rows = []
    for n in names:
        sample = summary.results.get(n, {}).get("integrity")
        rows.append([n, "—" if sample is None else "ok" if sample["ok"] else
                     "MISMATCH: " + sample.get("error", "")])
    out += _table(["server", "sha256 equals the source"], rows)
    out += [""]

    for title, checks in targets.items():
        out += [f"## targets ({title})", ""]
        out += _table(["target", "measured", "met"],
                      [[t["target"], t["measured"], _met(t["met"])] for t in checks])
        out += [""]

    out += ["## servers", ""]
    out += _table(["server", "what", "version"],
                  [[s.name, s.description, meta["versions"].get(s.name) or "—"]
                   for s in summary.servers])
    out += [""]
    if problems:
        out += ["## problems", ""] + [f"- {p}" for p in problems] + [""]
    return "\n".join(out)


def _idle_section(summary, plan):
    count = plan["idle_connections"]
    out = [f"## idle — {count:,} idle keep-alive connections, each after one answered request", ""]
    rows = []
    nginx = (summary.once("nginx", "idle") or {}).get("pss_bytes_per_connection")
    for server in summary.servers:
        sample = summary.results.get(server.name, {}).get("idle")
        if sample is None:
            continue
        if "error" in sample:
            rows.append([server.name, "ERROR " + sample["error"]] + [""] * 7)
            continue
        held = sample["held"]
        per = sample.get("pss_bytes_per_connection")
        rows.append([server.name, f"{sample['answered']:,}",
                     f"{held:,}" if held or not sample["closed"] else f"0 (closed {sample['closed']:,})",
                     _failures(sample["failed"], sample["failure_kinds"]),
                     num(sample["memory_before"]["pss_kib"] / 1024, 1),
                     f"{sample['pss_delta_kib']:+,}", num(per, 0),
                     num(sample.get("rss_bytes_per_connection"), 0),
                     _ratio(per, nginx) if held else "—"])
    out += _table(["server", "answered", f"held after {plan['idle_settle']:g} s", "failed", "Pss before MiB",
                   "Pss Δ KiB", "Pss B/conn", "RSS B/conn", "× nginx"], rows)
    out += ["", "Memory: the sum over every process of the server's session, while the connections "
            "are held, less the same just before they were opened; Pss splits a shared page among "
            "the processes that map it, so a preforked pool's shared pages count once. Per "
            "connection: over the connections still held. Kernel socket buffers are not in it.", ""]
    skipped = [s.name for s in summary.servers if summary.results.get(s.name, {}).get("idle") is None]
    if skipped:
        out += [f"Not run: {', '.join(skipped)} (see bench/README.md).", ""]
    return out


def _failures(count, kinds):
    return f"{count:,}" + (f" {kinds}" if kinds else "")


def _slow_section(summary, plan):
    n, seconds = plan["slow_attackers"], plan["slow_seconds"]
    out = [f"## slow clients — a normal client alone, then beside {n:,} trickling connections", ""]
    rows = []
    for server in summary.servers:
        sample = summary.results.get(server.name, {}).get("slow")
        if sample is None:
            continue
        if "error" in sample:
            rows.append([server.name, "ERROR " + sample["error"]] + [""] * 13)
            continue
        base, attack, end = sample["baseline"], sample["attack"], sample["attack_at_end"]
        rows.append([server.name, num(base["p50_ms"]), num(base["p99_ms"]), num(base["max_ms"]),
                     _failures(base["failures"], base["failure_kinds"]),
                     num(attack["p50_ms"]), num(attack["p99_ms"]), num(attack["max_ms"]),
                     _failures(attack["failures"], attack["failure_kinds"]),
                     _ratio(attack["p99_ms"], base["p99_ms"]),
                     f"{end['open']:,}", f"{end['answered']:,}",
                     f"{end['closed']:,}" + (f" ({end['closed after an answer']:,} after an answer)"
                                             if end["closed after an answer"] else ""),
                     f"{end['reset']:,}", f"{end['connecting'] + end['failed'] + end['not started']:,}"])
    out += _table(["server", "alone p50 ms", "p99", "max", "failed", "attacked p50 ms", "p99", "max",
                   "failed", "p99 × alone", "attack still held", "answered, not closed",
                   "closed by server", "reset", "never connected"], rows)
    out += ["", f"The normal client opens a new connection every 50 ms for {seconds} s and asks "
            "for the 1 KiB page (2 s timeout; failed: no complete 200 in time, by kind); "
            f"latencies are over the answered requests. The attack: {n:,} connections that each "
            "send `GET /index.html HTTP/1.1` and `Host: x`, then `X-a: b` every 2 s, never ending "
            "the head; their states are counted when the normal client ends: still held (open, "
            "nothing received: by the server, or by its kernel's accept queue), answered but not "
            "closed yet (a 408, say, then a lingering close), closed by the server (an end of "
            "stream), reset, never connected.", ""]
    skipped = [s.name for s in summary.servers if summary.results.get(s.name, {}).get("slow") is None]
    if skipped:
        out += [f"Not run: {', '.join(skipped)} (see bench/README.md).", ""]
    return out


def _cost_section(summary, plan, run, budget):
    """The cost table: system calls (and Ferry's heap allocations) per kept request on one
    worker, the budget's verdict, and how the counts were taken. RUN: meta["cost"]."""
    n, warmup = plan["cost_requests"], plan["cost_warmup"]
    out = [f"## cost — system calls and heap allocations per kept 1 KiB request, one worker "
           f"({n:,} requests)", ""]
    if run["skipped"]:
        return out + [f"Not run: the cost workload {run['skipped']}.", ""]
    out += _cost_table(summary, "cost", ["kept", "system calls/req", "× fewest of a peer",
                                         "calls/req (≥ 0.05, without epoll_wait)", "epoll_wait/req",
                                         "heap allocations/req"])
    if budget:
        verdicts = "; ".join(check["measured"] + ("" if check["met"] is None else f" ({_met(check['met'])})")
                             for check in budget)
        out += [f"Budget (DESIGN.md, \"The cost of a request\"): at most {SYSCALL_BUDGET} system "
                f"calls and {MALLOC_BUDGET} heap allocations per kept small-file request; a count "
                f"within {CONNECTION_SHARE} of it meets it (the connections' own calls and "
                f"allocations, spread over the requests). ferry: {verdicts}.", ""]
    if run["mallocs_skipped"]:
        out += [f"Heap allocations not counted: {run['mallocs_skipped']}.", ""]
    out += [f"Each server is started again for this alone, on one worker (ferry `--workers 1`, nginx "
            "`worker_processes 1`, lighttpd's one process, h2o `num-threads: 1`); after "
            f"{warmup:,} warm-up requests, `strace -c -f` is attached to every thread of the "
            "process that answers (ferry's and nginx's worker, lighttpd's and h2o's one process) "
            f"while `ab -k` sends {n:,} requests for the 1 KiB page over 32 kept connections. "
            "System calls per request are the calls it counted over the requests; epoll_wait "
            "(with epoll_pwait) stands apart because how often a loop waits depends on the "
            "pace of requests. Heap allocations (ferry's only): calls of libc's malloc, "
            f"counted by `perf stat` on a uprobe (`{MALLOC_EVENT}`) over another {n:,} "
            "requests without strace. strace stops the server at every call: no time is taken "
            f"from these runs. They took {run['seconds']:.0f} s in all, with the new connections "
            "below.", ""]
    out += _not_counted(summary, "cost")
    return out


def _new_connection_cost_section(summary, plan, run):
    """The same counts with a new connection per request, over every process of each
    server: what accepting a connection (and, for ferry and nginx, the parent or master)
    costs."""
    n = plan["cost_requests"]
    out = [f"## cost of a new connection — system calls and heap allocations per 1 KiB request "
           f"on a connection of its own, every process, one worker ({n:,} requests)", ""]
    if run["skipped"]:
        return out + [f"Not run: the cost workload {run['skipped']}.", ""]
    out += _cost_table(summary, "cost_new", ["kept", "system calls/conn", "× fewest of a peer",
                                             "calls/conn (≥ 0.05, without epoll_wait)",
                                             "epoll_wait/conn", "heap allocations/conn"])
    out += ["The same servers and counts as above, but `ab` without `-k` (32 at a time, each "
            "request on a new connection), with `strace` and `perf` attached to every process "
            "of the server: ferry's parent, which accepts each connection and passes it to the "
            "worker, and nginx's master count as well as the process that answers.", ""]
    out += _not_counted(summary, "cost_new")
    return out


def _cost_table(summary, key, columns):
    """The rows of one cost workload (KEY), each server's counts against the fewest
    system calls of a peer."""
    rows = []
    _, best = summary.lowest_peer_once(key, "syscalls_per_request")
    for server in summary.servers:
        sample = summary.results.get(server.name, {}).get(key)
        if sample is None:
            continue
        if "error" in sample:
            rows.append([server.name, "ERROR " + sample["error"]] + [""] * 6)
            continue
        mallocs = sample.get("mallocs_per_request")
        rows.append([server.name, sample["server"], f"{sample['kept']:,} of {sample['requests']:,}",
                     num(sample["syscalls_per_request"], 2), _ratio(sample["syscalls_per_request"], best),
                     ", ".join(f"{call} {count:.2f}" for call, count in top_calls(sample)),
                     num(sample["epoll_wait_per_request"], 2),
                     num(mallocs, 2) if mallocs is not None else
                     "—" if server.peer else "not counted"])
    return _table(["server", "what ran"] + columns, rows) + [""]


def _not_counted(summary, key):
    skipped = [s.name for s in summary.servers if summary.results.get(s.name, {}).get(key) is None]
    return [f"Not counted: {', '.join(skipped)} (see bench/README.md).", ""] if skipped else []


def _met(met):
    return {True: "met", False: "not met", None: "—"}[met]


def targets(summary, plan):
    """{title: checks} for issue 4's part 3, issue 8 and the cost budget."""
    return {"issue 4, part 3": _issue4_targets(summary, plan),
            "issue 8, ratios to the best of nginx, lighttpd, h2o": _issue8_targets(summary, plan),
            COST_TARGETS: _cost_targets(summary)}


def _cost_targets(summary, name="ferry"):
    """The budget of a kept request for ferry's default model: each check with what the
    cost workload counted and whether it holds (None: not counted)."""
    sample = summary.once(name, "cost") or {}
    checks = []
    for key, budget, what in (("syscalls_per_request", SYSCALL_BUDGET, "system calls"),
                              ("mallocs_per_request", MALLOC_BUDGET, "heap allocations")):
        value = sample.get(key)
        checks.append({"target": f"{name}: {what} per kept 1 KiB request ≤ {budget}",
                       "measured": f"{num(value, 2)} {what}" if value is not None else f"{what} not counted",
                       "met": value <= budget + CONNECTION_SHARE if value is not None else None})
    return checks


def _issue8_targets(summary, plan, name="ferry"):
    """Issue 8's targets for ferry's default model against the best of LEADING_PEERS,
    each with what this run measured and whether it holds (None: a number is missing)."""
    checks = []
    m = summary.median

    def best(workload, key, higher, level=None):
        return summary.best_peer(workload, key, higher, level, among=LEADING_PEERS)

    def compare(target, value, peer, peer_value, higher, unit=""):
        known = value is not None and peer_value is not None
        measured = (f"{num(value)}{unit} vs {peer} {num(peer_value)}{unit} ({_ratio(value, peer_value)})"
                    if known else f"{num(value)}{unit} vs {peer or 'best peer'} {num(peer_value)}")
        checks.append({"target": target, "measured": measured,
                       "met": (value >= peer_value if higher else value <= peer_value) if known else None})

    k = f"keep-alive 1 KiB, {HEADLINE} connections"
    opens = m(name, "keepalive", "opens_per_request")
    note = "" if opens is None or opens < 0.9 else " — ferry closes every connection"
    compare(f"{k}: req/s ≥ best peer", m(name, "keepalive", "requests_per_s"),
            *best("keepalive", "requests_per_s", True), True)
    checks[-1]["measured"] += note
    compare(f"{k}: server CPU per request ≤ best peer's", m(name, "keepalive", "cpu_us_per_request"),
            *best("keepalive", "cpu_us_per_request", False), False, " µs")
    compare(f"{plan['parallel_connections']} connections looping over 100 KiB: MB/s ≥ best peer",
            m(name, "parallel", "mb_per_s"), *best("parallel", "mb_per_s", True), True)
    c = f"new connection per 1 KiB request, {HEADLINE} concurrent"
    compare(f"{c}: req/s ≥ best peer", m(name, "conn", "requests_per_s", HEADLINE),
            *best("conn", "requests_per_s", True, HEADLINE), True)
    compare(f"{c}: CPU per request ≤ h2o's", m(name, "conn", "cpu_us_per_request", HEADLINE),
            "h2o", m("h2o", "conn", "cpu_us_per_request", HEADLINE), False, " µs")
    s = f"one {plan['big_label']} stream"
    compare(f"{s}: MB/s ≥ best peer", m(name, "stream", "mb_per_s"),
            *best("stream", "mb_per_s", True), True)
    compare(f"{s}: CPU per GiB ≤ best peer's", m(name, "stream", "cpu_s_per_gib"),
            *best("stream", "cpu_s_per_gib", False), False, " s")

    slow = summary.once(name, "slow")
    t = f"{plan['slow_attackers']:,} trickling connections beside a normal client"
    if slow:
        attack, base = slow["attack"], slow["baseline"]
        checks.append({"target": f"{t}: 0 failed requests",
                       "measured": f"{attack['failures']} of {attack['requests']} failed",
                       "met": attack["failures"] == 0})
        ratio = slow["p99_ratio"]
        checks.append({"target": f"{t}: the normal client's p99 within 2× of its p99 alone",
                       "measured": f"{num(attack['p99_ms'])} ms vs {num(base['p99_ms'])} ms alone"
                                   + (f" ({ratio:.2f}×)" if ratio is not None else ""),
                       "met": ratio is not None and ratio <= 2 and attack["failures"] == 0})
    else:
        checks += [{"target": f"{t}: 0 failed requests", "measured": "—", "met": None},
                   {"target": f"{t}: p99 within 2× of alone", "measured": "—", "met": None}]

    idle = summary.once(name, "idle")
    nginx = summary.once("nginx", "idle")
    i = f"{plan['idle_connections']:,} idle keep-alive connections"
    if idle:
        checks.append({"target": f"{i}: all held",
                       "measured": f"{idle['held']:,} of {idle['connections']:,} held"
                                   + (f" (closed {idle['closed']:,})" if idle["closed"] else ""),
                       "met": idle["held"] == idle["connections"]})
        per, peer = idle.get("pss_bytes_per_connection"), (nginx or {}).get("pss_bytes_per_connection")
        checks.append({"target": f"{i}: memory (Pss) per connection ≤ nginx's",
                       "measured": (f"{num(per, 0)} B vs nginx {num(peer, 0)} B" if idle["held"]
                                    else f"holds none (closed {idle['closed']:,}); nginx {num(peer, 0)} B"),
                       "met": per <= peer if per is not None and peer is not None else None})
    else:
        checks += [{"target": f"{i}: all held", "measured": "—", "met": None},
                   {"target": f"{i}: memory per connection ≤ nginx's", "measured": "—", "met": None}]
    return checks


def _issue4_targets(summary, plan):
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
    add("stream: ferry MB/s ≥ best peer's", f"{num(ferry_mb)} vs {peer} {num(peer_mb)}",
        ferry_mb >= peer_mb if both(ferry_mb, peer_mb) else None)
    peer, peer_cpu = summary.best_peer("stream", "cpu_s_per_gib", False)
    add("stream: ferry CPU/GiB ≤ lowest peer's", f"{num(ferry_cpu)} vs {peer} {num(peer_cpu)} s",
        ferry_cpu <= peer_cpu if both(ferry_cpu, peer_cpu) else None)

    copy_cpu, copy_mb = m("ferry-copy", "stream", "cpu_s_per_gib"), m("ferry-copy", "stream", "mb_per_s")
    add("copy: ferry --copy CPU/GiB ≥ 2× ferry's", f"{num(copy_cpu)} vs {num(ferry_cpu)} s",
        copy_cpu >= 2 * ferry_cpu if both(copy_cpu, ferry_cpu) else None)
    nosf_mb = m("nginx-nosendfile", "stream", "mb_per_s")
    add("copy: ferry --copy MB/s ≥ nginx sendfile off", f"{num(copy_mb)} vs {num(nosf_mb)}",
        copy_mb >= nosf_mb if both(copy_mb, nosf_mb) else None)

    rps = m("ferry", "conn", "requests_per_s", HEADLINE)
    peer, peer_rps = summary.best_peer("conn", "requests_per_s", True, HEADLINE)
    add(f"conn: ferry req/s ≥ best peer's at {HEADLINE}", f"{num(rps)} vs {peer} {num(peer_rps)}",
        rps >= peer_rps if both(rps, peer_rps) else None)
    cpu = m("ferry", "conn", "cpu_us_per_request", HEADLINE)
    peer, peer_cpu = summary.best_peer("conn", "cpu_us_per_request", False, HEADLINE)
    add("conn: ferry CPU/request ≤ best peer's", f"{num(cpu)} vs {peer} {num(peer_cpu)} µs",
        cpu <= peer_cpu if both(cpu, peer_cpu) else None)
    epoll_rps = m("ferry-epoll", "conn", "requests_per_s", HEADLINE)
    peer, peer_rps = summary.best_peer("conn", "requests_per_s", True, HEADLINE)
    add(f"conn: ferry --model epoll req/s ≥ best peer's at {HEADLINE}",
        f"{num(epoll_rps)} vs {peer} {num(peer_rps)}",
        epoll_rps >= peer_rps if both(epoll_rps, peer_rps) else None)
    errors = [summary.errors("ferry", "conn", level) for level in plan["levels"]]
    known = [e for e in errors if e is not None]
    add(f"conn: ferry errors up to {plan['levels'][-1]} concurrent = 0",
        num(sum(known), 0) if known else "—", sum(known) == 0 if known else None)
    py = m("python", "conn", "requests_per_s", HEADLINE)
    add("conn: ferry req/s ≥ 10× python's", f"{num(rps)} vs {num(py)}",
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
