import CFerry
import FerryKit
import Glibc

/// The csdesign document's selsigrace.py: the race between a signal handler and select(2).
///
/// The handler is installed, the program sleeps, then blocks in select on a
/// descriptor that never becomes ready, expecting a SIGUSR1 to interrupt it. A
/// SIGUSR1 that arrives before select is entered (here: during the sleep) runs the
/// handler, which records it (csdesign's GOT_SIGNAL flag; a count here, kept by
/// ferry_demo_count_signal), but as in the csdesign document the record is looked at only after
/// select fails with EINTR, and select has nothing to return for: the signal is
/// missed. Only a second SIGUSR1, arriving while select blocks, interrupts it and
/// "Got signal" is printed.
public enum SelectSignalRace {
    public static func run(sleepSeconds: Int) throws {
        let idle = try IdlePipe()
        try installHandler(SIGUSR1, ferry_demo_count_signal, unblock: true)
        SignalDemoScript.announcePID()
        SignalDemoScript.sleep(seconds: sleepSeconds, thenBlockIn: "select")
        // The race window: a SIGUSR1 delivered during the sleep or between here and
        // the moment select is entered runs the handler now; select still blocks.
        while true {
            do {
                _ = try waitUntilReadable([idle.readEnd])
            } catch let error as SystemError where error.code == EINTR {
                let handlerRuns = ferry_demo_signal_count()
                guard handlerRuns > 0 else { continue }
                Console.out("Got signal")
                if handlerRuns > 1 {
                    Console.out("(the handler ran \(handlerRuns) times; select noticed only the signal"
                                + " that arrived while it was blocked)")
                }
                return
            }
        }
    }
}
