import Glibc

/// What the event loop waits for on a descriptor.
enum Interest: Equatable {
    case readable
    case writable
}

/// A readiness mechanism the event loop waits with: select(2), poll(2) or epoll(7).
/// The loop tells it which descriptors to watch for what, and asks which are ready;
/// the backend keeps whatever kernel or user-space state that takes.
protocol ReadinessBackend: AnyObject {
    /// The model's command-line name ("select", "poll", "epoll").
    static var name: String { get }

    /// Why `fd` cannot be watched at all, or nil when it can (select refuses
    /// descriptors at or above FD_SETSIZE).
    func refusal(for fd: Int32) -> String?

    /// Starts watching `fd`, which is not watched yet.
    func watch(_ fd: Int32, for interest: Interest) throws

    /// Changes what a watched `fd` is watched for.
    func change(_ fd: Int32, to interest: Interest) throws

    /// Stops watching `fd`; called before the loop closes it.
    func forget(_ fd: Int32)

    /// Waits up to `timeoutMilliseconds` (-1: no limit) and fills `ready` with the
    /// descriptors that are ready for what they are watched for, or have failed
    /// (an error or hang-up also wakes them: the next read or write reports it).
    /// An interrupted wait returns with `ready` empty.
    func wait(timeoutMilliseconds: Int32, into ready: inout [Int32]) throws
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
/// One iteration: wait (the timeout is the earliest session deadline, the end of the
/// drain or of an accept pause), then for each ready descriptor: the signal
/// descriptor → begin the shutdown; a listener → accept until EAGAIN; the channel →
/// take every connection waiting on it; in both cases advancing each new session at
/// once; a session → advance it and change its interest if it now waits for
/// something else. Then wake the sessions that sleep until a time that has come
/// (a rate-limited body: its socket is not watched meanwhile), and expire those
/// whose deadline passed. A finished
/// session's socket is forgotten by the backend and closed.
///
/// The shutdown (a signal, or end of stream on the channel) stops taking
/// connections, closes at once the sessions that `drain()` says are idle, and lets
/// the others finish within the drain timeout.
final class EventLoop<Backend: ReadinessBackend> {
    /// A session and what the backend watches its socket for (nil: nothing, it
    /// sleeps until a wake time).
    private struct Entry {
        let session: Session
        var interest: Interest?
    }

    private let backend: Backend
    private let handler: ConnectionHandler
    private let options: ModelOptions
    private var sessions: [Int32: Entry] = [:]
    private var tally = WorkerTally(label: "\(Backend.name) loop")
    private var ready: [Int32] = []

    private var listeners: [Listener] = []
    private var listenerDescriptors: Set<Int32> = []
    private var signals: SignalDescriptor?
    private var watchingListeners = false
    /// Out of descriptors or memory: the listeners are not watched until it ends.
    private var backOff = AcceptBackOff()

    private var channel: DescriptorChannel?
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

    /// No session's deadline is earlier than this (0: no session has one). Kept as a
    /// lower bound so advancing a session costs O(1); the sessions are scanned only
    /// once it has passed, and the scan finds the true earliest deadline again.
    private var earliestDeadline: UInt64 = 0

