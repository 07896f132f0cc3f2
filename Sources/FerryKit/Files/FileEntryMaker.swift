import Glibc

/// Opens what a path names and makes its `FileEntry`: the file, its sidecars, its
/// published digest, the content type (the extension table, then libmagic), the
/// validators and the head fields, with the [[headers]] rules for the path applied
/// once, here, instead of on every response.
struct FileEntryMaker {
    let root: DocumentRoot
    let types: ContentTypeResolver
    /// [http] precompressed.
    let precompressed: Bool
    /// [http] digests.
    let digests: Bool
    let headerRules: [HeaderRule]
    /// Last-Modified values by mtime, formatted once per distinct time.
    private let dates = ModificationDates()
    private let digestProblems: DigestProblems

    init(root: DocumentRoot, types: ContentTypeResolver, precompressed: Bool, digests: Bool = false,
         headerRules: [HeaderRule], log: @escaping (String) -> Void = { Console.error($0) }) {
        self.root = root
        self.types = types
        self.precompressed = precompressed
        self.digests = digests
        self.headerRules = headerRules
        digestProblems = DigestProblems(log: log)
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
        let digest = digests ? publishedDigest(of: relative, fileName: fileName, original: original.info,
                                               followSymlinks: followSymlinks) : nil
        let identity = representation(original, coding: nil, contentType: contentType, varies: varies, digest: digest,
                                      rulePath: rulePath)
        // A sidecar is another representation: the file's digest is not its digest.
        let sidecars = sidecarFiles.map {
            representation($0.1, coding: $0.0, contentType: contentType, varies: varies, digest: nil, rulePath: rulePath)
        }
        return FileEntry(key: key, contentType: contentType, identity: identity, sidecars: sidecars)
    }

    /// The paths an entry for the file at `path` depends on beside its directories:
    /// the file and the sidecars it may have.
    func watchedNames(of path: [UInt8]) -> [[UInt8]] {
        [path] + (precompressed ? SidecarNames.precompressed.map { path + $0 } : [])
            + (digests ? [path + DigestSidecar.suffix] : [])
    }

    /// `Repr-Digest` from `NAME.sha256` beside the file: nil when there is none, or it
    /// is older than the file, malformed or unreadable (said once on standard error).
    private func publishedDigest(of relative: [UInt8], fileName: [UInt8], original: FileInfo,
                                 followSymlinks: Bool) -> FieldValue? {
        let name = relative + DigestSidecar.suffix
        let opened: OpenedFile
        switch root.open(name, followSymlinks: followSymlinks) {
        case .success(let file): opened = file
        case .failure(.notFound): return nil
        case .failure: return digestProblems.report(name, "cannot be read")
        }
        let file = OpenFile(opened)
        guard file.info.kind == .regular, file.info.size <= DigestSidecar.maximumBytes else {
            return digestProblems.report(name, "is not a sha256sum line")
        }
        guard !file.info.isModified(before: original) else { return digestProblems.report(name, "is older than its file") }
        var text = [UInt8](repeating: 0, count: Int(file.info.size))
        let read = text.withUnsafeMutableBytes { raw in retryingOnInterrupt { pread(file.fd, raw.baseAddress, raw.count, 0) } }
        guard case .success(let count) = read, count == text.count else { return digestProblems.report(name, "cannot be read") }
        guard let digest = DigestSidecar.parse(text, fileName: fileName) else {
            return digestProblems.report(name, "does not hold one SHA-256 for \(String(decoding: fileName, as: UTF8.self))")
        }
        return DigestSidecar.fieldValue(digest)
    }

    private func representation(_ file: OpenFile, coding: ContentCoding?, contentType: FieldValue, varies: Bool,
                                digest: FieldValue?, rulePath: [UInt8]) -> Representation {
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
        if let digest { head.add("Repr-Digest", digest) }
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

/// Digest sidecars that were ignored, each said once on standard error (per version
/// of the sidecar; a bounded memory of what was said).
private final class DigestProblems {
    private let log: (String) -> Void
    private var said: Set<[UInt8]> = []

    init(log: @escaping (String) -> Void) {
        self.log = log
    }

    /// Says why `name` is ignored, the first time; returns nil (no digest).
    func report(_ name: [UInt8], _ problem: String) -> FieldValue? {
        if said.count >= 1024 { said.removeAll() }
        if said.insert(name + Array(problem.utf8)).inserted {
            log("ferry: \(String(decoding: name, as: UTF8.self)) \(problem); no Repr-Digest for its file")
        }
        return nil
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
