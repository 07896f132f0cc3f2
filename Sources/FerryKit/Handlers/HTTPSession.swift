import Glibc
import HTTPTypes

/// One HTTP connection on a non-blocking socket, as a state machine:
/// read a head → decide the response → send head and body → either read the next
/// head on the same connection (persistent) or close, lingering when input remains.
final class HTTPSession: Session {
    private enum Phase {
        case readingHead
        case sending
        case lingering
        case finished
    }

    /// When input remains unread after the last response, it is drained for at most
    /// this long and this much, so closing does not send a RST that would destroy the
    /// response in flight.
    static let lingerSeconds = 2.0
    static let lingerBytes = 1 << 20
    /// Body bytes sent in one `advance` before giving other sessions a turn.
    static let bytesPerTurn = 16 << 20
    /// Buffers larger than this are released while the connection waits for its next
    /// request, so an idle connection holds only a small one.
    static let idleBufferBytes = 4096

    let socket: Int32
    let peer: SocketAddress
    private let settings: HTTPSessionSettings
    private unowned let context: HTTPWorkerContext
    private var phase = Phase.readingHead
    private(set) var deadline: UInt64
    private(set) var summary = SessionSummary()
    /// Shutdown began: answer what is in flight, then close.
    private var draining = false
    /// A reload retired this worker while a response announced as persistent was in
    /// flight: the client may send its next request as soon as it has read this one,
    /// so that request is answered too (the last, with `Connection: close`) if it
    /// begins within `Drain.retireIdleGrace`.
    private var oneMoreAfterThis = false

    // Reading
    /// Bytes received and not yet consumed: the head being read, then whatever
    /// followed it (the next pipelined request, or a body Ferry does not read).
    private var input: [UInt8] = []
    private var parser: RequestHeadParser
    private var request: RequestHead?
    private var requestLine: String?
    /// Waiting between requests: the keep-alive timeout runs until a byte arrives.
    private var idle = false
    /// The client sent or announced more than heads (a body, a refused head), so the
    /// connection closes after the response, lingering.
    private var inputEndsConnection = false

    // Sending
    private var response: Response?
    /// Whether the connection stays open after this response.
    private var persistent = false
    /// The serialized head, followed by an in-memory body; later a multipart
    /// body's boundaries and part heads, one segment at a time.
    private var output: [UInt8] = []
    private var headLength = 0
    private var outputWritten = 0
    /// Bytes of earlier in-memory segments of this response that were written.
    private var memoryBodySent: Int64 = 0
    /// The file range being sent: the response's file body, or the current part of
    /// a multipart one. The descriptor stays owned by `response`.
    private var fileRange: Response.FileBody?
    /// A multipart body's segments still to send, and its file.
    private var segments: ArraySlice<Response.MultipartBody.Segment> = []
    private var segmentFile: Int32 = -1
    /// File body bytes of the current response that reached the socket.
    private var fileBytesSent: Int64 = 0
    private var sentThisTurn = 0
    private var corked = false
    private var noDelay = false
    private var useCopy: Bool
    private var copyBuffer: [UInt8] = []
    private var copyPending = 0..<0
    private var lingered = 0
    /// limit_rate / limit_rate_after; nil when no limit is set.
    private var pacer: BodyPacer?

    init(socket: Int32, peer: SocketAddress, settings: HTTPSessionSettings, context: HTTPWorkerContext) {
        self.socket = socket
        self.peer = peer
        self.settings = settings
        self.context = context
        parser = RequestHeadParser(limits: settings.limits)
        useCopy = settings.bodyMode == .copy
        if settings.limitRate > 0 { pacer = BodyPacer(rate: settings.limitRate, after: settings.limitRateAfter) }
        deadline = monotonicNanoseconds() + settings.headTimeout.nanoseconds
    }

    func advance() -> SessionWant {
        sentThisTurn = 0
        while true {
            let want: SessionWant?
            switch phase {
            case .readingHead: want = readHead()
            case .sending: want = send()
            case .lingering: want = linger()
            case .finished: return .finished
            }
            if let want { return want }
        }
    }

