import Glibc

/// What Ferry needs from `stat(2)`: the kind of file, its 64-bit size, its identity
/// (device and inode, for caches and validators) and its modification time.
public struct FileInfo: Equatable {
    public enum Kind: Equatable { case regular, directory, other }

    public var kind: Kind
    public var size: Int64
    public var device: UInt64
    public var inode: UInt64
    public var modifiedSeconds: Int64
    public var modifiedNanoseconds: Int64

    public init(kind: Kind, size: Int64, device: UInt64, inode: UInt64,
                modifiedSeconds: Int64, modifiedNanoseconds: Int64) {
        self.kind = kind
        self.size = size
        self.device = device
        self.inode = inode
        self.modifiedSeconds = modifiedSeconds
        self.modifiedNanoseconds = modifiedNanoseconds
    }

    public init(_ status: stat) {
        let kind: Kind
        switch status.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        default: kind = .other
        }
        self.init(kind: kind,
                  size: Int64(status.st_size),
                  device: UInt64(status.st_dev),
                  inode: UInt64(status.st_ino),
                  modifiedSeconds: Int64(status.st_mtim.tv_sec),
                  modifiedNanoseconds: Int64(status.st_mtim.tv_nsec))
    }

    /// Whether this file's mtime is earlier than `other`'s (seconds, then nanoseconds).
    public func isModified(before other: FileInfo) -> Bool {
        (modifiedSeconds, modifiedNanoseconds) < (other.modifiedSeconds, other.modifiedNanoseconds)
    }

    /// `fstat(2)` of an open descriptor.
    public static func of(_ fd: Int32) throws -> FileInfo {
        var status = stat()
        try check(fstat(fd, &status), "fstat")
        return FileInfo(status)
    }
}
