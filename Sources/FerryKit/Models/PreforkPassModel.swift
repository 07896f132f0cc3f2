import Glibc

/// Prefork with descriptor passing (UNP 30.9; csdesign's "Passing Descriptor to
/// Child"). The parent alone accepts; it hands each connection to an idle worker
/// over that worker's UNIX socket (SCM_RIGHTS) and closes its own copy. A worker
/// serves its one connection to the end, sends back a report, and waits for the
/// next one. With no idle worker, new connections wait in the kernel's backlog; if
/// no worker has finished anything for `growthDelay` (long downloads, slow clients),
/// the parent adds a worker, up to `maxWorkers`.
///
/// A worker is a whole process per connection, so clients that are slow on purpose
/// hold the pool: kept for the lab and as `ferry serve --model prefork-pass`;
/// prefork-pass-epoll is the same hand-off to event-driven workers.
///
/// SIGHUP reloads as prefork-pass-epoll does: a new generation of workers, and the
/// old one retires (its generation's beacon tells a busy worker to answer one more
/// request on its persistent connection, its last). SIGUSR1 reopens the access log
/// in the parent and passes it down each worker's channel.
public struct PreforkPassModel: ServerModel {
    public static let name = "prefork-pass"
    public static let startsPool = true
    public static let forksWorkers = true

    public init() {}

    public func run(listeners: [Listener], makeHandler: @escaping HandlerFactory,
                    options: ModelOptions) throws -> [WorkerTally] {
        let parent = try PreforkPassParent(listeners: listeners, makeHandler: makeHandler, options: options)
        return try parent.run()
    }
}

/// The parent's side: an epoll loop over the listeners, the workers' channels and a
/// signal descriptor.
final class PreforkPassParent {
    /// What the parent sends with each descriptor: a connection with its peer, so the
    /// worker's access log needs no getpeername(2), or the reopened access log.
    struct Handoff {
        /// A `ParentMessageKind` (raw: it crosses the channel as bytes).
        var kind: UInt32
        var peer = SocketAddress()

        init(kind: ParentMessageKind, peer: SocketAddress = SocketAddress()) {
            self.kind = kind.rawValue
            self.peer = peer
        }
    }

    private enum Token {
        static let signals: UInt64 = 1 << 32
        static let listenerBase: UInt64 = 2 << 32
        static let workerBase: UInt64 = 3 << 32
    }

    private let listeners: [Listener]
    /// The current configuration's (a reload replaces them).
    private var options: ModelOptions
    private let epoll: Epoll
    private let signals: SignalDescriptor
    /// Raised when the drain begins: children close idle keep-alive connections at once.
    private let stopping: ShutdownBeacon
    /// Raised when a reload retires the current generation of workers.
    private var retiring: ShutdownBeacon
    /// The beacons of retired generations, kept (raised) while their workers finish.
    private var retiredBeacons: [(beacon: ShutdownBeacon, workers: [WorkerPool.Worker])] = []
    private let pool: WorkerPool
    /// Listeners whose backlog may still hold connections because no worker was free
    /// or accepting backed off (their edge-triggered registration will not report
    /// those again).
    private var backlogWaiting: Set<Int> = []
    private var backOff = AcceptBackOff()
    private var drain = Drain()
    /// When to add a worker if none has become idle by then; 0 when not waiting.
    private var growthDeadline: UInt64 = 0

    /// How long a backlog may wait on a pool in which no worker finishes before the
    /// pool grows: growing at once would fork dozens of workers for a burst of tiny
    /// requests, and more processes than CPUs cost throughput (docs/models/prefork-pass.md).
    static let growthDelay = 0.02

    init(listeners: [Listener], makeHandler: @escaping HandlerFactory, options: ModelOptions) throws {
        self.listeners = listeners
        self.options = options
        epoll = try Epoll()
        signals = try SignalDescriptor([SIGINT, SIGTERM, SIGCHLD] + OperatorSignals.all)
        let stopping = try ShutdownBeacon()
        let retiring = try ShutdownBeacon()
        self.stopping = stopping
        self.retiring = retiring
        try epoll.add(signals.fd, events: .epollIn, token: Token.signals)
        pool = WorkerPool(epoll: epoll, signals: signals, tokenBase: Token.workerBase,
                          parentOnly: listeners.map(\.fd), log: options.log,
                          work: Self.work(makeHandler: makeHandler, options: options, stopping: stopping,
                                          retiring: retiring))
    }

