import ArgumentParser
import FerryKit
import FerryLab

struct PselectDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pselect",
        abstract: "pselect: keep the signal blocked except while waiting, atomically; no race.",
        discussion: """
            SIGUSR1 is blocked before its handler is installed, so it can only be delivered \
            inside pselect, whose signal mask unblocks it for the duration of the wait, \
            atomically. A signal sent earlier stays pending and interrupts pselect (EINTR) \
            the moment it is entered: "Got signal".

            Run it and kill -USR1 PID: it prints "Got signal" and exits (no sleep by \
            default). To race on purpose: ferry demo pselect --sleep 5, and kill -USR1 PID \
            during the sleep or after it. Either way one signal is enough.
            """
    )

    @OptionGroup var timing: SignalSleepOptions

    func run() throws {
        try PselectSignalWait.run(sleepSeconds: timing.sleep)
    }
}
