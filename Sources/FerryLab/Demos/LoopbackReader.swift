import CFerry
import FerryKit
import Glibc

/// The far end of a measured TCP connection: a forked child that connects to a
/// listener on 127.0.0.1, reads and discards everything until end of stream, and
/// exits. Being another process, it reads continuously while the parent sends, as a
/// real client would, and none of its CPU time lands in the parent's getrusage.
///
/// The parent is the accepting side (a server sending a response), so the only
/// segment the parent's socket has sent before its first write is the SYN-ACK.
final class LoopbackReader {
    /// One accepted connection from the reader: the parent's end, blocking.
    struct Connection {
        let fd: Int32

        /// Ends the stream (shutdown for writing) and waits until the reader has read
        /// everything and closed its end, so a timing taken after this covers the
        /// whole transfer, not just the bytes handed to the kernel. Closes the socket.
        func finish() {
            shutdown(fd, Int32(SHUT_WR))
            var scratch = [UInt8](repeating: 0, count: 512)
            while true {
                let n = read(fd, &scratch, scratch.count)
                if n > 0 || (n < 0 && errno == EINTR) { continue }
                break
            }
            close(fd)
        }
    }

    /// What the reader process used, from wait4(2): exactly its own CPU time.
    struct Exit {
        var status: Int32
        var userSeconds: Double
        var systemSeconds: Double
    }

    let pid: pid_t
    private let listener: Listener
    private var reaped = false

    /// Forks a reader that makes `connections` connections one after another, reading
    /// each to its end. Accept them in order with `next()`.
    init(connections: Int) throws {
        guard let listener = try Listener.open(host: "127.0.0.1", port: 0).first else {
            throw SystemError("listen on 127.0.0.1", code: EADDRNOTAVAIL)
        }
        self.listener = listener
        let parentPID = getpid()
        let pid = fork()
        if pid < 0 {
            close(listener.fd)
            throw SystemError("fork")
        }
        if pid == 0 {
            close(listener.fd)
            ferry_set_parent_death_signal(SIGKILL)
            if getppid() != parentPID { _exit(1) }
            ferry_set_process_name("ferry-reader")
            _exit(Self.readToEnd(connections: connections, from: listener.address))
        }
        self.pid = pid
    }

    /// A reader that is never reaped (an error cut the measurement short) is killed here.
    deinit {
        close(listener.fd)
        if !reaped {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
    }

    /// Accepts the reader's next connection, waiting up to 5 s for it.
    func next() throws -> Connection {
        var ready = pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)
        var result: Int32
        repeat { result = poll(&ready, 1, 5000) } while result < 0 && errno == EINTR
        guard result > 0, let (fd, _) = listener.accept(nonBlocking: false) else {
            throw SystemError("accept from the reader process", code: result == 0 ? ETIMEDOUT : errno)
        }
        return Connection(fd: fd)
    }

    /// Waits for the reader to exit (after its last connection) and returns what it used.
    func reap() -> Exit {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        reaped = true
        return Exit(status: status, userSeconds: usage.ru_utime.seconds, systemSeconds: usage.ru_stime.seconds)
    }

    /// The child's whole life: connect, read to the end, close; `connections` times.
    /// Returns its exit status: 0 when every connection was read to its end.
    private static func readToEnd(connections: Int, from address: SocketAddress) -> Int32 {
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        for _ in 0..<connections {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return 2 }
            // The child installs no signal handler, so connect(2) cannot see EINTR.
            guard address.withSockaddr({ connect(fd, $0, $1) }) == 0 else { return 3 }
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n > 0 || (n < 0 && errno == EINTR) { continue }
                if n < 0 { return 4 }
                break
            }
            close(fd)
        }
        return 0
    }
}

extension timeval {
    /// The interval as seconds.
    var seconds: Double { Double(tv_sec) + Double(tv_usec) / 1_000_000 }
}
