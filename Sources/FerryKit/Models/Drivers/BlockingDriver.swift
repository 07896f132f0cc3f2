import Glibc

/// Runs a session to the end on one thread: poll(2) the socket for what the session
/// waits for, with the session's deadline as the timeout (or, when it waits for a
/// time instead, sleep until then while still hearing the stop). Used by every model that
/// gives a connection a whole process or thread (iterative, fork, thread, prefork).
public enum BlockingDriver {
    /// Serves the connection, closes the socket and returns the session's totals.
    /// When `stopping` becomes readable (shutdown began), the session is told to
    /// drain: an idle one ends at once, a busy one after its current response.
    public static func serve(_ session: Session, stopping: Int32 = -1) -> SessionSummary {
        var stopping = stopping
        loop: while true {
            let want = session.advance()
            var descriptors = [pollfd(fd: session.socket, events: 0, revents: 0),
                               pollfd(fd: stopping, events: Int16(POLLIN), revents: 0)]
            var wakeTime: UInt64?
            switch want {
            case .finished: break loop
            case .readable: descriptors[0].events = Int16(POLLIN)
            case .writable: descriptors[0].events = Int16(POLLOUT)
            case .wake(let time):
                // Only the stop beacon is watched; a negative descriptor is ignored by poll(2).
                descriptors[0].fd = -1
                wakeTime = time
            }
            let ready = poll(&descriptors, 2, pollTimeout(until: wakeTime ?? session.deadline))
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 && wakeTime != nil { continue }
            if ready <= 0 {
                session.expire()
                break loop
            }
            if descriptors[1].revents != 0 {
                stopping = -1
                if session.drain() { break loop }
            }
        }
        close(session.socket)
        return session.summary
    }
}
