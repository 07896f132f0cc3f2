import Glibc

/// Says on standard error that access log lines are being dropped, at most once a
/// minute per process, never once per request: the first failure at once, then, at
/// the first failure a minute or more after the last report, how many lines were
/// dropped since. Only the failure path takes the lock (thread models share one log).
final class LogFailureReport {
    let name: String
    static let interval: UInt64 = 60 * 1_000_000_000
    private var lastReport: UInt64 = 0
    private var droppedSinceReport = 0
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let clock: () -> UInt64
    private let report: (String) -> Void

    init(name: String, clock: @escaping () -> UInt64 = monotonicNanoseconds,
         report: @escaping (String) -> Void = { Console.error($0) }) {
        self.name = name
        self.clock = clock
        self.report = report
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// `lines` lines could not be written; `code` is why.
    func dropped(lines: Int = 1, code: Int32) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        droppedSinceReport += lines
        let now = clock()
        guard lastReport == 0 || now - lastReport >= Self.interval else { return }
        let reason = String(cString: strerror(code))
        let what = lastReport == 0
            ? "dropping lines that cannot be written; reported at most once a minute"
            : "dropped \(droppedSinceReport) line\(droppedSinceReport == 1 ? "" : "s") in the last minute"
        report("ferry: access log \(name): \(reason) (\(what))")
        lastReport = now
        droppedSinceReport = 0
    }

    /// A new file (reopened): its first failure is reported at once again.
    func reset() {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        lastReport = 0
        droppedSinceReport = 0
    }
}
