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
        let maxConnections = try Self.fitMaxConnections(config.maxConnections)
        let root: DocumentRoot
        do { root = try DocumentRoot(path: config.root) } catch { throw FileServerError("\(error)") }
        let accessLog: AccessLog
        do { accessLog = try AccessLog(config.accessLog) } catch { throw FileServerError("\(error)") }
        let extensions = ExtensionTable()

        var listenerOptions = Listener.Options()
        listenerOptions.backlog = Int32(config.backlog)
        listenerOptions.deferAcceptSeconds = Int32(config.deferAcceptSeconds)
        let listeners: [Listener]
        do {
            listeners = try Listener.open(host: config.host, port: config.port, options: listenerOptions)
        } catch {
            throw FileServerError("cannot listen on \(config.host) port \(config.port): \(error)"
                                  + " (choose another with --port, or --port 0 for any free port)")
        }
        let pidFile = try PidFile(path: config.pidFile)
        defer { pidFile.remove() }

        let urls = listeners.map(\.url)
        let pool = type(of: model).startsPool ? ", \(config.workers) workers" : ""
        Console.out("Ferry serving \(root.path) at \(urls.joined(separator: " and "))"
                    + " (\(config.model)\(pool), \(config.bodyMode.rawValue)"
                    + ", cork \(config.cork ? "on" : "off"))")

        var options = Self.modelOptions(config, maxConnections: maxConnections, accessLog: accessLog)
        if let rebuild {
            let reload = ServerReload(running: config, accessLog: accessLog, extensions: extensions,
                                      source: source, rebuild: rebuild, log: options.log)
            options.reload = reload.reload
        }
        let tallies = try model.run(listeners: listeners,
                                    makeHandler: Self.handlerFactory(config, root: root, extensions: extensions,
                                                                     accessLog: accessLog),
                                    options: options)
        Console.out(Self.report(tallies))
    }

    /// Makes each worker's handler for `config`.
    static func handlerFactory(_ config: ServerConfig, root: DocumentRoot, extensions: ExtensionTable,
                               accessLog: AccessLog) -> HandlerFactory {
        { HTTPFileHandler(config: config, root: root, extensions: extensions, accessLog: accessLog) }
    }

    /// The model's settings from `config`.
    static func modelOptions(_ config: ServerConfig, maxConnections: Int, accessLog: AccessLog) -> ModelOptions {
        var options = ModelOptions()
        options.workers = config.workers
        options.maxWorkers = config.maxWorkers
        options.drainTimeout = config.drainTimeout
        options.maxConnections = maxConnections
        options.accessLog = accessLog
        return options
    }

    /// Raises the descriptor limit toward the hard limit and checks that it holds
    /// `requested` connections. The default is lowered to fit, with one line on
    /// standard error, so that a machine with a small hard limit still starts; a value
    /// somebody chose is refused instead.
    static func fitMaxConnections(_ requested: Int) throws -> Int {
        let limit = DescriptorLimit.raiseToHardLimit()
        let fitting = DescriptorLimit.connections(fitting: limit)
        guard requested > fitting else { return requested }
        let needed = DescriptorLimit.limit(holding: requested)
        if requested == ServerConfig().maxConnections {
            Console.error("ferry: max_connections lowered from \(requested) to \(fitting) to fit the descriptor limit "
                          + "of \(limit); raise it (ulimit -n \(needed), or LimitNOFILE=\(needed) under systemd) to hold more")
            return fitting
        }
        throw FileServerError("max_connections \(requested) needs a descriptor limit of \(needed), but the hard limit "
                              + "is \(limit): raise it (ulimit -n \(needed), or LimitNOFILE=\(needed) under systemd) "
                              + "or lower max_connections to \(fitting)", exitCode: 2)
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