    /// Sessions that wait for a time, not for their socket (a rate-limited body),
    /// and when each wakes; and the earliest of those times (0: none sleeps).
    private var sleeping: [Int32: UInt64] = [:]
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
            try backend.watch(signals.fd, for: .readable)
            self.listeners = listeners
            self.signals = signals
            listenerDescriptors = Set(listeners.map(\.fd))
        case .channel(let channel):
            SocketOptions.setNonBlocking(channel.fd)
            try backend.watch(channel.fd, for: .readable)
            self.channel = channel
        }
    }

    /// Serves until the shutdown and the drain that follows; returns the one tally.
    func run() throws -> [WorkerTally] {
        try watchListeners(true)
        while !drain.isDraining || (!sessions.isEmpty && !drain.hasExpired) {
            try backend.wait(timeoutMilliseconds: waitTimeout(), into: &ready)
            for fd in ready {
                if fd == signals?.fd {
                    handleSignals()
                } else if fd == channel?.fd {
                    takePassedConnections()
                } else if listenerDescriptors.contains(fd) {
                    if let listener = listeners.first(where: { $0.fd == fd }) { acceptConnections(from: listener) }
                } else if let entry = sessions[fd] {
                    advance(entry.session)
                }
                // Otherwise the descriptor was closed earlier in this batch: a stale event.
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
        }
        if !sessions.isEmpty {
            options.log("ferry: \(sessions.count) connection(s) still busy after the drain timeout; closing them")
            for fd in Array(sessions.keys) { end(fd) }
            reportClosed()
        }
        if channel != nil && inFlightAtDrain > 0 && getppid() != parentPID {
            options.log("ferry: worker \(getpid()): the parent died; finished the "
                        + ShutdownNotice.count(inFlightAtDrain, "response", "responses") + " in flight, exiting")
        }
        return [tally]
    }

    /// Until the earliest of: a session deadline or wake time, the end of the drain,
    /// the end of an accept pause.
    private func waitTimeout() -> Int32 {
        let wakeups = [earliestDeadline, earliestWake, drain.deadline, backOff.resumeTime, idleCloseTime].filter { $0 != 0 }
        guard let first = wakeups.min() else { return -1 }
        return pollTimeout(until: first)
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

    /// Takes every message waiting on the channel (several connections per recvmsg,
    /// and every message that is there, without sleeping in between): connections, or
    /// the access log the parent reopened. End of stream is the parent's word to stop.
    private func takePassedConnections() {
        guard let channel else { return }
        while true {
            let received: ParentMessage?
            do {
                received = try channel.receiveParentMessage()
            } catch {
                if (error as? SystemError)?.code != EAGAIN { beginDrain(because: "the channel failed: \(error)") }
                return
            }
            guard let received else {
                beginDrain(because: nil)
                return
            }
            let connections: [PassedConnection], lost: [SocketAddress]
            switch received {
            case .connections(let passed, let missing):
                (connections, lost) = (passed, missing)
            case .accessLog(let descriptor):
                if let log = options.accessLog { log.adopt(descriptor) } else { close(descriptor) }
                continue
            case .retire:
                retiring = true
                continue
            }
            if !lost.isEmpty {
                options.log("ferry: \(Backend.name): \(lost.count) passed connection(s) lost: out of descriptors")
                for peer in lost { unreported.addUnserved(from: peer) }
            }
            for connection in connections { start(connection.fd, peer: connection.peer) }
        }
    }

    /// Starts a session on a new connection and advances it at once.
    private func start(_ fd: Int32, peer: SocketAddress) {
        if let reason = backend.refusal(for: fd) {
            options.log("ferry: \(Backend.name): refusing the connection from \(peer.host): \(reason); closed it")
            close(fd)
            if channel != nil { unreported.addUnserved(from: peer) }
            return
        }
        let session = handler.makeSession(socket: fd, peer: peer)
        sessions[fd] = Entry(session: session, interest: nil)
        advance(session)
    }

    private func watchListeners(_ watch: Bool) throws {
        guard watch != watchingListeners else { return }
        for listener in listeners {
            if watch { try backend.watch(listener.fd, for: .readable) } else { backend.forget(listener.fd) }
        }
        watchingListeners = watch
    }

    // MARK: sessions

    /// Advances a session whose socket is ready (or whose wake time came); ends it,
    /// puts it to sleep, or watches its socket for what it now waits for.
    private func advance(_ session: Session) {
        let fd = session.socket
        let interest: Interest
        switch session.advance() {
        case .finished:
            end(fd)
            return
        case .wake(let time):
            sleep(fd, until: time)
            noteDeadline(of: session)
            return
        case .readable: interest = .readable
        case .writable: interest = .writable
        }
        let watched = sessions[fd]?.interest
        if watched != interest {
            do {
                if watched == nil { try backend.watch(fd, for: interest) } else { try backend.change(fd, to: interest) }
                sessions[fd]?.interest = interest
            } catch {
                options.log("ferry: \(Backend.name): cannot watch descriptor \(fd) for \(interest): \(error); closing it")
                end(fd)
                return
            }
        }
        noteDeadline(of: session)
    }

    /// Stops watching a session's socket until `time`.
    private func sleep(_ fd: Int32, until time: UInt64) {
        if sessions[fd]?.interest != nil {
            backend.forget(fd)
            sessions[fd]?.interest = nil
        }
        sleeping[fd] = time
        if earliestWake == 0 || time < earliestWake { earliestWake = time }
    }

    /// Advances every sleeping session whose wake time has come; finds the next one.
    private func wakeSessions(now: UInt64) {
        let (due, earliest) = Self.split(sleeping.lazy.map { ($0.key, $0.value) }, at: now)
        earliestWake = earliest
        for fd in due {
            sleeping[fd] = nil
            if let entry = sessions[fd] { advance(entry.session) }
        }
    }

    private func noteDeadline(of session: Session) {
        let deadline = session.deadline
        if deadline != 0 && (earliestDeadline == 0 || deadline < earliestDeadline) { earliestDeadline = deadline }
    }

    /// Expires every session whose deadline has passed and finds the earliest deadline
    /// among the rest. O(sessions), but it runs only when the earliest known deadline
    /// has passed, not on every iteration: fine up to several thousand sessions; a
    /// heap or timer wheel would be the next step beyond that.
    private func expireSessions(now: UInt64) {
        let (expired, earliest) = Self.split(sessions.lazy.map { ($0.key, $0.value.session.deadline) }, at: now)
        earliestDeadline = earliest
        for fd in expired {
            sessions[fd]?.session.expire()
            end(fd)
        }
    }

    /// The descriptors whose time has come by `now`, and the earliest time among the
    /// others (0: none). A time of 0 is no time at all.
    private static func split(_ times: some Sequence<(Int32, UInt64)>, at now: UInt64) -> (due: [Int32], earliest: UInt64) {
        var due: [Int32] = []
        var earliest: UInt64 = 0
        for (fd, time) in times where time != 0 {
            if time <= now {
                due.append(fd)
            } else if earliest == 0 || time < earliest {
                earliest = time
            }
        }
        return (due, earliest)
    }

    /// Ends a watched session: forget, close, count.
    private func end(_ fd: Int32) {
        guard let entry = sessions.removeValue(forKey: fd) else { return }
        if entry.interest != nil { backend.forget(fd) }
        sleeping[fd] = nil
        retire(entry.session)
    }

    /// Closes a session's socket (not or no longer watched) and counts it.
    private func retire(_ session: Session) {
        close(session.socket)
        let summary = session.summary
        tally.add(summary)
        if channel != nil { unreported.add(summary, from: session.peer) }
    }

    /// Tells the parent about the connections closed since the last report (one
    /// record, or a few when very many closed). A full channel keeps what it could not
    /// take for the next iteration.
    private func reportClosed() {
        guard let channel, !unreported.isEmpty else { return }
        try? channel.send(closed: &unreported)
    }

    // MARK: shutdown

    private func handleSignals() {
        guard let signals else { return }
        for signal in OperatorSignals.answer(signals.drain(), model: Backend.name, options: options)
        where signal == SIGINT || signal == SIGTERM {
            let inFlight = ShutdownNotice.count(sessions.count, "connection", "connections") + " in flight"
            guard drain.begin(on: signal, letting: inFlight, timeout: options.drainTimeout, log: options.log) else {
                continue
            }
            try? watchListeners(false)
            for listener in listeners { close(listener.fd) }
            listenerDescriptors = []
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
        inFlightAtDrain = sessions.count
        guard retiring else {
            closeIdleSessions()
            return
        }
        for entry in sessions.values { entry.session.answerOneMore() }
        idleCloseTime = monotonicNanoseconds() + Drain.retireIdleGrace.nanoseconds
    }

    /// Closes every session that is between requests (or has not begun one).
    private func closeIdleSessions() {
        for (fd, entry) in sessions where entry.session.drain() { end(fd) }
    }
}
