import Glibc
import HTTPTypes

/// A response as the responder decides it: a head, the length that frames its body,
/// and the body itself. Nothing is serialized here; the session writes the head when
/// it starts sending, once it knows the version and whether the connection stays.
public struct Response {
    /// A range of an open file, sent with sendfile(2) or the copy loop.
    public struct FileBody {
        public var fd: Int32
        public var offset: Int64
        public var length: Int64
    }

    /// A multipart/byteranges body: part heads and boundaries from memory, the
    /// ranges of one open file between them.
    public struct MultipartBody {
        public enum Segment: Equatable {
            case bytes([UInt8])
            case file(offset: Int64, length: Int64)
        }

        public var fd: Int32
        public var segments: [Segment]

        /// The bytes the segments add up to: the Content-Length.
        public var length: Int64 {
            segments.reduce(0) { total, segment in
                switch segment {
                case .bytes(let bytes): return total + Int64(bytes.count)
                case .file(_, let length): return total + length
                }
            }
        }
    }

    public enum Body {
        /// Nothing follows the head: HEAD, 304, or an empty file.
        case none
        /// A small body held in memory (error pages, listings); it leaves in the same
        /// write as the head.
        case bytes([UInt8])
        case file(FileBody)
        case multipart(MultipartBody)
    }

    public var head: ResponseHead
    /// The Content-Length field: the length of the body a GET gets, also for HEAD
    /// (which sends none); nil for a response that has no body by definition (304).
    public var contentLength: Int64?
    public var body: Body

    public var status: HTTPResponse.Status { head.status }

    /// A response whose body is `bytes`, or, for HEAD, nothing but its length.
    public static func inMemory(_ head: ResponseHead, _ bytes: [UInt8], forHead: Bool) -> Response {
        Response(head: head, contentLength: Int64(bytes.count), body: forHead ? .none : .bytes(bytes))
    }

    /// The open file, if the body is one.
    public var file: FileBody? {
        if case .file(let file) = body { return file }
        return nil
    }

    /// Whether the body reads an open file (a range of it, or parts of it).
    public var hasFileBody: Bool {
        switch body {
        case .file, .multipart: return true
        case .none, .bytes: return false
        }
    }

    /// Releases the open file, if any.
    public mutating func closeFile() {
        switch body {
        case .file(let file): close(file.fd)
        case .multipart(let parts): close(parts.fd)
        case .none, .bytes: return
        }
        body = .none
    }
}
