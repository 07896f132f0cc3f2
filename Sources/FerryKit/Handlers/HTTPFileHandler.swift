/// Serves files over HTTP/1.1 and HTTP/1.0, persistent connections included. One
/// handler per worker process or thread: it owns that worker's caches and buffers.
public final class HTTPFileHandler: ConnectionHandler {
    let settings: HTTPSessionSettings
    let context: HTTPWorkerContext

    /// `errorPages` is the `[http] error_pages` directory, opened once for every
    /// worker (nil for none).
    public init(config: ServerConfig, root: DocumentRoot, extensions: ExtensionTable, errorPages: ErrorPages?,
                accessLog: AccessLog, errorLog: @escaping (String) -> Void = { Console.error($0) }) {
        settings = HTTPSessionSettings(config)
        let responder = StaticFileResponder(root: root, types: ContentTypeResolver(table: extensions),
                                            options: ResponderOptions(config, errorPages: errorPages))
        context = HTTPWorkerContext(responder: responder, accessLog: accessLog, errorLog: errorLog)
    }

    public func makeSession(socket: Int32, peer: SocketAddress) -> Session {
        HTTPSession(socket: socket, peer: peer, settings: settings, context: context)
    }
}
