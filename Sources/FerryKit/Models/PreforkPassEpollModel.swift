import Glibc

/// Prefork with descriptor passing to event-driven workers: the file server's default.
/// The parent alone accepts, as in prefork-pass (UNP 30.9), and passes each connection
/// with SCM_RIGHTS to the worker holding the fewest live connections, a burst as one
/// message per worker. Each worker runs the epoll `EventLoop` over its channel and
/// every connection it was given, for the connection's whole life, and reports closed
/// connections in batches.
///
/// Why: a slow or idle client then costs a descriptor and a small buffer in a worker
/// that goes on serving everyone else, not a process; so the pool is fixed at
/// `workers` (one per CPU) and does not grow. Above `maxConnections`, or when the
/// client's address already holds `maxConnectionsPerAddress`, the parent writes the
/// handler's `overloadAnswer()` (HTTP: 503) itself and closes. Shutdown retires the
/// workers as a reload does (below) and lets responses in flight finish within
/// `drainTimeout`. docs/models/prefork-pass-epoll.md has the picture and the numbers.
///
/// SIGHUP reloads: a new generation of workers starts with the rebuilt handler and
/// options and takes every new connection; the old generation drains as on shutdown
/// (idle connections close, responses in flight finish, then `Connection: close`)
/// and exits without being replaced. SIGUSR1 reopens the access log in the parent,
/// which passes the new file to every worker over its channel.
public struct PreforkPassEpollModel: ServerModel {
    public static let name = "prefork-pass-epoll"
    public static let startsPool = true
    public static let forksWorkers = true
    public static let limitsConnectionsPerAddress = true

    public init() {}

    public func run(listeners: [Listener], makeHandler: @escaping HandlerFactory,
                    options: ModelOptions) throws -> [WorkerTally] {
        let parent = try PreforkPassEpollParent(listeners: listeners, makeHandler: makeHandler, options: options)
        return try parent.run()
    }
}

/// The parent's side: an epoll loop over the listeners, the workers' channels and a
/// signal descriptor.
final class PreforkPassEpollParent {
    private enum Token {
        static let signals: UInt64 = 1 << 32
        static let listenerBase: UInt64 = 2 << 32
        static let workerBase: UInt64 = 3 << 32
    }

    private let listeners: [Listener]
    /// The current configuration's (a reload replaces them).
    private var options: ModelOptions
    /// The parent's own handler: it only answers connections above the cap.
    private var handler: ConnectionHandler
    /// The handler's overload answer and the wall-clock second it was built in: it
    /// carries a Date, and building it (an HTML page) cost about nine times what the
    /// rest of a refusal does, so it is built at most once a second.
    private var overloadAnswer: (second: Int64, bytes: [UInt8]) = (-1, [])
    private let epoll: Epoll
    private let signals: SignalDescriptor
    private let pool: WorkerPool
    /// Accepted in this wakeup and not yet passed, per worker slot.
    private var pending: [[PassedConnection]] = []
    /// Where each message to a worker is built.
    private var channelScratch = ChannelScratch()
    /// Accepted while no worker was alive (every one died at once, and SIGCHLD has
    /// not replaced them yet): passed as soon as one is, not refused.
    private var awaitingWorker: [PassedConnection] = []
    /// Listeners that may still have connections queued: accepting backed off, or
    /// stopped at `burstLimit` (their edge-triggered registration will not report
    /// those again).
    private var backlogWaiting: Set<Int> = []
    private var backOff = AcceptBackOff()
    private var drain = Drain()
    /// Where the search for the least busy worker starts (an index into the current
    /// generation), so that ties rotate.
    private var nextSlot = 0
    /// Whether the parent is answering new connections with the overload answer.
    private var overloaded = false
    /// Refusals by max_connections_per_address, said at most once a minute.
    private var refusalNotice = PerAddressRefusalNotice()
    /// Whether the reports waiting on the channels were read since this burst of
    /// accepts began (before its first refusal per address).
    private var reportsReadInBurst = false

