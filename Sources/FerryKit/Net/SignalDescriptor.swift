import CFerry
import Glibc

/// Signals delivered through a descriptor (signalfd): the signals are blocked, so no
/// handler ever runs, and an event loop reads them like any other input.
public final class SignalDescriptor {
    public let fd: Int32
    private var previousMask = sigset_t()

    /// Blocks `signals` in this process and returns a non-blocking descriptor that
    /// becomes readable when one is pending.
    public init(_ signals: [Int32]) throws {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals { sigaddset(&mask, signal) }
        try check(sigprocmask(SIG_BLOCK, &mask, &previousMask), "sigprocmask")
        fd = signalfd(-1, &mask, Int32(SFD_NONBLOCK | SFD_CLOEXEC))
        try check(fd, "signalfd")
    }

    /// The pending signals, in arrival order; empty when none is pending.
    public func drain() -> [Int32] {
        var signals: [Int32] = []
        var info = signalfd_siginfo()
        while read(fd, &info, MemoryLayout<signalfd_siginfo>.size) == MemoryLayout<signalfd_siginfo>.size {
            signals.append(Int32(info.ssi_signo))
        }
        return signals
    }

    /// Restores the signal mask this process had before (a forked child calls this:
    /// the blocked mask is inherited across fork and exec).
    public func restoreMask() {
        sigprocmask(SIG_SETMASK, &previousMask, nil)
    }

    deinit { close(fd) }
}
