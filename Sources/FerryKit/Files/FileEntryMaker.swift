import Glibc

/// Opens what a path names and makes its `FileEntry`: the file, its sidecars, the
/// content type (the extension table, then libmagic), the validators and the head
/// fields, with the [[headers]] rules for the path applied once, here, instead of on
/// every response.
struct FileEntryMaker {
    let root: DocumentRoot
    let types: ContentTypeResolver
    /// [http] precompressed.
    let precompressed: Bool
    let headerRules: [HeaderRule]
    /// Last-Modified values by mtime, formatted once per distinct time.
    private let dates = ModificationDates()

    init(root: DocumentRoot, types: ContentTypeResolver, precompressed: Bool, headerRules: [HeaderRule]) {
        self.root = root
        self.types = types
        self.precompressed = precompressed
        self.headerRules = headerRules
    }

    /// The entry for `file`, opened at `relative` (its own path) and asked for as `key`.
    /// Takes ownership of `file`. Sidecars are opened beside it, with the same symlink
    /// policy as the file (`followSymlinks`).
    func make(key: [UInt8], relative: [UInt8], file: OpenedFile, followSymlinks: Bool) -> FileEntry {
        let original = OpenFile(file)
        let fileName = relative.lastIndex(of: ASCII.slash).map { Array(relative[($0 + 1)...]) } ?? relative
        // A type from mime.types or libmagic that is not a media type becomes octet-stream.
        let contentType = FieldValue.mediaType(types.contentType(fileName: fileName, fd: original.fd,
                                                                 info: original.info))
        var sidecarFiles: [(ContentCoding, OpenFile)] = []
        if precompressed {
            for coding in ContentCoding.allCases {
                let name = relative + coding.fileSuffix.utf8
                guard case .success(let opened) = root.open(name, followSymlinks: followSymlinks) else { continue }
                // A sidecar older than its original is stale: the file changed after it was compressed.
                guard opened.info.kind == .regular, !opened.info.isModified(before: original.info) else {
                    close(opened.fd)
                    continue
                }
                sidecarFiles.append((coding, OpenFile(opened)))
            }
        }
        // Every response for a file with a sidecar varies, the identity one too, so a
        // cache never hands a gzip body to a client that did not ask for it.
        let varies = !sidecarFiles.isEmpty
        let rulePath = [ASCII.slash] + (key == [ASCII.slash] ? [] : key)
        let identity = representation(original, coding: nil, contentType: contentType, varies: varies, rulePath: rulePath)
        let sidecars = sidecarFiles.map {
            representation($0.1, coding: $0.0, contentType: contentType, varies: varies, rulePath: rulePath)
        }
        return FileEntry(key: key, contentType: contentType, identity: identity, sidecars: sidecars)
    }

    /// The paths an entry for the file at `path` depends on beside its directories:
    /// the file and the sidecars it may have.
    func watchedNames(of path: [UInt8]) -> [[UInt8]] {
        [path] + (precompressed ? SidecarNames.suffixes.map { path + $0 } : [])
    }

    private func representation(_ file: OpenFile, coding: ContentCoding?, contentType: FieldValue, varies: Bool,
                                rulePath: [UInt8]) -> Representation {
        let info = file.info
        let etag = EntityTag.make(inode: info.inode, size: info.size, mtimeSeconds: info.modifiedSeconds,
                                  mtimeNanoseconds: info.modifiedNanoseconds)
        // Hex digits, dashes and quotes: always a field value, left out if ever not.
        let etagField = FieldValue(etag)
        // An mtime too extreme to format leaves out Last-Modified instead of failing.
        let lastModified = dates.fieldValue(info.modifiedSeconds)

        let vary: [(FieldName, FieldValue)] = varies ? [("Vary", "Accept-Encoding")] : []
        var head = ResponseHead(status: .ok)
        head.add("Content-Type", contentType)
        if let coding { head.add("Content-Encoding", coding.fieldValue) }
        for (name, value) in vary { head.add(name, value) }
        if let lastModified { head.add("Last-Modified", lastModified) }
        if let etagField { head.add("ETag", etagField) }
        head.add("Accept-Ranges", "bytes")
        head.apply(headerRules, path: rulePath)

        var notModified = ResponseHead(status: .notModified)
        if let etagField { notModified.add("ETag", etagField) }
        if let lastModified { notModified.add("Last-Modified", lastModified) }
        for (name, value) in vary { notModified.add(name, value) }
        notModified.apply(headerRules, path: rulePath)

        return Representation(file: file, coding: coding, etag: Array(etag.utf8), fields: head.fieldBytes(),
                              notModifiedFields: notModified.fieldBytes(), lastModifiedField: lastModified,
                              varyFields: vary)
    }
}

/// Last-Modified values by mtime: formatted once per distinct time, not per file.
private final class ModificationDates {
    private var formatted: [Int64: FieldValue?] = [:]

    func fieldValue(_ seconds: Int64) -> FieldValue? {
        if let known = formatted[seconds] { return known }
        if formatted.count >= 4096 { formatted.removeAll(keepingCapacity: true) }
        let value = HTTPDate.fieldValue(seconds)
        formatted[seconds] = value
        return value
    }
}
