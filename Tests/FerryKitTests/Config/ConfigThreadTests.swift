import Glibc
import Testing
@testable import FerryKit

/// Ferry forks its workers from a single-threaded parent after loading its
/// configuration, so loading must not start a thread (TOMLKit is C++ underneath and
/// links Foundation). This test process runs many threads, so the load runs in a
/// forked child, which starts with exactly one; its exit status is the thread count
/// after the load.
@Suite struct ConfigThreadTests {
    @Test func loadingStartsNoThread() throws {
        let path = "\(ShippedConfigTests.packageRoot)/conf/ferry.toml"
        // The same calls once here first. A child forked from a threaded process must
        // not wait for a lock another thread held at the fork, and the Swift runtime
        // takes one the first time a call site needs a generic witness table (seen
        // here: a child stuck in swift_getWitnessTable). Warmed call sites take none.
        _ = try ConfigLoader.load(path: path, models: ["prefork-pass-epoll"])
        #expect(Self.threadCount() != nil)

        let child = fork()
        try #require(child >= 0)
        if child == 0 {
            guard Self.threadCount() == 1 else { _exit(100) }
            guard (try? ConfigLoader.load(path: path, models: ["prefork-pass-epoll"])) != nil else { _exit(101) }
            _exit(Int32(Self.threadCount() ?? 102))
        }
        #expect(Self.exitStatus(of: child, timeoutSeconds: 30) == 1)
    }

    /// "Threads:" from /proc/self/status.
    static func threadCount() -> Int? {
        guard let status = try? ConfigFile.read("/proc/self/status") else { return nil }
        let line = String(decoding: status, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("Threads:") }
        return line.flatMap { Int($0.dropFirst("Threads:".count).trimmingPrefix(while: \.isWhitespace)) }
    }

    /// The child's exit status; nil when a signal ended it or it did not end in time
    /// (then it is killed).
    static func exitStatus(of child: pid_t, timeoutSeconds: Int) -> Int32? {
        var status: Int32 = 0
        for _ in 0..<(timeoutSeconds * 100) {
            if waitpid(child, &status, WNOHANG) == child {
                let signal = status & 0x7F
                return signal == 0 ? (status >> 8) & 0xFF : nil
            }
            usleep(10_000)
        }
        kill(child, SIGKILL)
        waitpid(child, &status, 0)
        return nil
    }
}
