import Foundation

/// A persistent HTTP/1.1 connection for many requests in a row. Responses are read
/// through one buffer (head, then Content-Length body bytes), so a small response
/// costs a few system calls rather than one per head byte as `RawClient.readHead`.
final class KeptConnection {
    private let client: RawClient
    private var buffer: [UInt8] = []

    init(port: Int, receiveTimeout: Double = 10) throws {
        client = try RawClient(port: port, receiveTimeout: receiveTimeout)
    }

    enum Failure: Error, CustomStringConvertible {
        /// The connection ended (orderly, or by `errno`) with `received` bytes of the response in.
        case ended(received: Int, errno: Int32)
        case timedOut(received: Int)

        var description: String {
            switch self {
            case .ended(let received, 0): return "connection closed after \(received) response bytes"
            case .ended(let received, let code): return "\(String(cString: strerror(code))) after \(received) response bytes"
            case .timedOut(let received): return "no response within the receive timeout (\(received) bytes in)"
            }
        }
    }

    /// Sends `GET path` and reads its whole response.
    func get(_ path: String) throws -> HTTPResponseText {
        client.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let separator = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            try receive()
            headEnd = buffer.indices.first { buffer[$0...].starts(with: separator) }.map { $0 + separator.count }
        }
        let head = HTTPResponseText(Array(buffer[..<headEnd!]))
        let end = headEnd! + (Int(head.field("Content-Length") ?? "0") ?? 0)
        while buffer.count < end { try receive() }
        let response = HTTPResponseText(Array(buffer[..<end]))
        buffer.removeFirst(end)
        return response
    }

    private func receive() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(client.fd, &chunk, chunk.count, 0)
            if n > 0 {
                buffer += chunk[..<n]
                return
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw Failure.timedOut(received: buffer.count) }
            throw Failure.ended(received: buffer.count, errno: n == 0 ? 0 : errno)
        }
    }
}