    /// How long after the drain deadline the parent kills a worker that has not ended:
    /// each worker ends its own drain at the deadline, closing what it still holds and
    /// reporting it, and needs a moment for that.
    static let killGrace = 0.5

    /// Connections accepted per wakeup before the parent reads its workers' reports
    /// again: one full message for each worker.
    private var burstLimit: Int { DescriptorChannel.maxConnectionsPerMessage * max(1, pool.servingCount) }

    init(listeners: [Listener], makeHandler: @escaping HandlerFactory, options: ModelOptions) throws {
        self.listeners = listeners
        self.options = options
        handler = makeHandler()
        epoll = try Epoll()
        signals = try SignalDescriptor([SIGINT, SIGTERM, SIGCHLD] + OperatorSignals.all)
        try epoll.add(signals.fd, events: .epollIn, token: Token.signals)
        // No parent-death signal: a worker learns that the parent died (SIGKILL
        // included) from end of stream on its channel, exactly as it learns of a
        // shutdown, and drains: downloads in flight finish, idle connections close,
        // and it exits within the drain timeout. A signal would cut those downloads.
        pool = WorkerPool(epoll: epoll, signals: signals, tokenBase: Token.workerBase,
                          parentOnly: listeners.map(\.fd), parentDeathSignal: nil, log: options.log,
                          work: Self.work(makeHandler: makeHandler, options: options))
        // `pending` is empty outside a burst of accepts, and no worker is forked in one.
        pool.connectionsHeld = { [unowned self] in awaitingWorker.map(\.fd) }
    }

    /// A worker's life: the epoll event loop over its channel.
    private static func work(makeHandler: @escaping HandlerFactory,
                             options: ModelOptions) -> (Int, DescriptorChannel) -> Never {
        { _, channel in
            options.enterWorker()
            do {
                let loop = try EventLoop(backend: EpollBackend(), source: .channel(channel), handler: makeHandler(),
                                         options: options)
                _ = try loop.run()
            } catch {
                options.log("ferry: worker: \(error)")
            }
            _exit(0)
        }
    }

    func run() throws -> [WorkerTally] {
        _ = try addWorkers(options.workers)
        // Edge-triggered: the parent takes the whole backlog at each wakeup and
        // remembers one it had to leave.
        for (index, listener) in listeners.enumerated() {
            try epoll.add(listener.fd, events: .epollIn | .epollEdgeTriggered, token: Token.listenerBase | UInt64(index))
        }
        while !(drain.isDraining && !pool.anyAlive) {
            // With no worker taking connections the backlog waits for SIGCHLD's
            // replacement or for room on a channel, not in a spin.
            let moreWaiting = !backlogWaiting.isEmpty && !backOff.isPaused && !drain.isDraining
                && hasWorkerTakingConnections
            let killTime = drain.isDraining ? drain.deadline + Self.killGrace.nanoseconds : 0
            let wakeUp: UInt64 = [killTime, backOff.resumeTime].filter { $0 != 0 }.min() ?? 0
            let timeout = moreWaiting ? 0 : pollTimeout(until: wakeUp)
            for event in try epoll.wait(timeoutMilliseconds: timeout) {
                switch event.data & ~0xFFFF_FFFF {
                case Token.signals: handleSignals()
                case Token.listenerBase: acceptConnections(from: Int(event.data & 0xFFFF_FFFF))
                default:
                    let worker = pool.workers[Int(event.data & 0xFFFF_FFFF)]
                    if event.events & .epollOut != 0 && worker.backedUp {
                        pool.channelHasRoom(worker)
                        passAwaiting()
                    }
                    readReports(from: worker)
                }
            }
            let now = monotonicNanoseconds()
            if killTime != 0 && now >= killTime { pool.killRemaining() }
            _ = backOff.ends(by: now)
            if !backOff.isPaused { for index in backlogWaiting { acceptConnections(from: index) } }
        }
        return pool.tallies
    }

