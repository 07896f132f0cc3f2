// Serves one directory over HTTP with Hummingbird's FileMiddleware, as the framework's
// documentation shows, on 127.0.0.1. bench/compare starts it as:
//   HummingbirdFileServer ROOT PORT
// and stops it with SIGTERM. Logging stays at the default level (warnings only), like the
// other servers in the comparison with their access logs off.
import Foundation
import Hummingbird
import Logging

let arguments = CommandLine.arguments
guard arguments.count == 3, let port = Int(arguments[2]), (0...65535).contains(port) else {
    let name = arguments.first ?? "HummingbirdFileServer"
    print("usage: \(name) ROOT PORT   (serves ROOT on 127.0.0.1:PORT)")
    exit(2)
}
let root = arguments[1]

var logger = Logger(label: "hummingbird-file-server")
logger.logLevel = .warning

// Every path goes to the files; a missing one falls through to the router's 404.
let router = Router()
router.middlewares.add(FileMiddleware(root, searchForIndexHtml: false, logger: logger))

let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "hummingbird"),
    onServerRunning: { channel in
        // One line on stdout once the socket listens, with the port (useful when PORT is 0).
        print("listening on \(channel.localAddress?.port ?? port)")
        fflush(stdout)
    },
    logger: logger
)
do {
    try await app.runService()
} catch {
    // One line (a busy port, say), not a crash report.
    print("HummingbirdFileServer: \(error)")
    exit(1)
}
