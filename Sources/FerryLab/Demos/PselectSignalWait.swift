import CFerry
import FerryKit
import Glibc

/// pselect(2), the first alternative the csdesign document names: race-free by blocking.
///
/// SIGUSR1 stays blocked except inside pselect, which installs a mask without it
/// and waits as one atomic step. A signal sent earlier (during the sleep) stays
/// pending; the moment pselect unblocks it, the handler runs and pselect fails with
/// EINTR. No window remains between "is there a signal?" and "wait".
public enum PselectSignalWait {
    public static func run(sleepSeconds: Int) throws {
        let idle = try IdlePipe()
        var usr1 = sigset_t()
        sigemptyset(&usr1)
        sigaddset(&usr1, SIGUSR1)
        var original = sigset_t()
        try check(sigprocmask(SIG_BLOCK, &usr1, &original), "sigprocmask")
        try installHandler(SIGUSR1, ferry_demo_count_signal, unblock: false)
        SignalDemoScript.announcePID()
        SignalDemoScript.sleep(seconds: sleepSeconds, thenBlockIn: "pselect")

        // The mask pselect waits with: the original one without SIGUSR1 (which may
        // have come blocked from the parent), so SIGUSR1 is deliverable only there.
        var waitMask = original
        sigdelset(&waitMask, SIGUSR1)
        while true {
            do {
                _ = try waitUntilReadable([idle.readEnd], pselectMask: waitMask)
            } catch let error as SystemError where error.code == EINTR {
                guard ferry_demo_signal_count() > 0 else { continue }
                Console.out("Got signal")
                return
            }
        }
    }
}
