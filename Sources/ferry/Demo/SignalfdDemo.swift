import ArgumentParser
import FerryKit
import FerryLab

struct SignalfdDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signalfd",
        abstract: "signalfd: the signal becomes a readable descriptor for select; no handler, no race.",
        discussion: """
            SIGUSR1 is blocked and a signalfd is created for it (Linux only). No handler \
            runs: a pending SIGUSR1 makes the descriptor readable, select reports it like \
            any other input, and a read returns its signalfd_siginfo, sender included. \
            Ferry's own servers receive SIGINT, SIGTERM and SIGCHLD this way.

            Run it and kill -USR1 PID: it prints "Got signal" and exits (no sleep by \
            default). To race on purpose: ferry demo signalfd --sleep 5, and kill -USR1 PID \
            during the sleep or after it. Either way one signal is enough: "Got signal", \
            then the signal's number and the PID and uid that sent it.
            """
    )

    @OptionGroup var timing: SignalSleepOptions

    func run() throws {
        try SignalfdSignalWait.run(sleepSeconds: timing.sleep)
    }
}
