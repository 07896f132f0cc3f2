import ArgumentParser
import FerryKit
import FerryLab

struct SelfPipeDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selfpipe",
        abstract: "The self-pipe trick: a signal handler writes a byte to a pipe that select watches.",
        discussion: """
            The csdesign document's selfpipe, in its five steps: (1) a pipe with both ends non-blocking; \
            (2) its read end in select's read set; (3) a SIGUSR1 handler that writes one \
            byte to it (saving and restoring errno); (4) select until the read end is \
            readable, selecting again after EINTR; (5) read every byte in the pipe, then act: \
            "Got signal".

            Run it and kill -USR1 PID: it prints "Got signal" and exits, as the document's \
            selfpipe.py does (no sleep by default). To race on purpose: ferry demo selfpipe \
            --sleep 5, and kill -USR1 PID during the sleep. Unlike selsigrace, the signal is \
            not missed: its byte waits in the pipe, and select returns as soon as it is \
            entered. Sent after the sleep, it works the same.
            """
    )

    @OptionGroup var timing: SignalSleepOptions

    func run() throws {
        try SelfPipeSignalWait.run(sleepSeconds: timing.sleep)
    }
}
