import ArgumentParser
import FerryKit

/// Where an echo-server demo listens: the csdesign programs' -i HOST -p PORT.
struct EchoListenOptions: ParsableArguments {
    @Option(name: .customShort("i"), help: "Address to listen on.")
    var host = "0.0.0.0"

    @Option(name: .short, help: "TCP port (0 picks a free one; the printed line shows it).")
    var port = 2000

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("-p must be from 0 to 65535") }
    }
}

/// Size of a demo's pool: the csdesign programs' -n CHILDREN.
struct PoolSizeOptions: ParsableArguments {
    @Option(name: .short, help: "Children (processes or threads) in the pool.")
    var n = 10

    func validate() throws {
        guard (1...1024).contains(n) else { throw ValidationError("-n must be from 1 to 1024") }
    }
}

/// Runs `model` with the echo handler until Ctrl-C or SIGTERM, then prints the
/// csdesign document's distribution: "child 0 : 127 times" (or "thread 0 : ...", "server : ...").
enum EchoServerDemo {
    static func run(_ model: any ServerModel, listen: EchoListenOptions, workers: Int, what: String) throws {
        let listeners: [Listener]
        do {
            listeners = try Listener.open(host: listen.host, port: listen.port)
        } catch {
            Console.error("ferry: cannot listen on \(listen.host) port \(listen.port): \(error)")
            throw ExitCode(1)
        }
        let address = listeners.map { $0.address.description }.joined(separator: " and ")
        Console.out("\(type(of: model).name): \(what); echo server on \(address)")
        // A wildcard address is where the server listens, not where a client connects.
        let first = listeners[0].address
        let reachable = ["0.0.0.0", "::"].contains(first.host) ? "127.0.0.1" : first.host
        Console.out("Load it with `ferry client -i \(reachable) -p \(first.port)`;"
                    + " Ctrl-C prints each child's count.")
        let log: (String) -> Void = { Console.error($0) }
        var options = ModelOptions()
        options.log = log
        options.workers = workers
        options.maxWorkers = workers
        options.drainTimeout = 10
        let tallies = try model.run(listeners: listeners, makeHandler: { EchoHandler(log: log) }, options: options)
        for tally in tallies {
            // The document's wording for processes ("child 0"); threads and single-row
            // models ("thread 0", "server", "children") keep their own names.
            let name = tally.label.hasPrefix("worker ") ? "child" + tally.label.dropFirst("worker".count) : tally.label
            Console.out("\(name) : \(tally.connections) times")
        }
    }
}
