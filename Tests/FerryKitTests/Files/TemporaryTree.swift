import Foundation
import Glibc

/// A real directory tree under /tmp for one test, built with Glibc calls and
/// removed by `remove()` (call it in a `defer`).
final class TemporaryTree {
    /// Absolute path of the tree's top directory.
    let path: String

    init() throws {
        var template = Array("/tmp/ferry-files-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        path = String(cString: created)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// `relative` inside the tree.
    func at(_ relative: String) -> String { path + "/" + relative }

    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) throws -> String {
        try write(path: at(relative), bytes)
    }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        try write(relative, Array(text.utf8))
    }

    /// Writes a file whose name is arbitrary bytes (not necessarily UTF-8), in `directory`.
    func write(in directory: String, name: [UInt8], _ bytes: [UInt8]) throws {
        let path = Array(at(directory).utf8) + [UInt8(ascii: "/")] + name
        let fd = open(path.map { CChar(bitPattern: $0) } + [0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        try Self.check(fd, "open")
        defer { close(fd) }
        try writeAll(fd, bytes)
    }

    func makeDirectory(_ relative: String) throws {
        try Self.check(mkdir(at(relative), 0o755), "mkdir")
    }

    func symlink(_ relative: String, to target: String) throws {
        try Self.check(Glibc.symlink(target, at(relative)), "symlink")
    }

    func fifo(_ relative: String) throws {
        try Self.check(mkfifo(at(relative), 0o644), "mkfifo")
    }

    /// A UNIX socket bound at `relative`; the returned descriptor is the caller's.
    func unixSocket(_ relative: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try Self.check(fd, "socket")
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(at(relative).utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes.prefix(raw.count - 1))
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try Self.check(result, "bind")
        return fd
    }

    /// Sets a file's modification time (and access time) to `seconds`.`nanoseconds`.
    func setModified(_ relative: String, seconds: Int, nanoseconds: Int = 0) throws {
        var times = [timespec(tv_sec: seconds, tv_nsec: nanoseconds),
                     timespec(tv_sec: seconds, tv_nsec: nanoseconds)]
        try Self.check(utimensat(AT_FDCWD, at(relative), &times, 0), "utimensat")
    }

    private func write(path: String, _ bytes: [UInt8]) throws -> String {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        try Self.check(fd, "open \(path)")
        defer { close(fd) }
        try writeAll(fd, bytes)
        return path
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            try Self.check(Int32(count < 0 ? -1 : 0), "write")
            offset += count
        }
    }
}

extension TemporaryTree {
    /// Throws the current errno when a setup call returned -1.
    static func check(_ result: Int32, _ operation: String) throws {
        if result == -1 {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO, userInfo: [NSLocalizedDescriptionKey: operation])
        }
    }

    /// Reads a whole descriptor from offset 0 with pread.
    static func readAll(_ fd: Int32) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(result.count)) }
            if count <= 0 { return result }
            result += buffer[..<count]
        }
    }
}