    /// Whether a worker of the current generation can take connections.
    private var hasWorkerTakingConnections: Bool { pool.current.contains { $0.takesConnections } }

    /// Connections passed to live workers and not reported closed.
    private var liveConnections: Int {
        pool.workers.reduce(0) { $0 + ($1.alive ? $1.live : 0) }
    }

    // MARK: accepting and passing

    /// Accepts the backlog (up to `burstLimit`), assigning each connection to the
    /// least busy worker, then passes each worker its share in one message.
    private func acceptConnections(from index: Int) {
        guard !drain.isDraining else { return }
        backlogWaiting.insert(index)
        guard !backOff.isPaused else { return }
        var accepted = 0
        let limit = burstLimit
        var live = liveConnections
        reportsReadInBurst = false
        // No worker taking connections (every one died, or none reads its channel):
        // the connections stay in the kernel's backlog until SIGCHLD replaces one or a
        // channel has room (a 503 would turn a moment's gap into failed requests).
        accepting: while accepted < limit && hasWorkerTakingConnections {
            switch listeners[index].acceptConnection() {
            case .connection(let fd, let peer):
                accepted += 1
                backOff.accepted(log: options.log)
                guard live < options.maxConnections else {
                    noteOverload(true)
                    refuse(fd)
                    continue
                }
                // Off (0), the limit per address costs this one comparison.
                if options.maxConnectionsPerAddress > 0 && !admitsAnother(from: peer) {
                    refuse(fd)
                    continue
                }
                guard let worker = leastBusyWorker() else {
                    // The last live worker died while passing this wakeup's connections.
                    awaitingWorker.append(PassedConnection(fd: fd, peer: peer))
                    continue
                }
                noteOverload(false)
                live += 1
                queue(PassedConnection(fd: fd, peer: peer), for: worker)
            case .retry:
                continue
            case .backOff(let code):
                // Passing what this wakeup accepted frees the parent's copies: try again at once.
                if pending.contains(where: { !$0.isEmpty }) {
                    passAll()
                    continue
                }
                backOff.pause(after: code, on: listeners[index], log: options.log)
                break accepting
            case .empty, .closed:
                backlogWaiting.remove(index)
                break accepting
            }
        }
        passAll()
    }

    /// The live, not retiring worker with the fewest connections; ties go round the pool.
    private func leastBusyWorker() -> WorkerPool.Worker? {
        let workers = pool.current
        guard !workers.isEmpty else { return nil }
        var best: Int?
        for offset in 0..<workers.count {
            let index = (nextSlot + offset) % workers.count
            if workers[index].takesConnections && (best == nil || workers[index].live < workers[best!].live) {
                best = index
            }
        }
        guard let best else { return nil }
        nextSlot = (best + 1) % workers.count
        return workers[best]
    }

    /// `connection` is `worker`'s from now on: counted as held, and sent with the
    /// worker's next message.
    private func queue(_ connection: PassedConnection, for worker: WorkerPool.Worker) {
        hold(connection, by: worker)
        pending[worker.slot].append(connection)
        if pending[worker.slot].count == DescriptorChannel.maxConnectionsPerMessage { pass(to: worker) }
    }

    /// Counts `connection` among `worker`'s live connections, and its address's when
    /// the limit per address is on.
    private func hold(_ connection: PassedConnection, by worker: WorkerPool.Worker) {
        worker.live += 1
        if options.maxConnectionsPerAddress > 0 {
            pool.perAddress.add(AddressKey(connection.peer), heldBy: worker.slot)
        }
    }

