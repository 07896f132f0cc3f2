import Glibc
import HTTPTypes
import SystemPackage

/// One HTTP connection on a non-blocking socket: reading and parsing heads, and the
/// connection's fate (kept for the next request, closed, or closed after lingering),
/// each decided in one place. What to answer is the responder's; sending it is the
/// transmission's.
///
/// A connection waiting for its next request holds this object and nothing else: its
/// heads are read into the worker's buffer and answered there, and it keeps bytes of
/// its own only while a head arrives in pieces or more input follows one.
final class HTTPSession: Session {
    private enum Phase: UInt8 {
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

    let socket: Int32
    private let peer: PeerAddress
    /// The worker's context outlives every session it makes (no reference count).
    private unowned(unsafe) let context: HTTPWorkerContext
    private var phase = Phase.readingHead
    private(set) var deadline: UInt64
    private(set) var summary = SessionSummary()

    // The connection's fate
    /// The response being sent is not the last: the connection stays open after it.
    private var persistent = false
    /// Shutdown began: answer what is in flight, then close.
    private var draining = false
    /// A reload retired this worker while a response announced as persistent was in
    /// flight: the client may send its next request as soon as it has read this one,
    /// so that request is answered too (the last, with `Connection: close`) if it
    /// begins within `Drain.retireIdleGrace`.
    private var oneMoreAfterThis = false
    /// The client sent or announced more than heads (a body, a refused head), so the
    /// connection closes after the response, lingering.
    private var inputEndsConnection = false
    /// Waiting between requests: the keep-alive timeout runs until a byte arrives.
    private var idle = false
    /// The last `advance` answered `.readable`: the next one comes because the event
    /// loop saw input, which therefore began before that wakeup.
    private var waitingForInput = false

    // Reading
    /// A head arriving in pieces, or bytes that followed the last one.
    private var partial: PartialRequest?

    // Sending
    private var transmission: Transmission?
    /// The access log's view of the request, copied when its response outlives the
    /// advance that read it (the worker's read buffer then holds other requests).
    private var loggedRequest: LoggedRequest?
    private var lingered = 0

    init(socket: Int32, peer: PeerAddress, context: HTTPWorkerContext) {
        self.socket = socket
        self.peer = peer
        self.context = context
        deadline = monotonicNanoseconds() + context.settings.headTimeout.nanoseconds
    }

    private var settings: HTTPSessionSettings { context.settings }

    func advance() -> SessionWant {
        while true {
            let want: SessionWant?
            switch phase {
            case .readingHead: want = readHead()
            case .sending: want = resumeSending()
            case .lingering: want = linger()
            case .finished: return .finished
            }
            if let want {
                waitingForInput = want == .readable
                return want
            }
        }
    }

