import CFerry
import Glibc
import SystemPackage

/// How a transmission sends file bodies, and how much it may send before giving the
/// event loop's other connections a turn. Taken from the configuration once per worker.
struct TransmitSettings {
    var bodyMode: BodyMode
    /// Send the head with MSG_MORE when a file body follows, so head and first body
    /// bytes leave in the same segments ([body] cork): TCP_CORK's promise without
    /// its two setsockopt calls per response.
    var cork: Bool
    var sendfileChunkBytes: Int
    var copyBufferBytes: Int
    /// Bytes sent in one turn before the session yields to the others.
    var turnBytes: Int
    /// limit_rate and limit_rate_after; rate 0: no limit.
    var limitRate: Int64
    var limitRateAfter: Int64
}

/// How a transmission keeps cold reads off the event loop: the worker's readers, and
/// how far ahead of the send they read once a file turned out not to be cached.
/// Without readers (a blocking model, or `[body] reader_threads = 0`) a read that
/// misses the cache is made where the send is, as before.
struct DiskPolicy {
    var readers: DiskReaders?
    var readAheadBytes: Int64
    /// The loop's wakeup time (monotonic ns).
    var now: UInt64

    /// A file no larger than this that was found cached within `recentNanoseconds`
    /// is sent without asking again (the hot small files: no extra call per request).
    static let smallFileBytes: Int64 = 64 << 10
    static let recentNanoseconds: UInt64 = 1_000_000_000
}

/// What a transmission needs next.
enum TransmitStep: Equatable {
    /// Every byte is out.
    case complete
    /// The socket buffer is full: wait until it is writable.
    case wouldBlock
    /// The turn's bytes are used up: go on once the others had theirs.
    case yield
    /// The rate limit allows nothing before this monotonic time (ns).
    case wake(at: UInt64)
    /// The next range is not in the page cache: a reader brings it in, and says so.
    case waitForDisk
    /// The file ended before the promised length: it shrank while being sent.
    case fileEnded
    /// The connection failed (EPIPE, ECONNRESET, ...) or the file could not be read.
    case failed(Errno)
}

/// One response on its way out: the head and any in-memory body, then the file body
/// (a range, or a multipart body's parts), owned here until the last byte has left.
/// It chooses the cheapest way to send: the head with MSG_MORE followed by sendfile(2)
/// in the default mode (no setsockopt per response), or, with `--copy`, the file read
/// into the worker's buffer right behind the head so both leave in one write.
///
/// Most responses are sent whole by `start`, straight from the worker's output buffer;
/// only what the socket did not take is copied into the transmission, which the
/// session keeps until `resume` has sent the rest.
struct Transmission {
    /// Bytes from memory still to send: what the socket did not take of a head or an
    /// in-memory body, a multipart boundary, or (copy mode) a chunk read from the file.
    private var pending: [UInt8] = []
    /// The bytes of `pending` still to send.
    private var pendingStart = 0
    private var pendingEnd = 0
    /// Whether `pending`'s bytes after the head are file bytes read by the copy loop
    /// (counted as such) rather than an in-memory body.
    private var pendingHoldsFile = false
    /// Head bytes not yet sent.
    private var headBytesLeft: Int
    /// The file being sent, and the range of it still to send.
    private var file: OpenFile?
    private var fileOffset: Int64 = 0
    private var fileRemaining: Int64 = 0
    /// A multipart body's segments after the current one.
    private var segments: ArraySlice<MultipartSegment> = []
    private var usesCopy: Bool
    private var pacer: BodyPacer?
    /// The file is known cached below this offset (a probe said so, or a reader read it).
    private var cachedUntil: Int64 = 0
    /// Read-ahead was asked for up to this offset.
    private var readAheadUntil: Int64 = 0
    /// A probe found this file not cached: from then on its next range is read ahead.
    private var foundCold = false
    /// A reader was asked for the step before this one, and the session waited for it.
    private var waitedForReader = false

    /// What went out, for the summary and the access log.
    struct Counts {
        var head: Int64 = 0
        var memoryBody: Int64 = 0
        var file: Int64 = 0
        var viaCopy = false

