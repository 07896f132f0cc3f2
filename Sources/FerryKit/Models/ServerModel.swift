/// What a worker (process or thread) did, for the report printed at exit.
public struct WorkerTally: Equatable {
    public var label: String
    public var connections = 0
    public var requests = 0
    public var bytesViaSendfile: Int64 = 0
    public var bytesViaCopy: Int64 = 0
    public var bytesFromMemory: Int64 = 0

    public init(label: String) { self.label = label }

    public mutating func add(_ summary: SessionSummary) {
        connections += 1
        requests += summary.requests
        bytesViaSendfile += summary.bytesViaSendfile
        bytesViaCopy += summary.bytesViaCopy
        bytesFromMemory += summary.bytesFromMemory
    }

    /// Adds another worker's counts (for totals).
    public mutating func absorb(_ other: WorkerTally) {
        connections += other.connections
        requests += other.requests
        bytesViaSendfile += other.bytesViaSendfile
        bytesViaCopy += other.bytesViaCopy
        bytesFromMemory += other.bytesFromMemory
    }
}

/// Settings every concurrency model understands; each uses what applies to it.
public struct ModelOptions {
    /// Processes or threads started up front (pool models).
    public var workers = 2
    /// The most a growing pool may reach.
    public var maxWorkers = 2
    /// Most connections held at once (models that hold many); above it a new one is
    /// refused (the file server answers 503).
    public var maxConnections = 16_384
    /// Most connections held at once from one client address (`AddressKey`); 0: no
    /// limit. Only models with `limitsConnectionsPerAddress` apply it.
    public var maxConnectionsPerAddress = 0
    /// How long in-flight connections may take to finish after SIGINT/SIGTERM.
    public var drainTimeout = 30.0
    /// Where lifecycle messages go (worker replaced, draining, ...).
    public var log: (String) -> Void = { Console.error($0) }
    /// Runs in every forked process that serves (a worker, or fork's child per
    /// connection) right after fork, before it makes its handler or touches a
    /// connection: the file server drops privileges here. It exits the process
    /// itself when it fails. Models that do not fork never call it.
    public var enterWorker: () -> Void = {}
    /// The access log the handlers write to, reopened on SIGUSR1; nil when the
    /// handler keeps none.
    public var accessLog: AccessLog?
    /// SIGHUP: builds the handler and options of the new configuration, or reports
    /// why it cannot (one line) and returns nil. nil when the server cannot reload.
    /// Only the pool models (prefork-pass-epoll, prefork-pass) call it.
    public var reload: (() -> Reloaded?)?

    public init() {}

    /// SIGHUP's first step in a pool model: the new configuration, with its options
    /// carrying over what a reload keeps (the reload itself, the log, and the
    /// privilege drop: user, group and chroot need a restart). nil, said in one line,
    /// when there is nothing to reload or the new configuration failed.
    func reloaded() -> Reloaded? {
        guard let rebuild = reload else {
            log("ferry: SIGHUP: this server has no configuration to reload")
            return nil
        }
        guard var reloaded = rebuild() else { return nil }
        reloaded.options.reload = reload
        reloaded.options.log = log
        reloaded.options.enterWorker = enterWorker
        return reloaded
    }
}

/// A configuration rebuilt on SIGHUP, ready for new workers.
public struct Reloaded {
    public var makeHandler: HandlerFactory
    public var options: ModelOptions
    /// Where it came from, for the log line ("conf/ferry.toml").
    public var source: String
    /// Called by the model once the new workers run (the old configuration is then
    /// gone for good); not called when they cannot start.
    public var started: () -> Void = {}

    public init(makeHandler: @escaping HandlerFactory, options: ModelOptions, source: String) {
        self.makeHandler = makeHandler
        self.options = options
        self.source = source
    }
}

/// A way of dispatching connections to code: iterative, fork per client, select,
/// prefork with descriptor passing, ... Any model runs any `ConnectionHandler`.
public protocol ServerModel {
    /// The name used on the command line (`--model NAME`, `ferry demo NAME`).
    static var name: String { get }

    /// Whether `ModelOptions.workers` starts a pool of processes or threads up front.
    static var startsPool: Bool { get }

    /// Whether connections are served in forked processes (which call
    /// `ModelOptions.enterWorker`) rather than in the process that called `run`.
    static var forksWorkers: Bool { get }

    /// Whether it applies `ModelOptions.maxConnectionsPerAddress`: it needs one process
    /// that sees every connection open and close (prefork-pass-epoll's parent).
    static var limitsConnectionsPerAddress: Bool { get }

    /// Whether several threads of one process each make a handler (a thread per
    /// client or per pool slot), so per-handler state is multiplied by them.
    static var handlerPerThread: Bool { get }

    /// Serves connections from `listeners` until SIGINT or SIGTERM, then lets the
    /// connections in flight finish (bounded by `drainTimeout`) and returns what each
    /// worker did.
    func run(listeners: [Listener], makeHandler: @escaping HandlerFactory, options: ModelOptions) throws -> [WorkerTally]
}

public extension ServerModel {
    static var startsPool: Bool { false }
    static var forksWorkers: Bool { false }
    static var limitsConnectionsPerAddress: Bool { false }
    static var handlerPerThread: Bool { false }
}