    private static func work(makeHandler: @escaping HandlerFactory, options: ModelOptions,
                             stopping: ShutdownBeacon, retiring: ShutdownBeacon) -> (Int, DescriptorChannel) -> Never {
        { _, channel in
            options.enterWorker()
            serveHandoffs(on: channel, handler: makeHandler(), accessLog: options.accessLog, stopping: stopping,
                          retiring: retiring)
        }
    }

    func run() throws -> [WorkerTally] {
        for _ in 0..<max(1, options.workers) { try pool.add() }
        // Edge-triggered: the parent hears of new connections once and remembers a
        // backlog it left for later, so a saturated pool costs no epoll_ctl calls.
        for (index, listener) in listeners.enumerated() {
            try epoll.add(listener.fd, events: .epollIn | .epollEdgeTriggered, token: Token.listenerBase | UInt64(index))
        }
        while !(drain.isDraining && !pool.anyAlive) {
            let wakeUp: UInt64 = [drain.deadline, growthDeadline, backOff.resumeTime].filter { $0 != 0 }.min() ?? 0
            for event in try epoll.wait(timeoutMilliseconds: pollTimeout(until: wakeUp)) {
                switch event.data & ~0xFFFF_FFFF {
                case Token.signals: handleSignals()
                case Token.listenerBase: acceptConnections(from: Int(event.data & 0xFFFF_FFFF))
                default: readReports(from: pool.workers[Int(event.data & 0xFFFF_FFFF)])
                }
            }
            let now = monotonicNanoseconds()
            if drain.hasExpired { pool.killRemaining() }
            if growthDeadline != 0 && now >= growthDeadline { growPool() }
            if backOff.ends(by: now) { acceptWaitingBacklogs() }
        }
        return pool.tallies
    }

    // MARK: accepting and handing off

    /// Accepts until the backlog is empty or no worker is free, handing each
    /// connection to an idle worker. With every worker busy, the rest stays in the
    /// kernel's backlog until a worker reports back or the pool grows.
    private func acceptConnections(from index: Int) {
        guard !drain.isDraining else { return }
        backlogWaiting.insert(index)
        guard !backOff.isPaused else { return }
        while let worker = idleWorker() {
            switch listeners[index].acceptConnection() {
            case .connection(let connection, let peer):
                backOff.accepted(log: options.log)
                hand(connection, peer: peer, preferring: worker)
                close(connection)
            case .retry:
                continue
            case .backOff(let code):
                backOff.pause(after: code, on: listeners[index], log: options.log)
                return
            case .empty, .closed:
                backlogWaiting.remove(index)
                return
            }
        }
        if growthDeadline == 0 && pool.servingCount < options.maxWorkers {
            growthDeadline = monotonicNanoseconds() + Self.growthDelay.nanoseconds
        }
    }

    private func acceptWaitingBacklogs() {
        for index in backlogWaiting { acceptConnections(from: index) }
    }

    /// Passes the connection to `worker`, or to another idle one if that worker's
    /// channel has failed (it died a moment ago).
    private func hand(_ connection: Int32, peer: SocketAddress, preferring first: WorkerPool.Worker) {
        var candidate: WorkerPool.Worker? = first
        while let worker = candidate {
            // Busy either way: a worker whose channel failed is not usable until it is
            // reaped and replaced.
            worker.live = 1
            do {
                try worker.channel.send(descriptor: connection, payload: Handoff(kind: .connections, peer: peer))
                return
            } catch {
                options.log("ferry: cannot pass a connection to worker \(worker.slot): \(error)")
                candidate = idleWorker()
            }
        }
    }

    /// The lowest-numbered idle worker of the serving generation, if any.
    private func idleWorker() -> WorkerPool.Worker? {
        pool.current.first { $0.alive && $0.live == 0 }
    }

    /// No worker finished anything for `growthDelay` while connections waited: add
    /// one and give it the backlog.
    private func growPool() {
        growthDeadline = 0
        guard !drain.isDraining, !backlogWaiting.isEmpty, idleWorker() == nil,
              pool.servingCount < options.maxWorkers else { return }
        do {
            try pool.add()
        } catch {
            options.log("ferry: cannot start another worker: \(error)")
            return
        }
        acceptWaitingBacklogs()
    }

