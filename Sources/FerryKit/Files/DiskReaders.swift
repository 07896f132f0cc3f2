import CFerry
import Glibc

/// A worker's reader threads: they bring ranges of files into the page cache off the
/// event loop, so a read that misses the cache (a busy disk, a network mount) stalls
/// only the connection that needs it, which waits as it waits for a writable socket,
/// while the loop goes on with the others (nginx's `aio threads`).
///
/// A job brings its range in with sendfile(2) to /dev/null: the kernel reads the pages
/// into the cache and waits for them, and nothing is copied out (a pread into a buffer
/// took twelve times the CPU on the development machine: 0.15 against 0.012 s per 256
/// MiB, cold or cached). The pages stay cached for the sendfile (or copy) that
/// follows. Without /dev/null, it preads into the thread's own buffer. A job with a
/// waiter reports its socket when done, one without (read-ahead) reports nothing.
/// Completions reach the loop through an eventfd the loop watches. The threads start
/// with the first job, in a worker that has forked and dropped its privileges already,
/// and touch no session: only the files they are given (shared by reference) and their
/// buffers.
final class DiskReaders: @unchecked Sendable {
    struct Job {
        let file: OpenFile
        let offset: Int64
        let length: Int64
        /// The socket of the session waiting for it; -1 for read-ahead nobody waits for.
        let waiter: Int32
        /// Numbers the jobs with a waiter, in the order they were queued.
        fileprivate var sequence: UInt64 = 0

        init(file: OpenFile, offset: Int64, length: Int64, waiter: Int32) {
            self.file = file
            self.offset = offset
            self.length = length
            self.waiter = waiter
        }
    }

    /// Threads to start.
    let threads: Int
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let jobsReady = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var jobs: [Job] = []
    private var completed: [Int32] = []
    /// The latest job queued for each waiting socket. Only that one reports: a session
    /// that ended while its job was pending may have left its descriptor number to a
    /// new session, which must not be woken by the old job before its own is done.
    private var latestJob: [Int32: UInt64] = [:]
    private var jobsQueued: UInt64 = 0
    private var started = false
    /// The eventfd the loop watches; -1 until the threads start (or when it cannot be made).
    private(set) var completionDescriptor: Int32 = -1

    /// Bytes one pread of a job moves: the jobs' buffers are this large.
    static let readBytes = 256 << 10

    /// /dev/null, where jobs send what they bring in; -1 when it cannot be opened. The
    /// server opens it before any privilege drop (`openSink`): a chrooted worker could
    /// not open it, and its children inherit it.
    static let sink: Int32 = open("/dev/null", O_WRONLY | O_CLOEXEC)

    /// Opens `sink` now, in a process that can still see /dev/null.
    static func openSink() { _ = sink }

    init(threads: Int) {
        self.threads = threads
        pthread_mutex_init(lock, nil)
        pthread_cond_init(jobsReady, nil)
    }

    /// Queues `job`; false when no thread could be started (the caller reads on the loop).
    func submit(_ job: Job) -> Bool {
        guard startIfNeeded() else { return false }
        var job = job
        pthread_mutex_lock(lock)
        if job.waiter >= 0 {
            jobsQueued += 1
            job.sequence = jobsQueued
            latestJob[job.waiter] = jobsQueued
        }
        jobs.append(job)
        pthread_cond_signal(jobsReady)
        pthread_mutex_unlock(lock)
        return true
    }

    /// The sockets whose jobs completed since the last call.
    func takeCompletions(into sockets: inout [Int32]) {
        guard completionDescriptor >= 0 else { return }
        var count: UInt64 = 0
        _ = read(completionDescriptor, &count, 8)
        pthread_mutex_lock(lock)
        sockets.append(contentsOf: completed)
        completed.removeAll(keepingCapacity: true)
        pthread_mutex_unlock(lock)
    }

    private func startIfNeeded() -> Bool {
        if started { return completionDescriptor >= 0 }
        started = true
        let descriptor = ferry_eventfd()
        guard descriptor >= 0 else { return false }
        completionDescriptor = descriptor
        var running = 0
        for _ in 0..<threads where startThread() { running += 1 }
        if running == 0 {
            close(descriptor)
            completionDescriptor = -1
        }
        return running > 0
    }

    private func startThread() -> Bool {
        DetachedThread.start { [self] in
            // Signals are the loop's business: a reader never takes one.
            var all = sigset_t()
            sigfillset(&all)
            pthread_sigmask(SIG_BLOCK, &all, nil)
            work()
        } == 0
    }

    /// A thread's life: take a job, read its range, report it; the process's exit ends it.
    private func work() -> Never {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.readBytes, alignment: 4096)
        while true {
            pthread_mutex_lock(lock)
            while jobs.isEmpty { pthread_cond_wait(jobsReady, lock) }
            let job = jobs.removeFirst()
            pthread_mutex_unlock(lock)
            bringIntoCache(job, buffer: buffer)
            guard job.waiter >= 0 else { continue }
            pthread_mutex_lock(lock)
            let current = latestJob[job.waiter] == job.sequence
            if current {
                latestJob[job.waiter] = nil
                completed.append(job.waiter)
            }
            pthread_mutex_unlock(lock)
            guard current else { continue }
            var one: UInt64 = 1
            _ = write(completionDescriptor, &one, 8)
        }
    }

    /// Reads the job's range, stopping early at the end of the file or a failure:
    /// the session then meets the same end or failure itself when it sends. A file
    /// system that cannot splice (sendfile fails) is read with pread instead.
    private func bringIntoCache(_ job: Job, buffer: UnsafeMutableRawPointer) {
        var offset = job.offset
        let end = job.offset + job.length
        var splices = Self.sink >= 0
        while offset < end {
            if splices {
                var position = off_t(offset)
                // The kernel moves at most 0x7ffff000 bytes a call; the loop takes the rest.
                let wanted = Int(end - offset)
                if case .success(let count) = retryingOnInterrupt({ sendfile(Self.sink, job.file.fd, &position, wanted) }) {
                    guard count > 0 else { return }
                    offset += Int64(count)
                    continue
                }
                splices = false
            }
            let wanted = Int(min(Int64(Self.readBytes), end - offset))
            guard case .success(let count) = retryingOnInterrupt({ pread(job.file.fd, buffer, wanted, off_t(offset)) }),
                  count > 0 else { return }
            offset += Int64(count)
        }
    }
}
