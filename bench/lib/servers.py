"""The servers under comparison: for each, the config file it gets (written to its own
directory in the run's temp dir), the command that runs it in the foreground on
127.0.0.1, and how it is started, probed and stopped. None runs as a system service."""

import os
import resource
import socket
import subprocess
import time

from . import procs
from .data import SMALL_PAGE


# What every server is told to hold, so that 10,000 idle keep-alive connections fit:
# connections per server (nginx: per worker), descriptors (the hard limit: root in a
# container may not raise it), idle keep-alive seconds, and requests per connection
# (ferry, nginx and lighttpd default to 1,000). Ferry gets the same keep-alive limits
# as the peers: with its default 1,000 it reconnected every 1,000 requests while they
# did not, and every new connection starts TCP (and BBR's pacing) afresh.
CONNECTIONS = 20000
NOFILE = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
KEEPALIVE_IDLE = 60
KEEPALIVE_REQUESTS = 100000


class Server:
    """One server process (and its workers) in its own session, on a free port."""

    def __init__(self, name, description, peer, command, workdir, port, config=None,
                 serves_in_children=False):
        self.name = name
        self.description = description
        self.peer = peer              # False for ferry's own modes, True for the others
        self.command = command
        self.workdir = workdir
        self.port = port
        self.config = config          # path of the config file written for it, if any
        # Whether requests are answered by the leader's children (ferry's workers, nginx's)
        # rather than by the leader itself and its threads.
        self.serves_in_children = serves_in_children
        # Whether its answer to "Connection: close" says so (an HTTP/1.1 "Connection:
        # close" header, or an HTTP/1.0 status line); wrk reuses a socket otherwise.
        self.announces_close = None
        self.process = None
        self.log_path = os.path.join(workdir, "output.log")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}/{path}"

    def start(self, expected_page, timeout=30.0, path=SMALL_PAGE):
        """Starts the server and waits until it answers GET /PATH with the page.
        Raises RuntimeError with the end of its output if it does not."""
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=procs.end_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with status {self.process.returncode} "
                                   f"at start: {self.log_tail()}")
            head, body = fetch_page(self.port, path)
            if body == expected_page:
                self.announces_close = (head.startswith(b"HTTP/1.0 ")
                                        or b"\r\nconnection: close" in head.lower())
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not serve /{path} within {timeout:.0f} s: "
                           f"{self.log_tail()}")

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def cpu_seconds(self):
        return procs.tree_cpu_seconds(self.process.pid)

    def memory(self):
        """Pss and RSS (KiB) summed over every process of the server's session."""
        return procs.session_memory(self.process.pid)

    def serving_processes(self):
        """The processes that answer requests: the leader's children for a server whose
        leader only accepts or supervises, else the leader (h2o's helper child, which
        only annotates crash backtraces, is not one of them)."""
        if self.serves_in_children:
            return procs.children(self.process.pid)
        return [self.process.pid]

    def all_processes(self):
        """The leader and its children: everything a new connection can cost."""
        return [self.process.pid] + procs.children(self.process.pid)

    def stop(self):
        if self.process is not None:
            procs.stop_session(self.process)

    def log_tail(self, lines=5):
        try:
            with open(self.log_path, errors="replace") as f:
                return " | ".join(f.read().strip().splitlines()[-lines:]) or "(no output)"
        except OSError:
            return "(no output)"


