/// One way a file can be sent: the file itself, or a precompressed sidecar of it,
/// with everything its response heads need, computed when it was opened. A class, so
/// a response takes one reference to it rather than copies of each of its parts.
final class Representation {
    let file: OpenFile
    /// nil for the file itself.
    let coding: ContentCoding?
    /// The strong entity-tag, quotes included: from the representation's own inode,
    /// size and mtime, so a sidecar's tag differs from its original's.
    let etag: [UInt8]
    /// The fields of a 200 or 206 (Content-Type through Accept-Ranges, then the
    /// [[headers]] rules), each with its line end, ready to copy into a head.
    let fields: [UInt8]
    /// The fields of a 304: the validators and Vary, then the rules.
    let notModifiedFields: [UInt8]
    /// Last-Modified, nil when the mtime is too extreme to format (it is left out).
    let lastModifiedField: FieldValue?
    /// `Vary: Accept-Encoding` when the file has sidecars, else nothing.
    let varyFields: [(FieldName, FieldValue)]

    init(file: OpenFile, coding: ContentCoding?, etag: [UInt8], fields: [UInt8], notModifiedFields: [UInt8],
         lastModifiedField: FieldValue?, varyFields: [(FieldName, FieldValue)]) {
        self.file = file
        self.coding = coding
        self.etag = etag
        self.fields = fields
        self.notModifiedFields = notModifiedFields
        self.lastModifiedField = lastModifiedField
        self.varyFields = varyFields
    }

    var length: Int64 { file.info.size }
    /// The mtime the Last-Modified field says, for the preconditions; nil without one.
    var lastModified: Int64? { lastModifiedField == nil ? nil : file.info.modifiedSeconds }
}

/// What a request path resolves to when it names a file (or a directory with an
/// index.html), held open and kept by the open-file cache: the file and its usable
/// sidecars, each with its validators and head fields. Nothing in it changes; when
/// the file does, the cache drops the entry and the next request makes a new one.
final class FileEntry {
    /// The cache key: the normalized path, "/" after a directory's ("docs/", "/" for the root).
    let key: [UInt8]
    /// The content type of the file itself (a sidecar is sent with it and a Content-Encoding).
    let contentType: FieldValue
    let identity: Representation
    /// Sidecars no older than the file, in the server's order of codings.
    let sidecars: [Representation]
    /// Set on every use; the cache's clock hand clears it (second-chance eviction).
    var recentlyUsed = true
    /// Monotonic seconds of the last use, for eviction by inactivity.
    var lastUsed: UInt64 = 0

    init(key: [UInt8], contentType: FieldValue, identity: Representation, sidecars: [Representation]) {
        self.key = key
        self.contentType = contentType
        self.identity = identity
        self.sidecars = sidecars
    }

    /// Descriptors the entry holds open.
    var descriptorCount: Int { 1 + sidecars.count }

    /// The codings it has a sidecar for.
    var codings: ContentCodingSet {
        var set = ContentCodingSet()
        for sidecar in sidecars { if let coding = sidecar.coding { set.insert(coding) } }
        return set
    }

    /// The representation for `coding` (nil: the file itself).
    func representation(_ coding: ContentCoding?) -> Representation {
        guard let coding else { return identity }
        return sidecars.first { $0.coding == coding } ?? identity
    }
}
