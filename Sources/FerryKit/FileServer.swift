import Glibc

/// `ferry serve`: the document root, the listeners and the chosen concurrency model
/// put together, with the HTTP file handler on every connection.
public struct FileServer {
    public let config: ServerConfig
    /// Builds the configuration again on SIGHUP (the file re-read, the same flags
    /// applied over it); nil: SIGHUP keeps the running configuration.
    public let rebuild: (() throws -> ServerConfig)?
    /// What `rebuild` reads, for the reload's log line ("conf/ferry.toml").
    public let source: String

    public init(config: ServerConfig, source: String = "the configuration",
                rebuild: (() throws -> ServerConfig)? = nil) {
        self.config = config
        self.source = source
        self.rebuild = rebuild
    }

    /// Listens, announces the URLs on standard output, serves until SIGINT/SIGTERM,
    /// then prints what each worker did. Throws a `FileServerError` with a one-line
    /// message when it cannot start. Establishes the signal state the server depends
    /// on (`ProcessSignals`) itself.
    public func run() throws {
        ProcessSignals.establish()
        ProcessSignals.holdOperatorSignals()
        guard let model = ModelCatalog.model(named: config.model) else {
            throw FileServerError("unknown model '\(config.model)' (known: \(ModelCatalog.names.joined(separator: ", ")))")
        }
        var config = self.config
        // The open-file cache is a handler's: one per thread (per connection, for
        // --model thread) would multiply its descriptors past the budget counted
        // below, and its inotify instances past the user's limit. These lab models
        // open each file per request.
        if type(of: model).handlerPerThread { config.fileCache = false }
        let maxConnections = try Self.fitDescriptors(&config)
        try Self.checkConnectionsPerAddress(config)
        let root: DocumentRoot
        do { root = try DocumentRoot(path: config.root) } catch { throw FileServerError("\(error)") }
        let drop = try PrivilegeDrop.plan(config, documentRoot: root.path)
        if drop?.chrootDirectory != nil && !root.usesOpenat2 {
            throw FileServerError("[server] chroot needs openat2 (Linux 5.6 or later) to open files beneath the root",
                                  exitCode: 2)
        }
        let listeners = try Self.openListeners(config)
        let accessLog: AccessLog
        do { accessLog = try AccessLog(config.accessLog) } catch { throw FileServerError("\(error)") }
        let errorPages = try Self.openErrorPages(config)
        let extensions = ExtensionTable()
        if drop != nil { MagicDatabase.preload() }
        DiskReaders.openSink()
        let pidFile = try PidFile(path: config.pidFile)
        defer { pidFile.remove() }

        var options = Self.modelOptions(config, maxConnections: maxConnections, accessLog: accessLog)
        if let drop { try Self.arrange(drop, for: type(of: model), in: &options) }
        let scheduling = Self.arrange(config.scheduling, for: type(of: model), in: &options)
        if let rebuild {
            let reload = ServerReload(running: config, accessLog: accessLog, extensions: extensions,
                                      source: source, rebuild: rebuild, log: options.log)
            options.reload = reload.reload
        }

        let urls = listeners.map(\.url)
        let pool = type(of: model).startsPool ? ", \(config.workers) worker\(config.workers == 1 ? "" : "s")" : ""
        Console.out("Ferry serving \(root.path) at \(urls.joined(separator: " and "))"
                    + " (\(config.model)\(pool), \(config.bodyMode.rawValue)"
                    + ", cork \(config.cork ? "on" : "off"), scheduling \(scheduling.rawValue))")
        let tallies = try model.run(listeners: listeners,
                                    makeHandler: Self.handlerFactory(config, root: root, extensions: extensions,
                                                                     errorPages: errorPages, accessLog: accessLog),
                                    options: options)
        Console.out(Self.report(tallies))
    }

