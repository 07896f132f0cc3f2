import Glibc

/// The hand-off of prethread --main-accept (UNP 30.12): the main thread appends
/// accepted connections; pool threads wait on a condition variable and take them
/// in arrival order. Bounded: when it is full the main thread stops accepting and
/// the kernel's backlog holds the rest.
final class ConnectionQueue {
    typealias Connection = (fd: Int32, peer: SocketAddress)

    let capacity: Int
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let nonEmpty = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var pending: [Connection] = []
    private var closed = false

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(nonEmpty, nil)
    }

    deinit {
        pthread_cond_destroy(nonEmpty)
        pthread_mutex_destroy(mutex)
        nonEmpty.deallocate()
        mutex.deallocate()
    }

    var isFull: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return pending.count >= capacity
    }

    func append(_ connection: Connection) {
        pthread_mutex_lock(mutex)
        pending.append(connection)
        pthread_cond_signal(nonEmpty)
        pthread_mutex_unlock(mutex)
    }

    /// Waits for the next connection; nil once the queue is closed and empty.
    /// `freedSpace` says the queue was full before this take (wake the main thread).
    func take() -> (connection: Connection, freedSpace: Bool)? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while pending.isEmpty && !closed {
            pthread_cond_wait(nonEmpty, mutex)
        }
        guard !pending.isEmpty else { return nil }
        let wasFull = pending.count >= capacity
        return (pending.removeFirst(), wasFull)
    }

    /// No more connections will come: the threads serve what is queued, then end.
    func close() {
        pthread_mutex_lock(mutex)
        closed = true
        pthread_cond_broadcast(nonEmpty)
        pthread_mutex_unlock(mutex)
    }
}
