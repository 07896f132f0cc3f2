import ArgumentParser

/// The signal demos' --sleep: the window in which a signal arrives before the wait.
struct SignalSleepOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Seconds to sleep after printing the PID and before blocking: send SIGUSR1 in this window to race the wait.",
                               valueName: "seconds"))
    var sleep = 10

    func validate() throws {
        guard (0...3600).contains(sleep) else { throw ValidationError("--sleep must be from 0 to 3600 seconds") }
    }
}