        var total: Int64 { head + memoryBody + file }
    }

    private(set) var counts = Counts()

    init(plan: ResponsePlan, headLength: Int, settings: TransmitSettings) {
        headBytesLeft = headLength
        usesCopy = settings.bodyMode == .copy
        counts.viaCopy = usesCopy
        if settings.limitRate > 0 { pacer = BodyPacer(rate: settings.limitRate, after: settings.limitRateAfter) }
        switch plan.body {
        case .none:
            break
        case .file(let range):
            file = range.file
            fileOffset = range.offset
            fileRemaining = range.length
        case .parts(let parts):
            file = parts.file
            segments = parts.segments[...]
        }
    }

    /// Whether file bytes follow the memory bytes being sent: then a head or boundary
    /// goes with MSG_MORE, to leave in the same segments as them.
    private func moreFollows(_ settings: TransmitSettings) -> Bool {
        settings.cork && !pendingHoldsFile && (fileRemaining > 0 || !segments.isEmpty)
    }

    // MARK: sending

    /// Sends the head and in-memory body in `output` (the worker's buffer, free for
    /// reuse once this returns), then as much of the file body as the socket takes in
    /// one turn.
    mutating func start(socket: Int32, output: inout [UInt8], settings: TransmitSettings,
                        disk: DiskPolicy? = nil) -> TransmitStep {
        var waitsForDisk = false
        if usesCopy && fileRemaining > 0 && pacer == nil && segments.isEmpty {
            // The copy mode's small file, or its first chunk, joins the head: one write.
            if isCached(Int64(settings.copyBufferBytes), socket: socket, disk: disk) {
                let wanted = Int(min(fileRemaining, Int64(settings.copyBufferBytes)))
                let start = output.count
                output.append(contentsOf: repeatElement(0, count: wanted))
                let read = output.withUnsafeMutableBytes { raw in
                    retryingOnInterrupt { pread(file!.fd, raw.baseAddress! + start, wanted, off_t(fileOffset)) }
                }
                let count: Int
                switch read {
                case .success(let read): count = read
                case .failure(let error): return .failed(error)
                }
                output.removeLast(wanted - count)
                if count == 0 { return .fileEnded }
                advanceFile(count)
                pendingHoldsFile = true
            } else {
                waitsForDisk = true
            }
        }
        let flags = moreFollows(settings) ? Int32(MSG_MORE) : 0
        let sent = output.withUnsafeBytes { raw in
            retryingOnInterrupt { Glibc.send(socket, raw.baseAddress, raw.count, flags | Int32(MSG_NOSIGNAL)) }
        }
        switch sent {
        case .success(let count):
            countMemory(count)
            if count < output.count { keep(output[count...], holdingFile: pendingHoldsFile) }
        case .failure(.wouldBlock):
            keep(output[...], holdingFile: pendingHoldsFile)
        case .failure(let error):
            return .failed(error)
        }
        // The head is out (or kept); the body waits for the reader.
        if waitsForDisk { return .waitForDisk }
        return resume(socket: socket, settings: settings, disk: disk)
    }

