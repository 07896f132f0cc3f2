import Glibc

/// Prefork with descriptor passing (UNP 30.9; the seed's "Passing Descriptor to
/// Child"). The parent alone accepts; it hands each connection to an idle worker
/// over that worker's UNIX socket (SCM_RIGHTS) and closes its own copy. A worker
/// serves the connection, sends back a short record, and waits for the next one.
/// With no idle worker, new connections wait in the kernel's backlog; if no worker
/// has finished anything for `growthDelay` (long downloads, slow clients), the
/// parent adds a worker, up to `maxWorkers`.
public struct PreforkPassModel: ServerModel {
    public static let name = "prefork-pass"
    public static let startsPool = true

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
    /// A worker process and the parent's end of its channel.
    final class Worker {
        let slot: Int
        var pid: pid_t = 0
        var channel = DescriptorChannel(fd: -1)
        var busy = false
        var alive = false
        var tally: WorkerTally

        init(slot: Int) {
            self.slot = slot
            tally = WorkerTally(label: "worker \(slot)")
        }
    }

    /// What a worker sends back after each connection.
    struct DoneRecord {
        var status: Int32
        var bytesViaSendfile: Int64
        var bytesViaCopy: Int64
        var bytesFromMemory: Int64
    }

    /// What the parent sends with each descriptor: the peer, so the worker's access
    /// log needs no getpeername(2).
    typealias Handoff = SocketAddress

    private enum Token {
        static let signals: UInt64 = 1 << 32
        static let listenerBase: UInt64 = 2 << 32
        static let workerBase: UInt64 = 3 << 32
    }

    private let listeners: [Listener]
    private let makeHandler: HandlerFactory
    private let options: ModelOptions
    private let epoll: Epoll
    private let signals: SignalDescriptor
    private let parentPID = getpid()
    private var workers: [Worker] = []
    /// Listeners whose backlog may still hold connections because no worker was free
    /// (their edge-triggered registration will not report them again).
    private var backlogWaiting: Set<Int> = []
    private var drain = Drain()
    /// When to add a worker if none has become idle by then; 0 when not waiting.
    private var growthDeadline: UInt64 = 0

    /// How long a backlog may wait on a pool in which no worker finishes before the
    /// pool grows. Growing at once for every connection that finds all workers busy
    /// would fork dozens of workers for a burst of tiny requests, each done in
    /// microseconds, and more processes than CPUs cost throughput (measured: 64
    /// grown workers served a 1 KiB file about a fifth slower than 4).
    static let growthDelay = 0.02

    init(listeners: [Listener], makeHandler: @escaping HandlerFactory, options: ModelOptions) throws {
        self.listeners = listeners
        self.makeHandler = makeHandler
        self.options = options
        epoll = try Epoll()
        signals = try SignalDescriptor([SIGINT, SIGTERM, SIGCHLD])
        try epoll.add(signals.fd, events: .epollIn, token: Token.signals)
    }

    func run() throws -> [WorkerTally] {
        for slot in 0..<max(1, options.workers) {
            let worker = Worker(slot: slot)
            workers.append(worker)
            try start(worker)
        }
        // Edge-triggered: the parent hears of new connections once and remembers a
        // backlog it left for later, so a saturated pool costs no epoll_ctl calls.
        for (index, listener) in listeners.enumerated() {
            try epoll.add(listener.fd, events: .epollIn | .epollEdgeTriggered, token: Token.listenerBase | UInt64(index))
        }
        while !finished {
            let wakeUp: UInt64 = [drain.deadline, growthDeadline].filter { $0 != 0 }.min() ?? 0
            for event in try epoll.wait(timeoutMilliseconds: pollTimeout(until: wakeUp)) {
                switch event.data & ~0xFFFF_FFFF {
                case Token.signals: handleSignals()
                case Token.listenerBase: acceptConnections(from: Int(event.data & 0xFFFF_FFFF))
                default: readRecords(from: workers[Int(event.data & 0xFFFF_FFFF)])
                }
            }
            if drain.hasExpired { killRemainingWorkers() }
            if growthDeadline != 0 && monotonicNanoseconds() >= growthDeadline { growPool() }
        }
        return workers.map(\.tally)
    }

