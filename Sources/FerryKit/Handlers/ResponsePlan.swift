/// How a response's head is framed: its version and what its `Connection` field says.
/// The session decides both before the responder writes the head, so the head is
/// serialized once, whole.
@_spi(Benchmarks) public struct HeadFraming {
    var version: HTTPVersion
    var connection: ConnectionField

    /// Written out because a memberwise initializer is never public.
    @_spi(Benchmarks) public init(version: HTTPVersion, connection: ConnectionField) {
        self.version = version
        self.connection = connection
    }
}

/// A range of an open file, sent with sendfile(2) or the copy loop.
struct FileRange {
    let file: OpenFile
    var offset: Int64
    var length: Int64
}

/// A multipart/byteranges body: part heads and boundaries from memory, the ranges of
/// one open file between them.
struct MultipartBody {
    let file: OpenFile
    var segments: [MultipartSegment]

    /// The bytes the segments add up to: the Content-Length.
    var length: Int64 {
        segments.reduce(0) { total, segment in
            switch segment {
            case .bytes(let bytes): return total + Int64(bytes.count)
            case .file(_, let length): return total + length
            }
        }
    }
}

/// What follows a response's head: nothing more (HEAD, 304, or an in-memory body
/// written right after the head), a range of a file, or parts of one.
enum ResponseBody {
    case none
    case file(FileRange)
    case parts(MultipartBody)
}

/// A response as the responder decides it: the head (and any small body kept in
/// memory, an error page or a listing) already written into the worker's output
/// buffer, and the file body to send after them. The transmitter owns the body from
/// there; HEAD, 304 and errors are plans like any other.
@_spi(Benchmarks) public struct ResponsePlan {
    /// The status code, for the access log.
    @_spi(Benchmarks) public var status: Int
    /// Bytes of the output buffer that are body (after the head), not head.
    var memoryBodyLength: Int
    var body: ResponseBody
}
