import FerryKit

/// Runs a concurrency model with the echo handler, as the csdesign document's servers
/// run: until Ctrl-C or SIGTERM, then its distribution, one line per child
/// ("child 0 : 127 times"; threads and single-row models keep their own names:
/// "thread 0 : ...", "server : ...").
public enum EchoDemoServer {
    /// `what` describes the design in the first line printed.
    public static func run(_ model: any ServerModel, listeners: [Listener], workers: Int, what: String) throws {
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
        distribution(tallies).forEach(Console.out)
    }

    /// The document's wording for processes ("child 0"); other rows keep their labels.
    static func distribution(_ tallies: [WorkerTally]) -> [String] {
        tallies.map { tally in
            let name = tally.label.hasPrefix("worker ") ? "child" + tally.label.dropFirst("worker".count) : tally.label
            return "\(name) : \(tally.connections) times"
        }
    }
}
