import CFerry
import FerryKit
import Glibc

// What the four signal demos (selsigrace, selfpipe, pselect, signalfd) share: the
// csdesign document's "PID / Sleep / Wake up" script, a handler installed the way its
// Python installs one, a descriptor that never becomes readable, and one select call.

enum SignalDemoScript {
    /// "PID: 1234", printed once the demo is ready for SIGUSR1 (handler installed or
    /// signal blocked), so `kill -USR1` from a script can never hit the default action.
    static func announcePID() {
        Console.out("PID: \(getpid())")
    }

    /// "Sleep for 10 secs", the whole time, then "Wake up and block in "select"";
    /// nothing at all for 0 seconds (the csdesign document's selfpipe.py has no sleep).
    /// A handled signal interrupts nanosleep with EINTR; the sleep resumes for what
    /// is left, as Python's time.sleep does (PEP 475), so the timeline is the document's.
    static func sleep(seconds: Int, thenBlockIn call: String) {
        if seconds == 0 { return }
        Console.out("Sleep for \(seconds) secs")
        var request = timespec(tv_sec: seconds, tv_nsec: 0)
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR {
            request = remaining
        }
        Console.out("Wake up and block in \"\(call)\"")
    }
}

/// Installs `handler` for `signal` with sigaction(2), no SA_RESTART and an empty
/// mask, as Python's signal.signal does. select, pselect and poll fail with EINTR
/// when a handler runs whatever SA_RESTART says (signal(7)); nanosleep does too.
/// With `unblock`, also takes `signal` out of the signal mask: the mask survives
/// fork and exec, and a parent that had it blocked (a test runner's thread does)
/// would leave the handler waiting for a signal that is never delivered.
func installHandler(_ signal: Int32, _ handler: @escaping @convention(c) (Int32) -> Void,
                    unblock: Bool) throws {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = handler
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    try check(sigaction(signal, &action, nil), "sigaction")
    if unblock {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, signal)
        try check(sigprocmask(SIG_UNBLOCK, &set, nil), "sigprocmask")
    }
}

/// A pipe whose write end this process holds and never writes: its read end never
/// becomes readable, so a select on it waits until a signal interrupts it. The csdesign document
/// selects on stdin instead, which is readable at once when stdin is /dev/null (a
/// test, nohup, a service manager) and would end the demo before any signal.
struct IdlePipe {
    let readEnd: Int32
    let writeEnd: Int32

    init() throws {
        var ends: [Int32] = [-1, -1]
        try check(pipe(&ends), "pipe")
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        readEnd = ends[0]
        writeEnd = ends[1]
    }
}

/// One select(2) call, or pselect(2) when `mask` is given, waiting with no timeout
/// until one of `descriptors` is readable. Returns the readable ones; throws the
/// call's error, EINTR included: what EINTR means is each demo's point.
func waitUntilReadable(_ descriptors: [Int32], pselectMask mask: sigset_t? = nil) throws -> [Int32] {
    var readSet = fd_set()
    ferry_fd_zero(&readSet)
    for fd in descriptors {
        // FD_SET past FD_SETSIZE writes outside the set (h2o#287).
        guard fd >= 0 && fd < ferry_fd_setsize() else {
            throw SystemError("select: descriptor \(fd) is outside FD_SETSIZE", code: EINVAL)
        }
        ferry_fd_set(fd, &readSet)
    }
    let count = (descriptors.max() ?? -1) + 1
    if var mask {
        try check(pselect(count, &readSet, nil, nil, nil, &mask), "pselect")
    } else {
        try check(select(count, &readSet, nil, nil, nil), "select")
    }
    return descriptors.filter { ferry_fd_isset($0, &readSet) != 0 }
}

/// "10 (User defined signal 1)".
func describeSignal(_ signal: Int32) -> String {
    "\(signal) (\(String(cString: strsignal(signal))))"
}
