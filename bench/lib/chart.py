"""The chart: every workload side by side, one small panel each (the conn sweep as lines,
the others as bars), each server in the same colour in every panel and Ferry's default
model drawn strongest."""

from .report import HEADLINE, MALLOC_BUDGET, SYSCALL_BUDGET, num

# One colour per server in every panel: Ferry's modes warm, the peers cool or grey.
COLOURS = {
    "ferry": "#d62728", "ferry-copy": "#ff7f0e", "ferry-epoll": "#e377c2",
    "ferry-classic": "#8c564b", "nginx": "#1f77b4", "nginx-nosendfile": "#9ecae1",
    "lighttpd": "#2ca02c", "h2o": "#9467bd", "python": "#7f7f7f", "hummingbird": "#bcbd22",
}
OTHER_COLOUR = "#17becf"
HIGHLIGHT = "ferry"  # the server the comparison is about
MISSING = "#999999"


def write(pyplot, path, summary, meta, plan):
    """Nine panels in one PNG at PATH: the conn sweep, keepalive req/s and CPU, the 100 KiB
    loop, the stream's MB/s and CPU, idle memory, slow clients and the cost of a request."""
    figure, grid = pyplot.subplots(3, 3, figsize=(19, 14), dpi=100)
    panels = grid.flatten()
    _conn_sweep(panels[0], summary, plan)
    _bars(panels[1], summary, f"keepalive: 1 KiB over {HEADLINE} kept connections",
          "requests/s (median) →", _medians(summary, "keepalive", "requests_per_s"))
    _bars(panels[2], summary, "keepalive: server CPU per request",
          "← µs of CPU per request (median)", _medians(summary, "keepalive", "cpu_us_per_request"))
    _bars(panels[3], summary, f"parallel: {plan['parallel_connections']} connections looping over 100 KiB",
          "MB/s of body (median) →", _medians(summary, "parallel", "mb_per_s"))
    _bars(panels[4], summary, f"stream: one {plan['big_label']} download",
          "MB/s (median) →", _medians(summary, "stream", "mb_per_s"))
    _bars(panels[5], summary, "stream: server CPU per GiB sent",
          "← CPU seconds per GiB (median)", _medians(summary, "stream", "cpu_s_per_gib"))
    _idle(panels[6], summary, plan)
    _slow(panels[7], summary, plan)
    _cost(panels[8], summary, plan)
    figure.suptitle(f"bench/compare ({meta['mode']}), {meta['started']} UTC — "
                    f"{meta['machine']['cpus']} CPUs, load {meta['load_before']} before; "
                    f"arrows point to better", fontsize=14)
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    figure.savefig(path)
    pyplot.close(figure)


def colour(name):
    return COLOURS.get(name, OTHER_COLOUR)


def _medians(summary, workload, key):
    return {s.name: summary.median(s.name, workload, key) for s in summary.servers}


def _conn_sweep(axes, summary, plan):
    """Requests/s against concurrency (the conn sweep), one line per server."""
    levels = plan["levels"]
    for server in summary.servers:
        points = [(level, summary.median(server.name, "conn", "requests_per_s", level))
                  for level in levels]
        points = [(x, y) for x, y in points if y is not None]
        if not points:
            continue
        xs, ys = zip(*points)
        strong = server.name == HIGHLIGHT
        axes.plot(xs, ys, marker="o", color=colour(server.name), label=server.name,
                  linewidth=3.2 if strong else 1.5 if not server.peer else 1.2,
                  linestyle="-" if not server.peer else "--", zorder=3 if strong else 2)
    axes.set_xscale("log", base=2)
    axes.set_xticks(levels)
    axes.set_xticklabels([str(level) for level in levels])
    axes.set_xlabel("concurrent connections")
    axes.set_ylabel("requests/s (median) →")
    axes.set_ylim(0, axes.get_ylim()[1] * 1.45)  # headroom above the lines for the legend
    axes.grid(True, alpha=0.3)
    axes.set_title("conn: 1 KiB, a new connection per request")
    axes.legend(fontsize="small", ncol=3, loc="upper left")


