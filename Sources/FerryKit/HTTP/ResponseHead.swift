import HTTPTypes

/// An HTTP/1.0 response head. Ferry answers one request per connection, so every head
/// ends with `Connection: close`.
public struct ResponseHead {
    public var status: HTTPResponse.Status
    /// Fields in the order added; names and values are trusted (no CR or LF).
    private var fields: [(name: String, value: String)] = []

    public init(status: HTTPResponse.Status) {
        self.status = status
    }

    public mutating func add(_ name: String, _ value: String) {
        fields.append((name, value))
    }

    /// "HTTP/1.0 <code> <reason>\r\nDate: ..\r\nServer: ..\r\n<added fields in order>Connection: close\r\n\r\n"
    /// as bytes, built in one buffer of exactly the right size. Pass `bodyCapacity` to
    /// make room for a body the caller appends, so that appending does not reallocate.
    public func serialize(date: String, server: String, bodyCapacity: Int = 0) -> [UInt8] {
        let statusLine = 9 + 3 + 1 + status.reasonPhrase.utf8.count + 2  // "HTTP/1.0 404 Not Found\r\n"
        let fixedFields = 6 + date.utf8.count + 2 + 8 + server.utf8.count + 2 + 19 + 2
        let addedFields = fields.reduce(0) { $0 + $1.name.utf8.count + 2 + $1.value.utf8.count + 2 }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(statusLine + fixedFields + addedFields + bodyCapacity)

        bytes += "HTTP/1.0 ".utf8
        // Status codes are 0...999 (HTTPResponse.Status checks), always written as three digits.
        let code = status.code
        bytes += [UInt8(code / 100), UInt8(code / 10 % 10), UInt8(code % 10)].map { $0 + ASCII.zero }
        bytes.append(ASCII.space)
        bytes += status.reasonPhrase.utf8
        bytes += "\r\n".utf8
        Self.append("Date", date, to: &bytes)
        Self.append("Server", server, to: &bytes)
        for field in fields { Self.append(field.name, field.value, to: &bytes) }
        bytes += "Connection: close\r\n\r\n".utf8
        assert(bytes.count == statusLine + fixedFields + addedFields, "ResponseHead size miscounted")
        return bytes
    }

    private static func append(_ name: String, _ value: String, to bytes: inout [UInt8]) {
        bytes += name.utf8
        bytes += ": ".utf8
        bytes += value.utf8
        bytes += "\r\n".utf8
    }
}
