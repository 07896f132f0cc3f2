import Glibc
import HTTPTypes

/// One HTTP/1.0 exchange on a non-blocking socket, as a state machine:
/// read the head → decide the response → send head and body → lingering close.
final class HTTPSession: Session {
    private enum Phase {
        case readingHead
        case sending
        case lingering
        case finished
    }

    /// When input remains unread after the response, it is drained for at most this
    /// long and this much, so closing does not send a RST that would destroy the
    /// response in flight.
    static let lingerSeconds = 2.0
    static let lingerBytes = 1 << 20
    /// Body bytes sent in one `advance` before giving other sessions a turn.
    static let bytesPerTurn = 16 << 20

    let socket: Int32
    private let peer: SocketAddress
    private unowned let handler: HTTPFileHandler
    private var phase = Phase.readingHead
    private(set) var deadline: UInt64
    private(set) var summary = SessionSummary()

    // Reading
    private var input: [UInt8] = []
    private var parser: RequestHeadParser
    private var request: RequestHead?
    private var requestLine: String?
    private var unreadInputRemains = false

    // Sending
    private var response: Response?
    private var bytesWritten = 0
    private var corked = false
    private var useCopy: Bool
    private var copyBuffer: [UInt8] = []
    private var copyPending = 0..<0
    private var lingered = 0

    init(socket: Int32, peer: SocketAddress, handler: HTTPFileHandler) {
        self.socket = socket
        self.peer = peer
        self.handler = handler
        parser = RequestHeadParser(limits: handler.limits)
        useCopy = handler.config.bodyMode == .copy
        deadline = monotonicNanoseconds() + handler.config.headTimeout.nanoseconds
    }

