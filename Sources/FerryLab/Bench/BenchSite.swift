import FerryKit
import Glibc

/// A throwaway document root for the HTTP rows: one file of the bench's byte count,
/// and an empty configuration so the shipped conf/ cannot change what is measured.
struct BenchSite {
    let root: String
    let config: String
    /// The URL path of the file.
    let path: String

    init(fileSize: Int) throws {
        var template = Array("/tmp/ferry-design-bench-XXXXXX".utf8CString)
        guard let directory = mkdtemp(&template) else { throw SystemError("mkdtemp") }
        root = String(cString: directory)
        // mkdtemp makes it 0700; a server started as root serves it as nobody.
        chmod(root, 0o755)
        config = root + ".toml"
        path = "/file-\(fileSize).bin"
        try Self.write(root + path, [UInt8](repeating: UInt8(ascii: "x"), count: fileSize))
        try Self.write(config, [])
    }

    func remove() {
        unlink(root + path)
        rmdir(root)
        unlink(config)
    }

    private static func write(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        try check(fd, "create \(path)")
        defer { close(fd) }
        guard writeFully(fd, bytes) else { throw SystemError("write \(path)") }
    }
}
