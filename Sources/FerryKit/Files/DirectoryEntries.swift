import Glibc

/// One visible entry of a directory, as a listing shows it.
public struct DirectoryEntry {
    public let name: [UInt8]
    /// nil when fstatat failed (a dangling symlink, a permission problem).
    public let info: FileInfo?

    public var isDirectory: Bool { info?.kind == .directory }
}

/// How a listing is ordered: by a column, one way or the other. Directories always
/// come first, as in nginx and most file managers; ties fall back to the name.
public struct ListingOrder: Equatable, Sendable {
    public enum Column: String, CaseIterable, Sendable { case name, size, time }

    public var column: Column = .name
    public var descending = false

    public init(column: Column = .name, descending: Bool = false) {
        self.column = column
        self.descending = descending
    }

    /// From a query string: `sort=name|size|time` and `order=asc|desc`; anything
    /// else, or nothing, is the default (name, ascending).
    public init(query: String?) {
        for (key, value) in QueryParameters.pairs(query) {
            switch key {
            case "sort": column = Column(rawValue: value) ?? column
            case "order" where value == "asc" || value == "desc": descending = value == "desc"
            default: break
            }
        }
    }

    /// The query that asks for this order, e.g. "sort=size&order=desc".
    public var query: String { "sort=\(column.rawValue)&order=\(descending ? "desc" : "asc")" }

    /// `entries` in this order.
    public func sorted(_ entries: [DirectoryEntry]) -> [DirectoryEntry] {
        entries.sorted { a, b in
            if a.isDirectory != b.isDirectory { return a.isDirectory }
            let byName = descending ? b.name.lexicographicallyPrecedes(a.name) : a.name.lexicographicallyPrecedes(b.name)
            let (x, y) = descending ? (b, a) : (a, b)
            switch column {
            case .name:
                return byName
            case .size:
                // Directories have no size here; among them the name decides.
                let (sx, sy) = (x.info?.kind == .regular ? x.info!.size : -1, y.info?.kind == .regular ? y.info!.size : -1)
                return sx != sy ? sx < sy : byName
            case .time:
                let tx = x.info.map { ($0.modifiedSeconds, $0.modifiedNanoseconds) } ?? (Int64.min, 0)
                let ty = y.info.map { ($0.modifiedSeconds, $0.modifiedNanoseconds) } ?? (Int64.min, 0)
                return tx != ty ? tx < ty : byName
            }
        }
    }
}

/// `key=value` pairs of a query string, split on "&"; keys and values are compared
/// as sent (the listing's parameters are plain words).
enum QueryParameters {
    static func pairs(_ query: String?) -> [(String, String)] {
        guard let query else { return [] }
        return query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
    }
}

extension DirectoryListing {
    /// The visible entries of the directory at `fd` (names starting with "." left
    /// out), unsorted. `fd` is not consumed: a duplicate is read, rewound first since
    /// it shares the caller's position. Symlinks are followed.
    static func readEntries(_ fd: Int32) throws -> [DirectoryEntry] {
        let copy = try check(fcntl(fd, F_DUPFD_CLOEXEC, 0), "fcntl(F_DUPFD_CLOEXEC)")
        guard let directory = fdopendir(copy) else {
            let error = SystemError("fdopendir")
            close(copy)
            throw error
        }
        defer { closedir(directory) }
        rewinddir(directory)

        var entries: [DirectoryEntry] = []
        while true {
            errno = 0
            guard let record = readdir(directory) else {
                if errno != 0 { throw SystemError("readdir") }
                break
            }
            let name = withUnsafeBytes(of: record.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            guard name.first != UInt8(ascii: ".") else { continue }
            var status = stat()
            let info = fstatat(copy, name.map { CChar(bitPattern: $0) } + [0], &status, 0) == 0
                ? FileInfo(status) : nil
            entries.append(DirectoryEntry(name: name, info: info))
        }
        return entries
    }
}
