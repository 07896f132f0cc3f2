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
        // Loading refuses a server_name that is not a field value; a ServerConfig built
        // in code without that check gets the default instead of a broken head.
        let dates = DateHeaderCache(server: FieldValue(config.serverName) ?? "Ferry")
        let cache = config.fileCache ? OpenFileCache(root: root, limits: OpenFileCache.Limits(config)) : nil
        let maker = FileEntryMaker(root: root, types: ContentTypeResolver(table: extensions),
                                   precompressed: config.precompressed, digests: config.digests,
                                   headerRules: config.headerRules, log: errorLog)
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
        context.loopWokeUp()
        context.cache?.noteWakeup(changesReady: changesReady, now: context.now)
    }

    public func loopIterationEnded() {
        context.accessLog.flush()
        context.cache?.sweepInactive()
    }

    public var nextWakeup: UInt64 { context.cache?.nextSweepTime ?? 0 }

    public var completionDescriptor: Int32 { context.readers?.completionDescriptor ?? -1 }

    public func takeCompletions(into sockets: inout [Int32]) {
        context.readers?.takeCompletions(into: &sockets)
    }
}
