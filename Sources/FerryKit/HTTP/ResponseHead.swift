import HTTPTypes

/// What a response's `Connection` field says about the connection's fate.
public enum ConnectionField: Equatable {
    /// No field: an HTTP/1.1 client assumes the connection stays open.
    case none
    /// `Connection: keep-alive`: how an HTTP/1.0 client learns that it stays open.
    case keepAlive
    /// `Connection: close`: Ferry closes after this response.
    case close
}

/// The status and fields of a response, in the order added. Date, Server,
/// Content-Length and Connection are written by `serialize`, which knows the version
/// and the connection's fate only when the response is sent.
public struct ResponseHead {
    public var status: HTTPResponse.Status
    /// Fields in the order added. Names are tokens and values `FieldValue`s, so no field
    /// can carry CR or LF whatever it was built from; the status line's reason phrase is
    /// made legal by HTTPTypes.
    public private(set) var fields: [(name: FieldName, value: FieldValue)] = []

    public init(status: HTTPResponse.Status) {
        self.status = status
    }

    public mutating func add(_ name: FieldName, _ value: FieldValue) {
        fields.append((name, value))
    }

    /// Removes every field named `name` (case-insensitive).
    public mutating func remove(_ name: String) {
        fields.removeAll { $0.name.matches(name) }
    }

    /// The value of the first field named `name` (case-insensitive), if any.
    public func value(of name: String) -> String? {
        fields.first { $0.name.matches(name) }?.value.text
    }

    /// Appends "VERSION CODE REASON\r\nDate: ..\r\nServer: ..\r\n<fields in order>
    /// [Content-Length: N\r\n][Connection: ..\r\n]\r\n" to `bytes`.
    public func serialize(version: HTTPVersion, contentLength: Int64?, connection: ConnectionField,
                          date: FieldValue, server: FieldValue, into bytes: inout [UInt8]) {
        bytes += version == .http1_1 ? "HTTP/1.1 ".utf8 : "HTTP/1.0 ".utf8
        // Status codes are 0...999 (HTTPResponse.Status checks), always written as three digits.
        let code = status.code
        bytes += [UInt8(code / 100), UInt8(code / 10 % 10), UInt8(code % 10)].map { $0 + ASCII.zero }
        bytes.append(ASCII.space)
        bytes += status.reasonPhrase.utf8
        bytes += "\r\n".utf8
        Self.append("Date", date, to: &bytes)
        Self.append("Server", server, to: &bytes)
        for field in fields { Self.append(field.name, field.value, to: &bytes) }
        if let contentLength { Self.append("Content-Length", "\(contentLength)", to: &bytes) }
        switch connection {
        case .none: break
        case .keepAlive: bytes += "Connection: keep-alive\r\n".utf8
        case .close: bytes += "Connection: close\r\n".utf8
        }
        bytes += "\r\n".utf8
    }

    private static func append(_ name: FieldName, _ value: FieldValue, to bytes: inout [UInt8]) {
        bytes += name.text.utf8
        bytes += ": ".utf8
        bytes += value.text.utf8
        bytes += "\r\n".utf8
    }
}
