import Glibc

/// Runs a session to the end on one thread: poll(2) the socket for what the session
/// waits for, with the session's deadline as the timeout. Used by every model that
/// gives a connection a whole process or thread (iterative, fork, thread, prefork).
public enum BlockingDriver {
    /// Serves the connection, closes the socket and returns the session's totals.
    public static func serve(_ session: Session) -> SessionSummary {
        loop: while true {
            let want = session.advance()
            var pollDescriptor = pollfd(fd: session.socket, events: 0, revents: 0)
            switch want {
            case .finished: break loop
            case .readable: pollDescriptor.events = Int16(POLLIN)
            case .writable: pollDescriptor.events = Int16(POLLOUT)
            }
            let ready = poll(&pollDescriptor, 1, pollTimeout(until: session.deadline))
            if ready == 0 || (ready < 0 && errno != EINTR) {
                session.expire()
                break loop
            }
        }
        close(session.socket)
        return session.summary
    }
}