    /// Sends what is left, for at most one turn.
    mutating func resume(socket: Int32, settings: TransmitSettings, disk: DiskPolicy? = nil) -> TransmitStep {
        var sentThisTurn = 0
        while true {
            if pendingStart < pendingEnd {
                let flags = moreFollows(settings) ? Int32(MSG_MORE) : 0
                let sent = pending.withUnsafeBytes { raw in
                    retryingOnInterrupt {
                        Glibc.send(socket, raw.baseAddress! + pendingStart, pendingEnd - pendingStart,
                                   flags | Int32(MSG_NOSIGNAL))
                    }
                }
                switch sent {
                case .success(let count):
                    pendingStart += count
                    countMemory(count)
                    sentThisTurn += count
                    continue
                case .failure(.wouldBlock):
                    return .wouldBlock
                case .failure(let error):
                    return .failed(error)
                }
            }
            if fileRemaining == 0 {
                guard let segment = segments.popFirst() else { return finish() }
                switch segment {
                case .bytes(let bytes): keep(bytes[...], holdingFile: false)
                case .file(let offset, let length): (fileOffset, fileRemaining) = (offset, length)
                }
                continue
            }
            if sentThisTurn >= settings.turnBytes { return .yield }
            var most = Int64(usesCopy ? settings.copyBufferBytes : settings.sendfileChunkBytes)
            if pacer != nil {
                switch pacer!.allowance(sent: counts.file, remaining: fileRemaining, now: monotonicNanoseconds()) {
                case .send(let allowed): most = min(most, allowed)
                case .waitUntil(let time): return .wake(at: time)
                }
            }
            if !isCached(most, socket: socket, disk: disk) { return .waitForDisk }
            let step = usesCopy ? readChunk(most: most, bufferBytes: settings.copyBufferBytes)
                                : sendfileStep(socket: socket, most: most)
            switch step {
            case .success(let count):
                sentThisTurn += count
            case .failure(.wouldBlock):
                return .wouldBlock
            case .failure(let error) where error == Self.fileEnded:
                return .fileEnded
            case .failure(let error) where !usesCopy && (error == .invalidArgument || error == .noFunction):
                // sendfile cannot send this file (EINVAL/ENOSYS): the copy loop can.
                usesCopy = true
                counts.viaCopy = true
            case .failure(let error):
                return .failed(error)
            }
        }
    }

    /// Everything is out: the file is let go (closed, unless a cache entry or another
    /// response still holds it) and the memory released.
    private mutating func finish() -> TransmitStep {
        file = nil
        pending = []
        (pendingStart, pendingEnd) = (0, 0)
        return .complete
    }

    /// Keeps `bytes` (not sent yet) as the memory to send next.
    private mutating func keep(_ bytes: ArraySlice<UInt8>, holdingFile: Bool) {
        pending.removeAll(keepingCapacity: true)
        pending.append(contentsOf: bytes)
        (pendingStart, pendingEnd) = (0, pending.count)
        pendingHoldsFile = holdingFile
    }

    /// Counts `count` bytes sent from memory: head first, then body, which is file
    /// bytes in the copy mode.
    private mutating func countMemory(_ count: Int) {
        let head = min(count, headBytesLeft)
        headBytesLeft -= head
        counts.head += Int64(head)
        if pendingHoldsFile { counts.file += Int64(count - head) } else { counts.memoryBody += Int64(count - head) }
    }

    // MARK: file bodies

    /// Stands for a file that ended before its range; never an errno of a real call.
    private static let fileEnded = Errno(rawValue: -1)

    /// One sendfile(2) call of at most `most` bytes (the kernel itself stops at
    /// 0x7ffff000 per call, so large files always take a loop). It names its file
    /// offset explicitly, so nothing else reading the descriptor can disturb it.
    private mutating func sendfileStep(socket: Int32, most: Int64) -> Result<Int, Errno> {
        guard let file else { return .failure(Self.fileEnded) }
        var position = off_t(fileOffset)
        let wanted = Int(min(fileRemaining, most))
        let sent = retryingOnInterrupt { Glibc.sendfile(socket, file.fd, &position, wanted) }
        guard case .success(let count) = sent else { return sent }
        if count == 0 { return .failure(Self.fileEnded) }
        advanceFile(count)
        counts.file += Int64(count)
        return sent
    }

    /// The copy loop's read: at most `most` bytes of the file into `pending`, which the
    /// loop then writes. The buffer is the transmission's own, allocated once for it.
    private mutating func readChunk(most: Int64, bufferBytes: Int) -> Result<Int, Errno> {
        guard let file else { return .failure(Self.fileEnded) }
        if pending.count < bufferBytes { pending = [UInt8](repeating: 0, count: bufferBytes) }
        let wanted = Int(min(fileRemaining, most, Int64(bufferBytes)))
        let read = pending.withUnsafeMutableBytes { raw in
            retryingOnInterrupt { pread(file.fd, raw.baseAddress, wanted, off_t(fileOffset)) }
        }
        guard case .success(let count) = read else { return read }
        if count == 0 { return .failure(Self.fileEnded) }
        (pendingStart, pendingEnd) = (0, count)
        pendingHoldsFile = true
        advanceFile(count)
        return .success(0)
    }