    func expire() {
        switch phase {
        case .readingHead where idle:
            // A kept connection with no new request: close quietly, as every server does.
            finish()
        case .readingHead:
            // Best effort: the client is slow, so the 408 page may not fit in its window.
            persistent = false
            context.output.removeAll(keepingCapacity: true)
            let plan = context.responder.refusal(.requestTimeout, "the request head took too long",
                                                 framing: HeadFraming(version: refusalVersion, connection: .close),
                                                 into: &context.output)
            transmission = Transmission(plan: plan, headLength: context.output.count - plan.memoryBodyLength,
                                        settings: settings.transmit)
            _ = transmission!.start(socket: socket, output: &context.output, settings: settings.transmit)
            summary.requests += 1
            summary.status = plan.status
            // Counted and logged by finish, as a response cut short would be.
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
        guard phase == .readingHead, partial?.bytes.isEmpty ?? true, SocketOptions.unreadByteCount(socket) == 0 else {
            return false
        }
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
        // Bytes that followed the last head (pipelined) are parsed before any read.
        if let partial, partial.unparsed {
            partial.unparsed = false
            if let want = parse(partial) { return want }
        }
        let readOnWakeup = waitingForInput && partial == nil
        while true {
            let room = settings.headCapacity + 1 - (partial?.bytes.count ?? 0)
            let buffer = context.readBuffer
            let n = read(socket, buffer.baseAddress, min(buffer.count, max(room, 1)))
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { return .readable }
                finish()
                return nil
            }
            if n == 0 {
                // The client closed (or half-closed) before a complete head.
                guard let partial, !partial.bytes.isEmpty else {
                    finish()
                    return nil
                }
                inputEndsConnection = true
                return refuse(HTTPError(status: .badRequest, reason: "incomplete request head"),
                              requestLine: nil)
            }
            if idle {
                // The next request has begun: from here its whole head has head_timeout.
                idle = false
                deadline = context.now + settings.headTimeout.nanoseconds
            }
            let received = UnsafeRawBufferPointer(start: buffer.baseAddress, count: n)
            if let partial {
                partial.bytes.append(contentsOf: received)
                if let want = parse(partial) { return want }
                continue
            }
            // A head that arrives whole is parsed and answered where it was read.
            let headTick = context.tickForHead(readOnWakeup: readOnWakeup)
            var parser = RequestHeadParser(limits: settings.limits)
            switch parser.parse(received) {
            case .incomplete:
                partial = PartialRequest(bytes: Array(received), parser: parser, headTick: headTick)
            case .complete(let head, let consumed):
                keepInput(after: consumed, of: received)
                return answer(RequestView(head: head, bytes: received, joined: parser.joined), headTick: headTick)
            case .failed(let error, let requestLine):
                return refuse(error, requestLine: requestLine)
            }
        }
    }

    /// Runs the parser over a partial request's bytes: nil while the head is
    /// incomplete; once it was answered or refused, what that said to wait for (nil:
    /// go on at once).
    private func parse(_ partial: PartialRequest) -> SessionWant?? {
        let result = partial.bytes.withUnsafeBytes { partial.parser.parse($0) }
        switch result {
        case .incomplete:
            return nil
        case .complete(let head, let consumed):
            self.partial = nil
            return partial.bytes.withUnsafeBytes { bytes in
                keepInput(after: consumed, of: bytes)
                return answer(RequestView(head: head, bytes: bytes, joined: partial.parser.joined),
                              headTick: partial.headTick)
            }
        case .failed(let error, let requestLine):
            return refuse(error, requestLine: requestLine)
        }
    }

    /// Keeps the bytes after a head (a pipelined request, or a body Ferry does not
    /// read) for after the response. They arrived after the wakeup that read them may
    /// have begun, so their head takes a tick of its own.
    private func keepInput(after consumed: Int, of bytes: UnsafeRawBufferPointer) {
        guard consumed < bytes.count else { return }
        partial = PartialRequest(bytes: Array(bytes[consumed...]), parser: RequestHeadParser(limits: settings.limits),
                                 headTick: context.tickForHead(readOnWakeup: false), unparsed: true)
    }

    /// Decides the connection's fate, has the responder write the response, and
    /// begins sending it.
    private func answer(_ request: RequestView, headTick: UInt64) -> SessionWant? {
        let head = request.head
        if head.announcesBody { inputEndsConnection = true }
        persistent = staysOpen(after: head)
        let connection: ConnectionField = !persistent ? .close : head.version == .http1_0 ? .keepAlive : .none
        // The request's own version (RFC 9110 §6.2 lets a server answer 1.0 in 1.0).
        let framing = HeadFraming(version: settings.minimalHTTP10 ? .http1_0 : head.version, connection: connection)
        context.output.removeAll(keepingCapacity: true)
        let plan = context.responder.respond(to: request, framing: framing, headTick: headTick, into: &context.output)
        return send(plan, logging: LoggedFields(requestLine: request.requestLine, referer: request.value(.referer),
                                                userAgent: request.value(.userAgent)))
    }

