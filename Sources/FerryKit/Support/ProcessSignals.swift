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

    /// Blocks SIGHUP and SIGUSR1 until a model reads them from its signal descriptor
    /// (a blocked signal waits, pending, for signalfd): one sent while the server is
    /// still starting, right after its pid file appears, must not end the process.
    public static func holdOperatorSignals() {
        var held = sigset_t()
        sigemptyset(&held)
        sigaddset(&held, SIGHUP)
        sigaddset(&held, SIGUSR1)
        sigprocmask(SIG_BLOCK, &held, nil)
    }
}
