import Glibc

/// The operator's own error pages: "404.html", "403.html", ... in one directory,
/// sent with their status in place of Ferry's built-in page when present. Each is
/// read when needed (an open, fstat and read), so a page edited or added is used at
/// once; a page missing, unreadable or larger than `maximumBytes` leaves the
/// built-in one. The directory is opened once, at start, so it stays usable after
/// the serving processes drop privileges or chroot to the document root; threads
/// may share it (each lookup is an openat of its own).
public final class ErrorPages {
    static let maximumBytes = 1 << 20

    private let directory: Int32

    /// nil when the directory cannot be opened (`ferry serve` checks it at start).
    public init?(path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        directory = fd
    }

    deinit {
        close(directory)
    }

    /// The page for `code`, or nil.
    func page(for code: Int) -> [UInt8]? {
        let fd = openat(directory, "\(code).html", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let info = try? FileInfo.of(fd), info.kind == .regular, info.size <= Self.maximumBytes else { return nil }
        var page = [UInt8](repeating: 0, count: Int(info.size))
        var filled = 0
        while filled < page.count {
            let n = page.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, $0.count - filled, off_t(filled)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            filled += n
        }
        return Array(page[..<filled])
    }
}
