import ArgumentParser
import FerryKit
import FerryLab

struct SelSigRaceDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selsigrace",
        abstract: "The race between a signal handler and select: a signal sent just before select is missed.",
        discussion: """
            The csdesign document's selsigrace: install a SIGUSR1 handler that only records the signal \
            (sigaction, no SA_RESTART), print the PID, sleep, then block in select on a \
            pipe nobody writes, expecting SIGUSR1 to interrupt select with EINTR; only \
            then is the record looked at and "Got signal" printed.

            Try: ferry demo selsigrace --sleep 5, and within those 5 seconds kill -USR1 PID. \
            The handler runs, but select is entered afterwards and blocks: after 'Wake up and \
            block in "select"' nothing happens. A second kill -USR1 PID interrupts select: \
            "Got signal", and the program exits. Sent after the sleep, one signal is enough.

            The fixes: ferry demo selfpipe, ferry demo pselect, ferry demo signalfd.
            """
    )

    @OptionGroup var timing: RaceSleepOptions

    func run() throws {
        try SelectSignalRace.run(sleepSeconds: timing.sleep)
    }
}
