import Glibc

/// The HTML index of a directory without an index page.
public enum DirectoryListing {
    /// The Content-Type of a rendered page: names that are not UTF-8 are shown with
    /// U+FFFD, so the page always is.
    public static let contentType = "text/html; charset=utf-8"

    /// A complete HTML5 page listing the directory open at `fd`, titled
    /// "Index of <urlPath>". `fd` is not consumed (a duplicate is read), but the
    /// position it shares with that duplicate is rewound and left at the end.
    ///
    /// Entries are sorted by name bytes; names starting with "." are left out; a
    /// "../" link comes first except at "/". Each entry is a relative link
    /// ("./" + the percent-encoded name, so a name like "javascript:x" can never
    /// be read as a URL scheme), its size in bytes ("-" for anything but a regular
    /// file) and its modification time in UTC. Symlinks are followed, so a link to
    /// a directory is listed as one; an entry that cannot be stat'ed shows "-".
    public static func render(directory fd: Int32, urlPath: String) throws -> [UInt8] {
        let entries = try readEntries(fd)
        var page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Index of \(HTMLEscape.escape(urlPath))</title>
            <style>body{font-family:sans-serif}td,th{padding:0 1em 0 0;text-align:left}td+td{font-family:monospace}</style>
            </head>
            <body>
            <h1>Index of \(HTMLEscape.escape(urlPath))</h1>
            <table>
            <thead><tr><th>Name</th><th>Size</th><th>Modified</th></tr></thead>
            <tbody>

            """
        if urlPath != "/" {
            page += "<tr><td><a href=\"../\">../</a></td><td>-</td><td>-</td></tr>\n"
        }
        for entry in entries {
            page += row(entry)
        }
        page += "</tbody>\n</table>\n</body>\n</html>\n"
        return Array(page.utf8)
    }

    private struct Entry {
        let name: [UInt8]
        /// nil when fstatat failed (a dangling symlink, a permission problem).
        let info: FileInfo?
    }

    private static func row(_ entry: Entry) -> String {
        let slash = entry.info?.kind == .directory ? "/" : ""
        let href = HTMLEscape.escape("./" + PercentEncoding.encodeSegment(entry.name) + slash)
        let name = HTMLEscape.escape(entry.name) + slash
        let size = entry.info.flatMap { $0.kind == .regular ? String($0.size) : nil } ?? "-"
        let modified = entry.info.flatMap { formatUTC($0.modifiedSeconds) } ?? "-"
        return "<tr><td><a href=\"\(href)\">\(name)</a></td><td>\(size)</td><td>\(modified)</td></tr>\n"
    }

    /// The visible entries of the directory at `fd`, sorted by name bytes.
    private static func readEntries(_ fd: Int32) throws -> [Entry] {
        let copy = try check(fcntl(fd, F_DUPFD_CLOEXEC, 0), "fcntl(F_DUPFD_CLOEXEC)")
        guard let directory = fdopendir(copy) else {
            let error = SystemError("fdopendir")
            close(copy)
            throw error
        }
        defer { closedir(directory) }
        // The duplicate shares the caller's position: start from the beginning even
        // when the directory was read before.
        rewinddir(directory)

        var entries: [Entry] = []
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
            entries.append(Entry(name: name, info: info))
        }
        entries.sort { $0.name.lexicographicallyPrecedes($1.name) }
        return entries
    }

    /// "2024-01-31 12:00", or nil when the time is beyond what gmtime can express
    /// (a file with an absurd mtime must not break the listing; CVE-2020-25691).
    static func formatUTC(_ seconds: Int64) -> String? {
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return nil }
        return "\(Int(parts.tm_year) + 1900)-\(twoDigits(parts.tm_mon + 1))-\(twoDigits(parts.tm_mday)) "
            + "\(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min))"
    }

    private static func twoDigits(_ value: Int32) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
