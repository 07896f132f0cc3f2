import Glibc

/// What one accept(2) attempt came to, for the models whose processes or threads
/// call accept themselves.
enum AcceptAttempt {
    case connection(fd: Int32, peer: SocketAddress)
    /// Nothing to take now: EAGAIN (another acceptor won), EINTR, or a connection
    /// that was reset before it was accepted. Try again.
    case nothing
    /// The listener was shut down (EINVAL) or closed (EBADF): this acceptor is done.
    case listenerClosed
}

extension Listener {
    /// One accept(2); the connection is non-blocking and close-on-exec whatever the
    /// listener is. Running out of descriptors or memory is logged and waited out
    /// for 100 ms, so a full descriptor table does not spin a CPU on a listener that
    /// stays readable.
    func attemptAccept(log: (String) -> Void) -> AcceptAttempt {
        if let (fd, peer) = accept(nonBlocking: true) { return .connection(fd: fd, peer: peer) }
        let code = errno
        switch code {
        case EINVAL, EBADF:
            return .listenerClosed
        case EAGAIN, EINTR, ECONNABORTED, EPROTO, EPERM, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET,
             EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH:
            // accept(2): Linux passes pending network errors of the new connection on
            // as accept errors; they concern that connection, not the listener.
            return .nothing
        default:
            log("ferry: accept on \(address): \(String(cString: strerror(code))); pausing 100 ms")
            usleep(100_000)
            return .nothing
        }
    }
}

/// The listeners as seen by several processes or threads that all accept on them
/// (prefork-accept, prethread --lock). With one listener every acceptor sleeps in
/// accept(2) itself — the seed's design; with several (localhost: 127.0.0.1 and
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

    /// Waits for the next connection (or for `stop()`).
    func next(log: (String) -> Void) -> AcceptAttempt {
        if listeners.count == 1 { return listeners[0].attemptAccept(log: log) }
        let ready = readableDescriptors(listeners.map(\.fd), timeoutMilliseconds: -1)
        for listener in listeners where ready.contains(listener.fd) {
            let attempt = listener.attemptAccept(log: log)
            if case .nothing = attempt { continue }
            return attempt
        }
        return .nothing
    }

    /// shutdown(2) on each listening socket: the kernel drops its backlog and wakes
    /// everyone waiting on it. The descriptors stay open; close them afterwards.
    func stop() {
        for listener in listeners { shutdown(listener.fd, Int32(SHUT_RDWR)) }
    }
}
