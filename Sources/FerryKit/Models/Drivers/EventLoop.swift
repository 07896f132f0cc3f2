import Glibc

/// What the event loop waits for on a descriptor.
enum Interest: Equatable {
    case readable
    case writable
}

/// A readiness mechanism the event loop waits with: select(2), poll(2) or epoll(7).
/// The loop tells it which descriptors to watch for what, each with a token of the
/// loop's choosing, and asks which are ready: it gets the tokens back, and finds a
/// session by its token without a lookup by descriptor (epoll keeps the token in the
/// kernel; select and poll keep their own table, the lab's cost, not the server's).
protocol ReadinessBackend: AnyObject {
    /// The model's command-line name ("select", "poll", "epoll").
    static var name: String { get }

    /// Why `fd` cannot be watched at all, or nil when it can (select refuses
    /// descriptors at or above FD_SETSIZE).
    func refusal(for fd: Int32) -> String?

    /// Starts watching `fd`, which is not watched yet, reporting it as `token`.
    func watch(_ fd: Int32, for interest: Interest, token: UInt64) throws

    /// Changes what a watched `fd` is watched for.
    func change(_ fd: Int32, to interest: Interest, token: UInt64) throws

    /// Stops watching `fd`; called before the loop closes it.
    func forget(_ fd: Int32)

    /// Waits up to `timeoutMilliseconds` (-1: no limit) and fills `ready` with the
    /// tokens of the descriptors that are ready for what they are watched for, or
    /// have failed (an error or hang-up also wakes them: the next read or write
    /// reports it). An interrupted wait returns with `ready` empty. Returns true when
    /// the list was full, so descriptors that were ready may be missing from it.
    func wait(timeoutMilliseconds: Int32, into ready: inout [UInt64]) throws -> Bool
}

/// Where an event loop's connections come from, and how it learns to stop.
enum ConnectionSource {
    /// It accepts on these itself and stops on SIGINT/SIGTERM (select, poll, epoll).
    case listeners([Listener])
    /// A parent passes connections down this channel and hears back, in one report
    /// (`ClosedConnections`) per loop iteration that closed any, what became of them
    /// and whose they were (prefork-pass-epoll's workers). End of stream on it means stop.
    case channel(DescriptorChannel)
}

/// One process serving many sessions at once (UNP 6.8; csdesign's select server and
/// its roadmap's poll and epoll; each worker of prefork-pass-epoll). Each connection
/// is a non-blocking socket and a `Session`; the loop calls `advance()` when the
/// socket is ready for what the session waits for, so no connection ever blocks
/// another.
///
/// Sessions live in a slab: a ready event's token carries the session's slot and the
/// slot's generation, so the loop finds the session in O(1) and a stale event for a
/// slot reused in the same batch is recognized and dropped.
///
/// One iteration: wait (the timeout is the earliest session deadline, the end of the
/// drain or of an accept pause, or a time the handler asked for); tell the handler it
/// woke up (HTTP: apply the file changes inotify reported, before any session runs);
/// then for each ready token: the signal descriptor → begin the shutdown; a listener
/// → accept until EAGAIN; the channel → take every connection waiting on it; in both
/// cases advancing each new session at once; a session → advance it and change its
/// interest if it now waits for something else. Then wake the sessions that sleep
/// until a time that has come (a rate-limited body: its socket is not watched
/// meanwhile), expire those whose deadline passed, report closed connections to the
/// parent and let the handler end the iteration (HTTP: write the access log lines).
///
/// The shutdown (a signal, or end of stream on the channel) stops taking
/// connections, closes at once the sessions that `drain()` says are idle, and lets
/// the others finish within the drain timeout.
final class EventLoop<Backend: ReadinessBackend> {
    /// A slab slot: the session in it (nil: free), what its socket is watched for
    /// (nil: nothing, it sleeps until `wakeTime`), its generation, and (fed by a
    /// channel) whose the connection is, for the report that it closed.
    private struct Slot {
        var session: Session?
        var interest: Interest?
        var generation: UInt32 = 0
        var wakeTime: UInt64 = 0
        var peer = AddressKey(high: 0, low: 0)
    }

    /// What a token stands for: its top byte.
    private enum TokenKind: UInt64 {
        case session = 0
        case signals = 1
        case channel = 2
        case listener = 3
        case changes = 4
        case completions = 5
    }

