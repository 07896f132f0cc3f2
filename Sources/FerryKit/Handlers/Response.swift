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

    public enum Body {
        /// Nothing follows the head: HEAD, 304, or an empty file.
        case none
        /// A small body held in memory (error pages, listings); it leaves in the same
        /// write as the head.
        case bytes([UInt8])
        case file(FileBody)
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

    /// Releases the open file, if any.
    public mutating func closeFile() {
        if let file { close(file.fd) }
        if case .file = body { body = .none }
    }
}
