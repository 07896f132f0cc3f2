import FerryKit
import Glibc

/// The csdesign document's sigpipe.py, done three ways, each on a fresh connection to a server
/// that answers with a RST (`ferry demo rst`).
///
/// What Linux does once the RST has arrived: the connection's pending error
/// (ECONNRESET) is reported once, by the first read or write; every write after that
/// fails with EPIPE and, unless SIGPIPE is ignored (or MSG_NOSIGNAL is used), the
/// kernel first sends the writer SIGPIPE, whose default action kills it.
///   1. read, then write with SIGPIPE at its default (csdesign's order): the read
///      gets ECONNRESET, the write kills the writing process with SIGPIPE.
///   2. the same with SIGPIPE ignored: the write fails with EPIPE, "Broken pipe".
///   3. write before reading, SIGPIPE at its default: the first write reports the
///      pending ECONNRESET and no signal; the second write gets SIGPIPE.
/// A write that may die runs in a forked child; the parent reports how it ended.
public enum BrokenPipeDemonstration {
    /// How long to wait for the RST after connecting before giving up.
    static let resetTimeoutMilliseconds: Int32 = 5000

    public static func run(host: String, port: Int) throws {
        // This process never dies of SIGPIPE; the children restore the default.
        signal(SIGPIPE, SIG_IGN)
        Console.out("sigpipe: three fresh connections to \(host) port \(port), where `ferry demo rst`"
                    + " answers each with a RST")

        Console.out("")
        Console.out("1. read, then write, with SIGPIPE at its default action (csdesign's sigpipe.py)")
        var connection = try connectAndAwaitReset(host: host, port: port)
        Console.out("read: \(describe(readOnce(connection)))")
        writeInChild(connection, attempts: 1)
        close(connection)

        Console.out("")
        Console.out("2. read, then write, with SIGPIPE ignored")
        connection = try connectAndAwaitReset(host: host, port: port)
        Console.out("read: \(describe(readOnce(connection)))")
        Console.out("write: \(describe(writeHello(connection)))")
        close(connection)

        Console.out("")
        Console.out("3. write before reading, with SIGPIPE at its default action")
        connection = try connectAndAwaitReset(host: host, port: port)
        writeInChild(connection, attempts: 2)
        close(connection)
    }

    // MARK: the experiments

    /// What a read or write returned: a count, or the errno it failed with.
    enum Outcome {
        case transferred(Int)
        case failed(Int32)
    }

    /// One read(2), as csdesign's s.recv(1024).
    static func readOnce(_ fd: Int32) -> Outcome {
        var buffer = [UInt8](repeating: 0, count: 1024)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count >= 0 { return .transferred(count) }
            if errno != EINTR { return .failed(errno) }
        }
    }

    /// One write(2) of "hello", as csdesign's s.send('hello').
    static func writeHello(_ fd: Int32) -> Outcome {
        let hello = Array("hello".utf8)
        while true {
            let count = write(fd, hello, hello.count)
            if count >= 0 { return .transferred(count) }
            if errno != EINTR { return .failed(errno) }
        }
    }

    /// "[Errno 104] Connection reset by peer", as csdesign's Python prints it.
    static func describe(_ outcome: Outcome) -> String {
        switch outcome {
        case .failed(let code): return "[Errno \(code)] \(String(cString: strerror(code)))"
        case .transferred(0): return "0 bytes: end of stream (a FIN, not a RST)"
        case .transferred(let count): return "\(count) bytes"
        }
    }

    /// Writes "hello" `attempts` times in a child with SIGPIPE at its default action,
    /// then reports how the child ended: "child 1234 was killed by signal 13 (Broken pipe)".
    static func writeInChild(_ fd: Int32, attempts: Int) {
        let child = fork()
        if child < 0 {
            Console.out("fork: \(String(cString: strerror(errno)))")
            return
        }
        if child == 0 {
            signal(SIGPIPE, SIG_DFL)
            var pipeSignal = sigset_t()
            sigemptyset(&pipeSignal)
            sigaddset(&pipeSignal, SIGPIPE)
            sigprocmask(SIG_UNBLOCK, &pipeSignal, nil)
            let me = getpid()
            for _ in 0..<attempts {
                Console.out("child \(me): write \"hello\" with SIGPIPE at its default action")
                Console.out("child \(me): write: \(describe(writeHello(fd)))")
            }
            _exit(0)
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        Console.out("child \(child) \(describeExit(status))")
    }

    // MARK: the connection

    /// Connects to `host` port `port` and waits (bounded) until the server's RST has
    /// arrived, without consuming the error: poll reports it, read or write would
    /// take it. Prints the connection and what poll saw.
    static func connectAndAwaitReset(host: String, port: Int) throws -> Int32 {
        let fd = try connectTCP(host: host, port: port)
        var watched = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var ready: Int32
        repeat { ready = poll(&watched, 1, resetTimeoutMilliseconds) } while ready < 0 && errno == EINTR
        let local = (try? SocketAddress.local(of: fd))?.description ?? "?"
        guard ready > 0 else {
            close(fd)
            throw SystemError("no RST from \(host) port \(port) within \(resetTimeoutMilliseconds / 1000) s"
                              + " (is `ferry demo rst` listening there?)", code: ETIMEDOUT)
        }
        Console.out("connected from \(local); poll: \(describePollEvents(watched.revents))")
        return fd
    }

    /// "POLLIN POLLERR POLLHUP".
    static func describePollEvents(_ events: Int16) -> String {
        let names: [(Int32, String)] = [(POLLIN, "POLLIN"), (POLLOUT, "POLLOUT"), (POLLERR, "POLLERR"),
                                        (POLLHUP, "POLLHUP")]
        return names.filter { Int32(events) & $0.0 != 0 }.map(\.1).joined(separator: " ")
    }

    /// A blocking TCP connection to the first address of `host` that accepts one.
    /// SO_SNDTIMEO bounds connect(2) too, so an unreachable host fails in seconds.
    static func connectTCP(host: String, port: Int) throws -> Int32 {
        var lastError = SystemError("connect to \(host) port \(port)", code: EADDRNOTAVAIL)
        for address in try SocketAddress.resolve(host: host, port: port) {
            let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 { lastError = SystemError("socket"); continue }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            if address.withSockaddr({ connect(fd, $0, $1) }) == 0 { return fd }
            lastError = SystemError("connect to \(host) port \(port)")
            close(fd)
        }
        throw lastError
    }
}
