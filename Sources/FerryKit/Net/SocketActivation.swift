import Glibc

/// systemd socket activation (sd_listen_fds(3)): a service manager that bound the
/// listening sockets itself starts Ferry with them open as descriptors 3, 4, ...,
/// `LISTEN_FDS` saying how many and `LISTEN_PID` which process they are meant for.
/// This is how Ferry can serve port 80 without ever binding it, and restart without
/// refusing a connection: the socket stays open in the manager, and connections made
/// while Ferry is down wait in its backlog.
public enum SocketActivation {
    /// The first descriptor passed (SD_LISTEN_FDS_START).
    static let firstDescriptor: Int32 = 3

    /// The passed sockets as listeners, or nil when this process was not given any
    /// (no `LISTEN_PID`, or another process's). The variables are unset either way,
    /// so no child inherits them (sd_listen_fds with unset_environment). Each socket
    /// must be a listening TCP stream socket; it is made non-blocking and
    /// close-on-exec like Ferry's own. `LISTEN_FDNAMES` is not needed: every socket
    /// is served alike. Throws a one-line `FileServerError` (exit code 2) for
    /// anything else.
    public static func listeners() throws -> [Listener]? {
        let pidText = getenv("LISTEN_PID").map { String(cString: $0) }
        let countText = getenv("LISTEN_FDS").map { String(cString: $0) }
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_FDNAMES")
        guard let pidText, let countText, pid_t(pidText) == getpid() else { return nil }
        guard let count = Int32(countText), count > 0, count <= 1024 else {
            throw FileServerError("LISTEN_FDS: expected a number of sockets from 1 to 1024, got \"\(countText)\""
                                  + " (socket activation)", exitCode: 2)
        }
        return try (firstDescriptor..<firstDescriptor + count).map(listener)
    }

    private static func listener(_ fd: Int32) throws -> Listener {
        func refuse(_ problem: String) -> FileServerError {
            FileServerError("LISTEN_FDS: descriptor \(fd) \(problem) (socket activation passes listening TCP sockets"
                            + " from descriptor 3 on)", exitCode: 2)
        }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw refuse("is not open") }
        guard status.st_mode & S_IFMT == S_IFSOCK else { throw refuse("is not a socket") }
        guard socketOption(fd, SO_TYPE) == Int32(SOCK_STREAM.rawValue) else { throw refuse("is not a stream socket") }
        guard socketOption(fd, SO_ACCEPTCONN) == 1 else { throw refuse("is not listening") }
        guard let address = try? SocketAddress.local(of: fd), address.family == AF_INET || address.family == AF_INET6 else {
            throw refuse("is not a TCP socket")
        }
        SocketOptions.setNonBlocking(fd)
        SocketOptions.setNoDelay(fd, true)
        _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
        return Listener(fd: fd, address: address)
    }

    private static func socketOption(_ fd: Int32, _ name: Int32) -> Int32? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, name, &value, &length) == 0 ? value : nil
    }
}
