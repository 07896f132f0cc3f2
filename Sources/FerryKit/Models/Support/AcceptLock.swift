import Glibc

/// Serializes accept(2) among processes or threads that share a listener: only the
/// holder waits in accept, the others wait for the lock (UNP 30.7, 30.8, 30.11).
/// Some kernels wake every process blocked in accept for one connection, or do not
/// allow accept on one socket from several processes at all; Linux wakes one, so
/// here the lock only costs time — which is what the comparison shows.
protocol AcceptLock: AnyObject {
    func lock()
    func unlock()
}

/// A write lock with fcntl(F_SETLKW) on a temporary file (UNP 30.7). The file is
/// unlinked as soon as it is created: the open descriptor, inherited by every
/// child, is all the lock needs, and nothing is left behind in /tmp if the server
/// is killed. Record locks belong to the process, so each child holds it in turn,
/// and the kernel releases it when a holder dies.
final class FileAcceptLock: AcceptLock {
    private let fd: Int32

    init() throws {
        let directory = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(directory)/ferry-accept-lock.XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        if fd < 0 { throw SystemError("mkstemp in \(directory)") }
        unlink(template)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        self.fd = fd
    }

    deinit { close(fd) }

    func lock() { setLock(Int16(F_WRLCK)) }
    func unlock() { setLock(Int16(F_UNLCK)) }

    private func setLock(_ type: Int16) {
        var request = flock()
        request.l_type = type
        request.l_whence = Int16(SEEK_SET)
        while fcntl(fd, F_SETLKW, &request) < 0 && errno == EINTR {}
    }
}

/// A pthread mutex around accept. For processes (UNP 30.8) it lives in a
/// MAP_SHARED mapping made before fork and is PTHREAD_PROCESS_SHARED; for threads
/// (UNP 30.11) it is an ordinary mutex. It is robust: if a holder dies (a child
/// killed while it waits in accept), the next locker gets EOWNERDEAD, marks the
/// mutex consistent and goes on instead of every acceptor hanging forever.
final class MutexAcceptLock: AcceptLock {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let processShared: Bool

    init(processShared: Bool) throws {
        self.processShared = processShared
        if processShared {
            let size = MemoryLayout<pthread_mutex_t>.stride
            let memory = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
            if memory == MAP_FAILED { throw SystemError("mmap(MAP_SHARED) for the accept mutex") }
            mutex = memory!.bindMemory(to: pthread_mutex_t.self, capacity: 1)
        } else {
            mutex = .allocate(capacity: 1)
        }
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        defer { pthread_mutexattr_destroy(&attributes) }
        pthread_mutexattr_setrobust(&attributes, Int32(PTHREAD_MUTEX_ROBUST))
        if processShared { pthread_mutexattr_setpshared(&attributes, Int32(PTHREAD_PROCESS_SHARED)) }
        let result = pthread_mutex_init(mutex, &attributes)
        if result != 0 { throw SystemError("pthread_mutex_init", code: result) }
    }

    deinit {
        pthread_mutex_destroy(mutex)
        if processShared {
            munmap(mutex, MemoryLayout<pthread_mutex_t>.stride)
        } else {
            mutex.deallocate()
        }
    }

    func lock() {
        if pthread_mutex_lock(mutex) == EOWNERDEAD { pthread_mutex_consistent(mutex) }
    }

    func unlock() { pthread_mutex_unlock(mutex) }
}
