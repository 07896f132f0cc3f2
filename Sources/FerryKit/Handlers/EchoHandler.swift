import Glibc

/// The seed document's protocol: the client sends a decimal byte count ending in a
/// newline; the server answers with exactly that many bytes and closes.
public final class EchoHandler: ConnectionHandler {
    /// Largest count a client may ask for (1 GiB); more is refused by closing.
    public static let maximumCount = 1 << 30
    /// Time a client has to send its count.
    public static let requestTimeout = 30.0

    /// The bytes every answer is cut from.
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)

    public init() {}

    public func makeSession(socket: Int32, peer: SocketAddress) -> Session {
        EchoSession(socket: socket, handler: self)
    }
}

/// One echo conversation: read the count, write that many bytes.
final class EchoSession: Session {
    let socket: Int32
    private unowned let handler: EchoHandler
    private var request: [UInt8] = []
    private var remaining = -1
    private(set) var deadline: UInt64
    private(set) var summary = SessionSummary()

    init(socket: Int32, handler: EchoHandler) {
        self.socket = socket
        self.handler = handler
        deadline = monotonicNanoseconds() + EchoHandler.requestTimeout.nanoseconds
    }

    func advance() -> SessionWant {
        if remaining < 0 {
            switch readCount() {
            case .readable: return .readable
            case .finished: return .finished
            case .writable: break
            }
        }
        return writeAnswer()
    }

    func expire() { remaining = 0 }

    /// Reads until the newline; `.writable` once the count is known.
    private func readCount() -> SessionWant {
        var chunk = [UInt8](repeating: 0, count: 32)
        while true {
            let n = read(socket, &chunk, chunk.count)
            if n < 0 {
                if errno == EINTR { continue }
                return errno == EAGAIN ? .readable : .finished
            }
            request += chunk[0..<n]
            let newline = request.firstIndex(of: UInt8(ascii: "\n"))
            if newline == nil && n > 0 && request.count <= 20 { continue }
            let digits = request[..<(newline ?? request.count)].filter { $0 != UInt8(ascii: "\r") }
            guard let count = Int(String(decoding: digits, as: UTF8.self)),
                  (0...EchoHandler.maximumCount).contains(count) else {
                summary.status = 400
                return .finished
            }
            remaining = count
            summary.requests = 1
            summary.status = 200
            return .writable
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
