import FerryKit

/// The HTTP handler one worker of `ferry serve` has for `root` with the default
/// configuration (open-file cache on, precompressed sidecars on), logging to
/// `accessLog`. An event loop's wakeup has been noted, as before any session runs.
public func makeWorkerHandler(root: String, accessLog: AccessLogTarget) throws -> HTTPFileHandler {
    let handler = HTTPFileHandler(config: ServerConfig(), root: try DocumentRoot(path: root),
                                  extensions: ExtensionTable(), errorPages: nil, accessLog: try AccessLog(accessLog))
    handler.loopWokeUp(changesReady: false)
    return handler
}