    /// A head refused before it could be answered (malformed, too large, cut short):
    /// an error page, then the connection closes, lingering.
    private func refuse(_ error: HTTPError, requestLine: String?) -> SessionWant? {
        inputEndsConnection = true
        persistent = false
        partial = nil
        context.output.removeAll(keepingCapacity: true)
        let plan = context.responder.refusal(error.status, error.reason,
                                             framing: HeadFraming(version: refusalVersion, connection: .close),
                                             into: &context.output)
        guard let requestLine else { return send(plan, logging: LoggedFields()) }
        return Array(requestLine.utf8).withUnsafeBytes { send(plan, logging: LoggedFields(requestLine: $0)) }
    }

    /// A head refused before its version was read gets HTTP/1.1 (1.0 in the minimal mode).
    private var refusalVersion: HTTPVersion { settings.minimalHTTP10 ? .http1_0 : .http1_1 }

    /// Whether the connection is kept after answering `head` (RFC 9112 §9.3), within
    /// Ferry's own limits.
    private func staysOpen(after head: RequestHead) -> Bool {
        !settings.minimalHTTP10 && !draining && !inputEndsConnection && head.wantsPersistence
            && settings.keepAliveTimeout > 0 && summary.requests + 1 < settings.keepAliveRequests
    }

    // MARK: sending

    /// Begins sending `plan` (its head in the worker's output buffer). The
    /// transmission lives in `transmission` from the start, and is worked on there.
    private func send(_ plan: ResponsePlan, logging fields: LoggedFields) -> SessionWant? {
        summary.requests += 1
        summary.status = plan.status
        phase = .sending
        transmission = Transmission(plan: plan, headLength: context.output.count - plan.memoryBodyLength,
                                    settings: settings.transmit)
        let step = transmission!.start(socket: socket, output: &context.output, settings: settings.transmit,
                                       disk: context.disk)
        if step == .complete { return responseSent(fields) }
        if context.accessLog.isOn { loggedRequest = LoggedRequest(fields) }
        madeProgress()
        return want(after: step)
    }

    private func resumeSending() -> SessionWant? {
        guard let before = transmission?.counts.total else { return responseSent(LoggedFields()) }
        let step = transmission!.resume(socket: socket, settings: settings.transmit, disk: context.disk)
        if step == .complete { return loggedRequest.withFields { responseSent($0) } }
        if transmission!.counts.total > before { madeProgress() }
        return want(after: step)
    }

    /// What to wait for after a transmission step that did not complete the response.
    private func want(after step: TransmitStep) -> SessionWant? {
        switch step {
        case .complete:
            return nil
        case .wouldBlock, .yield:
            // A yield waits for writability too: the socket is writable, so the next
            // wakeup comes back here once the others had their turn.
            return .writable
        case .wake(let time):
            // The pause is not a stall: the send timeout counts from the wakeup.
            deadline = time + settings.sendTimeout.nanoseconds
            return .wake(at: time)
        case .waitForDisk:
            // A slow disk is not a stalled client: the send timeout counts from now.
            madeProgress()
            return .disk
        case .fileEnded:
            context.errorLog("ferry: \(peer.host): file shrank while being sent; response cut short")
            finish()
            return nil
        case .failed(let error):
            clientWentAway(error)
            return nil
        }
    }

    /// The whole response is out: count and log it, then wait for the next request or close.
    private func responseSent(_ fields: LoggedFields) -> SessionWant? {
        record(fields)
        transmission = nil
        loggedRequest = nil
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
            return partial == nil ? .readable : nil
        }
        // Lingering close, when the client sent or announced more than the head (a
        // body, pipelined requests) or bytes are waiting now: closing with input unread
        // makes the kernel send a RST that destroys the response in flight. Otherwise
        // close at once, as nginx does: a staged close on every connection costs about
        // a fifth of the small-file request rate (measured with ab -c 32).
        guard inputEndsConnection || partial != nil || SocketOptions.unreadByteCount(socket) > 0 else {
            finish()
            return nil
        }
        partial = nil
        shutdown(socket, Int32(SHUT_WR))
        phase = .lingering
        deadline = monotonicNanoseconds() + Self.lingerSeconds.nanoseconds
        // The client has yet to read the response and close: wait for that.
        return .readable
    }

