/// Serves files over HTTP/1.1 and HTTP/1.0, persistent connections included. One
/// handler per worker process or thread: it owns that worker's caches and buffers.
public final class HTTPFileHandler: ConnectionHandler {
    /// Public to the benchmarks (benchmarks/), which drive its responder and access log directly.
    @_spi(Benchmarks) public let context: HTTPWorkerContext

    /// `errorPages` is the `[http] error_pages` directory, opened once for every
    /// worker (nil for none).
    public init(config: ServerConfig, root: DocumentRoot, extensions: ExtensionTable, errorPages: ErrorPages?,
                accessLog: AccessLog, errorLog: @escaping (String) -> Void = { Console.error($0) }) {
        let settings = HTTPSessionSettings(config)
        let dates = DateHeaderCache(server: settings.serverName)
        let cache = config.fileCache ? OpenFileCache(root: root, limits: OpenFileCache.Limits(config)) : nil
        let maker = FileEntryMaker(root: root, types: ContentTypeResolver(table: extensions),
                                   precompressed: config.precompressed, headerRules: config.headerRules)
        let responder = StaticFileResponder(catalog: FileCatalog(root: root, maker: maker, cache: cache),
                                            options: ResponderOptions(config, errorPages: errorPages), dates: dates)
        context = HTTPWorkerContext(settings: settings, responder: responder, dates: dates,
                                    accessLog: AccessLogWriter(log: accessLog, dates: dates), cache: cache,
                                    errorLog: errorLog)
    }

    public func makeSession(socket: Int32, peer: SocketAddress) -> Session {
        HTTPSession(socket: socket, peer: PeerAddress(peer), context: context)
    }

    // MARK: the event loop's hooks

    public var changeDescriptor: Int32 { context.cache?.changeDescriptor ?? -1 }

    public func loopWokeUp(changesReady: Bool) {
        context.accessLog.gathersLines = true
        context.cache?.noteWakeup(changesReady: changesReady)
    }

    public func loopIterationEnded() {
        context.accessLog.flush()
        context.cache?.sweepInactive()
    }

    public var nextWakeup: UInt64 { context.cache?.nextSweepTime ?? 0 }
}