    // MARK: cold reads

    /// Whether the next step (at most `most` bytes of the file) can be sent without
    /// waiting for the disk. When it cannot, a reader is asked to bring it in for the
    /// session waiting on `socket`, and the answer is false. A one-byte read that may
    /// only come from the page cache (RWF_NOWAIT) at the step's end asks the kernel:
    /// the kernel fills the cache in order, so the rest of the step is there too.
    /// mincore and cachestat would say more, but tell a worker running as nobody
    /// nothing true about files it cannot write. A file system that cannot answer
    /// (FUSE, NFS: EOPNOTSUPP) has every step read by a reader first.
    private mutating func isCached(_ most: Int64, socket: Int32, disk: DiskPolicy?) -> Bool {
        guard let disk, let readers = disk.readers, let file, fileRemaining > 0 else { return true }
        let stepEnd = fileOffset + min(most, fileRemaining)
        if stepEnd <= cachedUntil {
            // Back from a reader: the file was cached a moment ago.
            if waitedForReader { file.foundCachedAt = disk.now }
            waitedForReader = false
            return true
        }
        if foundCold { readAhead(from: stepEnd, disk: disk, readers: readers) }
        if file.info.size <= DiskPolicy.smallFileBytes && disk.now &- file.foundCachedAt < DiskPolicy.recentNanoseconds {
            cachedUntil = stepEnd
            return true
        }
        if file.answersNowait, let probed = Self.cachedBytes(at: stepEnd - 1, in: file) {
            // Cached, or the end of a file that shrank (which the send then finds).
            cachedUntil = stepEnd
            if probed == 1 { file.foundCachedAt = disk.now }
            return true
        }
        foundCold = true
        // Once the reader is done, the step is sent without asking again.
        cachedUntil = stepEnd
        readAhead(from: stepEnd, disk: disk, readers: readers)
        waitedForReader = readers.submit(DiskReaders.Job(file: file, offset: fileOffset,
                                                         length: stepEnd - fileOffset, waiter: socket))
        return !waitedForReader
    }

    /// Asks a reader to read the file's next `readAheadBytes` beyond `position`, once
    /// what was asked for before is half sent: a streaming download then finds its
    /// next steps cached instead of waiting at each one. When the end of that range is
    /// cached already, the file was only cold in places (a few pages reclaimed from a
    /// cached file): the download goes back to asking step by step, instead of having
    /// the readers copy the rest of a cached file for nothing.
    private mutating func readAhead(from position: Int64, disk: DiskPolicy, readers: DiskReaders) {
        guard let file, disk.readAheadBytes > 0 else { return }
        let bodyEnd = fileOffset + fileRemaining
        guard position < bodyEnd, readAheadUntil < position + disk.readAheadBytes / 2 else { return }
        let start = max(readAheadUntil, position)
        let end = min(bodyEnd, position + disk.readAheadBytes)
        guard start < end else { return }
        if file.answersNowait && Self.cachedBytes(at: end - 1, in: file) != nil {
            foundCold = false
            return
        }
        readAheadUntil = end
        _ = readers.submit(DiskReaders.Job(file: file, offset: start, length: end - start, waiter: -1))
    }

    /// A one-byte read at `offset` that may only come from the page cache (RWF_NOWAIT):
    /// 1 when that byte is cached, 0 past the end of the file, nil when it would need
    /// the disk, or when the file system cannot tell (EOPNOTSUPP: the file is marked so).
    private static func cachedBytes(at offset: Int64, in file: OpenFile) -> Int? {
        var byte: UInt8 = 0
        let read = ferry_pread_cached(file.fd, &byte, 1, offset)
        if read >= 0 { return read }
        if errno != EAGAIN { file.answersNowait = false }
        return nil
    }

    private mutating func advanceFile(_ count: Int) {
        fileOffset += Int64(count)
        fileRemaining -= Int64(count)
    }
}
