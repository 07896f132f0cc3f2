import ArgumentParser
import FerryKit
import Glibc

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a directory over HTTP/1.1.",
        discussion: """
            The parent process accepts every connection and passes it over a UNIX socket \
            (SCM_RIGHTS) to the preforked worker holding the fewest connections; each worker \
            runs an epoll loop over all the connections it holds, for their whole life \
            (keep-alive included), and sends files with sendfile(2), or with a read/write \
            loop under --copy. Above --max-connections a new connection gets 503. \
            --model prefork-pass is the classic design (UNP 30.9): one connection at a time \
            per worker, the pool growing up to --max-workers.

            Settings come from conf/ferry.toml (or --config FILE) when it exists; flags override \
            it. SIGINT or SIGTERM stops accepting, lets responses in flight finish, and prints \
            what each worker did.
            """
    )

    @Argument(help: "Directory to serve (default: [server] root of the config, else ./public).")
    var directory: String?

    @Option(help: "Directory to serve (same as the positional DIR).")
    var root: String?

    @Option(help: "Configuration file (default: conf/ferry.toml when it exists).")
    var config: String?

    @Option(help: "Host or address to listen on; 'localhost' listens on 127.0.0.1 and ::1.")
    var host: String?

    @Option(help: "TCP port; 0 picks a free port (the printed URL shows it).")
    var port: Int?

    @Option(help: "Worker processes started up front (default: one per CPU).")
    var workers: Int?

    @Option(name: .customLong("max-workers"), help: "prefork-pass: most workers the pool grows to when all stay busy (20 ms without one finishing).")
    var maxWorkers: Int?

    @Option(help: "Concurrency model: \(ModelCatalog.names.joined(separator: ", ")).")
    var model: String?

    @Flag(help: "Send bodies with a read/write copy loop instead of sendfile(2).")
    var copy = false

    @Flag(help: "Send bodies with sendfile(2) (the default; overrides [body] mode = \"copy\").")
    var sendfile = false

    @Flag(name: .customLong("no-cork"), help: "Do not set TCP_CORK around the head and first body bytes.")
    var noCork = false

    @Flag(name: .customLong("no-listing"), help: "Answer 403 for directories without index.html.")
    var noListing = false

    @Option(name: .customLong("access-log"), help: "Access log: stdout, off, or a file path.")
    var accessLog: String?

    @Option(name: .customLong("max-connections"), help: "Most connections held at once; above it a new one gets 503.")
    var maxConnections: Int?

    @Option(name: .customLong("keepalive-timeout"), help: "Idle seconds allowed between requests on a connection (0: no keep-alive).")
    var keepAliveTimeout: Double?

    @Option(name: .customLong("keepalive-requests"), help: "Most requests answered on one connection.")
    var keepAliveRequests: Int?

    @Flag(name: .customLong("minimal-http10"), help: "Answer every request as HTTP/1.0 with Connection: close, one per connection.")
    var minimalHTTP10 = false

    func validate() throws {
        if copy && sendfile { throw ValidationError("--copy and --sendfile contradict each other; pass one") }
        if directory != nil && root != nil { throw ValidationError("give the directory once: DIR or --root") }
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be from 0 to 65535") }
        if let workers, !(1...1024).contains(workers) { throw ValidationError("--workers must be from 1 to 1024") }
        if let maxWorkers, !(1...4096).contains(maxWorkers) { throw ValidationError("--max-workers must be from 1 to 4096") }
    }

    func run() throws {
        // A client that disconnects is an EPIPE to log, never a reason to die.
        signal(SIGPIPE, SIG_IGN)
        var settings = try loadConfig()
        if let directory = directory ?? root { settings.root = directory }
        if let host { settings.host = host }
        if let port { settings.port = port }
        if let workers {
            settings.workers = workers
            settings.maxWorkers = max(settings.maxWorkers, workers)
        }
        if let maxWorkers { settings.maxWorkers = maxWorkers }
        if let model { settings.model = model }
        if copy { settings.bodyMode = .copy }
        if sendfile { settings.bodyMode = .sendfile }
        if noCork { settings.cork = false }
        if noListing { settings.listing = false }
        if let maxConnections { settings.maxConnections = maxConnections }
        if let keepAliveTimeout { settings.keepAliveTimeout = keepAliveTimeout }
        if let keepAliveRequests { settings.keepAliveRequests = keepAliveRequests }
        if minimalHTTP10 { settings.minimalHTTP10 = true }
        if let accessLog {
            switch accessLog {
            case "stdout": settings.accessLog = .stdout
            case "off": settings.accessLog = .off
            default: settings.accessLog = .file(accessLog)
            }
        }
        do {
            try settings.validate(models: ModelCatalog.names)
        } catch {
            fail("\(error)", code: 2)
        }
        do {
            try FileServer(config: settings).run()
        } catch {
            fail("\(error)", code: (error as? FileServerError)?.exitCode ?? 1)
        }
    }

    /// The explicit --config, else conf/ferry.toml when present, else the defaults.
    private func loadConfig() throws -> ServerConfig {
        let path: String
        if let config {
            path = config
        } else if access("conf/ferry.toml", F_OK) == 0 {
            path = "conf/ferry.toml"
        } else {
            return ServerConfig()
        }
        do {
            return try ConfigLoader.load(path: path, models: ModelCatalog.names)
        } catch {
            fail("\(error)", code: 2)
        }
    }

    private func fail(_ message: String, code: Int32) -> Never {
        Console.error("ferry: \(message)")
        Glibc.exit(code)
    }
}
