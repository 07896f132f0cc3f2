import Glibc

/// Runs a session to the end on one thread: poll(2) the socket for what the session
/// waits for, with the session's deadline as the timeout (or, when it waits for a
/// time instead, sleep until then while still hearing the stop). Used by every model that
/// gives a connection a whole process or thread (iterative, fork, thread, prefork).
public enum BlockingDriver {
    /// Serves the connection, closes the socket and returns the session's totals.
    /// When `stopping` becomes readable (shutdown began), the session is told to
    /// drain: an idle one ends at once, a busy one after its current response. When
    /// `retiring` does (a reload replaces this worker), the session answers one more
    /// request, its last, and is drained if it stays idle for `Drain.retireIdleGrace`.
    public static func serve(_ session: Session, stopping: Int32 = -1, retiring: Int32 = -1) -> SessionSummary {
        var stopping = stopping
        var retiring = retiring
        var drainTime: UInt64 = 0
        loop: while true {
            let want = session.advance()
            var descriptors = [pollfd(fd: session.socket, events: 0, revents: 0),
                               pollfd(fd: stopping, events: Int16(POLLIN), revents: 0),
                               pollfd(fd: retiring, events: Int16(POLLIN), revents: 0)]
            var wakeTime: UInt64?
            switch want {
            case .finished: break loop
            case .readable: descriptors[0].events = Int16(POLLIN)
            // A blocking driver's sessions read where they are; should one wait for a
            // reader anyway, polling for writability (soon true) calls it again.
            case .disk: descriptors[0].events = Int16(POLLOUT)
            case .writable: descriptors[0].events = Int16(POLLOUT)
            case .wake(let time):
                // Only the beacons are watched; a negative descriptor is ignored by poll(2).
                descriptors[0].fd = -1
                wakeTime = time
            }
            let wakeUp: UInt64 = [wakeTime ?? session.deadline, drainTime].filter { $0 != 0 }.min() ?? 0
            let ready = poll(&descriptors, 3, pollTimeout(until: wakeUp))
            if ready < 0 && errno == EINTR { continue }
            if drainTime != 0 && monotonicNanoseconds() >= drainTime {
                drainTime = 0
                if session.drain() { break loop }
                continue
            }
            if ready == 0 && wakeTime != nil { continue }
            if ready <= 0 {
                session.expire()
                break loop
            }
            if descriptors[1].revents != 0 {
                stopping = -1
                if session.drain() { break loop }
            }
            if descriptors[2].revents != 0 {
                retiring = -1
                session.answerOneMore()
                drainTime = monotonicNanoseconds() + Drain.retireIdleGrace.nanoseconds
            }
        }
        close(session.socket)
        return session.summary
    }
}
