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
        var prelude: [UInt8] = []
        Self.append("Date", date, to: &prelude)
        Self.append("Server", server, to: &prelude)
        serialize(version: version, contentLength: contentLength, connection: connection, prelude: prelude, into: &bytes)
    }

    /// `serialize` with the Date and Server fields already written (`DateHeaderCache.prelude`).
    func serialize(version: HTTPVersion, contentLength: Int64?, connection: ConnectionField, prelude: [UInt8],
                   into bytes: inout [UInt8]) {
        HeadWriter.statusLine(status, version: version, into: &bytes)
        bytes += prelude
        for field in fields { Self.append(field.name, field.value, to: &bytes) }
        HeadWriter.framing(contentLength: contentLength, connection: connection, into: &bytes)
    }

    /// The fields alone, each "Name: value\r\n", in order: a file's constant fields,
    /// serialized once and copied into every head that carries them.
    public func fieldBytes() -> [UInt8] {
        var bytes: [UInt8] = []
        for field in fields { Self.append(field.name, field.value, to: &bytes) }
        return bytes
    }

    static func append(_ name: FieldName, _ value: FieldValue, to bytes: inout [UInt8]) {
        bytes += name.text.utf8
        bytes += ": ".utf8
        bytes += value.text.utf8
        bytes += "\r\n".utf8
    }
}