    func advance() -> SessionWant {
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
        case .readingHead:
            // Best effort: the client is slow, so the 408 page may not fit in its window.
            let response = handler.responder.error(.requestTimeout, "the request head took too long")
            let n = response.bytes.withUnsafeBytes { write(socket, $0.baseAddress, $0.count) }
            self.response = response
            bytesWritten = max(n, 0)
            summary.status = response.status
            summary.bytesFromMemory += Int64(bytesWritten)
            finish()
        case .sending:
            Console.error("ferry: \(peer.host): no send progress for \(Int(handler.config.sendTimeout)) s; closing")
            finish()
        case .lingering, .finished:
            finish()
        }
    }

    // MARK: reading the head

    /// Reads what is available and parses. Returns what to wait for, or nil when the
    /// phase changed and the session should go on at once.
    private func readHead() -> SessionWant? {
        let capacity = handler.limits.requestLineBytes + handler.limits.headerBytes + 4
        while true {
            let n = handler.scratch.withUnsafeMutableBytes { buffer in
                read(socket, buffer.baseAddress, min(buffer.count, capacity + 1 - input.count))
            }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { return .readable }
                finish()
                return nil
            }
            if n == 0 {
                // The client closed (or half-closed) before a complete head.
                if input.isEmpty { finish() } else { begin(handler.responder.error(.badRequest, "incomplete request head")) }
                return nil
            }
            handler.scratch.withUnsafeBytes { input.append(contentsOf: $0[0..<n]) }
            let result = input.withUnsafeBytes { parser.parse($0) }
            switch result {
            case .incomplete:
                continue
            case .complete(let head, let consumed):
                request = head
                requestLine = head.requestLine
                unreadInputRemains = consumed < input.count || head.announcesBody
                begin(handler.responder.respond(to: head))
                return nil
            case .failed(let failure, let line):
                requestLine = line
                // The head was refused before its end, perhaps: assume more is coming.
                unreadInputRemains = true
                begin(handler.responder.error(failure.status, failure.reason))
                return nil
            }
        }
    }

    // MARK: sending

    private func begin(_ response: Response) {
        self.response = response
        summary.status = response.status
        phase = .sending
        deadline = monotonicNanoseconds() + handler.config.sendTimeout.nanoseconds
        if handler.config.cork && response.file != nil {
            // Hold the head until the body's first bytes join it in full segments.
            SocketOptions.setCork(socket, true)
            corked = true
        }
    }

    private func send() -> SessionWant? {
        guard let bytes = response?.bytes else { finish(); return nil }
        // The head (and an in-memory body) first.
        while bytesWritten < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                write(socket, raw.baseAddress! + bytesWritten, raw.count - bytesWritten)
            }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { return .writable }
                clientWentAway(errno)
                return nil
            }
            bytesWritten += n
            summary.bytesFromMemory += Int64(n)
            madeProgress()
        }
        // Then the file, yielding now and then so an event loop's other clients are
        // not starved by one fast reader of a big file.
        var sentThisTurn = 0
        while var body = response?.file, body.length > 0 {
            if sentThisTurn >= Self.bytesPerTurn { return .writable }
            let step = sendStep(&body)
            response?.file = body
            switch step {
            case .sent(let n):
                sentThisTurn += n
                if useCopy { summary.bytesViaCopy += Int64(n) } else { summary.bytesViaSendfile += Int64(n) }
                uncork()
                madeProgress()
            case .wouldBlock:
                uncork()
                return .writable
            case .unsupported:
                useCopy = true
            case .fileEnded:
                Console.error("ferry: \(peer.host): file shrank while being sent; response cut short")
                finish()
                return nil
            case .failed(let code):
                clientWentAway(code)
                return nil
            }
        }
        response?.closeFile()
        uncork()
        // Lingering close, when the client sent or announced more than the head (a
        // body, pipelined requests) or bytes are waiting now: closing with input unread
        // makes the kernel send a RST that destroys the response in flight. Otherwise
        // close at once, as nginx does: a staged close on every connection costs about
        // a fifth of the small-file request rate (measured with ab -c 32).
        guard unreadInputRemains || SocketOptions.unreadByteCount(socket) > 0 else {
            finish()
            return nil
        }
        shutdown(socket, Int32(SHUT_WR))
        phase = .lingering
        deadline = monotonicNanoseconds() + Self.lingerSeconds.nanoseconds
        // The client has yet to read the response and close: wait for that rather
        // than try a read now that would only say EAGAIN.
        return .readable
    }

    /// One step of the body through sendfile, or through the copy loop.
    private func sendStep(_ body: inout Response.FileBody) -> BodySender.Step {
        if useCopy {
            if copyBuffer.isEmpty { copyBuffer = [UInt8](repeating: 0, count: handler.config.copyBufferBytes) }
            return BodySender.copyStep(socket: socket, file: body.fd, offset: &body.offset, remaining: &body.length,
                                       buffer: &copyBuffer, pending: &copyPending)
        }
        return BodySender.sendfileStep(socket: socket, file: body.fd, offset: &body.offset, remaining: &body.length,
                                       chunk: handler.config.sendfileChunkBytes)
    }

    private func madeProgress() {
        deadline = monotonicNanoseconds() + handler.config.sendTimeout.nanoseconds
    }

    private func uncork() {
        guard corked else { return }
        SocketOptions.setCork(socket, false)
        corked = false
    }

    private func clientWentAway(_ code: Int32) {
        Console.error("ferry: \(peer.host): \(String(cString: strerror(code))) after \(summary.bytesSent) bytes")
        finish()
    }

    // MARK: closing

    /// Reads and discards what the client still sends, until it closes, so the
    /// close that follows does not reset the connection under the response.
    private func linger() -> SessionWant? {
        while lingered < Self.lingerBytes {
            let n = handler.scratch.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
            if n > 0 { lingered += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN { return .readable }
            break
        }
        finish()
        return nil
    }

    /// Body bytes that reached the socket: file bytes plus the in-memory body part.
    private var bodyBytesSent: Int64 {
        let headLength = (response?.bytes.count ?? 0) - (response?.memoryBodyLength ?? 0)
        return summary.bytesViaSendfile + summary.bytesViaCopy + Int64(max(0, bytesWritten - headLength))
    }

    private func finish() {
        guard phase != .finished else { return }
        uncork()
        response?.closeFile()
        phase = .finished
        deadline = 0
        if summary.status != 0 {
            handler.accessLog.record(peer: peer, requestLine: requestLine, status: summary.status,
                                     bytes: bodyBytesSent, referer: request?.referer, userAgent: request?.userAgent)
        }
    }
}