def fetch_page(port, path):
    """(head, body) of GET /PATH over HTTP/1.0; body None until a 200 arrives."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            # Connection: close, or an HTTP/1.1 server may keep the connection open.
            s.sendall(f"GET /{path} HTTP/1.0\r\nHost: 127.0.0.1\r\n"
                      "Connection: close\r\n\r\n".encode())
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
    except OSError:
        return b"", None
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return head, body if head.split(b" ")[1:2] == [b"200"] else None


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def ferry(binary, workdir, port, site, copy=False, model=None, name=None, label=None, workers=None):
    """ferry serve with flags only (its cwd has no conf/ferry.toml, so defaults apply,
    but for the keep-alive limits every server gets): the default design, with --copy,
    or with another --model (NAME and LABEL then say which design that model is);
    WORKERS, when given, is its --workers."""
    command = [binary, "serve", site, "--host", "127.0.0.1", "--port", str(port),
               "--access-log", "off", "--keepalive-timeout", str(KEEPALIVE_IDLE),
               "--keepalive-requests", str(KEEPALIVE_REQUESTS)]
    if copy:
        command.append("--copy")
        name, label = "ferry-copy", "ferry serve --copy (read/write loop)"
    elif model:
        command += ["--model", model]
        name = name or f"ferry-{model}"
        label = label or f"ferry serve --model {model} (sendfile)"
    else:
        name, label = "ferry", "ferry serve (its default model, sendfile)"
    if workers:
        command += ["--workers", str(workers)]
        label += f" on {_count(workers, 'worker')}"
    # Every model but the single-process event loops hands connections to worker processes.
    in_children = model not in ("epoll", "poll", "select", "iterative", "thread", "prethread")
    return Server(name, label, False, command, workdir, port, serves_in_children=in_children)


def _count(n, noun):
    return f"{n} {noun}" + ("" if n == 1 else "s")


def nginx(binary, workdir, port, site, workers, use_sendfile, aio_threads=False):
    """nginx in the foreground with everything (pid, logs, temp paths) in WORKDIR;
    enough connections and descriptors per worker to hold 10,000 idle keep-alives, and
    keepalive_requests raised from 1,000 so wrk's runs seldom reconnect. AIO_THREADS:
    file reads (and, on Linux, sendfile of pages not yet cached) go to its default
    thread pool instead of blocking the worker."""
    body = "sendfile on;\n    tcp_nopush on;" if use_sendfile else "sendfile off;"
    if aio_threads:
        body += "\n    aio threads;"
    config = _write(os.path.join(workdir, "nginx.conf"), f"""\
worker_processes {workers};
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
worker_rlimit_nofile {NOFILE};
events {{ worker_connections {CONNECTIONS}; }}
http {{
    types {{ text/html html; application/octet-stream bin; }}
    default_type application/octet-stream;
    access_log off;
    keepalive_requests {KEEPALIVE_REQUESTS};
    {body}
    client_body_temp_path {workdir}/client_body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {site};
    }}
}}
""")
    name = ("nginx" if use_sendfile else "nginx-nosendfile") + ("-aio" if aio_threads else "")
    what = ("sendfile on; tcp_nopush on" if use_sendfile else "sendfile off") + ("; aio threads" if aio_threads else "")
    return Server(name, f"nginx ({what}; {_count(workers, 'worker')})", True,
                  [binary, "-p", workdir, "-e", f"{workdir}/error.log", "-c", config], workdir,
                  port, config, serves_in_children=True)


def lighttpd(binary, workdir, port, site):
    """lighttpd -D (foreground), its default single process and network backend; enough
    descriptors for 10,000 idle connections, idle keep-alives kept 60 s (default 5)."""
    config = _write(os.path.join(workdir, "lighttpd.conf"), f"""\
server.document-root = "{site}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{workdir}/error.log"
server.max-fds = {NOFILE}
server.max-connections = {NOFILE // 2}
server.max-keep-alive-idle = {KEEPALIVE_IDLE}
server.max-keep-alive-requests = {KEEPALIVE_REQUESTS}
server.modules = ( "mod_staticfile" )
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html", ".bin" => "application/octet-stream" )
""")
    return Server("lighttpd", "lighttpd (one process, default backend)", True,
                  [binary, "-D", "-f", config], workdir, port, config)


def h2o(binary, workdir, port, site, threads=None):
    """h2o -c in the foreground, no access log, its default threads (one per CPU) or
    THREADS; max-connections raised from 1,024, idle keep-alives kept 60 s (default 10)."""
    # Started as root, h2o would switch to 'nobody', and that change of user would cancel
    # the signal it gets when bench/compare dies; it serves only the temp dir, on loopback.
    user = "user: root\n" if os.geteuid() == 0 else ""
    num_threads = f"num-threads: {threads}\n" if threads else ""
    config = _write(os.path.join(workdir, "h2o.conf"), f"""\
{user}{num_threads}error-log: {workdir}/error.log
max-connections: {CONNECTIONS}
http1-request-timeout: {KEEPALIVE_IDLE}
listen:
  host: 127.0.0.1
  port: {port}
hosts:
  default:
    paths:
      /:
        file.dir: {site}
""")
    what = _count(threads, "thread") if threads else "one thread per CPU"
    return Server("h2o", f"h2o ({what})", True, [binary, "-c", config], workdir, port, config)


def python(binary, workdir, port, site):
    return Server("python", "python3 -m http.server (a thread per connection)", True,
                  [binary, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                   "--directory", site], workdir, port)


def hummingbird(binary, workdir, port, site):
    return Server("hummingbird", "Hummingbird 2 FileMiddleware (SwiftNIO)", True,
                  [binary, site, str(port)], workdir, port)
