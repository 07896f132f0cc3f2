import Glibc

/// Starts detached pthreads (the thread models' connection threads, a worker's disk
/// readers): `body` runs on the new thread, boxed across pthread_create's `void *`.
enum DetachedThread {
    /// Starts `body` on a new detached thread; returns pthread_create's result (0: started).
    static func start(_ body: @escaping () -> Void) -> Int32 {
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let result = pthread_create(&thread, &attributes, { raw in
            Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, context)
        if result != 0 { Unmanaged<ThreadBody>.fromOpaque(context).release() }
        return result
    }
}

/// A thread's work, boxed so it can cross pthread_create's `void *` argument.
private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
