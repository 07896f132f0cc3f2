import Glibc

/// A pool of threads started up front (UNP 30.11 and 30.12; csdesign's roadmap),
/// in one of two hand-offs:
///
/// - `.lockedAccept` (UNP 30.11): every pool thread calls accept(2) itself, one at
///   a time under a mutex; the main thread only waits for signals.
/// - `.mainThreadAccepts` (UNP 30.12): the main thread polls the listeners and
///   accepts; it appends each connection to a queue guarded by a mutex and a
///   condition variable, and a waiting pool thread takes it.
///
/// Each pool thread makes its own handler once (handlers are not thread-safe) and
/// serves its connections with the blocking driver. SIGINT and SIGTERM are blocked
/// before the first thread starts and reach only the main thread's signal
/// descriptor. This model never forks.
///
/// `workers` is the pool size (fixed: the pool does not grow, so `maxWorkers` does
/// not apply). On SIGINT/SIGTERM the pool stops taking connections — `.lockedAccept`
/// shuts the listeners down, which wakes the thread in accept; `.mainThreadAccepts`
/// closes the queue after the connections already in it — and the main thread
/// waits up to `drainTimeout` for every thread to end. The report has one row per
/// thread.
public struct PrethreadModel: ServerModel {
    public static let name = "prethread"
    public static let startsPool = true
    public static let handlerPerThread = true

    public enum Handoff: Equatable {
        case lockedAccept
        case mainThreadAccepts
    }

    public let handoff: Handoff

    public init(handoff: Handoff = .lockedAccept) {
        self.handoff = handoff
    }

    public func run(listeners: [Listener], makeHandler: @escaping HandlerFactory,
                    options: ModelOptions) throws -> [WorkerTally] {
        // Before any thread exists, so every thread inherits the blocked mask.
        let signals = try SignalDescriptor([SIGINT, SIGTERM] + OperatorSignals.all)
        let poolSize = max(1, options.workers)
        let group = try ThreadGroup(rowLabels: (0..<poolSize).map { "thread \($0)" })
        // Raised when the drain begins: threads close idle keep-alive connections at once.
        let stopping = try ShutdownBeacon()
        let stopSignal: Int32
        switch handoff {
        case .lockedAccept:
            stopSignal = try runLockedAccept(listeners, group: group, poolSize: poolSize, signals: signals,
                                             stopping: stopping, makeHandler: makeHandler, options: options)
        case .mainThreadAccepts:
            stopSignal = try runMainThreadAccepts(listeners, group: group, poolSize: poolSize, signals: signals,
                                                  stopping: stopping, makeHandler: makeHandler, options: options)
        }
        stopping.raise()
        options.log(ShutdownNotice.draining(stopSignal, what: "busy threads", drainTimeout: options.drainTimeout))
        let allEnded = group.waitForAll(until: ShutdownNotice.deadline(after: options.drainTimeout),
                                        signals: signals, log: options.log)
        // The pool threads of .lockedAccept wait on the listeners: close them only once
        // no thread can still call accept on a number that may since have been reused.
        if handoff == .lockedAccept && allEnded { listeners.forEach { close($0.fd) } }
        return group.tallies
    }

    /// UNP 30.11: the pool threads take turns in accept; returns the signal that stopped it.
    private func runLockedAccept(_ listeners: [Listener], group: ThreadGroup, poolSize: Int,
                                 signals: SignalDescriptor, stopping: ShutdownBeacon,
                                 makeHandler: @escaping HandlerFactory, options: ModelOptions) throws -> Int32 {
        let acceptor = SharedAcceptor(listeners)
        let lock = try MutexAcceptLock(processShared: false)
        let log = options.log
        do {
            for row in 0..<poolSize {
                try group.start {
                    let handler = makeHandler()
                    var backOff = AcceptBackOff()
                    while true {
                        lock.lock()
                        let outcome = acceptor.next(&backOff, log: log)
                        lock.unlock()
                        switch outcome {
                        case .connection(let fd, let peer):
                            group.record(BlockingDriver.serve(handler.makeSession(socket: fd, peer: peer), stopping: stopping.fd),
                                         row: row)
                        case .closed:
                            return
                        case .empty, .retry, .backOff:
                            continue
                        }
                    }
                }
            }
        } catch {
            acceptor.stop()
            throw error
        }
        let signal = Self.waitForStopSignal(signals, options: options)
        acceptor.stop()
        return signal
    }

    /// UNP 30.12: the main thread accepts and queues; returns the signal that stopped it.
    private func runMainThreadAccepts(_ listeners: [Listener], group: ThreadGroup, poolSize: Int,
                                      signals: SignalDescriptor, stopping: ShutdownBeacon,
                                      makeHandler: @escaping HandlerFactory, options: ModelOptions) throws -> Int32 {
        // One queued connection per thread: a longer queue would only move the
        // kernel's backlog into this process.
        let queue = ConnectionQueue(capacity: poolSize)
        defer { queue.close() }
        var backOff = AcceptBackOff()
        for row in 0..<poolSize {
            try group.start {
                let handler = makeHandler()
                while let (connection, freedSpace) = queue.take() {
                    if freedSpace { group.wake() }
                    let session = handler.makeSession(socket: connection.fd, peer: connection.peer)
                    group.record(BlockingDriver.serve(session, stopping: stopping.fd), row: row)
                }
            }
        }
        while true {
            let accepting = !queue.isFull
            let watched = [signals.fd, group.wakeDescriptor] + (accepting ? listeners.map(\.fd) : [])
            let ready = readableDescriptors(watched, timeoutMilliseconds: -1)
            if ready.contains(group.wakeDescriptor) { group.clearWakes() }
            if ready.contains(signals.fd),
               let signal = OperatorSignals.answer(signals.drain(), model: Self.name, options: options).first {
                // Only the main thread uses the listeners: close them now; the
                // threads serve what is queued and end (the deferred close).
                listeners.forEach { close($0.fd) }
                return signal
            }
            for listener in listeners where accepting && ready.contains(listener.fd) {
                while !queue.isFull {
                    guard case .connection(let fd, let peer) = listener.acceptWaitingOut(&backOff, log: options.log) else { break }
                    queue.append((fd, peer))
                }
            }
        }
    }

    private static func waitForStopSignal(_ signals: SignalDescriptor, options: ModelOptions) -> Int32 {
        while true {
            if let signal = OperatorSignals.answer(signals.drain(), model: name, options: options).first { return signal }
            _ = readableDescriptors([signals.fd], timeoutMilliseconds: -1)
        }
    }
}
