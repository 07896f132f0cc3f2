import ArgumentParser
import FerryKit
import Glibc

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a directory over HTTP/1.1.",
        discussion: """
            The parent process accepts every connection and passes it over a UNIX socket \
            (SCM_RIGHTS) to the preforked worker holding the fewest connections; each worker \
            runs an epoll loop over all the connections it holds, for their whole life \
            (keep-alive included), and sends files with sendfile(2), or with a read/write \
            loop under --copy. Above --max-connections a new connection gets 503, and so \
            does one from an address that holds --max-connections-per-address already. \
            --model prefork-pass is the classic design (UNP 30.9): one connection at a time \
            per worker, the pool growing up to --max-workers.

            Settings come from conf/ferry.toml (or --config FILE) when it exists; flags override \
            it. SIGINT or SIGTERM stops accepting, lets responses in flight finish, and prints \
            what each worker did.

            SIGHUP reloads the configuration (prefork-pass-epoll and prefork-pass): the file is \
            read again and the same flags applied over it; new workers take new connections, \
            old ones finish what they hold (a persistent connection gets one more response, \
            with Connection: close) and exit. A file that fails to load is one line on stderr \
            and changes nothing; what the listening sockets and the privileges depend on (host, \
            port, model, scheduling, backlog, defer_accept, reuse_port, user, group, chroot, \
            allow_root, pid_file) is kept until a restart. SIGUSR1 reopens the access log (logrotate's postrotate: \
            kill -USR1 $(cat PIDFILE), with --pid-file or [server] pid_file); the parent opens \
            it and passes it to the workers. A log that cannot be written drops lines, never \
            slows serving, and is reported at most once a minute.

            Started as root, it drops to --user/--group (nobody/nogroup) in every process that \
            serves, after binding and opening what it needs. Under systemd socket activation \
            (LISTEN_FDS, LISTEN_PID) it serves on the sockets it is given instead of binding.
            """
    )

    @Argument(help: "Directory to serve (default: [server] root of the config, else ./public).")
    var directory: String?

    @Option(help: "Directory to serve (same as the positional DIR).")
    var root: String?

    @Option(help: "Configuration file (default: conf/ferry.toml when it exists).")
    var config: String?

    @Option(help: "Host or address to listen on; 'localhost' listens on 127.0.0.1 and ::1.")
    var host: String?

    @Option(help: "TCP port; 0 picks a free port (the printed URL shows it).")
    var port: Int?

    @Option(help: "Worker processes started up front (default: one per CPU).")
    var workers: Int?

    @Option(name: .customLong("max-workers"), help: "prefork-pass: most workers the pool grows to when all stay busy (20 ms without one finishing).")
    var maxWorkers: Int?

    @Option(help: "Concurrency model: \(ModelCatalog.names.joined(separator: ", ")).")
    var model: String?

    @Option(help: "Scheduling of the serving processes: batch (SCHED_BATCH: a woken worker does not preempt a running one) or normal.")
    var scheduling: String?

    @Flag(help: "Send bodies with a read/write copy loop instead of sendfile(2).")
    var copy = false

    @Flag(help: "Send bodies with sendfile(2) (the default; overrides [body] mode = \"copy\").")
    var sendfile = false

    @Flag(name: .customLong("no-cork"), help: "Send the head on its own, not with MSG_MORE (which lets it share segments with the first body bytes).")
    var noCork = false

    @Flag(name: .customLong("no-listing"), help: "Answer 403 for directories without index.html.")
    var noListing = false

    @Flag(name: .customLong("no-precompressed"), help: "Never send a file's .br, .zst or .gz sidecar in its place.")
    var noPrecompressed = false

    @Flag(name: .customLong("no-digests"), help: "Never send Repr-Digest from a file's NAME.sha256 sidecar.")
    var noDigests = false

    @Flag(name: .customLong("no-file-cache"),
          help: "Open and stat every file on every request instead of keeping recently served ones open.")
    var noFileCache = false

    @Option(name: .customLong("error-pages"), help: "Directory of 404.html, 403.html, ... sent in place of the built-in error pages.")
    var errorPages: String?

    @Option(name: .customLong("limit-rate"), help: "Bytes per second for each file body (0: no limit), as nginx's limit_rate.")
    var limitRate: Int?

    @Option(name: .customLong("limit-rate-after"), help: "Bytes of each file body sent at full speed before --limit-rate applies.")
    var limitRateAfter: Int?

    @Option(name: .customLong("access-log"), help: "Access log: stdout, off, or a file path (SIGUSR1 reopens it).")
    var accessLog: String?

    @Option(name: .customLong("pid-file"), help: "File to write the server's process id to once it listens (removed on exit).")
    var pidFile: String?

    @Option(name: .customLong("max-connections"), help: "Most connections held at once; above it a new one gets 503.")
    var maxConnections: Int?

    @Option(name: .customLong("max-connections-per-address"),
            help: "Most connections held at once from one client address (IPv6: per /64); above it a new one gets 503 (0: no limit).")
    var maxConnectionsPerAddress: Int?

    @Option(name: .customLong("keepalive-timeout"), help: "Idle seconds allowed between requests on a connection (0: no keep-alive).")
    var keepAliveTimeout: Double?

    @Option(name: .customLong("keepalive-requests"), help: "Most requests answered on one connection.")
    var keepAliveRequests: Int?

    @Flag(name: .customLong("reuse-port"), help: "SO_REUSEPORT: let several ferry processes started with it listen on the same port.")
    var reusePort = false

    @Option(help: "Started as root: the user to serve as after setup (default: nobody).")
    var user: String?

    @Option(help: "Started as root: the one group kept after setup (default: nogroup).")
    var group: String?

    @Flag(help: "Started as root: also chroot every serving process to the document root.")
    var chroot = false

    @Flag(name: .customLong("allow-root"), help: "Serve as root when --user is root (refused otherwise).")
    var allowRoot = false

    @Flag(name: .customLong("minimal-http10"), help: "Answer every request as HTTP/1.0 with Connection: close, one per connection.")
    var minimalHTTP10 = false

    /// Only what no configuration key judges; the values' ranges are `ConfigSchema`'s,
    /// checked in `run` once flags and file are merged.
    func validate() throws {
        if copy && sendfile { throw ValidationError("--copy and --sendfile contradict each other; pass one") }
        if directory != nil && root != nil { throw ValidationError("give the directory once: DIR or --root") }
    }

    func run() throws {
        let settings: ServerConfig, flagForKey: [String: String]
        do {
            (settings, flagForKey) = try configuration()
        } catch {
            fail("\(error)", code: 2)
        }
        let server = FileServer(config: settings, source: configPath ?? "the built-in defaults",
                                rebuild: { try configuration().settings })
        do {
            try server.run()
        } catch let error as ConfigError {
            // A value only judged at start (an unknown user or group).
            if let key = error.key, let flag = flagForKey[key] { fail("\(flag): \(error.problem)", code: 2) }
            fail("\(error)", code: 2)
        } catch {
            fail("\(error)", code: (error as? FileServerError)?.exitCode ?? 1)
        }
    }

    /// The configuration file (when there is one) with the flags applied over it and
    /// validated: at start, and again on each SIGHUP, so flags keep overriding the
    /// file after a reload. Errors are one line naming the flag or the key. Also
    /// returns the flag behind each key a flag set.
    private func configuration() throws -> (settings: ServerConfig, flagForKey: [String: String]) {
        var settings = try configPath.map { try ConfigLoader.load(path: $0, models: ModelCatalog.names) } ?? ServerConfig()
        // The flag behind each configuration key a flag set, so an error names the flag.
        var flagForKey: [String: String] = [:]
        func set<Value>(_ field: WritableKeyPath<ServerConfig, Value>, _ value: Value?, key: String, flag: String) {
            guard let value else { return }
            settings[keyPath: field] = value
            flagForKey[key] = flag
        }
        set(\.root, directory, key: "server.root", flag: "DIR")
        set(\.root, root, key: "server.root", flag: "--root")
        set(\.host, host, key: "server.host", flag: "--host")
        set(\.port, port, key: "server.port", flag: "--port")
        set(\.workers, workers, key: "server.workers", flag: "--workers")
        if let workers { settings.maxWorkers = max(settings.maxWorkers, workers) }
        set(\.maxWorkers, maxWorkers, key: "server.max_workers", flag: "--max-workers")
        set(\.model, model, key: "server.model", flag: "--model")
        set(\.pidFile, pidFile, key: "server.pid_file", flag: "--pid-file")
        if let scheduling {
            guard let policy = SchedulingPolicy(rawValue: scheduling) else {
                let names = SchedulingPolicy.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
                throw ServeSettingsError("--scheduling: expected \(names), got \"\(scheduling)\"")
            }
            settings.scheduling = policy
        }
        if copy { settings.bodyMode = .copy }
        if sendfile { settings.bodyMode = .sendfile }
        if noCork { settings.cork = false }
        if noListing { settings.listing = false }
        if noPrecompressed { settings.precompressed = false }
        if noFileCache { settings.fileCache = false }
        if noDigests { settings.digests = false }
        set(\.maxConnections, maxConnections, key: "server.max_connections", flag: "--max-connections")
        set(\.maxConnectionsPerAddress, maxConnectionsPerAddress, key: "server.max_connections_per_address",
            flag: "--max-connections-per-address")
        set(\.keepAliveTimeout, keepAliveTimeout, key: "http.keepalive_timeout", flag: "--keepalive-timeout")
        set(\.keepAliveRequests, keepAliveRequests, key: "http.keepalive_requests", flag: "--keepalive-requests")
        if minimalHTTP10 { settings.minimalHTTP10 = true }
        if reusePort { settings.reusePort = true }
        set(\.user, user.map(Optional.some), key: "server.user", flag: "--user")
        set(\.group, group.map(Optional.some), key: "server.group", flag: "--group")
        if chroot { settings.chroot = true }
        if allowRoot { settings.allowRoot = true }
        set(\.errorPages, errorPages, key: "http.error_pages", flag: "--error-pages")
        set(\.limitRate, limitRate, key: "body.limit_rate", flag: "--limit-rate")
        set(\.limitRateAfter, limitRateAfter, key: "body.limit_rate_after", flag: "--limit-rate-after")
        set(\.accessLog, accessLog.map(Self.accessLogTarget), key: "log.access", flag: "--access-log")
        do {
            try settings.validate(models: ModelCatalog.names)
        } catch let error as ConfigError {
            if let key = error.key, let flag = flagForKey[key] { throw ServeSettingsError("\(flag): \(error.problem)") }
            throw error
        }
        if !settings.errorPages.isEmpty {
            var status = stat()
            if stat(settings.errorPages, &status) != 0 || status.st_mode & S_IFMT != S_IFDIR {
                let name = flagForKey["http.error_pages"] ?? "[http] error_pages"
                throw ServeSettingsError("\(name): \(settings.errorPages) is not a directory")
            }
        }
        return (settings, flagForKey)
    }

    private static func accessLogTarget(_ value: String) -> AccessLogTarget {
        switch value {
        case "stdout": return .stdout
        case "off": return .off
        default: return .file(value)
        }
    }

    /// The explicit --config, else conf/ferry.toml when present, else none (the defaults).
    private var configPath: String? {
        if let config { return config }
        return access("conf/ferry.toml", F_OK) == 0 ? "conf/ferry.toml" : nil
    }

    private func fail(_ message: String, code: Int32) -> Never {
        Console.error("ferry: \(message)")
        Glibc.exit(code)
    }
}

/// A flag or setting `ferry serve` cannot use, in one line.
struct ServeSettingsError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