    private var finished: Bool { drain.isDraining && !workers.contains(where: \.alive) }

    // MARK: accepting and handing off

    /// Accepts until the backlog is empty or no worker is free, handing each
    /// connection to an idle worker. With every worker busy, the rest stays in the
    /// kernel's backlog until a worker reports back or the pool grows.
    private func acceptConnections(from index: Int) {
        while let worker = idleWorker() {
            guard let (connection, peer) = listeners[index].accept() else {
                backlogWaiting.remove(index)
                return
            }
            hand(connection, peer: peer, preferring: worker)
            close(connection)
        }
        backlogWaiting.insert(index)
        if growthDeadline == 0 && workers.count < options.maxWorkers {
            growthDeadline = monotonicNanoseconds() + Self.growthDelay.nanoseconds
        }
    }

    /// Passes the connection to `worker`, or to another idle one if that worker's
    /// channel has failed (it died a moment ago).
    private func hand(_ connection: Int32, peer: SocketAddress, preferring first: Worker) {
        var candidate: Worker? = first
        while let worker = candidate {
            do {
                try worker.channel.send(descriptor: connection, payload: peer)
                worker.busy = true
                return
            } catch {
                options.log("ferry: cannot pass a connection to worker \(worker.slot): \(error)")
                worker.busy = true  // not usable until it is reaped and replaced
                candidate = idleWorker()
            }
        }
    }

    /// The lowest-numbered idle worker, if any.
    private func idleWorker() -> Worker? {
        workers.first { $0.alive && !$0.busy }
    }

    /// No worker finished anything for `growthDelay` while connections waited: add
    /// one and give it the backlog.
    private func growPool() {
        growthDeadline = 0
        guard !drain.isDraining, !backlogWaiting.isEmpty, idleWorker() == nil, workers.count < options.maxWorkers else {
            return
        }
        let worker = Worker(slot: workers.count)
        workers.append(worker)
        do {
            try start(worker)
        } catch {
            options.log("ferry: cannot start another worker: \(error)")
            workers.removeLast()
            return
        }
        for index in backlogWaiting { acceptConnections(from: index) }
    }

    // MARK: worker records

    /// Reads a worker's done records. A worker has one connection at a time, so one
    /// record per readiness is the rule (level-triggered epoll reports the channel
    /// again if more waits), which spares a recvmsg that would only say EAGAIN;
    /// `untilEmpty` takes everything (a worker about to be retired).
    private func readRecords(from worker: Worker, untilEmpty: Bool = false) {
        repeat {
            do {
                guard let (record, descriptor) = try worker.channel.receive(DoneRecord.self) else {
                    // End of stream: the worker exited; SIGCHLD reaps it.
                    epoll.remove(worker.channel.fd)
                    break
                }
                if let descriptor { close(descriptor) }
                var summary = SessionSummary()
                summary.status = Int(record.status)
                summary.bytesViaSendfile = record.bytesViaSendfile
                summary.bytesViaCopy = record.bytesViaCopy
                summary.bytesFromMemory = record.bytesFromMemory
                worker.tally.add(summary)
                worker.busy = false
            } catch {
                if (error as? SystemError)?.code != EAGAIN {
                    epoll.remove(worker.channel.fd)
                }
                break
            }
        } while untilEmpty
        if !drain.isDraining && !worker.busy && worker.alive {
            // A worker finished: the pool keeps up, no need to grow.
            growthDeadline = 0
            for index in backlogWaiting { acceptConnections(from: index) }
        }
    }

    // MARK: signals and worker lifecycle

