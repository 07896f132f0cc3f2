import Glibc

/// The HTML index of a directory without an index page.
public enum DirectoryListing {
    /// The Content-Type of a rendered page: names that are not UTF-8 are shown with
    /// U+FFFD, so the page always is.
    public static let contentType: FieldValue = "text/html; charset=utf-8"

    /// A complete HTML5 page listing the directory open at `fd`, titled
    /// "Index of <urlPath>". `fd` is not consumed (a duplicate is read), but the
    /// position it shares with that duplicate is rewound and left at the end.
    ///
    /// Directories come first, then files, each in `order`; names starting with "."
    /// are left out; a "../" link comes first except at "/". Each column head is a
    /// link ("?sort=size&order=desc") that sorts by it, the other way round when the
    /// page is already sorted by it, so no script is needed. Each entry is a relative
    /// link ("./" + the percent-encoded name, so a name like "javascript:x" can never
    /// be read as a URL scheme), its size in bytes ("-" for anything but a regular
    /// file) and its modification time in UTC as "YYYY-MM-DD HH:MM". Symlinks are
    /// followed, so a link to a directory is listed as one; an entry that cannot be
    /// stat'ed shows "-".
    public static func render(directory fd: Int32, urlPath: String,
                              order: ListingOrder = ListingOrder()) throws -> [UInt8] {
        let entries = order.sorted(try readEntries(fd))
        var page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Index of \(HTMLEscape.escape(urlPath))</title>
            <style>body{font-family:sans-serif}td,th{padding:0 1em 0 0;text-align:left}td+td{font-family:monospace}th a{color:inherit}</style>
            </head>
            <body>
            <h1>Index of \(HTMLEscape.escape(urlPath))</h1>
            <table>
            <thead><tr>\(head("Name", .name, order))\(head("Size", .size, order))\(head("Modified", .time, order))</tr></thead>
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

    /// A column head linking to the listing sorted by `column`: ascending, or
    /// descending when it is sorted ascending by that column now. The current
    /// column is marked with an arrow and aria-sort.
    private static func head(_ title: String, _ column: ListingOrder.Column, _ current: ListingOrder) -> String {
        let isCurrent = current.column == column
        let next = ListingOrder(column: column, descending: isCurrent && !current.descending)
        let link = "<a href=\"?\(HTMLEscape.escape(next.query))\">\(title)</a>"
        guard isCurrent else { return "<th>\(link)</th>" }
        let (arrow, sort) = current.descending ? ("\u{2193}", "descending") : ("\u{2191}", "ascending")
        return "<th aria-sort=\"\(sort)\">\(link) \(arrow)</th>"
    }

    private static func row(_ entry: DirectoryEntry) -> String {
        let slash = entry.isDirectory ? "/" : ""
        let href = HTMLEscape.escape("./" + PercentEncoding.encodeSegment(entry.name) + slash)
        let name = HTMLEscape.escape(entry.name) + slash
        let size = entry.info.flatMap { $0.kind == .regular ? String($0.size) : nil } ?? "-"
        let modified = entry.info.flatMap { formatUTC($0.modifiedSeconds) } ?? "-"
        return "<tr><td><a href=\"\(href)\">\(name)</a></td><td>\(size)</td><td>\(modified)</td></tr>\n"
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
