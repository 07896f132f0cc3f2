/// What one access log line says of a response, as the bytes of the request they
/// came from (nil: absent, written "-").
@_spi(Benchmarks) public struct AccessLogFields {
    var requestLine: UnsafeRawBufferPointer?
    var status: Int
    /// Body bytes that left.
    var bytes: Int64
    var referer: UnsafeRawBufferPointer?
    var userAgent: UnsafeRawBufferPointer?

    /// Written out because a memberwise initializer is never public.
    @_spi(Benchmarks) public init(requestLine: UnsafeRawBufferPointer?, status: Int, bytes: Int64,
                                  referer: UnsafeRawBufferPointer?, userAgent: UnsafeRawBufferPointer?) {
        self.requestLine = requestLine
        self.status = status
        self.bytes = bytes
        self.referer = referer
        self.userAgent = userAgent
    }
}

/// One worker's access log lines: each line is built into a reused buffer, with the
/// time formatted once a second, and the lines of one event loop iteration leave in
/// one write before the loop waits again (nginx's `access_log ... buffer=`), so no
/// line waits longer than one iteration and a request costs no write of its own.
/// Without a loop to call `flush` (a blocking model), every line is written at once.
///
/// Lines leave whole: a batch for a pipe (standard output, say) is cut at line ends
/// before it exceeds PIPE_BUF, so lines of several workers never interleave there.
@_spi(Benchmarks) public final class AccessLogWriter {
    private let log: AccessLog
    private let dates: DateHeaderCache
    private var buffer: [UInt8] = []
    private var lines = 0
    /// Whether lines wait for `flush` (an event loop calls it once per iteration).
    var gathersLines = false
    /// Most bytes written at once: a batch is flushed before a line would make it longer.
    private let batchLimit: Int

    init(log: AccessLog, dates: DateHeaderCache) {
        self.log = log
        self.dates = dates
        batchLimit = log.isRegularFile ? 64 * 1024 : 4096
    }

    var isOn: Bool { log.isOn }

    /// `127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] "GET / HTTP/1.0" 200 1234 "referer" "agent"`.
    @_spi(Benchmarks) public func record(peer: PeerAddress, _ fields: AccessLogFields) {
        guard log.isOn else { return }
        let lineStart = buffer.count
        peer.appendHost(to: &buffer)
        buffer.append(" - - [")
        buffer += dates.commonLogTime()
        buffer.append("] \"")
        appendQuoted(fields.requestLine)
        buffer.append("\" ")
        HeadWriter.decimal(Int64(fields.status), into: &buffer)
        buffer.append(ASCII.space)
        if fields.bytes > 0 { HeadWriter.decimal(fields.bytes, into: &buffer) } else { buffer.append(UInt8(ascii: "-")) }
        buffer.append(" \"")
        appendQuoted(fields.referer)
        buffer.append("\" \"")
        appendQuoted(fields.userAgent)
        buffer.append("\"\n")
        if buffer.count > batchLimit && lines > 0 {
            // The batch without this line, then this line begins the next.
            write(upTo: lineStart, lines: lines)
            buffer.removeSubrange(..<lineStart)
            lines = 0
        }
        lines += 1
        if !gathersLines || buffer.count >= batchLimit { flush() }
    }

    /// Writes the lines gathered so far in one write.
    func flush() {
        guard lines > 0 else { return }
        write(upTo: buffer.count, lines: lines)
        buffer.removeAll(keepingCapacity: buffer.capacity <= batchLimit * 2)
        lines = 0
    }

    private func write(upTo end: Int, lines: Int) {
        buffer.withUnsafeBytes { log.write(UnsafeRawBufferPointer(rebasing: $0[..<end]), lines: lines) }
    }

    private func appendQuoted(_ value: UnsafeRawBufferPointer?) {
        guard let value else {
            buffer.append(UInt8(ascii: "-"))
            return
        }
        AccessLog.appendEscaped(value, to: &buffer)
    }
}
