import Glibc

/// The preforked workers of the descriptor-passing models (prefork-pass and
/// prefork-pass-epoll), seen from the parent: each worker process with the parent's
/// end of its channel, started, reaped, replaced and finally stopped through one
/// `ChildSupervisor`. The parent's epoll watches every channel (token `tokenBase |
/// slot`); the reports that arrive on it (`ClosedConnections`) are added to the
/// worker's tally and taken off its count of live connections, and off the counts per
/// client address when the parent keeps them.
///
/// A reload (SIGHUP) starts a new generation of workers with a new `work` and
/// retires the old one: retired workers get no more connections, finish what they
/// hold, exit and are not replaced. They stay in `workers` (their slots are not
/// reused), so their tallies count in the exit report, as one "retired" row.
final class WorkerPool {
    /// A worker process and the parent's end of its channel.
    final class Worker {
        let slot: Int
        var pid: pid_t = 0
        var channel = DescriptorChannel(fd: -1)
        var alive = false
        /// Retired by a reload: it takes no new connections and is not replaced.
        var retiring = false
        /// Connections passed to it and not yet reported closed.
        var live = 0
        /// Alive, but its channel is full: it has not read what was passed (stopped,
        /// or stalled in the kernel). It takes no connections until the channel has
        /// room again.
        var backedUp = false
        var tally: WorkerTally

        /// Whether the parent may pass it a connection now.
        var takesConnections: Bool { alive && !backedUp }

        init(slot: Int) {
            self.slot = slot
            tally = WorkerTally(label: "worker \(slot)")
        }
    }

    private let epoll: Epoll
    private let signals: SignalDescriptor
    private let tokenBase: UInt64
    /// Descriptors only the parent may hold (the listeners): closed in each worker.
    private let parentOnly: [Int32]
    /// The connections the parent holds when it forks (accepted, not yet passed):
    /// closed in the new worker too. A copy kept there would hold each one open after
    /// the worker it is passed to closes it: the client would get no end of stream.
    var connectionsHeld: () -> [Int32] = { [] }
    private let log: (String) -> Void
    /// What a worker gets when the parent dies (`PR_SET_PDEATHSIG`), or nil for workers
    /// that learn it from end of stream on their channel and drain.
    private let parentDeathSignal: Int32?
    /// The worker process's life: its slot and its end of the channel. Never returns.
    /// A reload replaces it before starting the new generation.
    var work: (Int, DescriptorChannel) -> Never
    private let parentPID = getpid()
    private var children = ChildSupervisor()
    private(set) var workers: [Worker] = []
    /// The generation that takes new connections (all of `workers` until a reload),
    /// so that choosing a worker does not scan the retired ones.
    private(set) var current: [Worker] = []
    /// Live connections per client address, for max_connections_per_address: the
    /// parent adds what it passes; reports and ended workers take off what closed.
    var perAddress = ConnectionsPerAddress()
    /// Where reports are received, so that reading one allocates no buffer.
    private var reportBuffer = [UInt8](repeating: 0, count: DescriptorChannel.maxReportBytes)

    init(epoll: Epoll, signals: SignalDescriptor, tokenBase: UInt64, parentOnly: [Int32],
         parentDeathSignal: Int32? = SIGKILL, log: @escaping (String) -> Void,
         work: @escaping (Int, DescriptorChannel) -> Never) {
        self.epoll = epoll
        self.parentDeathSignal = parentDeathSignal
        self.signals = signals
        self.tokenBase = tokenBase
        self.parentOnly = parentOnly
        self.log = log
        self.work = work
    }

    var anyAlive: Bool { !children.isEmpty }

    /// Workers that take new connections: alive and not retiring.
    var serving: [Worker] { current.filter(\.alive) }

    /// How many workers are `serving`, counted without building the list.
    var servingCount: Int { current.reduce(0) { $0 + ($1.alive ? 1 : 0) } }

    /// Workers retired by a reload that are still finishing.
    var retiringCount: Int { workers.reduce(0) { $0 + ($1.alive && $1.retiring ? 1 : 0) } }