    private func handleSignals() {
        for signal in signals.drain() {
            switch signal {
            case SIGCHLD: reapWorkers()
            default: beginShutdown(signal)
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
        // End of stream on each channel: an idle worker's next receive returns nil and
        // it exits; a busy one exits after its current connection.
        for worker in workers where worker.alive {
            shutdown(worker.channel.fd, Int32(SHUT_WR))
        }
    }

    private func killRemainingWorkers() {
        for worker in workers where worker.alive {
            options.log("ferry: worker \(worker.slot) (pid \(worker.pid)) still busy after the drain timeout; killing it")
            kill(worker.pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(worker.pid, &status, 0) < 0 && errno == EINTR {}
            retire(worker)
        }
    }

    private func reapWorkers() {
        var status: Int32 = 0
        while true {
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return }
            guard let worker = workers.first(where: { $0.pid == pid && $0.alive }) else { continue }
            retire(worker)
            if drain.isDraining { continue }
            options.log("ferry: worker \(worker.slot) (pid \(pid)) \(describeExit(status)); starting a new one")
            do {
                try start(worker)
            } catch {
                options.log("ferry: cannot restart worker \(worker.slot): \(error)")
            }
        }
    }

    private func retire(_ worker: Worker) {
        // A worker that exits right after its last record (as every worker does when
        // draining) can be reaped before that record is read: collect it first.
        if worker.channel.fd >= 0 { readRecords(from: worker, untilEmpty: true) }
        worker.alive = false
        worker.busy = false
        epoll.remove(worker.channel.fd)
        close(worker.channel.fd)
        worker.channel = DescriptorChannel(fd: -1)
    }

    private func start(_ worker: Worker) throws {
        let (parentEnd, workerEnd) = try DescriptorChannel.pair()
        let pid = fork()
        if pid < 0 {
            close(parentEnd.fd)
            close(workerEnd.fd)
            throw SystemError("fork")
        }
        if pid == 0 {
            close(parentEnd.fd)
            becomeWorker(slot: worker.slot, channel: workerEnd)
        }
        close(workerEnd.fd)
        SocketOptions.setNonBlocking(parentEnd.fd)
        worker.pid = pid
        worker.channel = parentEnd
        worker.alive = true
        worker.busy = false
        try epoll.add(parentEnd.fd, events: .epollIn, token: Token.workerBase | UInt64(worker.slot))
    }

    // MARK: the worker process

    /// Runs in the forked child and never returns.
    private func becomeWorker(slot: Int, channel: DescriptorChannel) -> Never {
        // Nothing of the parent's may stay open here: above all not the listeners
        // (only the parent accepts) and not the other workers' channels.
        listeners.forEach { close($0.fd) }
        close(epoll.fd)
        for other in workers where other.alive { close(other.channel.fd) }
        // The parent coordinates shutdown: a Ctrl-C reaching the whole process group
        // must not cut a download short.
        ForkedChild.leaveSignalsToParent(signals, parentPID: parentPID, processName: "ferry-worker")

        let handler = makeHandler()
        while let (peer, descriptor) = try? channel.receive(Handoff.self) {
            guard let connection = descriptor else { continue }
            let summary = BlockingDriver.serve(handler.makeSession(socket: connection, peer: peer))
            let record = DoneRecord(status: Int32(summary.status), bytesViaSendfile: summary.bytesViaSendfile,
                                    bytesViaCopy: summary.bytesViaCopy, bytesFromMemory: summary.bytesFromMemory)
            if (try? channel.send(record: record)) == nil { break }
        }
        _exit(0)
    }
}

/// "exited with status 3" / "was killed by signal 9 (Killed)".
package func describeExit(_ status: Int32) -> String {
    let signal = status & 0x7F
    if signal == 0 { return "exited with status \((status >> 8) & 0xFF)" }
    return "was killed by signal \(signal) (\(String(cString: strsignal(signal))))"
}
