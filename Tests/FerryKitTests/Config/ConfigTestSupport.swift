import Glibc
@testable import FerryKit

/// The models the tests pretend the executable offers.
let testModels = ["iterative", "epoll", "prefork-pass", "prefork-pass-epoll"]

/// Loads `toml` as if it were conf/ferry.toml in /srv/ferry/conf.
func loadTestConfig(_ toml: String) throws -> ServerConfig {
    try ConfigLoader.load(toml: toml, origin: "conf/ferry.toml", directory: "/srv/ferry/conf", models: testModels)
}

/// The error line loading `toml` gives, or nil when it loads.
func configProblem(_ toml: String) -> String? {
    do {
        _ = try loadTestConfig(toml)
        return nil
    } catch {
        return (error as? ConfigError)?.description ?? "not a ConfigError: \(error)"
    }
}

/// A fresh directory under /tmp, removed with its files by `remove()`.
struct TemporaryDirectory {
    let path: String
    private var files: [String] = []

    init() {
        var template = Array("/tmp/ferry-config-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    /// Writes `bytes` to `name` inside the directory and returns the file's path.
    mutating func write(_ name: String, _ bytes: [UInt8]) -> String {
        let file = "\(path)/\(name)"
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        writeFully(fd, bytes)
        close(fd)
        files.append(file)
        return file
    }

    func remove() {
        files.forEach { unlink($0) }
        rmdir(path)
    }
}
