/// Serves files over HTTP/1.0: one request per connection. One handler per worker
/// process or thread: it owns that worker's content-type cache and date cache.
public final class HTTPFileHandler: ConnectionHandler {
    let config: ServerConfig
    let limits: HeadLimits
    let responder: StaticFileResponder
    let accessLog: AccessLog
    /// Where sessions read into before keeping what they need: allocated once per
    /// worker instead of per read (the sessions of one handler never run at once).
    var scratch = [UInt8](repeating: 0, count: 4096)

    public init(config: ServerConfig, root: DocumentRoot, extensions: ExtensionTable, accessLog: AccessLog) {
        self.config = config
        var limits = HeadLimits()
        limits.requestLineBytes = config.requestLineBytes
        limits.headerBytes = config.headerBytes
        limits.headerFields = config.headerFields
        self.limits = limits
        self.accessLog = accessLog
        responder = StaticFileResponder(root: root, types: ContentTypeResolver(table: extensions),
                                        dates: DateHeaderCache(), serverName: config.serverName,
                                        listing: config.listing)
    }

    public func makeSession(socket: Int32, peer: SocketAddress) -> Session {
        HTTPSession(socket: socket, peer: peer, handler: self)
    }
}
