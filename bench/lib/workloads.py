"""The workloads, each measured against one running server: stream (curl), conn,
keepalive and parallel (wrk), integrity (curl into sha256), slow clients and idle
connections (raw sockets from this process). Each returns one sample: a dict of numbers,
with "error" set when the measurement itself went wrong."""

import hashlib
import os
import subprocess
import time

from . import data, idle, procs, rawhttp, slowloris
from .eventloop import Loop
from .data import BIG_FILE, MEDIUM_FILE, SMALL_PAGE

MB = 1e6
GIB = 1 << 30

# wrk prints this line at the end; reading it beats parsing wrk's human summary.
_WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "wrk-result requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d " ..
    "status=%d timeout=%d p50_us=%d p99_us=%d\\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""

# Asking for Connection: close makes every server close after its answer, and wrk then
# opens a new connection for the next request.
_CLOSE_EACH = 'wrk.headers["Connection"] = "close"\n'


class Workloads:
    """Runs the workloads with the tools found on PATH and wrk scripts in SCRIPT_DIR."""

    def __init__(self, script_dir, files, cpus, wrk="wrk", curl="curl"):
        self.files = files
        self.cpus = cpus
        self.wrk = wrk
        self.curl = curl
        self.close_script = os.path.join(script_dir, "close-each.lua")
        self.keepalive_script = os.path.join(script_dir, "keepalive.lua")
        with open(self.close_script, "w") as f:
            f.write(_CLOSE_EACH + _WRK_REPORT)
        with open(self.keepalive_script, "w") as f:
            f.write(_WRK_REPORT)

    def stream(self, server):
        """One download of the big file with curl to /dev/null: MB/s and the server's
        CPU seconds per GiB sent. The file is read into the page cache just before, so
        every server streams it cached: a machine that reclaims pages nobody touched for
        a while (DAMON's pageout here) would otherwise leave parts of it on disk for
        whichever server comes first. Cold reads have their own bench (slow-storage)."""
        data.read_into_page_cache(self.files[BIG_FILE]["path"])
        expected = self.files[BIG_FILE]["size"]
        cpu_before = server.cpu_seconds()
        result = subprocess.run(
            [self.curl, "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}",
             server.url(BIG_FILE)], capture_output=True, text=True, timeout=600)
        cpu = server.cpu_seconds() - cpu_before
        fields = result.stdout.split()
        if result.returncode != 0 or len(fields) != 3:
            return {"error": f"curl exit {result.returncode}: {result.stderr.strip()}"}
        status, size, seconds = int(fields[0]), int(fields[1]), float(fields[2])
        if status != 200 or size != expected:
            return {"error": f"status {status}, {size} of {expected} bytes"}
        return {"mb_per_s": size / seconds / MB, "cpu_s_per_gib": cpu / (size / GIB),
                "seconds": seconds}

    def conn(self, server, connections, seconds):
        """The 1 KiB page, a new connection per request, CONNECTIONS at once: requests/s,
        p99 latency, errors, server CPU per request, and the kernel's count of connections
        opened per request (about 1 when the client really reconnects)."""
        opens_before = procs.tcp_active_opens()
        sample = self._wrk(server, SMALL_PAGE, connections, seconds, self.close_script)
        opens = procs.tcp_active_opens() - opens_before
        if "error" not in sample:
            sample["opens_per_request"] = opens / max(1, sample["requests"])
        return sample

    def keepalive(self, server, connections, seconds):
        """The 1 KiB page over CONNECTIONS persistent connections (wrk's HTTP/1.1
        default): requests/s, p99, errors, server CPU per request, and TCP opens per
        request (about 0 when connections are kept; about 1 when the server closes each)."""
        return self._kept(server, SMALL_PAGE, connections, seconds)

    def parallel(self, server, connections, seconds):
        """CONNECTIONS clients downloading the 100 KiB file in a loop, keeping the
        connection when the server allows it: MB/s of body, and TCP opens per request."""
        sample = self._kept(server, MEDIUM_FILE, connections, seconds)
        if "error" not in sample:
            sample["mb_per_s"] = sample["requests_per_s"] * self.files[MEDIUM_FILE]["size"] / MB
        return sample

    def slow_clients(self, server, attackers, seconds):
        """The normal client's latency and failures alone and beside ATTACKERS slowloris
        connections (bench/lib/slowloris.py), then how long the server took to answer
        again once the attack's sockets were reset."""
        try:
            sample = slowloris.measure(server.port, attackers, seconds)
        except OSError as error:
            return {"error": f"slow clients: {error}"}
        sample["recovered_s"] = _seconds_until_answered(server.port, limit=10.0)
        return sample

    def idle_connections(self, server, count, settle=1.0):
        """COUNT idle keep-alive connections (bench/lib/idle.py): how many the server
        still held after SETTLE seconds, and the memory of all its processes then, less
        the same measured just before (Pss and RSS, KiB)."""
        before = server.memory()
        try:
            sample = idle.hold(server.port, count, settle, server.memory)
        except OSError as error:
            return {"error": f"idle connections: {error}"}
        after = sample.pop("while_held")
        sample["memory_before"], sample["memory_held"] = before, after
        sample["pss_delta_kib"] = after["pss_kib"] - before["pss_kib"]
        sample["rss_delta_kib"] = after["rss_kib"] - before["rss_kib"]
        if sample["held"]:
            sample["pss_bytes_per_connection"] = sample["pss_delta_kib"] * 1024 / sample["held"]
            sample["rss_bytes_per_connection"] = sample["rss_delta_kib"] * 1024 / sample["held"]
        sample["recovered_s"] = _seconds_until_answered(server.port, limit=10.0)
        return sample

    def integrity(self, server):
        """The big file through the server: its sha256 must equal the source's."""
        expected = self.files[BIG_FILE]
        digest, size = hashlib.sha256(), 0
        curl = subprocess.Popen([self.curl, "-s", "-f", server.url(BIG_FILE)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        while True:
            chunk = curl.stdout.read(1 << 20)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
        status = curl.wait(timeout=60)
        curl.stderr.close()
        curl.stdout.close()
        ok = status == 0 and size == expected["size"] and digest.hexdigest() == expected["sha256"]
        sample = {"ok": ok, "bytes": size, "sha256": digest.hexdigest()}
        if not ok:
            sample["error"] = (f"curl exit {status}, {size} of {expected['size']} bytes, "
                               f"sha256 {digest.hexdigest()[:16]}… expected {expected['sha256'][:16]}…")
        return sample

    def _kept(self, server, path, connections, seconds):
        opens_before = procs.tcp_active_opens()
        sample = self._wrk(server, path, connections, seconds, self.keepalive_script)
        opens = procs.tcp_active_opens() - opens_before
        if "error" not in sample:
            sample["opens_per_request"] = opens / max(1, sample["requests"])
        return sample

    def _wrk(self, server, path, connections, seconds, script):
        threads = min(connections, max(1, self.cpus // 2))
        command = [self.wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                   "-s", script, server.url(path)]
        cpu_before = server.cpu_seconds()
        result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
        cpu = server.cpu_seconds() - cpu_before
        report = [line for line in result.stdout.splitlines() if line.startswith("wrk-result ")]
        if result.returncode != 0 or not report:
            return {"error": f"wrk exit {result.returncode}: {(result.stderr or result.stdout).strip()[:200]}"}
        values = dict(item.split("=") for item in report[0].split()[1:])
        n = {key: int(value) for key, value in values.items()}
        requests = n["requests"]
        duration = n["duration_us"] / 1e6
        socket_errors = n["connect"] + n["read"] + n["write"] + n["timeout"]
        return {
            "requests": requests,
            "requests_per_s": requests / duration,
            "p50_ms": n["p50_us"] / 1000,
            "p99_ms": n["p99_us"] / 1000,
            "errors": socket_errors + n["status"],
            "error_kinds": {k: n[k] for k in ("connect", "read", "write", "timeout", "status") if n[k]},
            "cpu_us_per_request": cpu * 1e6 / requests if requests else None,
            "seconds": duration,
        }


def _seconds_until_answered(port, limit):
    """Seconds until one ordinary request for the page is answered (tried again every
    0.1 s), or None when none is within LIMIT: whether a server is itself again."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        loop, done = Loop(), []
        try:
            exchange = rawhttp.Exchange(loop, port, slowloris.NORMAL_REQUEST, 2.0, done.append)
            loop.run(time.monotonic() + 2.5, lambda: bool(done))
            exchange.close()
        finally:
            loop.close()
        if done and done[0].outcome == "ok":
            return time.monotonic() - start
        time.sleep(0.1)
    return None