    func expire() {
        switch phase {
        case .readingHead where idle:
            // A kept connection with no new request: close quietly, as every server does.
            finish()
        case .readingHead:
            // Best effort: the client is slow, so the 408 page may not fit in its window.
            let timeout = context.responder.error(.requestTimeout, "the request head took too long")
            start(timeout, persistent: false)
            let n = output.withUnsafeBytes { write(socket, $0.baseAddress, $0.count) }
            outputWritten = max(n, 0)
            summary.bytesFromMemory += Int64(outputWritten)
            finish()
        case .sending:
            context.errorLog("ferry: \(peer.host): no send progress for \(Int(settings.sendTimeout)) s; closing")
            finish()
        case .lingering, .finished:
            finish()
        }
    }

    func drain() -> Bool {
        // A retirement promised this connection one more request; the promise holds.
        if !oneMoreAfterThis { draining = true }
        // A request that has arrived but is not read yet is answered, not cut off.
        guard phase == .readingHead && input.isEmpty && SocketOptions.unreadByteCount(socket) == 0 else { return false }
        finish()
        return true
    }

    func answerOneMore() {
        if phase == .sending && persistent && !draining { oneMoreAfterThis = true } else { draining = true }
    }

    // MARK: reading a head

    /// Parses what has arrived, reading more as needed. Returns what to wait for, or
    /// nil when the phase changed and the session should go on at once.
    private func readHead() -> SessionWant? {
        // Bytes already here (pipelined after the previous request) are parsed first.
        if !input.isEmpty, parseInput() { return nil }
        let capacity = settings.limits.requestLineBytes + settings.limits.headerBytes + 4
        while true {
            let room = capacity + 1 - input.count
            let n = context.scratch.withUnsafeMutableBytes { buffer in
                read(socket, buffer.baseAddress, min(buffer.count, max(room, 1)))
            }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { return .readable }
                finish()
                return nil
            }
            if n == 0 {
                // The client closed (or half-closed) before a complete head.
                if input.isEmpty {
                    finish()
                } else {
                    inputEndsConnection = true
                    start(context.responder.error(.badRequest, "incomplete request head"), persistent: false)
                }
                return nil
            }
            if idle {
                // The next request has begun: from here its whole head has head_timeout.
                idle = false
                deadline = monotonicNanoseconds() + settings.headTimeout.nanoseconds
            }
            context.scratch.withUnsafeBytes { input.append(contentsOf: $0[0..<n]) }
            if parseInput() { return nil }
        }
    }

    /// Runs the parser over `input`; true when it reached a verdict and a response began.
    private func parseInput() -> Bool {
        switch input.withUnsafeBytes({ parser.parse($0) }) {
        case .incomplete:
            return false
        case .complete(let head, let consumed):
            request = head
            requestLine = head.requestLine
            input.removeFirst(consumed)
            if head.announcesBody { inputEndsConnection = true }
            start(context.responder.respond(to: head), persistent: staysOpen(after: head))
            return true
        case .failed(let failure, let line):
            requestLine = line
            // The head was refused before its end, perhaps: assume more is coming.
            inputEndsConnection = true
            start(context.responder.error(failure.status, failure.reason), persistent: false)
            return true
        }
    }

    /// Whether the connection is kept after answering `head` (RFC 9112 §9.3), within
    /// Ferry's own limits.
    private func staysOpen(after head: RequestHead) -> Bool {
        !settings.minimalHTTP10 && !draining && !inputEndsConnection && head.wantsPersistence
            && settings.keepAliveTimeout > 0 && summary.requests + 1 < settings.keepAliveRequests
    }

    // MARK: sending

    /// Serializes the head (version and Connection decided now) and begins sending.
    private func start(_ response: Response, persistent: Bool) {
        self.response = response
        self.persistent = persistent
        summary.requests += 1
        summary.status = response.status.code
        phase = .sending
        deadline = monotonicNanoseconds() + settings.sendTimeout.nanoseconds

        // The request's own version (RFC 9110 §6.2 lets a server answer 1.0 in 1.0);
        // a head refused before it could be read gets HTTP/1.1.
        let version: HTTPVersion = settings.minimalHTTP10 ? .http1_0 : request?.version ?? .http1_1
        let connection: ConnectionField
        if !persistent {
            connection = .close
        } else {
            connection = request?.version == .http1_0 ? .keepAlive : .none
        }
        output.removeAll(keepingCapacity: true)
        response.head.serialize(version: version, contentLength: response.contentLength, connection: connection,
                                date: context.dates.current(), server: settings.serverName, into: &output)
        headLength = output.count
        if case .bytes(let body) = response.body { output += body }
        outputWritten = 0
        memoryBodySent = 0
        fileBytesSent = 0
        pacer?.reset()
        fileRange = response.file
        if case .multipart(let parts) = response.body {
            segments = parts.segments[...]
            segmentFile = parts.fd
        } else {
            segments = []
        }

        if settings.cork && response.hasFileBody {
            // Hold the head until the body's first bytes join it in full segments.
            SocketOptions.setCork(socket, true)
            corked = true
        }
    }

    private func send() -> SessionWant? {
        repeat {
            if let want = sendOutputAndFile() { return want }
            if phase != .sending { return nil }
        } while nextSegment()
        return responseSent()
    }

    /// A multipart body's next segment becomes the output or the file range; false
    /// when none is left.
    private func nextSegment() -> Bool {
        guard let segment = segments.popFirst() else { return false }
        switch segment {
        case .bytes(let bytes):
            memoryBodySent += Int64(outputWritten - headLength)
            headLength = 0
            output = bytes
            outputWritten = 0
        case .file(let offset, let length):
            fileRange = Response.FileBody(fd: segmentFile, offset: offset, length: length)
        }
        return true
    }

    /// Writes what is in `output`, then the file range. Returns what to wait for,
    /// nil when both are out (or the session finished: check `phase`).
    private func sendOutputAndFile() -> SessionWant? {
        // The head (and an in-memory body) first, in one write when it fits.
        while outputWritten < output.count {
            let n = output.withUnsafeBytes { raw in
                write(socket, raw.baseAddress! + outputWritten, raw.count - outputWritten)
            }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { return .writable }
                clientWentAway(errno)
                return nil
            }
            outputWritten += n
            summary.bytesFromMemory += Int64(n)
            madeProgress()
        }
        // Then the file, yielding now and then so an event loop's other clients are
        // not starved by one fast reader of a big file.
        while let body = fileRange, body.length > 0 {
            if sentThisTurn >= Self.bytesPerTurn { return .writable }
            var allowed = Int64.max
            switch pacer?.allowance(sent: fileBytesSent, remaining: body.length, now: monotonicNanoseconds()) {
            case .send(let bytes)?:
                allowed = bytes
            case .waitUntil(let time)?:
                uncork()
                // The pause is not a stall: the send timeout counts from the wakeup.
                deadline = time + settings.sendTimeout.nanoseconds
                return .wake(at: time)
            case nil:
                break
            }
            var remaining = body
            let step = sendStep(&remaining, most: allowed)
            fileRange = remaining
            switch step {
            case .sent(let n):
                sentThisTurn += n
                fileBytesSent += Int64(n)
                if useCopy { summary.bytesViaCopy += Int64(n) } else { summary.bytesViaSendfile += Int64(n) }
                uncork()
                madeProgress()
            case .wouldBlock:
                uncork()
                return .writable
            case .unsupported:
                useCopy = true
            case .fileEnded:
                context.errorLog("ferry: \(peer.host): file shrank while being sent; response cut short")
                finish()
                return nil
            case .failed(let code):
                clientWentAway(code)
                return nil
            }
        }
        return nil
    }

    /// The whole response is out: log it, then wait for the next request or close.
    private func responseSent() -> SessionWant? {
        response?.closeFile()
        fileRange = nil
        uncork()
        logRequest()
        response = nil
        if persistent && !draining {
            awaitNextRequest()
            if oneMoreAfterThis {
                oneMoreAfterThis = false
                draining = true
                // The promised last request has the retirement's grace to begin, not the keep-alive timeout.
                if idle { deadline = min(deadline, monotonicNanoseconds() + Drain.retireIdleGrace.nanoseconds) }
            }
            // Nothing pipelined: the next request has yet to come, so wait for it
            // rather than try a read that would only say EAGAIN.
            return input.isEmpty ? .readable : nil
        }
        // Lingering close, when the client sent or announced more than the head (a
        // body, pipelined requests) or bytes are waiting now: closing with input unread
        // makes the kernel send a RST that destroys the response in flight. Otherwise
        // close at once, as nginx does: a staged close on every connection costs about
        // a fifth of the small-file request rate (measured with ab -c 32).
        guard inputEndsConnection || !input.isEmpty || SocketOptions.unreadByteCount(socket) > 0 else {
            finish()
            return nil
        }
        shutdown(socket, Int32(SHUT_WR))
        phase = .lingering
        deadline = monotonicNanoseconds() + Self.lingerSeconds.nanoseconds
        // The client has yet to read the response and close: wait for that.
        return .readable
    }

    /// Resets the per-request state and reads the next head; bytes that came with the
    /// last request stay in `input` and are parsed first.
    private func awaitNextRequest() {
        if !noDelay {
            // Later responses may be written while the last segment of an earlier one
            // is still unacknowledged; Nagle would hold them for the client's delayed
            // ACK (40 ms). Corking still joins a head to its file body.
            SocketOptions.setNoDelay(socket, true)
            noDelay = true
        }
        request = nil
        requestLine = nil
        parser = RequestHeadParser(limits: settings.limits)
        phase = .readingHead
        idle = input.isEmpty
        let timeout = idle ? settings.keepAliveTimeout : settings.headTimeout
        deadline = monotonicNanoseconds() + timeout.nanoseconds
        if output.capacity > Self.idleBufferBytes { output = [] }
        if input.isEmpty && input.capacity > Self.idleBufferBytes { input = [] }
    }

    /// One step of the body through sendfile, or through the copy loop, of at most
    /// `most` bytes (what the rate limit allows now).
    private func sendStep(_ body: inout Response.FileBody, most: Int64) -> BodySender.Step {
        if useCopy {
            if copyBuffer.isEmpty { copyBuffer = [UInt8](repeating: 0, count: settings.copyBufferBytes) }
            return BodySender.copyStep(socket: socket, file: body.fd, offset: &body.offset, remaining: &body.length,
                                       buffer: &copyBuffer, pending: &copyPending,
                                       most: Int(min(most, Int64(copyBuffer.count))))
        }
        return BodySender.sendfileStep(socket: socket, file: body.fd, offset: &body.offset, remaining: &body.length,
                                       chunk: Int(min(most, Int64(settings.sendfileChunkBytes))))
    }

    private func madeProgress() {
        deadline = monotonicNanoseconds() + settings.sendTimeout.nanoseconds
    }

    private func uncork() {
        guard corked else { return }
        SocketOptions.setCork(socket, false)
        corked = false
    }

    private func clientWentAway(_ code: Int32) {
        context.errorLog("ferry: \(peer.host): \(String(cString: strerror(code))) after \(summary.bytesSent) bytes")
        finish()
    }

    // MARK: closing

    /// Reads and discards what the client still sends, until it closes, so the
    /// close that follows does not reset the connection under the response.
    private func linger() -> SessionWant? {
        while lingered < Self.lingerBytes {
            let n = context.scratch.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
            if n > 0 { lingered += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN { return .readable }
            break
        }
        finish()
        return nil
    }

    /// One access-log line for the current response, with the body bytes that left.
    private func logRequest() {
        let memoryBody = memoryBodySent + Int64(max(0, outputWritten - headLength))
        context.accessLog.record(peer: peer, requestLine: requestLine, status: summary.status,
                                 bytes: fileBytesSent + memoryBody, referer: request?.referer,
                                 userAgent: request?.userAgent)
    }

    private func finish() {
        guard phase != .finished else { return }
        uncork()
        if response != nil {
            // A response cut short (client gone, timeout, file shrank) is logged too.
            response?.closeFile()
            logRequest()
            response = nil
        }
        fileRange = nil
        segments = []
        phase = .finished
        deadline = 0
    }
}
