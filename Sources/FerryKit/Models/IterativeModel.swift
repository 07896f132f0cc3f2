import Glibc

/// One connection at a time in the one process: the baseline every other design is
/// measured against (UNP 30.2). The server polls its listeners and a signal
/// descriptor, accepts one connection, serves it to the end with the blocking
/// driver, and only then looks again; a client that is slow to send its request
/// holds up everyone behind it in the listen backlog.
///
/// `workers` and `maxWorkers` do not apply: there is exactly one server. SIGINT or
/// SIGTERM is read between connections (it waits, blocked, in the signal descriptor
/// while a connection is served), so nothing is ever in flight when the server
/// stops and `drainTimeout` does not apply either; the connection being served is
/// bounded by the handler's own timeouts. The report has one row, "server".
public struct IterativeModel: ServerModel {
    public static let name = "iterative"

    public init() {}

    public func run(listeners: [Listener], makeHandler: @escaping HandlerFactory,
                    options: ModelOptions) throws -> [WorkerTally] {
        let signals = try SignalDescriptor([SIGINT, SIGTERM] + OperatorSignals.all)
        let handler = makeHandler()
        var tally = WorkerTally(label: "server")
        var backOff = AcceptBackOff()
        serving: while true {
            let ready = readableDescriptors([signals.fd] + listeners.map(\.fd), timeoutMilliseconds: -1)
            if ready.contains(signals.fd),
               let signal = OperatorSignals.answer(signals.drain(), model: Self.name, options: options).first {
                options.log("ferry: \(ShutdownNotice.name(of: signal)): stopping between connections (none in flight)")
                break serving
            }
            // One connection from each ready listener per round, so neither starves.
            for listener in listeners where ready.contains(listener.fd) {
                guard case .connection(let fd, let peer) = listener.acceptWaitingOut(&backOff, log: options.log) else { continue }
                // A pending SIGINT/SIGTERM makes the signal descriptor readable: an idle
                // keep-alive connection then ends at once and the loop above stops.
                tally.add(BlockingDriver.serve(handler.makeSession(socket: fd, peer: peer), stopping: signals.fd))
            }
        }
        listeners.forEach { close($0.fd) }
        return [tally]
    }
}
