/// What every HTTP session of one worker shares: the settings, the responder and its
/// open-file cache, the time, the access log, and the buffers a request passes
/// through. One per worker process or thread, so nothing here needs a lock; the
/// sessions of one worker never run at once.
@_spi(Benchmarks) public final class HTTPWorkerContext {
    let settings: HTTPSessionSettings
    @_spi(Benchmarks) public let responder: StaticFileResponder
    let dates: DateHeaderCache
    @_spi(Benchmarks) public let accessLog: AccessLogWriter
    /// Where a session reports trouble (a client gone mid-response, a file that shrank).
    let errorLog: (String) -> Void
    /// nil when the cache is off or inotify is unavailable.
    let cache: OpenFileCache?
    /// Where sessions read heads into: a head that arrives whole (most do) is parsed
    /// and answered in place, and a session keeps bytes of its own only when a head
    /// arrives in pieces or more follows it.
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Where the responder writes each response's head (and small body), reused.
    var output: [UInt8] = []
    /// The reader threads that take cold reads off the loop (nil: [body] reader_threads = 0).
    let readers: DiskReaders?
    /// An event loop drives the sessions (its hooks were called): only then may a
    /// session wait for a reader instead of reading where it is.
    private(set) var loopDriven = false
    /// When the loop last woke up (monotonic ns).
    private var wakeTime: UInt64 = 0

    init(settings: HTTPSessionSettings, responder: StaticFileResponder, dates: DateHeaderCache,
         accessLog: AccessLogWriter, cache: OpenFileCache?, errorLog: @escaping (String) -> Void) {
        self.settings = settings
        readers = settings.readerThreads > 0 ? DiskReaders(threads: settings.readerThreads) : nil
        self.responder = responder
        self.dates = dates
        self.accessLog = accessLog
        self.cache = cache
        self.errorLog = errorLog
        readBuffer = .allocate(byteCount: settings.headCapacity + 1, alignment: 16)
        output.reserveCapacity(4096)
    }

    deinit {
        readBuffer.deallocate()
    }

    /// The event loop woke up: the time is read once for all its sessions' deadlines,
    /// Date fields and cache bookkeeping, instead of once or more per request.
    func loopWokeUp() {
        loopDriven = true
        wakeTime = monotonicNanoseconds()
        dates.pin(wallClockSeconds())
        accessLog.gathersLines = true
    }

    /// Now, for deadlines (monotonic ns): the loop's wakeup, or the clock without a loop.
    var now: UInt64 { loopDriven ? wakeTime : monotonicNanoseconds() }

    /// How sessions keep cold reads off the loop now.
    var disk: DiskPolicy? {
        loopDriven ? DiskPolicy(readers: readers, readAheadBytes: Int64(settings.readAheadBytes), now: wakeTime) : nil
    }

    /// The tick of a head whose first byte was read just now (`OpenFileCache`).
    @_spi(Benchmarks) public func tickForHead(readOnWakeup: Bool) -> UInt64 {
        cache?.tickForHead(readOnWakeup: readOnWakeup) ?? 0
    }
}
