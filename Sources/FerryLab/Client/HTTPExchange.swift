import FerryKit

/// An HTTP/1.0 GET of one path: the answer must be 200 with a Content-Length, and
/// exactly that many body bytes must arrive before the server closes.
final class HTTPExchange: Exchange {
    /// A head larger than this is not a head this client will wait for.
    static let maximumHeadSize = 64 * 1024

    private let request: [UInt8]
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    /// `hostField` is the Host header's value (`HTTPExchange.hostField(host:port:)`).
    init(path: String, hostField: String) {
        request = Array("GET \(path) HTTP/1.0\r\nHost: \(hostField)\r\nUser-Agent: ferry-client\r\n\r\n".utf8)
    }

    /// "127.0.0.1:8080", "[::1]:8080", or the bare host on port 80.
    static func hostField(host: String, port: Int) -> String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }

    func run(on connection: ClientConnection) -> ExchangeOutcome {
        var received: [UInt8] = []
        let head: HTTPResponseHead
        do throws(ExchangeFailure) {
            try connection.send(request)
            while true {
                let n = try connection.receive(into: &buffer)
                if n == 0 { return ExchangeOutcome(failure: received.isEmpty ? .short : .badHead) }
                received += buffer[0..<n]
                if let parsed = HTTPResponseHead.parse(received) {
                    head = parsed
                    break
                }
                if received.count > HTTPExchange.maximumHeadSize { return ExchangeOutcome(failure: .badHead) }
            }
        } catch {
            return ExchangeOutcome(failure: error)
        }
        let bodyStart = received.count - head.headLength
        guard head.status == 200 else { return ExchangeOutcome(bytes: bodyStart, failure: .badStatus) }
        guard let length = head.contentLength else { return ExchangeOutcome(bytes: bodyStart, failure: .badHead) }
        return readPayloadToEnd(on: connection, expected: length, received: bodyStart, buffer: &buffer)
    }
}

/// The two things the load client needs from a response head.
struct HTTPResponseHead: Equatable {
    var status: Int
    /// nil when absent, or present twice with different values.
    var contentLength: Int?
    /// Bytes of the head including the blank line that ends it.
    var headLength: Int

    /// Parses the head at the start of `bytes`: nil until the blank line ending it has
    /// arrived. A head that is not HTTP/1.x gets status 0.
    static func parse(_ bytes: [UInt8]) -> HTTPResponseHead? {
        let terminator: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4,
              let end = (0...(bytes.count - 4)).first(where: { bytes[$0..<($0 + 4)].elementsEqual(terminator) })
        else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        var head = HTTPResponseHead(status: 0, contentLength: nil, headLength: end + 4)
        let statusLine = lines.first ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        if parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]) {
            head.status = status
        }
        var lengths = Set<Int>()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":"),
                  line[..<colon].lowercased() == "content-length" else { continue }
            let value = ASCII.trimmingWhitespace(Array(line[line.index(after: colon)...].utf8))
            guard !value.isEmpty, value.count <= 18, value.allSatisfy(ASCII.isDigit),
                  let length = Int(String(decoding: value, as: UTF8.self)) else { return head }
            lengths.insert(length)
        }
        if lengths.count == 1 { head.contentLength = lengths.first }
        return head
    }
}
