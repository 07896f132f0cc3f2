import ArgumentParser

/// The race-free signal demos' --sleep (selfpipe, pselect, signalfd): none by default,
/// as the csdesign document's selfpipe.py, which waits at once; a sleep lets a signal
/// arrive before the wait on purpose.
struct SignalSleepOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Seconds to sleep after printing the PID and before blocking (0: block at once): send SIGUSR1 in this window to race the wait on purpose.",
                               valueName: "seconds"))
    var sleep = 0

    func validate() throws { try validateSleep(sleep) }
}

/// selsigrace's --sleep: 10 s by default, as the document's selsigrace.py, so that a
/// signal can be sent by hand in the window before select.
struct RaceSleepOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Seconds to sleep after printing the PID and before blocking in select: send SIGUSR1 in this window to see it missed.",
                               valueName: "seconds"))
    var sleep = 10

    func validate() throws { try validateSleep(sleep) }
}

private func validateSleep(_ seconds: Int) throws {
    guard (0...3600).contains(seconds) else { throw ValidationError("--sleep must be from 0 to 3600 seconds") }
}