    /// Starts a worker in a new slot.
    @discardableResult
    func add() throws -> Worker {
        let worker = Worker(slot: workers.count)
        try start(worker)
        workers.append(worker)
        current.append(worker)
        return worker
    }

    /// Reads the reports waiting on `worker`'s channel: one (a level-triggered channel
    /// is reported again while more waits, and one-connection workers send one per
    /// connection), or all of them with `untilEmpty`.
    func readReports(from worker: Worker, untilEmpty: Bool) {
        repeat {
            do {
                guard let closed = try worker.channel.receiveClosed(using: &reportBuffer) else {
                    // End of stream: the worker exited; SIGCHLD reaps it.
                    epoll.remove(worker.channel.fd)
                    return
                }
                worker.tally.add(closed.counts)
                worker.live = max(0, worker.live - Int(closed.counts.connections))
                perAddress.remove(closed.addresses, heldBy: worker.slot)
            } catch {
                if (error as? SystemError)?.code != EAGAIN { epoll.remove(worker.channel.fd) }
                return
            }
        } while untilEmpty
    }

    /// Reaps the workers that have ended and, unless `replacing` is false (draining),
    /// starts a new one in each slot. The connections an ended worker held are lost.
    /// A retiring worker is not replaced; only an abnormal end of one is logged.
    func reap(replacing: Bool) {
        for child in children.reap() {
            let worker = workers[child.slot]
            let wasRetiring = worker.retiring
            let lost = retire(worker)
            let held = lost > 0 ? " (\(ShutdownNotice.count(lost, "connection", "connections")) lost)" : ""
            if wasRetiring {
                if child.status != 0 {
                    log("ferry: retired worker \(child.slot) (pid \(child.pid)) \(describeExit(child.status))\(held)")
                }
                continue
            }
            guard replacing else { continue }
            log("ferry: worker \(child.slot) (pid \(child.pid)) \(describeExit(child.status))\(held); starting a new one")
            do {
                try start(worker)
            } catch {
                log("ferry: cannot restart worker \(child.slot): \(error)")
            }
        }
    }

    /// Closes the parent's end of every channel for writing: each worker reads end of
    /// stream after the connections already passed, and finishes.
    func stopPassing() {
        for worker in workers where worker.alive { shutdown(worker.channel.fd, Int32(SHUT_WR)) }
    }

    /// Retires `retired` (the generation a reload replaces): `announce` (the model's
    /// word for it, if any), then end of stream on each channel, as in `stopPassing`,
    /// and no replacement when they exit.
    func retire(generation retired: [Worker], announce: ((DescriptorChannel) throws -> Void)? = nil) {
        let slots = Set(retired.map(\.slot))
        current.removeAll { slots.contains($0.slot) }
        for worker in retired where worker.alive {
            worker.retiring = true
            try? announce?(worker.channel)
            shutdown(worker.channel.fd, Int32(SHUT_WR))
        }
    }

    /// For the exit report: a row per worker of the current generation, and one for
    /// all the workers reloads retired.
    var tallies: [WorkerTally] {
        let slots = Set(current.map(\.slot))
        let retired = workers.filter { !slots.contains($0.slot) }
        guard !retired.isEmpty else { return current.map(\.tally) }
        var sum = WorkerTally(label: "retired (\(ShutdownNotice.count(retired.count, "worker", "workers")))")
        retired.forEach { sum.absorb($0.tally) }
        return current.map(\.tally) + [sum]
    }

    /// Sends every serving worker the reopened access log with `send` (the model's
    /// message for it). Returns how many could not take it. A retiring worker's
    /// channel is closed for sending: it finishes on the file it has.
    func passAccessLog(_ descriptor: Int32, with send: (DescriptorChannel, Int32) throws -> Void) -> Int {
        var failed = 0
        for worker in serving {
            if (try? send(worker.channel, descriptor)) == nil { failed += 1 }
        }
        return failed
    }