    /// Counts the transmission's response in the summary and writes its access log line.
    private func record(_ fields: LoggedFields) {
        guard let sent = transmission?.counts else { return }
        summary.bytesFromMemory += sent.head + sent.memoryBody
        if sent.viaCopy { summary.bytesViaCopy += sent.file } else { summary.bytesViaSendfile += sent.file }
        guard context.accessLog.isOn else { return }
        context.accessLog.record(peer: peer, AccessLogFields(requestLine: fields.requestLine, status: summary.status,
                                                             bytes: sent.memoryBody + sent.file, referer: fields.referer,
                                                             userAgent: fields.userAgent))
    }

    /// Waits for the next head; bytes that came with the last request stay in
    /// `partial` and are parsed first.
    private func awaitNextRequest() {
        phase = .readingHead
        idle = partial == nil
        let timeout = idle ? settings.keepAliveTimeout : settings.headTimeout
        deadline = context.now + timeout.nanoseconds
    }

    private func madeProgress() {
        deadline = context.now + settings.sendTimeout.nanoseconds
    }

    private func clientWentAway(_ error: Errno) {
        let sent = transmission?.counts.total ?? 0
        context.errorLog("ferry: \(peer.host): \(error) after \(sent) bytes of the response")
        finish()
    }

    // MARK: closing

    /// Reads and discards what the client still sends, until it closes, so the
    /// close that follows does not reset the connection under the response.
    private func linger() -> SessionWant? {
        let buffer = context.readBuffer
        while lingered < Self.lingerBytes {
            let n = read(socket, buffer.baseAddress, buffer.count)
            if n > 0 { lingered += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN { return .readable }
            break
        }
        finish()
        return nil
    }

    private func finish() {
        guard phase != .finished else { return }
        if transmission != nil {
            // A response cut short (client gone, timeout, file shrank) is logged too.
            loggedRequest.withFields { record($0) }
            transmission = nil
        }
        loggedRequest = nil
        partial = nil
        phase = .finished
        deadline = 0
    }
}

/// A request head that arrived in pieces, or bytes that followed a head: kept by its
/// session until they make a head.
private final class PartialRequest {
    var bytes: [UInt8]
    var parser: RequestHeadParser
    /// When the head began (`OpenFileCache`).
    let headTick: UInt64
    /// The bytes followed an earlier head and have not been parsed yet.
    var unparsed: Bool

    init(bytes: [UInt8], parser: RequestHeadParser, headTick: UInt64, unparsed: Bool = false) {
        self.bytes = bytes
        self.parser = parser
        self.headTick = headTick
        self.unparsed = unparsed
    }
}

/// The request's parts an access log line shows, as bytes valid for the call they
/// are passed to.
private struct LoggedFields {
    var requestLine: UnsafeRawBufferPointer?
    var referer: UnsafeRawBufferPointer?
    var userAgent: UnsafeRawBufferPointer?
}

/// `LoggedFields` copied, for a response that outlives the bytes it was read from.
private struct LoggedRequest {
    var requestLine: [UInt8]?
    var referer: [UInt8]?
    var userAgent: [UInt8]?

    init(_ fields: LoggedFields) {
        requestLine = fields.requestLine.map { Array($0) }
        referer = fields.referer.map { Array($0) }
        userAgent = fields.userAgent.map { Array($0) }
    }
}

private extension Optional where Wrapped == LoggedRequest {
    /// Calls `body` with the copied fields as `LoggedFields` (all absent for nil).
    func withFields<R>(_ body: (LoggedFields) -> R) -> R {
        guard let request = self else { return body(LoggedFields()) }
        return withBytes(request.requestLine) { line in
            withBytes(request.referer) { referer in
                withBytes(request.userAgent) { agent in
                    body(LoggedFields(requestLine: line, referer: referer, userAgent: agent))
                }
            }
        }
    }

    private func withBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard let bytes else { return body(nil) }
        return bytes.withUnsafeBytes { body($0) }
    }
}
