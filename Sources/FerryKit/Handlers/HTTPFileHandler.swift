/// Serves files over HTTP/1.1 and HTTP/1.0, persistent connections included. One
/// handler per worker process or thread: it owns that worker's caches and buffers.
public final class HTTPFileHandler: ConnectionHandler {
    let settings: HTTPSessionSettings
    let context: HTTPWorkerContext

    public init(config: ServerConfig, root: DocumentRoot, extensions: ExtensionTable, accessLog: AccessLog,
                errorLog: @escaping (String) -> Void = { Console.error($0) }) {
        settings = HTTPSessionSettings(config)
        let responder = StaticFileResponder(root: root, types: ContentTypeResolver(table: extensions),
                                            options: ResponderOptions(config))
        context = HTTPWorkerContext(responder: responder, accessLog: accessLog, errorLog: errorLog)
    }

    public func makeSession(socket: Int32, peer: SocketAddress) -> Session {
        HTTPSession(socket: socket, peer: peer, settings: settings, context: context)
    }
}
