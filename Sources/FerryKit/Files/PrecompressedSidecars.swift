import Glibc

/// Finds the precompressed sidecars of a file ("app.js.br", "app.js.zst",
/// "app.js.gz") beneath the document root, and opens the one negotiation picks.
///
/// Looking costs an openat2 per coding, three per request for a site with no
/// sidecars at all. So what a look found (which sidecars exist, and their mtimes) is
/// kept per worker for `freshness` seconds: a sidecar added or removed is noticed
/// within that time, a rewritten one at once (the chosen sidecar is opened and
/// fstat'ed on every request). One worker's cache, so no lock.
final class PrecompressedSidecars {
    /// A sidecar that existed at the last look, with its modification time.
    struct Candidate: Equatable {
        var coding: ContentCoding
        var modified: Timestamp
    }

    /// Seconds and nanoseconds, compared in that order.
    struct Timestamp: Comparable {
        var seconds: Int64
        var nanoseconds: Int64

        init(_ info: FileInfo) {
            seconds = info.modifiedSeconds
            nanoseconds = info.modifiedNanoseconds
        }

        static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
            (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
        }
    }

    private struct Look {
        var candidates: [Candidate]
        var expires: UInt64
    }

    static let freshness = 1.0
    /// Bound on remembered paths; the cache is emptied when it is reached.
    static let capacity = 4096

    private let root: DocumentRoot
    private var looks: [[UInt8]: Look] = [:]

    init(root: DocumentRoot) {
        self.root = root
    }

    /// The codings with a sidecar no older than the original (modified `original`),
    /// in the server's order. A sidecar older than its original is stale (the file
    /// changed after it was compressed) and never used.
    func usable(for path: [UInt8], original: FileInfo) -> [ContentCoding] {
        let now = monotonicNanoseconds()
        let candidates: [Candidate]
        if let look = looks[path], look.expires > now {
            candidates = look.candidates
        } else {
            candidates = lookUp(path)
            if looks.count >= Self.capacity { looks.removeAll(keepingCapacity: true) }
            looks[path] = Look(candidates: candidates, expires: now + Self.freshness.nanoseconds)
        }
        let originalTime = Timestamp(original)
        return candidates.filter { $0.modified >= originalTime }.map(\.coding)
    }

    /// Opens the sidecar for `coding` beneath the root; nil when it is gone, not a
    /// regular file, or older than the original now.
    func open(_ coding: ContentCoding, for path: [UInt8], original: FileInfo) -> OpenedFile? {
        guard case .success(let opened) = root.open(path + Array(coding.fileSuffix.utf8)) else { return nil }
        guard opened.info.kind == .regular, Timestamp(opened.info) >= Timestamp(original) else {
            close(opened.fd)
            return nil
        }
        return opened
    }

    private func lookUp(_ path: [UInt8]) -> [Candidate] {
        var found: [Candidate] = []
        for coding in ContentCoding.allCases {
            guard case .success(let opened) = root.open(path + Array(coding.fileSuffix.utf8)) else { continue }
            if opened.info.kind == .regular { found.append(Candidate(coding: coding, modified: Timestamp(opened.info))) }
            close(opened.fd)
        }
        return found
    }
}
