/// The shutdown every model shares: the first SIGINT or SIGTERM starts a drain —
/// no new connections, the ones in flight may finish — bounded by the drain timeout;
/// a second signal ends it at once.
struct Drain {
    /// How long the connections of a worker a reload retires may still send their
    /// next request (answered with `Connection: close`) before idle ones are closed:
    /// a busy client's request is already on its way, an idle client costs this much
    /// at most. (On shutdown idle connections close at once.)
    static let retireIdleGrace = 1.0

    /// Monotonic time (ns) at which the drain ends; 0 while serving.
    private(set) var deadline: UInt64 = 0

    var isDraining: Bool { deadline != 0 }
    var hasExpired: Bool { isDraining && monotonicNanoseconds() >= deadline }

    /// Returns true when `signal` starts the drain (the caller then stops accepting),
    /// false for a second signal, which ends the drain now.
    mutating func begin(on signal: Int32, letting what: String, timeout: Double, log: (String) -> Void) -> Bool {
        if isDraining {
            log(ShutdownNotice.secondSignal)
            deadline = monotonicNanoseconds()
            return false
        }
        log(ShutdownNotice.draining(signal, what: what, drainTimeout: timeout))
        deadline = ShutdownNotice.deadline(after: timeout)
        return true
    }

    /// Starts the drain without a signal (a worker told by its parent); nothing once draining.
    mutating func begin(timeout: Double) {
        if !isDraining { deadline = ShutdownNotice.deadline(after: timeout) }
    }
}
