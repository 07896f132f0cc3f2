import CMagic
import Glibc

/// What libmagic makes of a file's contents.
struct MagicGuess: Equatable {
    /// "image/png", "text/plain", "application/octet-stream", "inode/x-empty", ...
    var mimeType: String
    /// "us-ascii", "utf-8", "binary", ... nil when libmagic gave none.
    var encoding: String?

    /// Parses libmagic's MAGIC_MIME answer, "type; charset=encoding".
    init(_ answer: String) {
        let parts = answer.split(separator: ";", maxSplits: 1)
        mimeType = parts.first.map { String($0) } ?? ""
        let charset = parts.dropFirst().first?.drop { $0 == " " }
        if let charset, charset.hasPrefix("charset=") {
            encoding = String(charset.dropFirst("charset=".count))
        }
    }
}

/// libmagic behind one cookie. The cookie is opened on first use, not at
/// construction: a sniffer built in the parent before fork is first used, and so
/// opened, in each worker, which then owns its cookie, its buffers and its mapping
/// of the magic database. A failed open or load is remembered and every later
/// call answers nil at once, so a missing database never crashes or slows a worker.
/// A server that drops privileges preloads the database (`MagicDatabase`) first.
///
/// Flags: MIME type and encoding in one pass. MAGIC_COMPRESS is deliberately not
/// set: it makes libmagic fork decompressors.
final class MagicSniffer {
    private enum State {
        case unopened
        case open(OpaquePointer)
        case unavailable
    }

    private var state = State.unopened

    /// libmagic reads at most this much of a file. Its default, 7 MiB, would be read
    /// into a fresh buffer on every sniff of a large file; the magic tests Ferry
    /// relies on look at the first few KiB and the encoding check at 64 KiB.
    private static let bytesMax = 1 << 20

    deinit {
        if case .open(let cookie) = state { magic_close(cookie) }
    }

    /// Examines the file open at `fd` from its first byte, and leaves it open with
    /// its position unchanged. nil when libmagic fails.
    ///
    /// libmagic reads from the descriptor's current position (and puts it back), so
    /// a descriptor that was read or seeked before is rewound for the call and then
    /// returned to where it was.
    func guess(_ fd: Int32) -> MagicGuess? {
        guard let cookie = cookie() else { return nil }
        let position = lseek(fd, 0, SEEK_CUR)
        guard position >= 0 else { return nil }
        if position != 0 { lseek(fd, 0, SEEK_SET) }
        defer { if position != 0 { lseek(fd, position, SEEK_SET) } }
        guard let answer = magic_descriptor(cookie, fd) else { return nil }
        return MagicGuess(String(cString: answer))
    }

    private func cookie() -> OpaquePointer? {
        switch state {
        case .open(let cookie):
            return cookie
        case .unavailable:
            return nil
        case .unopened:
            guard let cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_MIME_ENCODING | MAGIC_ERROR) else {
                state = .unavailable
                return nil
            }
            var bytesMax = Self.bytesMax
            // The databases preloaded before a privilege drop, else the files.
            let loaded = MagicDatabase.load(into: cookie) || magic_load(cookie, nil) == 0
            guard loaded,
                  magic_setparam(cookie, MAGIC_PARAM_BYTES_MAX, &bytesMax) == 0 else {
                magic_close(cookie)
                state = .unavailable
                return nil
            }
            state = .open(cookie)
            return cookie
        }
    }
}