    /// Kills the workers still alive (the drain timeout passed).
    func killRemaining() {
        for worker in workers where worker.alive {
            log("ferry: worker \(worker.slot) (pid \(worker.pid)) still busy after the drain timeout; killing it")
        }
        for child in children.killAll() { retire(workers[child.slot]) }
    }

    /// Marks `worker` dead, forgets the connections it held and closes its channel,
    /// after collecting the reports it sent before it ended (a worker exits right after
    /// its last one, and may be reaped before that is read). Returns how many
    /// connections it still held.
    @discardableResult
    private func retire(_ worker: Worker) -> Int {
        if worker.channel.fd >= 0 { readReports(from: worker, untilEmpty: true) }
        let lost = worker.live
        worker.alive = false
        worker.retiring = false
        worker.backedUp = false
        worker.live = 0
        perAddress.removeAll(heldBy: worker.slot)
        epoll.remove(worker.channel.fd)
        close(worker.channel.fd)
        worker.channel = DescriptorChannel(fd: -1)
        return lost
    }

    private func start(_ worker: Worker) throws {
        let (parentEnd, workerEnd) = try DescriptorChannel.pair()
        let pid: pid_t
        do {
            pid = try children.start(slot: worker.slot) {
                close(parentEnd.fd)
                becomeWorker(slot: worker.slot, channel: workerEnd)
            }
        } catch {
            close(parentEnd.fd)
            close(workerEnd.fd)
            throw error
        }
        close(workerEnd.fd)
        SocketOptions.setNonBlocking(parentEnd.fd)
        worker.pid = pid
        worker.channel = parentEnd
        worker.alive = true
        worker.backedUp = false
        worker.live = 0
        try epoll.add(parentEnd.fd, events: .epollIn, token: tokenBase | UInt64(worker.slot))
    }

    /// A pass to `worker` failed with `error` although the worker is alive: it takes no
    /// connections until epoll reports room on the channel (EPOLLOUT) and
    /// `channelHasRoom` is called. EAGAIN is a full channel (the worker does not read);
    /// a shortage of kernel memory (ENOBUFS, ENOMEM) is waited for the same way, and
    /// named as what it is.
    func backUp(_ worker: Worker, after error: any Error) {
        let token = tokenBase | UInt64(worker.slot)
        worker.backedUp = (try? epoll.modify(worker.channel.fd, events: .epollIn | .epollOut, token: token)) != nil
        guard worker.backedUp else { return }
        let what = (error as? SystemError)?.code == EAGAIN
            ? "is not reading the connections passed to it" : "cannot be passed connections (\(error))"
        log("ferry: worker \(worker.slot) (pid \(worker.pid)) \(what); it gets no more until its channel has room")
    }

    /// Room again on a backed-up worker's channel: it takes connections again.
    func channelHasRoom(_ worker: Worker) {
        guard worker.backedUp else { return }
        worker.backedUp = false
        try? epoll.modify(worker.channel.fd, events: .epollIn, token: tokenBase | UInt64(worker.slot))
        log("ferry: worker \(worker.slot) (pid \(worker.pid)) reads its connections again (its channel has room)")
    }

    /// Runs in the forked child.
    private func becomeWorker(slot: Int, channel: DescriptorChannel) -> Never {
        // Nothing of the parent's may stay open here: above all not the listeners
        // (only the parent accepts) and not the other workers' channels: a live one's
        // copy here would keep that worker from reading end of stream when the parent
        // dies; a dead one's, not reaped yet, would leak.
        parentOnly.forEach { close($0) }
        connectionsHeld().forEach { close($0) }
        close(epoll.fd)
        for other in workers where other.channel.fd >= 0 { close(other.channel.fd) }
        // The parent coordinates shutdown: a Ctrl-C reaching the whole process group
        // must not cut a download short.
        ForkedChild.leaveSignalsToParent(signals, parentPID: parentPID, processName: "ferry-worker",
                                         deathSignal: parentDeathSignal)
        work(slot, channel)
    }
}
