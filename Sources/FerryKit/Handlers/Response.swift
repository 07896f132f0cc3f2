import Glibc

/// A response ready to send: the head (with any in-memory body appended, so small
/// answers leave in one write) and, for files, the range of the file to send.
public struct Response {
    public struct FileBody {
        public var fd: Int32
        public var offset: Int64
        public var length: Int64
    }

    public var status: Int
    /// Head bytes, followed by the body when it is in memory (error pages, listings).
    public var bytes: [UInt8]
    /// How many of `bytes` are body (for the access log's byte count).
    public var memoryBodyLength: Int
    public var file: FileBody?

    /// Releases the open file, if any.
    public mutating func closeFile() {
        if let file { close(file.fd) }
        file = nil
    }
}