    /// Whether the client's address holds fewer connections than
    /// max_connections_per_address (which is on). At the limit, the reports already
    /// waiting are read first (once a burst), so that a connection the client has just
    /// seen closed does not count against its next one. A refusal is noted.
    private func admitsAnother(from peer: SocketAddress) -> Bool {
        let key = AddressKey(peer)
        let limit = options.maxConnectionsPerAddress
        guard pool.perAddress.count(of: key) >= limit else { return true }
        if !reportsReadInBurst {
            reportsReadInBurst = true
            for worker in pool.workers where worker.alive { pool.readReports(from: worker, untilEmpty: true) }
            guard pool.perAddress.count(of: key) >= limit else { return true }
        }
        if let line = refusalNotice.refused(key, limit: limit, now: monotonicNanoseconds()) { options.log(line) }
        return false
    }

    private func passAll() {
        for worker in pool.current where !pending[worker.slot].isEmpty { pass(to: worker) }
    }

    /// Sends `worker` its pending connections in one message and closes the parent's
    /// copies. A channel whose other end is gone belongs to a worker that just died:
    /// it takes no more until SIGCHLD replaces it. A full one belongs to a worker that
    /// is alive but not reading: it takes no more until its channel has room. Either
    /// way the batch goes to the others, or waits in the parent for a worker.
    private func pass(to worker: WorkerPool.Worker) {
        do {
            try worker.channel.send(connections: pending[worker.slot][...], scratch: &channelScratch)
        } catch {
            let batch = pending[worker.slot]
            pending[worker.slot] = []
            if Self.peerGone(error) { worker.alive = false } else { pool.backUp(worker, after: error) }
            // A backed-up worker is announced by the pool; one whose channel cannot be
            // watched is tried again with the next burst.
            if !worker.backedUp {
                options.log("ferry: cannot pass \(batch.count) connection(s) to worker \(worker.slot): \(error)")
            }
            worker.live = max(0, worker.live - batch.count)
            pool.perAddress.remove(batch.map { AddressKey($0.peer) }, heldBy: worker.slot)
            for connection in batch {
                if let other = leastBusyWorker(),
                   (try? other.channel.send(connections: [connection][...], scratch: &channelScratch)) != nil {
                    hold(connection, by: other)
                    close(connection.fd)
                } else {
                    awaitingWorker.append(connection)
                }
            }
            return
        }
        for connection in pending[worker.slot] { close(connection.fd) }
        // Kept for the next burst: passing a connection allocates nothing.
        pending[worker.slot].removeAll(keepingCapacity: true)
    }

    /// Whether a failed send means the worker's end of the channel is closed (it died).
    private static func peerGone(_ error: any Error) -> Bool {
        [EPIPE, ECONNRESET, ECONNREFUSED, ENOTCONN].contains((error as? SystemError)?.code ?? EPIPE)
    }

    /// Above `maxConnections` or the limit per address: the overload answer, written
    /// once without waiting, then a close that does not linger. Input already here is
    /// read first, so that the close does not become a reset that could destroy the
    /// answer on its way.
    private func refuse(_ fd: Int32) {
        let now = wallClockSeconds()
        if now != overloadAnswer.second { overloadAnswer = (now, handler.overloadAnswer()) }
        let answer = overloadAnswer.bytes
        if !answer.isEmpty {
            _ = answer.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            shutdown(fd, Int32(SHUT_WR))
            var scratch = [UInt8](repeating: 0, count: 4096)
            for _ in 0..<4 where recv(fd, &scratch, scratch.count, Int32(MSG_DONTWAIT)) > 0 {}
        }
        close(fd)
    }

    private func noteOverload(_ now: Bool) {
        guard now != overloaded else { return }
        overloaded = now
        if now {
            options.log("ferry: \(options.maxConnections) connections held (max_connections); "
                        + "refusing new ones until some close")
        } else {
            options.log("ferry: below max_connections again; accepting new connections")
        }
    }

    private func readReports(from worker: WorkerPool.Worker) {
        pool.readReports(from: worker, untilEmpty: true)
    }

    // MARK: signals

