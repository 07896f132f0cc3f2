import FerryKit
import Glibc

/// `ferry bench`: the classic design comparison (UNP vol. 1, ch. 30) measured on this
/// machine. Each design runs as its own server process (`ferry demo MODEL` for the echo
/// protocol, `ferry serve --model MODEL` for HTTP) under `ferry client`; the server's
/// CPU time, its own and its reaped children's, comes from wait4 when it exits.
public struct DesignBench {
    public enum Workload: String, CaseIterable {
        case echo, http
    }

    public struct Options {
        /// Pool size for the pooled designs (the book used 15).
        public var children = 15
        /// `ferry client -c`: client processes.
        public var clients = 5
        /// `ferry client -t`: connections per client process.
        public var connectionsPerClient = 1000
        /// Bytes per connection: the echo answer, or the size of the served file.
        public var bytes = 4000
        public var workloads = Workload.allCases
        /// Model names to run; nil for all.
        public var models: Set<String>?
        public init() {}
    }

    /// One measured row.
    public struct Result {
        public var variant: DesignVariant
        public var workload: Workload
        public var serverCPUSeconds: Double
        public var connections: Int
        public var failures: Int
        public var connectionsPerSecond: Double
        /// Connections (or requests) per worker, process or thread.
        public var distribution: [Int]
    }

    public let options: Options

    public init(options: Options) {
        self.options = options
    }

    /// Runs every selected design for every workload; `progress` hears each row as it ends.
    public func run(progress: (Result) -> Void) throws -> [Result] {
        let site = try BenchSite(fileSize: options.bytes)
        defer { site.remove() }
        var results: [Result] = []
        for workload in options.workloads {
            for variant in DesignVariant.all where selected(variant) && (workload == .echo || variant.servesHTTP) {
                let result = try measure(variant, workload, site: site)
                progress(result)
                results.append(result)
            }
        }
        return results
    }

    private func selected(_ variant: DesignVariant) -> Bool {
        ModelCatalog.model(named: variant.model) != nil && (options.models?.contains(variant.model) ?? true)
    }

    private func measure(_ variant: DesignVariant, _ workload: Workload, site: BenchSite) throws -> Result {
        let pool = String(options.children)
        let serverArguments: [String]
        switch workload {
        case .echo:
            serverArguments = ["demo", variant.model, "-i", "127.0.0.1", "-p", "0"]
                + (variant.pooled ? ["-n", pool] : []) + variant.demoArguments
        case .http:
            serverArguments = ["serve", site.root, "--config", site.config, "--model", variant.model,
                               "--host", "127.0.0.1", "--port", "0", "--workers", pool, "--max-workers", pool,
                               "--access-log", "off"]
        }
        let server = try Subprocess(ferry: serverArguments)
        guard server.waitForOutput("127.0.0.1:", timeout: 20), let port = Self.port(in: server.text) else {
            _ = server.finish(signal: SIGKILL)
            throw BenchError("\(variant.title): the server did not start: \(server.text)")
        }
        var clientArguments = ["client", "-i", "127.0.0.1", "-p", String(port), "-c", String(options.clients),
                               "-t", String(options.connectionsPerClient), "-b", String(options.bytes)]
        if workload == .http { clientArguments += ["--http", site.path] }
        let client = try Subprocess(ferry: clientArguments)
        _ = client.finish()
        let summary = ClientSummary(client.text)
        let (_, cpu) = server.finish(signal: SIGTERM)
        guard let summary else {
            throw BenchError("\(variant.title): no client summary in: \(client.text)")
        }
        return Result(variant: variant, workload: workload, serverCPUSeconds: cpu, connections: summary.connections,
                      failures: summary.failures, connectionsPerSecond: summary.connectionsPerSecond,
                      distribution: Self.distribution(in: server.text))
    }

    private static func port(in output: String) -> Int? {
        guard let range = output.range(of: "127.0.0.1:") else { return nil }
        return Int(output[range.upperBound...].prefix { $0.isNumber })
    }

    /// Per-worker counts from a demo's "child 0 : 127 times" lines or a server's
    /// "worker 0: 127 requests, ..." exit report (the total row left out).
    static func distribution(in output: String) -> [Int] {
        output.split(separator: "\n").compactMap { line -> Int? in
            if line.hasSuffix(" times"), let count = line.split(separator: " ").dropLast().last {
                return Int(count)
            }
            if !line.hasPrefix("total:"), let colon = line.range(of: ": "), line.hasSuffix("bytes from memory") {
                return Int(line[colon.upperBound...].prefix { $0.isNumber })
            }
            return nil
        }
    }
}

/// The two summary numbers of `ferry client` output this bench needs.
struct ClientSummary {
    var connections: Int
    var failures: Int
    var connectionsPerSecond: Double

    /// Parses "connections: 2500, failures: 0, bytes: ..., 2026.1 connections/s".
    init?(_ output: String) {
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("connections: ") }) else {
            return nil
        }
        let fields = line.split(separator: ", ")
        func number(after prefix: String) -> Double? {
            fields.first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count).prefix { $0 != " " }) }
        }
        guard let connections = number(after: "connections: "), let failures = number(after: "failures: "),
              let rate = fields.last?.split(separator: " ").first.flatMap({ Double($0) }) else { return nil }
        self.connections = Int(connections)
        self.failures = Int(failures)
        connectionsPerSecond = rate
    }
}

public struct BenchError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
