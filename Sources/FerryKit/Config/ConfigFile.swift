import Glibc

/// Reads the configuration file with open(2) and read(2). Foundation stays out of
/// the parent that forks the workers, and a file read this way starts no thread.
enum ConfigFile {
    /// A configuration file is a few kilobytes; this bounds a mistaken path such as a
    /// device that never ends.
    static let maximumBytes = 1 << 20

    /// The whole file. Throws a `SystemError` (EFBIG past `maximumBytes`).
    static func read(_ path: String) throws -> [UInt8] {
        let fd = try check(open(path, O_RDONLY | O_CLOEXEC), "open \(path)")
        defer { close(fd) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return contents }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("read \(path)")
            }
            contents += chunk[..<count]
            if contents.count > maximumBytes { throw SystemError("read \(path)", code: EFBIG) }
        }
    }
}
