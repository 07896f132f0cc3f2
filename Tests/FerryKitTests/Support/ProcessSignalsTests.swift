import Glibc
import Testing
@testable import FerryKit

@Suite struct ProcessSignalsTests {
    /// From a blocked mask and SIGPIPE at its default action (what a test runner's
    /// thread or a careless parent hands over) to the state the servers depend on.
    @Test func establishUnblocksEverythingAndIgnoresSIGPIPE() throws {
        var saved = sigset_t()
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        sigaddset(&blocked, SIGUSR2)
        pthread_sigmask(SIG_BLOCK, &blocked, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        signal(SIGPIPE, SIG_DFL)

        ProcessSignals.establish()

        var mask = sigset_t()
        pthread_sigmask(SIG_SETMASK, nil, &mask)
        #expect(sigismember(&mask, SIGTERM) == 0)
        #expect(sigismember(&mask, SIGUSR2) == 0)
        var action = sigaction()
        sigaction(SIGPIPE, nil, &action)
        #expect(unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self))
    }
}