    /// `[http] error_pages`, opened now (a chrooted worker could not open it later).
    static func openErrorPages(_ config: ServerConfig) throws -> ErrorPages? {
        guard !config.errorPages.isEmpty else { return nil }
        guard let pages = ErrorPages(path: config.errorPages) else {
            throw FileServerError("[http] error_pages: cannot open \(config.errorPages)", exitCode: 2)
        }
        return pages
    }

    /// Makes each worker's handler for `config`.
    static func handlerFactory(_ config: ServerConfig, root: DocumentRoot, extensions: ExtensionTable,
                               errorPages: ErrorPages?, accessLog: AccessLog) -> HandlerFactory {
        { HTTPFileHandler(config: config, root: root, extensions: extensions, errorPages: errorPages, accessLog: accessLog) }
    }

    /// The model's settings from `config`.
    static func modelOptions(_ config: ServerConfig, maxConnections: Int, accessLog: AccessLog) -> ModelOptions {
        var options = ModelOptions()
        options.workers = config.workers
        options.maxWorkers = config.maxWorkers
        options.drainTimeout = config.drainTimeout
        options.maxConnections = maxConnections
        options.maxConnectionsPerAddress = config.maxConnectionsPerAddress
        options.accessLog = accessLog
        return options
    }

    /// Where the privilege drop happens: in each forked worker right after fork (the
    /// parent stays root to reload and reopen logs, and never parses a client's bytes;
    /// a trial drop in a child first, so a drop that cannot work stops startup instead
    /// of failing in worker after worker), or in this process for the models that
    /// serve in it.
    private static func arrange(_ drop: PrivilegeDrop, for model: ServerModel.Type, in options: inout ModelOptions) throws {
        if model.forksWorkers {
            if let problem = drop.probe() { throw FileServerError("cannot drop privileges: \(problem)") }
            options.enterWorker = { drop.applyInWorker() }
        } else if let problem = drop.apply() {
            throw FileServerError("cannot drop privileges: \(problem)")
        }
        Console.error("ferry: serving as \(drop.userName):\(drop.groupName) (uid \(drop.uid), gid \(drop.gid))"
                      + (drop.chrootDirectory.map { ", chrooted to \($0)" } ?? ""))
    }

    /// Where the scheduling policy is set: in each forked worker after its privilege
    /// drop (the parent, which only accepts and passes, keeps the policy it was started
    /// with, so that it still preempts to hand a connection over), or in this process,
    /// before it starts any thread, for the models that serve in it. A policy the kernel
    /// refuses here is one line, and serving goes on under the one Ferry was started with
    /// (`normal`, which is what it returns then; else the policy asked for).
    private static func arrange(_ scheduling: SchedulingPolicy, for model: ServerModel.Type,
                                in options: inout ModelOptions) -> SchedulingPolicy {
        let problem = model.forksWorkers ? scheduling.probe() : scheduling.apply()
        if let problem {
            Console.error("ferry: [server] scheduling \"\(scheduling.rawValue)\": \(problem); serving under the policy ferry was started with")
            return .normal
        }
        guard model.forksWorkers, scheduling != .normal else { return scheduling }
        let enter = options.enterWorker
        options.enterWorker = {
            enter()
            if let problem = scheduling.apply() { Console.error("ferry: worker \(getpid()): [server] scheduling: \(problem)") }
        }
        return scheduling
    }

    /// The sockets a service manager passed (socket activation), else Ferry's own,
    /// bound to `[server] host` and `port`.
    static func openListeners(_ config: ServerConfig) throws -> [Listener] {
        if let activated = try SocketActivation.listeners() { return activated }
        var options = Listener.Options()
        options.backlog = Int32(config.backlog)
        options.deferAcceptSeconds = Int32(config.deferAcceptSeconds)
        options.reusePort = config.reusePort
        do {
            return try Listener.open(host: config.host, port: config.port, options: options)
        } catch {
            throw FileServerError("cannot listen on \(config.host) port \(config.port): \(error)"
                                  + " (choose another with --port, or --port 0 for any free port)")
        }
    }

