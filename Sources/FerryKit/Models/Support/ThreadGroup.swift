import Glibc

/// The threads of the thread models (thread, prethread): detached pthreads, the
/// number alive and each tally row, all behind one mutex. A thread that ends writes
/// a byte to a socket the main thread polls, so the main thread's poll(2) wakes
/// for it as for a connection or a signal.
///
/// Block the signals the main thread handles (make its SignalDescriptor) before
/// starting the first thread: threads inherit the mask, so the signals reach only
/// the signal descriptor.
final class ThreadGroup {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var liveCount = 0
    private var rows: [WorkerTally]
    private let wakeReader: Int32
    private let wakeWriter: Int32

    /// One tally row per label: one per pool thread, or a single row for all.
    init(rowLabels: [String]) throws {
        var ends: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        try check(socketpair(AF_UNIX, type, 0, &ends), "socketpair")
        wakeReader = ends[0]
        wakeWriter = ends[1]
        pthread_mutex_init(mutex, nil)
        rows = rowLabels.map { WorkerTally(label: $0) }
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        close(wakeReader)
        close(wakeWriter)
    }

    /// Readable when a thread has ended (or `wake()` was called) since `clearWakes()`.
    var wakeDescriptor: Int32 { wakeReader }

    var live: Int { locked { liveCount } }

    /// What each row has done so far.
    var tallies: [WorkerTally] { locked { rows } }

    /// Starts a detached thread running `body`; it counts as live until `body` returns.
    func start(_ body: @escaping () -> Void) throws {
        locked { liveCount += 1 }
        let result = DetachedThread.start { [self] in
            body()
            locked { liveCount -= 1 }
            wake()
        }
        if result != 0 {
            locked { liveCount -= 1 }
            throw SystemError("pthread_create", code: result)
        }
    }

    /// Adds one finished connection to row `row`.
    func record(_ summary: SessionSummary, row: Int) {
        locked { rows[row].add(summary) }
    }

    /// Makes `wakeDescriptor` readable. A full socket is already readable, so a
    /// failed write loses nothing.
    func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWriter, &byte, 1)
    }

    func clearWakes() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(wakeReader, &buffer, buffer.count) > 0 {}
    }

    /// Waits until no thread is live, until `deadline` (monotonic ns), or until a
    /// second SIGINT/SIGTERM arrives on `signals`. Returns whether all threads ended.
    /// Threads cannot be killed one by one; those still busy end with the process.
    func waitForAll(until deadline: UInt64, signals: SignalDescriptor, log: (String) -> Void) -> Bool {
        while live > 0 {
            let ready = readableDescriptors([wakeReader, signals.fd],
                                            timeoutMilliseconds: pollTimeout(until: deadline))
            clearWakes()
            if ready.contains(signals.fd) && signals.drain().contains(where: { $0 == SIGINT || $0 == SIGTERM }) {
                log(ShutdownNotice.secondSignal)
                break
            }
            if monotonicNanoseconds() >= deadline { break }
        }
        let remaining = live
        if remaining > 0 {
            let busy = ShutdownNotice.count(remaining, "thread", "threads")
            log("ferry: still busy, left to end with the process: \(busy)")
        }
        return remaining == 0
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }
}
