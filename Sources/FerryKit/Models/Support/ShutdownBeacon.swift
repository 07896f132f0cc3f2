import Glibc

/// Tells every process and thread of a blocking model that shutdown began, so that a
/// connection idle between keep-alive requests is closed at once instead of holding
/// the drain for its whole keep-alive timeout. A pipe made before the model forks or
/// starts threads: `raise` writes one byte that nobody ever reads, so the read end
/// stays readable in every process that inherited it, for as long as it lives.
final class ShutdownBeacon {
    /// Poll this for POLLIN; never read it.
    let fd: Int32
    private let writeEnd: Int32
    private var raised = false

    init() throws {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw SystemError("pipe") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        // One byte always fits in an empty pipe; non-blocking all the same, so raising
        // can never stop the signal handling process.
        SocketOptions.setNonBlocking(ends[1])
        fd = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        close(fd)
        close(writeEnd)
    }

    /// Shutdown began (called once, by the process or thread that handles signals).
    func raise() {
        guard !raised else { return }
        raised = true
        var byte: UInt8 = 1
        while write(writeEnd, &byte, 1) < 0 && errno == EINTR {}
    }
}
