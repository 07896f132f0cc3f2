import ArgumentParser
import FerryKit
import FerryLab
import Glibc

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure every server design side by side: the classic table, on this machine.",
        discussion: """
            Runs each design of the csdesign document and its roadmap as its own server \
            (`ferry demo MODEL` for the echo protocol, `ferry serve --model MODEL` for HTTP) \
            under `ferry client`, and prints one table per workload: the server's CPU time \
            (user + system, its own and its children's, from wait4), the same minus the \
            iterative server's (the cost of the design itself), the number UNP vol. 1 \
            measured in Fig. 30.1, connections per second, failures, and how the connections \
            spread over the pool. Defaults follow the book: 5,000 connections of 4,000 bytes, \
            pools of 15. Everything runs on 127.0.0.1.

            A full run takes a few minutes on 2 CPUs; --quick runs 500 connections per design.
            """
    )

    @Option(name: .short, help: "Children or threads in each pooled design.")
    var n = 15

    @Option(name: .short, help: "Client processes (ferry client -c).")
    var c = 5

    @Option(name: .short, help: "Connections per client process (ferry client -t).")
    var t = 1000

    @Option(name: .short, help: "Bytes per connection: the echo answer, or the HTTP file's size.")
    var b = 4000

    @Option(help: "Workloads to run: echo, http or both.")
    var workload: Workload = .both

    @Option(help: "Comma-separated models to run (default: all of \(ModelCatalog.names.joined(separator: ", "))).")
    var models: String?

    @Flag(help: "A short run: 5 clients × 100 connections per design.")
    var quick = false

    enum Workload: String, ExpressibleByArgument {
        case echo, http, both
    }

    func validate() throws {
        guard (1...1024).contains(n) else { throw ValidationError("-n must be from 1 to 1024") }
        guard (1...256).contains(c) else { throw ValidationError("-c must be from 1 to 256") }
        guard (1...1_000_000).contains(t) else { throw ValidationError("-t must be from 1 to 1000000") }
        guard (0...(1 << 30)).contains(b) else { throw ValidationError("-b must be from 0 to 1073741824") }
        if let unknown = selectedModels?.subtracting(ModelCatalog.names).first {
            throw ValidationError("unknown model '\(unknown)' (known: \(ModelCatalog.names.joined(separator: ", ")))")
        }
    }

    private var selectedModels: Set<String>? {
        models.map { Set($0.split(separator: ",").map(String.init)) }
    }

    func run() throws {
        var options = DesignBench.Options()
        options.children = n
        options.clients = c
        options.connectionsPerClient = quick ? 100 : t
        options.bytes = b
        options.models = selectedModels
        switch workload {
        case .echo: options.workloads = [.echo]
        case .http: options.workloads = [.http]
        case .both: options.workloads = DesignBench.Workload.allCases
        }
        let cpus = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        Console.out("ferry bench: \(options.clients) × \(options.connectionsPerClient) connections per design, "
                    + "\(options.bytes) bytes, pools of \(options.children), \(cpus) CPUs")
        do {
            let results = try DesignBench(options: options).run { Console.out("  " + DesignTable.progressLine($0)) }
            Console.out(DesignTable.render(results, options: options))
            if results.contains(where: { $0.failures > 0 }) { throw ExitCode(1) }
        } catch let error as BenchError {
            Console.error("ferry bench: \(error)")
            throw ExitCode(1)
        }
    }
}