    /// A worker reported back: it is idle again, so the pool keeps up (no need to grow)
    /// and the backlog can go on.
    private func readReports(from worker: WorkerPool.Worker) {
        pool.readReports(from: worker, untilEmpty: false)
        if worker.alive && worker.live == 0 && !drain.isDraining {
            growthDeadline = 0
            acceptWaitingBacklogs()
        }
    }

    // MARK: signals

    private func handleSignals() {
        for signal in signals.drain() {
            switch signal {
            case SIGCHLD:
                pool.reap(replacing: !drain.isDraining)
                retiredBeacons.removeAll { generation in generation.workers.allSatisfy { !$0.alive } }
                if !drain.isDraining { acceptWaitingBacklogs() }
            case SIGHUP:
                reload()
            case SIGUSR1:
                reopenAccessLog()
            default:
                beginShutdown(signal)
            }
        }
    }

    private func beginShutdown(_ signal: Int32) {
        guard drain.begin(on: signal, letting: "responses in flight", timeout: options.drainTimeout,
                          log: options.log) else { return }
        listeners.forEach {
            epoll.remove($0.fd)
            close($0.fd)
        }
        backlogWaiting.removeAll()
        stopping.raise()
        // An idle worker's next receive returns end of stream and it exits; a busy one
        // exits after its current connection.
        pool.stopPassing()
    }

    /// SIGHUP: a new generation with its own retiring beacon, then the old one
    /// retires: its beacon is raised and its channels closed. Nothing changes when
    /// the configuration does not load or its workers cannot start.
    private func reload() {
        guard !drain.isDraining else { return }
        guard let reloaded = options.reloaded() else { return }
        let next = reloaded.options
        let beacon: ShutdownBeacon
        do {
            beacon = try ShutdownBeacon()
        } catch {
            options.log("ferry: reload failed: \(error); still serving with the previous configuration")
            return
        }
        let previousWork = pool.work
        pool.work = Self.work(makeHandler: reloaded.makeHandler, options: next, stopping: stopping, retiring: beacon)
        let old = pool.serving
        var started: [WorkerPool.Worker] = []
        do {
            for _ in 0..<max(1, next.workers) { started.append(try pool.add()) }
        } catch {
            pool.retire(generation: started)
            beacon.raise()
            retiredBeacons.append((beacon, started))
            pool.work = previousWork
            options.log("ferry: reload failed: cannot start workers: \(error); still serving with the previous configuration")
            return
        }
        options = next
        pool.retire(generation: old)
        retiring.raise()
        retiredBeacons.append((retiring, old))
        retiring = beacon
        growthDeadline = 0
        reloaded.started()
        options.log("ferry: reloaded \(reloaded.source): \(ShutdownNotice.count(max(1, next.workers), "new worker", "new workers")), "
                    + "\(pool.retiringCount) retiring")
        acceptWaitingBacklogs()
    }

    /// SIGUSR1: the parent opens the log again and passes it to every worker, which
    /// takes it between connections.
    private func reopenAccessLog() {
        guard !drain.isDraining, let descriptor = OperatorSignals.reopenAccessLog(options) else { return }
        let failed = pool.passAccessLog(descriptor) { try $0.send(descriptor: $1, payload: Handoff(kind: .accessLog)) }
        if failed > 0 { options.log("ferry: SIGUSR1: \(failed) worker(s) could not be given the reopened access log") }
    }

    // MARK: the worker process

    /// The worker's loop: one connection at a time, a report after each.
    private static func serveHandoffs(on channel: DescriptorChannel, handler: ConnectionHandler,
                                      accessLog: AccessLog?, stopping: ShutdownBeacon,
                                      retiring: ShutdownBeacon) -> Never {
        while let (handoff, descriptor) = try? channel.receive(Handoff.self) {
            guard let descriptor else { continue }
            guard handoff.kind == ParentMessageKind.connections.rawValue else {
                if let accessLog { accessLog.adopt(descriptor) } else { close(descriptor) }
                continue
            }
            var report = ConnectionReport()
            let session = handler.makeSession(socket: descriptor, peer: handoff.peer)
            report.add(BlockingDriver.serve(session, stopping: stopping.fd, retiring: retiring.fd))
            if (try? channel.send(record: report)) == nil { break }
        }
        _exit(0)
    }
}