    private func handleSignals() {
        for signal in signals.drain() {
            switch signal {
            case SIGCHLD:
                pool.reap(replacing: !drain.isDraining)
                passAwaiting()
            case SIGHUP: reload()
            case SIGUSR1: reopenAccessLog()
            default: beginShutdown(signal)
            }
        }
    }

    /// Starts `count` workers (at least one) in new slots; returns them. On a failure
    /// the ones started are retired and the error thrown.
    private func addWorkers(_ count: Int) throws -> [WorkerPool.Worker] {
        var started: [WorkerPool.Worker] = []
        do {
            for _ in 0..<max(1, count) {
                started.append(try pool.add())
                pending.append([])
            }
        } catch {
            pool.retire(generation: started)
            throw error
        }
        return started
    }

    /// SIGHUP: the new generation first, so a worker always takes new connections,
    /// then the old one retires. Nothing changes when the configuration does not
    /// load or its workers cannot start.
    private func reload() {
        guard !drain.isDraining else { return }
        guard let reloaded = options.reloaded() else { return }
        let next = reloaded.options
        let previousWork = pool.work
        pool.work = Self.work(makeHandler: reloaded.makeHandler, options: next)
        let old = pool.serving
        do {
            _ = try addWorkers(next.workers)
        } catch {
            pool.work = previousWork
            options.log("ferry: reload failed: cannot start workers: \(error); still serving with the previous configuration")
            return
        }
        options = next
        handler = reloaded.makeHandler()
        overloadAnswer.second = -1
        pool.retire(generation: old) { try $0.sendRetire() }
        reloaded.started()
        options.log("ferry: reloaded \(reloaded.source): \(ShutdownNotice.count(max(1, next.workers), "new worker", "new workers")), "
                    + "\(pool.retiringCount) retiring")
    }

    /// SIGUSR1: the parent opens the log again (it may open the path; its workers may
    /// have given up the privileges) and passes the new file to every worker.
    private func reopenAccessLog() {
        guard !drain.isDraining, let descriptor = OperatorSignals.reopenAccessLog(options) else { return }
        let failed = pool.passAccessLog(descriptor) { try $0.send(accessLog: $1) }
        if failed > 0 { options.log("ferry: SIGUSR1: \(failed) worker(s) could not be given the reopened access log") }
    }

    /// Hands the connections that waited for a worker to the live ones (they were not
    /// counted per address yet: the limit is applied now); at shutdown with none alive
    /// they are closed.
    private func passAwaiting() {
        guard !awaitingWorker.isEmpty else { return }
        reportsReadInBurst = false
        let waiting = awaitingWorker
        awaitingWorker = []
        for connection in waiting {
            guard let worker = leastBusyWorker() else {
                if drain.isDraining { close(connection.fd) } else { awaitingWorker.append(connection) }
                continue
            }
            if options.maxConnectionsPerAddress > 0 && !admitsAnother(from: connection.peer) {
                refuse(connection.fd)
                continue
            }
            queue(connection, for: worker)
        }
        passAll()
    }

    private func beginShutdown(_ signal: Int32) {
        guard drain.begin(on: signal, letting: "responses in flight (idle connections close within 1 s)",
                          timeout: options.drainTimeout, log: options.log) else { return }
        listeners.forEach {
            epoll.remove($0.fd)
            close($0.fd)
        }
        backlogWaiting.removeAll()
        passAwaiting()
        // Each worker drains as a reload retires it: the next request of a persistent
        // connection, if it comes within Drain.retireIdleGrace, is answered (the last,
        // with Connection: close), then connections still idle close. Closing them at
        // once met requests already on their way, which got no answer: a balancer
        // reusing its connections to Ferry saw an empty response per such request.
        for worker in pool.serving { try? worker.channel.sendRetire() }
        // End of stream on each channel: every worker exits once its connections are done.
        pool.stopPassing()
    }
}
