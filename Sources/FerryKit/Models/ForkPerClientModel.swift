import Glibc

/// One child process per client (UNP 30.4; csdesign's server01). The parent polls
/// its listeners, a signal descriptor and a report socket; for each connection it
/// forks, and the child closes the listeners, serves the connection with the
/// blocking driver, writes one record of what it sent to the report socket and
/// `_exit`s. SIGCHLD arrives through the signal descriptor and the parent reaps
/// every ended child with waitpid(WNOHANG), so no zombie remains.
///
/// The handler is made once, in the parent, and inherited by every child (each
/// child still opens its own lazily-opened resources, such as libmagic).
/// `maxWorkers` caps the children alive at once: at the cap the parent stops
/// watching the listeners and the kernel's backlog holds new connections
/// (`workers` does not apply: there is no pool). On SIGINT/SIGTERM the parent
/// closes the listeners and waits up to `drainTimeout` for live children, then
/// kills the rest. The report has one row, "children": every connection a child
/// finished and reported.
public struct ForkPerClientModel: ServerModel {
    public static let name = "fork"
    public static let forksWorkers = true

    public init() {}

    public func run(listeners: [Listener], makeHandler: @escaping HandlerFactory,
                    options: ModelOptions) throws -> [WorkerTally] {
        try ForkPerClientServer(listeners: listeners, handler: makeHandler(), options: options).run()
    }
}

/// The parent's loop and the child's one connection.
final class ForkPerClientServer {
    private let listeners: [Listener]
    private let handler: ConnectionHandler
    private let options: ModelOptions
    private let signals: SignalDescriptor
    /// Raised when the drain begins: children close idle keep-alive connections at once.
    private let stopping: ShutdownBeacon
    /// Children send their ConnectionReport on `reportsIn`; seqpacket keeps each whole.
    private let reportsOut: DescriptorChannel
    private let reportsIn: DescriptorChannel
    private let parentPID = getpid()
    private var children = ChildSupervisor()
    private var tally = WorkerTally(label: "children")
    private var drain = Drain()
    private var backOff = AcceptBackOff()

    init(listeners: [Listener], handler: ConnectionHandler, options: ModelOptions) throws {
        self.listeners = listeners
        self.handler = handler
        self.options = options
        signals = try SignalDescriptor([SIGINT, SIGTERM, SIGCHLD])
        stopping = try ShutdownBeacon()
        (reportsOut, reportsIn) = try DescriptorChannel.pair()
        SocketOptions.setNonBlocking(reportsOut.fd)
    }

    deinit {
        close(reportsOut.fd)
        close(reportsIn.fd)
    }

    private var childCap: Int { max(1, options.maxWorkers) }

    func run() throws -> [WorkerTally] {
        while true {
            let accepting = !drain.isDraining && children.count < childCap
            let watched = [signals.fd, reportsOut.fd] + (accepting ? listeners.map(\.fd) : [])
            let timeout = pollTimeout(until: drain.deadline)
            let ready = readableDescriptors(watched, timeoutMilliseconds: timeout)
            if ready.contains(signals.fd) { handleSignals() }
            if ready.contains(reportsOut.fd) { readReports() }
            if accepting && !drain.isDraining {
                for listener in listeners where ready.contains(listener.fd) { acceptConnections(from: listener) }
            }
            if drain.isDraining {
                if children.isEmpty { break }
                if drain.hasExpired {
                    killRemainingChildren()
                    break
                }
            }
        }
        // A child writes its record before it exits, so every reaped child's is here.
        readReports()
        return [tally]
    }

    // MARK: the parent

    private func acceptConnections(from listener: Listener) {
        while children.count < childCap {
            guard case .connection(let fd, let peer) = listener.acceptWaitingOut(&backOff, log: options.log) else {
                return
            }
            do {
                _ = try children.start(slot: 0) { serveInChild(fd, peer: peer) }
            } catch {
                options.log("ferry: cannot fork for a connection from \(peer): \(error); closing it")
            }
            close(fd)
        }
    }

    private func readReports() {
        while let (report, descriptor) = (try? reportsOut.receive(ConnectionReport.self)) ?? nil {
            if let descriptor { close(descriptor) }
            tally.add(report)
        }
    }

    private func handleSignals() {
        for signal in signals.drain() {
            switch signal {
            case SIGCHLD: reapChildren()
            default: beginShutdown(signal)
            }
        }
    }

    private func beginShutdown(_ signal: Int32) {
        let busy = ShutdownNotice.count(children.count, "busy child", "busy children")
        if drain.begin(on: signal, letting: busy, timeout: options.drainTimeout, log: options.log) {
            listeners.forEach { close($0.fd) }
            stopping.raise()
        }
    }

    private func reapChildren() {
        for child in children.reap() where child.status != 0 {
            options.log("ferry: child \(child.pid) \(describeExit(child.status))")
        }
    }

    private func killRemainingChildren() {
        let busy = ShutdownNotice.count(children.count, "child", "children")
        options.log("ferry: killing what is still busy: \(busy)")
        _ = children.killAll()
    }

    // MARK: the child

    /// Runs in the forked child and never returns.
    private func serveInChild(_ connection: Int32, peer: SocketAddress) -> Never {
        // Only the parent accepts; only the parent reads the reports.
        listeners.forEach { close($0.fd) }
        close(reportsOut.fd)
        ForkedChild.leaveSignalsToParent(signals, parentPID: parentPID, processName: "ferry-child")
        options.enterWorker()
        var report = ConnectionReport()
        report.add(BlockingDriver.serve(handler.makeSession(socket: connection, peer: peer), stopping: stopping.fd))
        try? reportsIn.send(record: report)
        _exit(0)
    }
}
