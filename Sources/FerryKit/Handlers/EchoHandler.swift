import Glibc

/// The csdesign document's echo protocol: the client sends a byte count in decimal;
/// the server answers exactly that many bytes and closes.
///
/// The count ends at the first of:
/// - a newline (`\n`, or `\r\n`): what `ferry client` sends;
/// - the end of the client's input (it half-closed or closed);
/// - nothing more arriving: a read finds no more data (EAGAIN) after at least one
///   digit came. The document's client.py sends bare digits in one send, without a
///   newline or a shutdown, and its servers read them with one recv(1024) and int();
///   this rule answers that client the same way. It also answers a count split over
///   two segments the same way as those servers: "1", then "000" a moment later, is
///   a request for 1 byte.
///
/// Whitespace may surround the digits, as Python's int() allows. At most 20 bytes may
/// come before the end. Anything else (no digits, any other character, more than 20
/// bytes, a count above `maximumCount`) is refused: the server closes without an answer
/// and logs why. The request timeout bounds a client that never finishes its count.
public final class EchoHandler: ConnectionHandler {
    /// Largest count a client may ask for (1 GiB); more is refused by closing.
    public static let maximumCount = 1 << 30
    /// Time a client has to send its count.
    public static let requestTimeout = 30.0

    /// The bytes every answer is cut from.
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
    /// Where refused requests are reported.
    let log: (String) -> Void

    public init(log: @escaping (String) -> Void) {
        self.log = log
    }

    public func makeSession(socket: Int32, peer: SocketAddress) -> Session {
        EchoSession(socket: socket, peer: peer, handler: self)
    }
}

/// One echo conversation: read the count, write that many bytes.
final class EchoSession: Session {
    let socket: Int32
    let peer: SocketAddress
    private unowned let handler: EchoHandler
    private var request = EchoRequest()
    private var remaining = -1
    private(set) var deadline: UInt64
    private(set) var summary = SessionSummary()

    init(socket: Int32, peer: SocketAddress, handler: EchoHandler) {
        self.socket = socket
        self.peer = peer
        self.handler = handler
        deadline = monotonicNanoseconds() + EchoHandler.requestTimeout.nanoseconds
    }

    func advance() -> SessionWant {
        if remaining < 0 {
            guard let outcome = readCount() else { return .finished }
            switch outcome {
            case .incomplete:
                return .readable
            case .refused(let reason):
                handler.log("ferry: echo: \(peer.host): \(reason); closing")
                summary.status = 400
                return .finished
            case .count(let count):
                remaining = count
                summary.requests = 1
                summary.status = 200
            }
        }
        return writeAnswer()
    }

    func expire() {
        if remaining < 0 { summary.status = 408 }
        remaining = 0
    }

    /// Reads what has arrived and judges it; `.incomplete` when the socket has nothing
    /// more yet and the count may still be coming, nil when the connection failed.
    private func readCount() -> EchoRequest.Outcome? {
        var chunk = [UInt8](repeating: 0, count: 32)
        while true {
            let n = read(socket, &chunk, chunk.count)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { return request.pause() }
                return nil
            }
            if n == 0 { return request.end() }
            let outcome = request.append(chunk[0..<n])
            if outcome != .incomplete { return outcome }
        }
    }

    private func writeAnswer() -> SessionWant {
        while remaining > 0 {
            let n = handler.payload.withUnsafeBytes { raw in
                write(socket, raw.baseAddress, min(remaining, raw.count))
            }
            if n < 0 {
                if errno == EINTR { continue }
                return errno == EAGAIN ? .writable : .finished
            }
            remaining -= n
            summary.bytesFromMemory += Int64(n)
            // A slow reader of a long answer is fine as long as it keeps reading.
            deadline = monotonicNanoseconds() + EchoHandler.requestTimeout.nanoseconds
        }
        return .finished
    }
}
