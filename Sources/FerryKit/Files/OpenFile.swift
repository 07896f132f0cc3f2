/// A regular file opened beneath the document root, with its `fstat` at open.
///
/// Shared by reference between the cache entry that opened it and every response
/// sending it (h2o's filecache refcounts its entries the same way): the descriptor
/// closes when the last of them lets go, so a file evicted or replaced in the middle
/// of a download keeps sending the bytes that download began with.
final class OpenFile {
    private let descriptor: OwnedDescriptor
    let info: FileInfo
    /// When a send last found the file in the page cache (monotonic ns; 0: never).
    var foundCachedAt: UInt64 = 0
    /// Whether its file system answers a read that may only come from the page cache
    /// (RWF_NOWAIT); false once it said it cannot (FUSE, NFS).
    var answersNowait = true

    init(_ descriptor: consuming OwnedDescriptor, info: FileInfo) {
        self.descriptor = descriptor
        self.info = info
    }

    /// Takes ownership of an `OpenedFile` from `DocumentRoot.open`.
    convenience init(_ opened: OpenedFile) {
        self.init(OwnedDescriptor(taking: opened.fd), info: opened.info)
    }

    var fd: Int32 { descriptor.raw }
}