def _bars(axes, summary, title, xlabel, values, notes=None, labels=None, log=False):
    """One horizontal bar per server (top to bottom in the report's order) with LABELS[name]
    or its value written beside it; a server without a value gets NOTES[name] or "not run"
    instead."""
    notes, labels = notes or {}, labels or {}
    names = [s.name for s in summary.servers]
    if log:  # a log axis cannot show zero or less: say the value instead of drawing it
        for name, value in values.items():
            if value is not None and value <= 0:
                notes[name], values[name] = f"{num(value)} (not drawn on a log scale)", None
    known = [v for v in values.values() if v is not None]
    floor = min(known) / 3 if log and known else 0  # where bars start on a log axis
    for row, name in enumerate(names):
        value = values.get(name)
        if value is None:
            axes.text(floor if log else 0, row, "  " + notes.get(name, "not run"), va="center",
                      color=MISSING, fontsize=9, style="italic")
            continue
        strong = name == HIGHLIGHT
        axes.barh(row, value - floor, left=floor, color=colour(name), height=0.7,
                  edgecolor="black" if strong else "none", linewidth=1.6 if strong else 0)
        axes.text(value, row, " " + labels.get(name, num(value)), va="center", fontsize=9,
                  fontweight="bold" if strong else "normal")
    axes.set_yticks(range(len(names)))
    axes.set_yticklabels(names)
    for label, server in zip(axes.get_yticklabels(), summary.servers):
        if not server.peer:
            label.set_fontweight("bold")
        label.set_color(colour(server.name) if not server.peer else "black")
    axes.set_ylim(len(names) - 0.5, -0.5)  # every row, the first on top, with or without a bar
    if log:
        axes.set_xscale("log")
        axes.tick_params(axis="x", which="minor", labelbottom=False)  # they crowd a short span
        if known:
            axes.set_xlim(floor, max(known) * 4)
    else:
        top = max(known, default=0)
        axes.set_xlim(0, top * (1.6 if labels else 1.25) if top > 0 else 1)  # room for the labels
    axes.set_xlabel(xlabel)
    axes.set_title(title)
    axes.grid(True, axis="x", alpha=0.3)


def _idle(axes, summary, plan):
    values, notes, labels = {}, {}, {}
    for server in summary.servers:
        sample = summary.once(server.name, "idle")
        if sample is None:
            continue
        per = values[server.name] = sample.get("pss_bytes_per_connection")
        if not sample["held"]:
            notes[server.name] = f"held none (closed {sample['closed']:,})"
        elif sample["held"] < sample["connections"]:
            labels[server.name] = f"{num(per)} (held only {sample['held']:,})"
    # Log scale: a server that held only a few connections shows a huge cost per connection.
    _bars(axes, summary, f"idle: {plan['idle_connections']:,} kept connections, each after one request",
          "← Pss bytes per held connection (log scale)", values, notes, labels, log=True)


def _slow(axes, summary, plan):
    """The normal client's p99 beside the attack (bars, log scale), its p99 alone (a
    black tick), and failures beside the bar."""
    values, notes, labels = {}, {}, {}
    for server in summary.servers:
        sample = summary.once(server.name, "slow")
        if sample is None:
            continue
        p99 = values[server.name] = sample["attack"]["p99_ms"]
        if p99 is None:
            notes[server.name] = "no answer beside the attack"
        elif sample["attack"]["failures"]:
            labels[server.name] = f"{num(p99)}, {sample['attack']['failures']:,} failed"
    _bars(axes, summary, f"slow clients: a normal client beside {plan['slow_attackers']:,} trickling",
          "← p99 ms beside the attack (bar; log scale) and alone (black tick)", values, notes,
          labels, log=True)
    for row, server in enumerate(summary.servers):
        sample = summary.once(server.name, "slow")
        if sample and sample["baseline"]["p99_ms"] is not None:
            axes.plot([sample["baseline"]["p99_ms"]], [row], marker="|", color="black",
                      markersize=14, markeredgewidth=2.5)


def _cost(axes, summary, plan):
    """System calls per kept request (epoll_wait written beside the bar), Ferry's budget
    as a dashed line, and its heap allocations in the title."""
    values, labels = {}, {}
    for server in summary.servers:
        sample = summary.once(server.name, "cost")
        if sample is None:
            continue
        values[server.name] = sample["syscalls_per_request"]
        labels[server.name] = (f"{num(sample['syscalls_per_request'], 2)} "
                               f"(+{num(sample['epoll_wait_per_request'], 2)} epoll_wait)")
    mallocs = (summary.once(HIGHLIGHT, "cost") or {}).get("mallocs_per_request")
    allocations = (f"{HIGHLIGHT}: {num(mallocs, 1)} heap allocations per request (budget {MALLOC_BUDGET})"
                   if mallocs is not None else f"{HIGHLIGHT}'s heap allocations: not counted")
    notes = {s.name: "not counted" for s in summary.servers}
    _bars(axes, summary, f"cost: one worker, {plan['cost_requests']:,} kept 1 KiB requests\n{allocations}",
          f"← system calls per request (dashed: {HIGHLIGHT}'s budget, {SYSCALL_BUDGET})",
          values, notes, labels)
    axes.axvline(SYSCALL_BUDGET, color=colour(HIGHLIGHT), linestyle="--", linewidth=1.2)
    axes.set_xlim(0, max(axes.get_xlim()[1], SYSCALL_BUDGET * 1.5))  # the budget in view
