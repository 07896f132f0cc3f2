/// What `ferry serve` does on SIGHUP: builds the configuration again, keeps the
/// settings bound to what the parent holds (the listening sockets, the model, the
/// pid file, the privileges its workers drop to) as they were, opens what the new
/// configuration names (document root, error pages, access log: the parent may,
/// its workers may have dropped the right to) and gives the model a handler factory
/// for its new workers. A
/// configuration that fails to load, validate or open is one line on standard
/// error, and the running one stays.
final class ServerReload {
    /// Settings that only a restart can change, by their configuration key.
    static let restartOnly: [(key: String, keep: (ServerConfig, inout ServerConfig) -> Bool)] = [
        keeping("server.host", \.host),
        keeping("server.port", \.port),
        keeping("server.model", \.model),
        keeping("server.scheduling", \.scheduling),
        keeping("server.backlog", \.backlog),
        keeping("server.defer_accept", \.deferAcceptSeconds),
        keeping("server.pid_file", \.pidFile),
        keeping("server.reuse_port", \.reusePort),
        keeping("server.user", \.user),
        keeping("server.group", \.group),
        keeping("server.chroot", \.chroot),
        keeping("server.allow_root", \.allowRoot),
    ]

    /// Chrooted workers are confined to the root they started with.
    static let keptWhenChrooted = keeping("server.root", \.root)

    private var running: ServerConfig
    private var accessLog: AccessLog
    private let extensions: ExtensionTable
    private let source: String
    private let rebuild: () throws -> ServerConfig
    private let log: (String) -> Void

    init(running: ServerConfig, accessLog: AccessLog, extensions: ExtensionTable, source: String,
         rebuild: @escaping () throws -> ServerConfig, log: @escaping (String) -> Void) {
        self.running = running
        self.accessLog = accessLog
        self.extensions = extensions
        self.source = source
        self.rebuild = rebuild
        self.log = log
    }

    /// The new configuration's handler and options, or nil (reported) when it fails.
    func reload() -> Reloaded? {
        do {
            var next = try rebuild()
            let rules = Self.restartOnly + (running.chroot ? [Self.keptWhenChrooted] : [])
            let kept = rules.filter { $0.keep(running, &next) }.map(\.key)
            let maxConnections = try FileServer.fitDescriptors(&next)
            try FileServer.checkConnectionsPerAddress(next)
            let root: DocumentRoot
            do { root = try DocumentRoot(path: next.root) } catch { throw FileServerError("\(error)") }
            let errorPages = try FileServer.openErrorPages(next)
            let nextLog = next.accessLog == accessLog.target ? accessLog : try AccessLog(next.accessLog)
            var reloaded = Reloaded(makeHandler: FileServer.handlerFactory(next, root: root, extensions: extensions,
                                                                           errorPages: errorPages, accessLog: nextLog),
                                    options: FileServer.modelOptions(next, maxConnections: maxConnections,
                                                                     accessLog: nextLog),
                                    source: source)
            reloaded.started = { [self] in
                if !kept.isEmpty {
                    log("ferry: kept: \(kept.joined(separator: ", ")) (\(kept.count == 1 ? "needs" : "need") a restart)")
                }
                if nextLog !== accessLog {
                    // The workers of the old configuration keep their own copies.
                    accessLog.close()
                    accessLog = nextLog
                }
                running = next
            }
            return reloaded
        } catch {
            log("ferry: reload failed: \(error); still serving with the previous configuration")
            return nil
        }
    }

    /// A restart-only field: when `next` changes it, the running value is put back
    /// and the key reported.
    private static func keeping<Value: Equatable>(_ key: String, _ field: WritableKeyPath<ServerConfig, Value>)
        -> (key: String, keep: (ServerConfig, inout ServerConfig) -> Bool) {
        (key, { running, next in
            guard running[keyPath: field] != next[keyPath: field] else { return false }
            next[keyPath: field] = running[keyPath: field]
            return true
        })
    }
}
