import Glibc

/// `[server] pid_file`: the parent's process id, written once the server listens (so
/// a `kill -HUP $(cat FILE)` reaches a server that can act on it) and removed when it
/// exits. Forked workers never remove it: they end with `_exit`.
struct PidFile {
    let path: String

    /// Writes the file; an empty path writes nothing.
    init(path: String) throws {
        self.path = path
        guard !path.isEmpty else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0, writeFully(fd, Array("\(getpid())\n".utf8)) else {
            let problem = SystemError("cannot write the pid file \(path)")
            if fd >= 0 { close(fd) }
            throw FileServerError("\(problem) ([server] pid_file, --pid-file)")
        }
        close(fd)
    }

    func remove() {
        if !path.isEmpty { unlink(path) }
    }
}
