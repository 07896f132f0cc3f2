import Glibc

/// Relative paths inside a configuration file name places beside the file, so that
/// `ferry serve` means the same from any working directory.
enum ConfigPath {
    /// The canonical (realpath) directory that holds `file`.
    static func directory(of file: String) throws -> String {
        let directory: String
        if let slash = file.lastIndex(of: "/") {
            directory = slash == file.startIndex ? "/" : String(file[..<slash])
        } else {
            directory = "."
        }
        guard let resolved = realpath(directory, nil) else { throw SystemError("realpath \(directory)") }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `path` unchanged when absolute; otherwise `path` beneath `base`. Leading "." and
    /// ".." components are applied to `base` ("../public" against "/srv/ferry/conf" is
    /// "/srv/ferry/public"), which is exact when `base` is canonical. A ".." after a
    /// name is kept as written: only the kernel knows whether that name is a symlink.
    static func resolve(_ path: String, against base: String) -> String {
        if path.hasPrefix("/") { return path }
        let absolute = base.hasPrefix("/")
        var parts = base.split(separator: "/").filter { $0 != "." }
        var rest = path.split(separator: "/")[...]
        while let first = rest.first, first == "." || first == ".." {
            rest.removeFirst()
            guard first == ".." else { continue }
            if let last = parts.last, last != ".." {
                parts.removeLast()
            } else if !absolute {
                parts.append("..")
            }
        }
        parts += rest.filter { $0 != "." }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }
}
