import FerryKit
import Glibc

/// A child process started with posix_spawn, its standard output and error on one
/// pipe (kept for error messages, not shown). `finish` reaps it with wait4, which reports the CPU time of the
/// child and of every descendant it reaped itself: a whole server's cost.
final class Subprocess {
    let pid: pid_t
    private let output: Int32
    private var collected: [UInt8] = []
    private var reaped = false

    /// Starts this executable again (/proc/self/exe) with `arguments`.
    init(ferry arguments: [String]) throws {
        var ends: [Int32] = [-1, -1]
        try check(pipe(&ends), "pipe")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, ends[1], STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, ends[1], STDERR_FILENO)
        posix_spawn_file_actions_addclose(&actions, ends[0])
        posix_spawn_file_actions_addclose(&actions, ends[1])

        let argv = (["ferry"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, "/proc/self/exe", &actions, nil, argv, environ)
        close(ends[1])
        guard status == 0 else {
            close(ends[0])
            throw SystemError("posix_spawn ferry \(arguments.joined(separator: " "))", code: status)
        }
        pid = child
        output = ends[0]
        SocketOptions.setNonBlocking(output)
    }

    deinit {
        if !reaped {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        close(output)
    }

    /// Everything printed so far (standard output and error interleaved).
    var text: String {
        drain()
        return String(decoding: collected, as: UTF8.self)
    }

    /// Waits up to `timeout` seconds for standard output to contain `marker`.
    func waitForOutput(_ marker: String, timeout: Double) -> Bool {
        let deadline = monotonicNanoseconds() + timeout.nanoseconds
        while !text.contains(marker) {
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, pollTimeout(until: deadline))
            if ready == 0 { return false }
            if descriptor.revents & Int16(POLLHUP) != 0 && !hasPendingInput { return text.contains(marker) }
        }
        return true
    }

    /// Sends `signal` (if given), waits for exit, and returns the exit status and the
    /// user+system CPU seconds of the process and its reaped descendants.
    func finish(signal: Int32? = nil) -> (status: Int32, cpuSeconds: Double) {
        if let signal { kill(pid, signal) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        reaped = true
        drain()
        let seconds = { (time: timeval) in Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        return (status, seconds(usage.ru_utime) + seconds(usage.ru_stime))
    }

    private var hasPendingInput: Bool {
        var count: Int32 = 0
        return ioctl(output, UInt(FIONREAD), &count) == 0 && count > 0
    }

    private func drain() {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(output, &chunk, chunk.count)
            if n <= 0 { return }
            collected += chunk[0..<n]
        }
    }
}
