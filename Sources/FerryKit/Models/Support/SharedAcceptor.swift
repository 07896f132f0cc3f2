import Glibc

/// The listeners as seen by several processes or threads that all accept on them
/// (prefork-accept, prethread --lock). With one listener every acceptor sleeps in
/// accept(2) itself — csdesign's design; with several (localhost: 127.0.0.1 and
/// ::1) an acceptor polls them all and accepts from one that is ready.
///
/// `stop()` shuts the listening sockets down: that wakes every acceptor sleeping
/// in accept or poll, in any process, and each later accept fails at once with
/// EINVAL. An acceptor therefore stops between connections without signal
/// handlers, flags or the race between checking a flag and blocking in accept.
struct SharedAcceptor {
    let listeners: [Listener]

    /// With a single listener, makes it blocking. O_NONBLOCK belongs to the open file
    /// description, which every forked child and every thread shares, so once here
    /// is enough (and must happen before the children start).
    init(_ listeners: [Listener]) {
        self.listeners = listeners
        if listeners.count == 1 { SocketOptions.setNonBlocking(listeners[0].fd, false) }
    }

    /// Waits for the next connection (or for `stop()`, then `.closed`). Anything
    /// else (`.empty`: another acceptor won; `.backOff`, already waited out): call again.
    func next(_ backOff: inout AcceptBackOff, log: (String) -> Void) -> AcceptOutcome {
        if listeners.count == 1 { return listeners[0].acceptWaitingOut(&backOff, log: log) }
        let ready = readableDescriptors(listeners.map(\.fd), timeoutMilliseconds: -1)
        for listener in listeners where ready.contains(listener.fd) {
            let outcome = listener.acceptWaitingOut(&backOff, log: log)
            if case .empty = outcome { continue }
            return outcome
        }
        return .empty
    }

    /// shutdown(2) on each listening socket: the kernel drops its backlog and wakes
    /// everyone waiting on it. The descriptors stay open; close them afterwards.
    func stop() {
        for listener in listeners { shutdown(listener.fd, Int32(SHUT_RDWR)) }
    }
}
