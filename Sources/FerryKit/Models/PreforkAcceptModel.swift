import Glibc

/// Preforked children that all call accept(2) on the same listening socket (UNP
/// 30.6; csdesign's server03). The parent opens the listeners, maps the per-child
/// counters (shared memory), makes the accept lock if any, forks `workers`
/// children and then only waits on a signal descriptor. Each child makes its
/// handler once and loops: take the lock, accept, release, serve with the blocking
/// driver, count the connection in its slot of the shared memory.
///
/// Locks (UNP 30.7, 30.8): `.none` lets the kernel pick the child (Linux wakes one
/// waiter per connection); `.file` takes an fcntl write lock on an unlinked
/// temporary file; `.mutex` a robust PTHREAD_PROCESS_SHARED mutex in a shared
/// mapping.
///
/// `workers` is the number of children (fixed; `maxWorkers` does not apply). A
/// child that dies is reaped and a new one takes its slot. On SIGINT/SIGTERM the
/// parent shuts the listening sockets down: every child waiting in accept (or for
/// the lock, then in accept) gets EINVAL and exits, a busy child finishes its
/// connection first; the parent waits up to `drainTimeout`, then kills the rest.
/// The report has one row per child slot, read from the shared memory.
public struct PreforkAcceptModel: ServerModel {
    public static let name = "prefork-accept"
    public static let startsPool = true
    public static let forksWorkers = true

    /// What serializes the children's accept calls.
    public enum Lock: String, CaseIterable {
        case none, file, mutex
    }

    public let lock: Lock

    public init(lock: Lock = .none) {
        self.lock = lock
    }

    public func run(listeners: [Listener], makeHandler: @escaping HandlerFactory,
                    options: ModelOptions) throws -> [WorkerTally] {
        let acceptLock: AcceptLock?
        switch lock {
        case .none: acceptLock = nil
        case .file: acceptLock = try FileAcceptLock()
        case .mutex: acceptLock = try MutexAcceptLock(processShared: true)
        }
        let parent = try PreforkAcceptParent(listeners: listeners, lock: acceptLock, makeHandler: makeHandler,
                                             options: options)
        return try parent.run()
    }
}

/// The parent: starts, replaces and finally stops the children.
final class PreforkAcceptParent {
    private let acceptor: SharedAcceptor
    private let lock: AcceptLock?
    private let makeHandler: HandlerFactory
    private let options: ModelOptions
    private let counts: SharedTallyTable
    private let signals: SignalDescriptor
    /// Raised when the drain begins: children close idle keep-alive connections at once.
    private let stopping: ShutdownBeacon
    private let parentPID = getpid()
    private let slotCount: Int
    private var children = ChildSupervisor()
    private var drain = Drain()

    init(listeners: [Listener], lock: AcceptLock?, makeHandler: @escaping HandlerFactory,
         options: ModelOptions) throws {
        acceptor = SharedAcceptor(listeners)
        self.lock = lock
        self.makeHandler = makeHandler
        self.options = options
        slotCount = max(1, options.workers)
        counts = try SharedTallyTable(slots: slotCount)
        signals = try SignalDescriptor([SIGINT, SIGTERM, SIGCHLD])
        stopping = try ShutdownBeacon()
    }

    func run() throws -> [WorkerTally] {
        do {
            for slot in 0..<slotCount { try start(slot) }
        } catch {
            _ = children.killAll()
            throw error
        }
        while true {
            let timeout = pollTimeout(until: drain.deadline)
            let ready = readableDescriptors([signals.fd], timeoutMilliseconds: timeout)
            if ready.contains(signals.fd) { handleSignals() }
            if drain.isDraining {
                if children.isEmpty { break }
                if drain.hasExpired {
                    let busy = ShutdownNotice.count(children.count, "child", "children")
                    options.log("ferry: killing what is still busy: \(busy)")
                    _ = children.killAll()
                    break
                }
            }
        }
        acceptor.listeners.forEach { close($0.fd) }
        return (0..<slotCount).map { counts.tally(slot: $0, label: "worker \($0)") }
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
        if drain.begin(on: signal, letting: "busy children", timeout: options.drainTimeout, log: options.log) {
            acceptor.stop()
            stopping.raise()
        }
    }

    private func reapChildren() {
        for child in children.reap() where !drain.isDraining {
            options.log("ferry: worker \(child.slot) (pid \(child.pid)) \(describeExit(child.status)); starting a new one")
            do {
                try start(child.slot)
            } catch {
                options.log("ferry: cannot restart worker \(child.slot): \(error)")
            }
        }
    }

    private func start(_ slot: Int) throws {
        _ = try children.start(slot: slot) { becomeChild(slot: slot) }
    }

    /// Runs in the forked child and never returns.
    private func becomeChild(slot: Int) -> Never {
        ForkedChild.leaveSignalsToParent(signals, parentPID: parentPID, processName: "ferry-worker")
        options.enterWorker()
        let handler = makeHandler()
        var backOff = AcceptBackOff()
        serving: while true {
            lock?.lock()
            let outcome = acceptor.next(&backOff, log: options.log)
            lock?.unlock()
            switch outcome {
            case .connection(let fd, let peer):
                counts.add(BlockingDriver.serve(handler.makeSession(socket: fd, peer: peer), stopping: stopping.fd), slot: slot)
            case .closed:
                break serving
            case .empty, .retry, .backOff:
                continue
            }
        }
        _exit(0)
    }
}