    private let backend: Backend
    private let handler: ConnectionHandler
    private let options: ModelOptions
    private var slots: [Slot] = []
    private var freeSlots: [Int] = []
    private var sessionCount = 0
    private var tally = WorkerTally(label: "\(Backend.name) loop")
    private var ready: [UInt64] = []

    private var listeners: [Listener] = []
    private var signals: SignalDescriptor?
    private var watchingListeners = false
    /// Out of descriptors or memory: the listeners are not watched until it ends.
    private var backOff = AcceptBackOff()
    /// The handler's change and completion descriptors as watched (-1: none).
    private var watchedChanges: Int32 = -1
    private var watchedCompletions: Int32 = -1
    /// Slots of sessions waiting for work the handler does off the loop (a disk read),
    /// and the sockets whose work completed.
    private var waitingForCompletion: [Int] = []
    private var completed: [Int32] = []

    private var channel: DescriptorChannel?
    /// Where the channel's messages are received (not lazy: a lazy property is copied
    /// out and back for every inout use, which would copy its buffers each time).
    private var channelScratch = ChannelScratch()
    /// The process that passes connections down the channel: another parent at the
    /// end of the drain means it died rather than began a shutdown (checked then, not
    /// at end of stream: a dying process closes its descriptors before its children
    /// are given to a new parent).
    private let parentPID = getppid()
    /// Sessions that were answering a request when the drain began.
    private var inFlightAtDrain = 0
    /// Connections closed since the last report to the parent: every connection the
    /// parent passed goes in here once, with its peer (the parent counts per address).
    private var unreported = ClosedConnections()
    /// When the oldest connection in `unreported` closed (monotonic ns; 0: none waits).
    private var unreportedSince: UInt64 = 0
    /// How long a closed connection may wait to be reported, and how many may: the
    /// parent's counts lag by at most this, while a report no longer wakes the parent
    /// once per closed connection when connections come one at a time.
    private let reportDelay: UInt64 = 5_000_000
    private let reportBatch = 64

    /// No session's deadline is earlier than this (0: no session has one). Kept as a
    /// lower bound so advancing a session costs O(1); the sessions are scanned only
    /// once it has passed, and the scan finds the true earliest deadline again.
    private var earliestDeadline: UInt64 = 0

    /// Slots of sessions that wait for a time, not for their socket (a rate-limited
    /// body), and the earliest of those times (0: none sleeps).
    private var sleeping: [Int] = []
    private var earliestWake: UInt64 = 0

    /// Started on SIGINT/SIGTERM or end of stream: the loop ends when no session
    /// remains or it expires.
    private var drain = Drain()
    /// The parent said a reload replaces this worker: its drain lets idle sessions
    /// take one more request until `idleCloseTime` (monotonic ns; 0: not pending).
    private var retiring = false
    private var idleCloseTime: UInt64 = 0

    init(backend: Backend, source: ConnectionSource, handler: ConnectionHandler, options: ModelOptions) throws {
        self.backend = backend
        self.handler = handler
        self.options = options
        switch source {
        case .listeners(let listeners):
            let signals = try SignalDescriptor([SIGINT, SIGTERM] + OperatorSignals.all)
            for fd in [signals.fd] + listeners.map(\.fd) {
                if let reason = backend.refusal(for: fd) { throw SystemError("\(Backend.name): \(reason)", code: EMFILE) }
            }
            try backend.watch(signals.fd, for: .readable, token: Self.token(.signals))
            self.listeners = listeners
            self.signals = signals
        case .channel(let channel):
            SocketOptions.setNonBlocking(channel.fd)
            try backend.watch(channel.fd, for: .readable, token: Self.token(.channel))
            self.channel = channel
        }
        watchHandlerDescriptors()
    }

