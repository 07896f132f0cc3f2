import Glibc

/// The signal state Ferry's processes run in.
public enum ProcessSignals {
    /// Unblocks every signal and ignores SIGPIPE.
    ///
    /// A blocked signal mask survives exec: a parent that started us from a thread with
    /// SIGTERM blocked (test runners, some supervisors) would otherwise leave the signal
    /// handling deaf. And a peer that goes away must be an EPIPE to handle, not a signal
    /// that kills the process. The models then block what they read through a signal
    /// descriptor themselves.
    public static func establish() {
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        signal(SIGPIPE, SIG_IGN)
    }
}
