import Glibc

/// How a worker sends a file body: `sendfile(2)` from the page cache, or a
/// `read(2)`/`write(2)` loop through a user-space buffer.
public enum BodyMode: String, Equatable, CaseIterable {
    case sendfile, copy
}

/// Where access log lines go.
public enum AccessLogTarget: Equatable {
    case stdout
    case off
    /// A file, opened for appending; an absolute path once loaded from a file.
    case file(String)
}

/// Every setting of `ferry serve`. The defaults here are the ones `conf/ferry.toml`
/// spells out (a unit test keeps the two equal); the comments name the file key.
/// Ranges are checked by `validate(models:)`, not on assignment.
public struct ServerConfig: Equatable {
    /// [server] root: the document root.
    public var root: String = "public"
    /// [server] host: name or address to listen on; "localhost" gives 127.0.0.1 and ::1.
    public var host: String = "localhost"
    /// [server] port: 0...65535, 0 lets the kernel pick a free port.
    public var port: Int = 8080
    /// [server] workers: preforked workers at start, 1...1024.
    public var workers: Int = ServerConfig.defaultWorkers
    /// [server] max_workers: the prefork-pass pool grows up to this when every worker is busy.
    public var maxWorkers: Int = 64
    /// [server] model: concurrency model, one of the names `validate(models:)` is given.
    public var model: String = "prefork-pass-epoll"
    /// [server] scheduling: the kernel's policy for the processes that serve (the
    /// workers; the process itself in the models that serve in it).
    public var scheduling: SchedulingPolicy = .normal
    /// [server] backlog: listen(2) backlog, 1...65535.
    public var backlog: Int = 1024
    /// [server] defer_accept: TCP_DEFER_ACCEPT seconds, 0...600, 0 = off.
    public var deferAcceptSeconds: Int = 5
    /// [server] max_connections: connections held at once; above it a new one gets 503.
    public var maxConnections: Int = 16_384
    /// [server] max_connections_per_address: connections held at once from one client
    /// address (an IPv6 client's /64); above it a new one gets 503. 0 = off.
    public var maxConnectionsPerAddress: Int = 0
    /// [server] reuse_port: SO_REUSEPORT on the listeners, so several instances share a port.
    public var reusePort: Bool = false
    /// [server] user: who serves once a process started as root drops privileges;
    /// nil (unset) is `defaultUser`. Ignored when not started as root.
    public var user: String? = nil
    /// [server] group: the one group kept after the drop; nil (unset) is `defaultGroup`.
    public var group: String? = nil
    /// [server] chroot: confine the serving processes to the document root (root only).
    public var chroot: Bool = false
    /// [server] allow_root: serve as root when `user` is root (otherwise refused).
    public var allowRoot: Bool = false
    /// [server] pid_file: where the parent writes its process id once it listens
    /// (removed on exit), for `kill -HUP` and logrotate; "" for none.
    public var pidFile: String = ""
    /// [http] listing: answer a directory without index.html with a listing.
    public var listing: Bool = true
    /// [http] precompressed: send a file's .br/.zst/.gz sidecar when the client accepts it.
    public var precompressed: Bool = true
    /// [http] digests: send Repr-Digest from a file's NAME.sha256 beside it.
    public var digests: Bool = true
    /// [http] error_pages: a directory of "404.html", "403.html", ... pages sent with
    /// those statuses in place of the built-in ones; "" for none.
    public var errorPages: String = ""
    /// [[headers]]: response fields set or removed by path, in file order.
    public var headerRules: [HeaderRule] = []
    /// [http] server_name: the Server header, 1...64 printable ASCII characters.
    public var serverName: String = "Ferry"
    /// [http] keepalive_timeout: idle seconds allowed between requests on a connection.
    public var keepAliveTimeout: Double = 15
    /// [http] keepalive_requests: most requests answered on one connection.
    public var keepAliveRequests: Int = 1000
    /// [http] minimal_http10: every response HTTP/1.0 with Connection: close.
    public var minimalHTTP10: Bool = false
    /// [body] mode.
    public var bodyMode: BodyMode = .sendfile
    /// [body] cork: the head sent with MSG_MORE when a file body follows, so both
    /// leave in the same segments (TCP_CORK's promise without its setsockopt calls).
    public var cork: Bool = true
    /// [body] sendfile_chunk: bytes per sendfile(2) call.
    public var sendfileChunkBytes: Int = 262_144
    /// [body] copy_buffer: buffer bytes for the copy mode.
    public var copyBufferBytes: Int = 65_536
    /// [body] send_per_turn: body bytes one connection sends before the others get a turn.
    public var sendPerTurn: Int = 2 << 20
    /// [body] reader_threads: threads per worker that bring files into the page cache
    /// off the event loop (0: reads happen on the loop).
    public var readerThreads: Int = 4
    /// [body] read_ahead: bytes read ahead of a download that was found not cached.
    public var readAheadBytes: Int = 4 << 20
    /// [body] limit_rate: file body bytes per second per response (0: no limit).
    public var limitRate: Int = 0
    /// [body] limit_rate_after: file body bytes sent at full speed before the limit.
    public var limitRateAfter: Int = 0
    /// [cache] enabled: each worker keeps recently served files open, never stale.
    public var fileCache: Bool = true
    /// [cache] open_files: most descriptors each worker's open-file cache holds.
    public var openFiles: Int = 1024
    /// [cache] inactive: seconds an unused file stays in the cache.
    public var fileCacheInactive: Double = 60
    /// [limits] request_line: longest request line in bytes.
    public var requestLineBytes: Int = 8192
    /// [limits] header_bytes: longest request head in bytes.
    public var headerBytes: Int = 16_384
    /// [limits] header_fields: most header fields in a request.
    public var headerFields: Int = 100
    /// [limits] max_ranges: most ranges in one Range field; more gets the whole file.
    public var maxRanges: Int = ByteRange.defaultMaxRanges
    /// [limits] head_timeout: seconds to receive the request head.
    public var headTimeout: Double = 10
    /// [limits] send_timeout: seconds a send may make no progress.
    public var sendTimeout: Double = 60
    /// [limits] drain_timeout: seconds to let busy workers finish on shutdown.
    public var drainTimeout: Double = 30
    /// [log] access.
    public var accessLog: AccessLogTarget = .stdout

    public init() {}

    /// The user and group a root start drops to when none is configured.
    public static let defaultUser = "nobody"
    public static let defaultGroup = "nogroup"

    /// The default worker count: one per online CPU (an event-driven worker keeps its
    /// CPU busy by itself), at most 64 so that the defaults satisfy max_workers >= workers.
    public static var defaultWorkers: Int {
        let cpus = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return min(max(cpus, 1), 64)
    }
}