    /// Serves until the shutdown and the drain that follows; returns the one tally.
    func run() throws -> [WorkerTally] {
        try watchListeners(true)
        while !drain.isDraining || (sessionCount > 0 && !drain.hasExpired) {
            let full = try backend.wait(timeoutMilliseconds: waitTimeout(), into: &ready)
            // File changes first: no session of this wakeup may answer from a state
            // the changes reported by now have replaced.
            handler.loopWokeUp(changesReady: full || ready.contains(Self.token(.changes)))
            watchHandlerDescriptors()
            for token in ready {
                switch TokenKind(rawValue: token >> 56) {
                case .session?: advanceSession(token: token)
                case .completions?: advanceCompleted()
                case .signals?: handleSignals()
                case .channel?: takePassedConnections()
                case .listener?:
                    // The listeners are gone once a shutdown began earlier in this batch.
                    let index = Int(token & 0xFFFF_FFFF)
                    if index < listeners.count { acceptConnections(from: listeners[index]) }
                case .changes?, nil: break
                }
            }
            let now = monotonicNanoseconds()
            if earliestWake != 0 && now >= earliestWake { wakeSessions(now: now) }
            if idleCloseTime != 0 && now >= idleCloseTime {
                idleCloseTime = 0
                closeIdleSessions()
            }
            if earliestDeadline != 0 && now >= earliestDeadline { expireSessions(now: now) }
            if backOff.ends(by: now) && !drain.isDraining { try watchListeners(true) }
            reportClosed()
            handler.loopIterationEnded()
            // A session may have started the handler's work off the loop just now.
            watchHandlerDescriptors()
        }
        if sessionCount > 0 {
            options.log("ferry: \(sessionCount) connection(s) still busy after the drain timeout; closing them")
            for slot in slots.indices where slots[slot].session != nil { end(slot) }
            reportClosed()
            handler.loopIterationEnded()
        }
        if channel != nil && inFlightAtDrain > 0 && getppid() != parentPID {
            options.log("ferry: worker \(getpid()): the parent died; finished the "
                        + ShutdownNotice.count(inFlightAtDrain, "response", "responses") + " in flight, exiting")
        }
        return [tally]
    }

    /// Until the earliest of: a session deadline or wake time, the end of the drain,
    /// the end of an accept pause, the handler's next wakeup.
    private func waitTimeout() -> Int32 {
        // Pairwise, not over an array: an array would be allocated on every iteration.
        func earlier(_ a: UInt64, _ b: UInt64) -> UInt64 { a == 0 ? b : b == 0 ? a : min(a, b) }
        let reportTime = unreported.isEmpty ? 0 : unreportedSince + reportDelay
        let first = earlier(earlier(earlier(earliestDeadline, earliestWake), earlier(drain.deadline, backOff.resumeTime)),
                            earlier(earlier(idleCloseTime, handler.nextWakeup), reportTime))
        return pollTimeout(until: first)
    }

    // MARK: tokens

    private static func token(_ kind: TokenKind, _ index: Int = 0, generation: UInt32 = 0) -> UInt64 {
        kind.rawValue << 56 | UInt64(generation & 0xFF_FFFF) << 32 | UInt64(UInt32(truncatingIfNeeded: index))
    }

    private func sessionToken(_ slot: Int) -> UInt64 {
        Self.token(.session, slot, generation: slots[slot].generation)
    }

    /// Watches the handler's change and completion descriptors, again when one changed.
    private func watchHandlerDescriptors() {
        watch(handler.changeDescriptor, as: .changes, watched: &watchedChanges)
        watch(handler.completionDescriptor, as: .completions, watched: &watchedCompletions)
    }

    private func watch(_ fd: Int32, as kind: TokenKind, watched: inout Int32) {
        guard fd != watched else { return }
        // A replaced descriptor was closed, which dropped its registration.
        watched = -1
        guard fd >= 0, backend.refusal(for: fd) == nil,
              (try? backend.watch(fd, for: .readable, token: Self.token(kind))) != nil else { return }
        watched = fd
    }

    // MARK: taking connections

    /// Accepts until the backlog is empty (EAGAIN), starting a session on each. Out of
    /// descriptors or memory, it stops watching the listeners for a moment instead of
    /// spinning on one that stays readable; sessions that finish meanwhile free some.
    private func acceptConnections(from listener: Listener) {
        while !drain.isDraining && !backOff.isPaused {
            switch listener.acceptConnection() {
            case .connection(let fd, let peer):
                backOff.accepted(log: options.log)
                start(fd, peer: peer)
            case .retry:
                continue
            case .backOff(let code):
                backOff.pause(after: code, on: listener, log: options.log)
                try? watchListeners(false)
                return
            case .empty, .closed:
                return
            }
        }
    }