    /// Fits the configuration to the descriptor limit (raised to the hard limit first) and
    /// returns the connections a process may hold. The open-file cache's default bound is
    /// lowered to a quarter of a small limit, so that the cache does not eat the
    /// connections' share; the connections are checked beside what the cache keeps. The
    /// note about the cache is printed only once the connections fit, so that a refusal
    /// stays one line.
    static func fitDescriptors(_ config: inout ServerConfig) throws -> Int {
        let limit = DescriptorLimit.raiseToHardLimit()
        let chosen = config.openFiles
        let share = max(16, limit / 4)
        let lowersOpenFiles = config.fileCache && chosen == ServerConfig().openFiles && chosen > share
        if lowersOpenFiles { config.openFiles = share }
        let maxConnections = try fitMaxConnections(config.maxConnections, within: limit,
                                                   besides: config.fileCache ? config.openFiles : 0)
        if lowersOpenFiles {
            Console.error("ferry: [cache] open_files lowered from \(chosen) to \(share) to fit the descriptor limit of \(limit)")
        }
        return maxConnections
    }

    /// Checks that the descriptor limit holds `requested` connections beside `kept`
    /// descriptors of a worker's own (its open-file cache). The default is lowered to fit,
    /// with one line on standard error, so that a machine with a small hard limit still
    /// starts; a value somebody chose is refused instead.
    private static func fitMaxConnections(_ requested: Int, within limit: Int, besides kept: Int) throws -> Int {
        let fitting = DescriptorLimit.connections(fitting: limit, besides: kept)
        guard requested > fitting else { return requested }
        let needed = DescriptorLimit.limit(holding: requested, besides: kept)
        if requested == ServerConfig().maxConnections {
            Console.error("ferry: max_connections lowered from \(requested) to \(fitting) to fit the descriptor limit "
                          + "of \(limit); raise it (ulimit -n \(needed), or LimitNOFILE=\(needed) under systemd) to hold more")
            return fitting
        }
        throw FileServerError("max_connections \(requested) needs a descriptor limit of \(needed), but the hard limit "
                              + "is \(limit): raise it (ulimit -n \(needed), or LimitNOFILE=\(needed) under systemd) "
                              + "or lower max_connections to \(fitting)"
                              + (kept > 0 ? " ([cache] open_files keeps \(kept) more open in each worker)" : ""),
                              exitCode: 2)
    }

    /// max_connections_per_address needs a process that sees every connection open and
    /// close: prefork-pass-epoll's parent. Another model refuses it (exit code 2, one
    /// line naming the model that applies it) rather than ignore it.
    static func checkConnectionsPerAddress(_ config: ServerConfig) throws {
        guard config.maxConnectionsPerAddress > 0, let model = ModelCatalog.model(named: config.model),
              !type(of: model).limitsConnectionsPerAddress else { return }
        let applying = ModelCatalog.all.compactMap { model -> String? in
            let kind = type(of: model)
            return kind.limitsConnectionsPerAddress ? kind.name : nil
        }
        throw ConfigError(section: "server", key: "max_connections_per_address",
                          problem: "the \(config.model) model does not limit connections per address "
                              + "(\(applying.joined(separator: ", ")) does): set it to 0, or use --model \(applying[0])")
    }

    /// The exit report: one line per worker and a total, in bytes.
    public static func report(_ tallies: [WorkerTally]) -> String {
        var total = WorkerTally(label: "total")
        tallies.forEach { total.absorb($0) }
        return (tallies + [total]).map { tally in
            "\(tally.label): \(tally.connections) connections, \(tally.requests) requests, "
                + "\(tally.bytesViaSendfile) bytes via sendfile, "
                + "\(tally.bytesViaCopy) bytes via copy, \(tally.bytesFromMemory) bytes from memory"
        }.joined(separator: "\n")
    }
}

public struct FileServerError: Error, CustomStringConvertible {
    public let description: String
    /// 2 for a setting that cannot be honoured (like a bad flag), else 1.
    public let exitCode: Int32
    public init(_ description: String, exitCode: Int32 = 1) {
        self.description = description
        self.exitCode = exitCode
    }
}
