import Glibc

/// A document root in a new temporary directory, holding files of the given sizes:
/// what the responder serves from, with real descriptors, inotify watches and
/// libmagic behind its open-file cache. `remove()` deletes it.
public final class ScratchSite {
    public let path: String
    private let names: [String]

    /// `files`: names (no slash) and sizes in bytes, each filled with printable text,
    /// made in this order (a sidecar after its original, or Ferry finds it stale).
    public init(files: [(name: String, size: Int)]) throws {
        var template = Array("/tmp/ferry-benchmarks-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FixtureError("mkdtemp: \(String(cString: strerror(errno)))") }
        path = String(cString: made)
        names = files.map(\.name)
        for (name, size) in files {
            let line = Array("body { color: #333; margin: 0 auto; }\n".utf8)
            let content = (0..<size).map { line[$0 % line.count] }
            let fd = open(path + "/" + name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw FixtureError("cannot create \(path)/\(name): \(String(cString: strerror(errno)))")
            }
            defer { close(fd) }
            guard write(fd, content, content.count) == content.count else {
                throw FixtureError("cannot write \(path)/\(name): \(String(cString: strerror(errno)))")
            }
        }
    }

    public func remove() {
        for name in names { unlink(path + "/" + name) }
        rmdir(path)
    }
}
