import Glibc

/// One thread per client (UNP 30.10; csdesign's roadmap). The main thread polls the
/// listeners, a signal descriptor and the thread group's wake socket; for each
/// connection it starts a detached pthread that makes its own handler (handlers are
/// not thread-safe), serves the connection with the blocking driver, adds its
/// totals to the shared tally under a mutex and ends. SIGINT and SIGTERM are
/// blocked before the first thread starts, so they reach only the signal
/// descriptor. This model never forks.
///
/// `maxWorkers` caps the threads alive at once: at the cap the main thread stops
/// watching the listeners until a thread ends (`workers` does not apply: there is
/// no pool). On SIGINT/SIGTERM the main thread closes the listeners and waits up to
/// `drainTimeout` for the live thread count to reach zero. The report has one row,
/// "threads".
public struct ThreadPerClientModel: ServerModel {
    public static let name = "thread"
    public static let handlerPerThread = true

    public init() {}

    public func run(listeners: [Listener], makeHandler: @escaping HandlerFactory,
                    options: ModelOptions) throws -> [WorkerTally] {
        let signals = try SignalDescriptor([SIGINT, SIGTERM] + OperatorSignals.all)
        let group = try ThreadGroup(rowLabels: ["threads"])
        // Raised when the drain begins: threads close idle keep-alive connections at once.
        let stopping = try ShutdownBeacon()
        let threadCap = max(1, options.maxWorkers)
        var stopSignal = SIGTERM
        var backOff = AcceptBackOff()
        serving: while true {
            let accepting = group.live < threadCap
            let watched = [signals.fd, group.wakeDescriptor] + (accepting ? listeners.map(\.fd) : [])
            let ready = readableDescriptors(watched, timeoutMilliseconds: -1)
            if ready.contains(group.wakeDescriptor) { group.clearWakes() }
            if ready.contains(signals.fd),
               let signal = OperatorSignals.answer(signals.drain(), model: Self.name, options: options).first {
                stopSignal = signal
                break serving
            }
            for listener in listeners where accepting && ready.contains(listener.fd) {
                while group.live < threadCap {
                    guard case .connection(let fd, let peer) = listener.acceptWaitingOut(&backOff, log: options.log) else { break }
                    do {
                        try group.start {
                            let handler = makeHandler()
                            let session = handler.makeSession(socket: fd, peer: peer)
                            group.record(BlockingDriver.serve(session, stopping: stopping.fd), row: 0)
                        }
                    } catch {
                        options.log("ferry: cannot start a thread for a connection from \(peer): \(error); closing it")
                        close(fd)
                    }
                }
            }
        }
        options.log(ShutdownNotice.draining(stopSignal, what: ShutdownNotice.count(group.live, "busy thread", "busy threads"),
                                            drainTimeout: options.drainTimeout))
        listeners.forEach { close($0.fd) }
        stopping.raise()
        _ = group.waitForAll(until: ShutdownNotice.deadline(after: options.drainTimeout),
                             signals: signals, log: options.log)
        return group.tallies
    }
}
