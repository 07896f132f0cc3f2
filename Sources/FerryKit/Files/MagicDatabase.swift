import CMagic
import Glibc

/// libmagic's compiled databases read into memory by the process that starts as
/// root, before privileges are dropped or a chroot hides /usr/share/misc: every
/// cookie opened afterwards (each worker's, on first use) loads from these bytes with
/// `magic_load_buffers` instead of from the file system. Forked workers share the
/// pages with the parent until somebody writes them, which nobody does.
///
/// For each entry of libmagic's search path (`magic_getpath`, on Debian
/// "/etc/magic:/usr/share/misc/magic") the compiled "ENTRY.mgc" is read when it
/// exists, or ENTRY itself when that is a compiled file; a text magic file (Debian's
/// /etc/magic holds only comments) cannot be loaded from memory and is left out.
enum MagicDatabase {
    /// The databases, kept for the life of the process: libmagic uses them in place.
    private(set) static var buffers: [UnsafeMutableRawBufferPointer] = []

    /// A compiled magic file starts with this 32-bit number (file's MAGICNO).
    private static let compiledMagicNumber: UInt32 = 0xF11E_041C

    /// Reads the databases once; later calls do nothing. Returns whether any was read.
    @discardableResult
    static func preload() -> Bool {
        if !buffers.isEmpty { return true }
        guard let searchPath = magic_getpath(nil, 0) else { return false }
        for entry in String(cString: searchPath).split(separator: ":") {
            if let buffer = readCompiled(entry + ".mgc") ?? readCompiled(String(entry)) { buffers.append(buffer) }
        }
        return !buffers.isEmpty
    }

    /// Loads the preloaded databases into `cookie`; false when there are none or
    /// libmagic refuses them.
    static func load(into cookie: OpaquePointer) -> Bool {
        guard !buffers.isEmpty else { return false }
        var pointers: [UnsafeMutableRawPointer?] = buffers.map(\.baseAddress)
        var sizes = buffers.map(\.count)
        return magic_load_buffers(cookie, &pointers, &sizes, buffers.count) == 0
    }

    private static func readCompiled(_ path: String) -> UnsafeMutableRawBufferPointer? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size >= 8 else { return nil }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(status.st_size), alignment: 8)
        var filled = 0
        while filled < buffer.count {
            let n = pread(fd, buffer.baseAddress! + filled, buffer.count - filled, off_t(filled))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            filled += n
        }
        guard filled == buffer.count, buffer.load(as: UInt32.self) == compiledMagicNumber else {
            buffer.deallocate()
            return nil
        }
        return buffer
    }
}