    /// Takes one message from the channel: connections (several per recvmsg), the
    /// access log the parent reopened, or the word that a reload retires this worker.
    /// End of stream is the parent's word to stop. One per wakeup: the channel is
    /// watched level-triggered, so a message still waiting wakes the next iteration at
    /// once, and a lone connection costs no recvmsg that only says EAGAIN.
    private func takePassedConnections() {
        guard let channel, !drain.isDraining else { return }
        let received: ParentMessage?
        do {
            received = try channel.receiveParentMessage(into: &channelScratch)
        } catch {
            if (error as? SystemError)?.code != EAGAIN { beginDrain(because: "the channel failed: \(error)") }
            return
        }
        guard let received else {
            beginDrain(because: nil)
            return
        }
        switch received {
        case .connections(let lost):
            if !lost.isEmpty {
                options.log("ferry: \(Backend.name): \(lost.count) passed connection(s) lost: out of descriptors")
                for peer in lost { unreported.addUnserved(from: peer) }
            }
            for connection in channelScratch.connections { start(connection.fd, peer: connection.peer) }
        case .accessLog(let descriptor):
            if let log = options.accessLog { log.adopt(descriptor) } else { close(descriptor) }
        case .retire:
            retiring = true
        }
    }

    /// Starts a session on a new connection and advances it at once.
    private func start(_ fd: Int32, peer: SocketAddress) {
        if let reason = backend.refusal(for: fd) {
            options.log("ferry: \(Backend.name): refusing the connection from \(peer.host): \(reason); closing it")
            close(fd)
            if channel != nil { unreported.addUnserved(from: peer) }
            return
        }
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
        } else {
            slot = slots.count
            slots.append(Slot())
        }
        slots[slot].session = handler.makeSession(socket: fd, peer: peer)
        if channel != nil { slots[slot].peer = AddressKey(peer) }
        sessionCount += 1
        advance(slot)
    }

    private func watchListeners(_ watch: Bool) throws {
        guard watch != watchingListeners else { return }
        for (index, listener) in listeners.enumerated() {
            if watch {
                try backend.watch(listener.fd, for: .readable, token: Self.token(.listener, index))
            } else {
                backend.forget(listener.fd)
            }
        }
        watchingListeners = watch
    }

    // MARK: sessions

    /// A session's socket is ready: advance it, unless the event is stale (its slot
    /// was freed, or freed and taken again, earlier in this batch).
    private func advanceSession(token: UInt64) {
        let slot = Int(token & 0xFFFF_FFFF)
        guard slot < slots.count, slots[slot].session != nil, token == sessionToken(slot) else { return }
        advance(slot)
    }

    /// Advances the session in `slot`; ends it, puts it to sleep, or watches its
    /// socket for what it now waits for.
    private func advance(_ slot: Int) {
        guard let session = slots[slot].session else { return }
        let interest: Interest
        switch session.advance() {
        case .finished:
            end(slot)
            return
        case .wake(let time):
            sleep(slot, until: time)
            noteDeadline(of: session)
            return
        case .disk:
            unwatch(slot)
            waitingForCompletion.append(slot)
            noteDeadline(of: session)
            return
        case .readable: interest = .readable
        case .writable: interest = .writable
        }
        let watched = slots[slot].interest
        if watched != interest {
            do {
                if watched == nil {
                    try backend.watch(session.socket, for: interest, token: sessionToken(slot))
                } else {
                    try backend.change(session.socket, to: interest, token: sessionToken(slot))
                }
                slots[slot].interest = interest
            } catch {
                options.log("ferry: \(Backend.name): cannot watch descriptor \(session.socket) for \(interest): "
                            + "\(error); closing it")
                end(slot)
                return
            }
        }
        noteDeadline(of: session)
    }

    /// Stops watching a session's socket (it waits for something else).
    private func unwatch(_ slot: Int) {
        if slots[slot].interest != nil, let session = slots[slot].session {
            backend.forget(session.socket)
            slots[slot].interest = nil
        }
    }

    /// Advances the sessions whose work off the loop completed.
    private func advanceCompleted() {
        completed.removeAll(keepingCapacity: true)
        handler.takeCompletions(into: &completed)
        guard !completed.isEmpty else { return }
        let due = waitingForCompletion.filter { slots[$0].session.map { completed.contains($0.socket) } ?? true }
        waitingForCompletion.removeAll { due.contains($0) }
        for slot in due { advance(slot) }
    }

    /// Stops watching a session's socket until `time`.
    private func sleep(_ slot: Int, until time: UInt64) {
        unwatch(slot)
        if slots[slot].wakeTime == 0 { sleeping.append(slot) }
        slots[slot].wakeTime = time
        if earliestWake == 0 || time < earliestWake { earliestWake = time }
    }

    /// Advances every sleeping session whose wake time has come; finds the next one.
    private func wakeSessions(now: UInt64) {
        let due = sleeping.filter { slots[$0].wakeTime <= now }
        sleeping.removeAll { slots[$0].wakeTime <= now }
        earliestWake = sleeping.lazy.map { self.slots[$0].wakeTime }.min() ?? 0
        for slot in due {
            slots[slot].wakeTime = 0
            advance(slot)
        }
    }

    private func noteDeadline(of session: Session) {
        let deadline = session.deadline
        if deadline != 0 && (earliestDeadline == 0 || deadline < earliestDeadline) { earliestDeadline = deadline }
    }

    /// Expires every session whose deadline has passed and finds the earliest deadline
    /// among the rest. O(slots), but it runs only when the earliest known deadline
    /// has passed, not on every iteration: fine up to several thousand sessions; a
    /// heap or timer wheel would be the next step beyond that.
    private func expireSessions(now: UInt64) {
        earliestDeadline = 0
        for slot in slots.indices {
            guard let session = slots[slot].session else { continue }
            let deadline = session.deadline
            if deadline == 0 { continue }
            if deadline <= now {
                session.expire()
                end(slot)
            } else if earliestDeadline == 0 || deadline < earliestDeadline {
                earliestDeadline = deadline
            }
        }
    }

    /// Ends a session: forget its socket, close it, count it, free its slot (a new
    /// generation, so events still queued for it are recognized as stale).
    private func end(_ slot: Int) {
        guard let session = slots[slot].session else { return }
        if slots[slot].interest != nil { backend.forget(session.socket) }
        if slots[slot].wakeTime != 0 { sleeping.removeAll { $0 == slot } }
        waitingForCompletion.removeAll { $0 == slot }
        let peer = slots[slot].peer
        slots[slot] = Slot(generation: slots[slot].generation &+ 1)
        freeSlots.append(slot)
        sessionCount -= 1
        close(session.socket)
        let summary = session.summary
        tally.add(summary)
        if channel != nil {
            if unreported.isEmpty { unreportedSince = monotonicNanoseconds() }
            unreported.add(summary, from: peer)
        }
    }

    /// Tells the parent about the connections closed since the last report (one
    /// record, or a few when very many closed), once `reportBatch` closed or the oldest
    /// waited `reportDelay`. A full channel keeps what it could not take for later.
    private func reportClosed() {
        guard let channel, !unreported.isEmpty else { return }
        // Batched by time and count, but never held back once the loop is ending.
        guard drain.isDraining || unreported.counts.connections >= reportBatch
              || monotonicNanoseconds() >= unreportedSince + reportDelay else { return }
        try? channel.send(closed: &unreported)
        if !unreported.isEmpty { unreportedSince = monotonicNanoseconds() }
    }

    // MARK: shutdown

    private func handleSignals() {
        guard let signals else { return }
        for signal in OperatorSignals.answer(signals.drain(), model: Backend.name, options: options)
        where signal == SIGINT || signal == SIGTERM {
            let inFlight = ShutdownNotice.count(sessionCount, "connection", "connections") + " in flight"
            guard drain.begin(on: signal, letting: inFlight, timeout: options.drainTimeout, log: options.log) else {
                continue
            }
            try? watchListeners(false)
            for listener in listeners { close(listener.fd) }
            listeners = []
            closeIdleSessions()
        }
    }

    /// The parent closed the channel, died, or the channel failed: take no more
    /// connections, let the sessions in flight finish. The parent logs a shutdown it
    /// began; the worker says, as it exits, when the parent died.
    private func beginDrain(because problem: String?) {
        guard let channel, !drain.isDraining else { return }
        if let problem { options.log("ferry: \(Backend.name): \(problem); finishing the connections held") }
        drain.begin(timeout: options.drainTimeout)
        backend.forget(channel.fd)
        inFlightAtDrain = sessionCount
        guard retiring else {
            closeIdleSessions()
            return
        }
        for slot in slots where slot.session != nil { slot.session?.answerOneMore() }
        idleCloseTime = monotonicNanoseconds() + Drain.retireIdleGrace.nanoseconds
    }

    /// Closes every session that is between requests (or has not begun one).
    private func closeIdleSessions() {
        for slot in slots.indices where slots[slot].session?.drain() == true { end(slot) }
    }
}
