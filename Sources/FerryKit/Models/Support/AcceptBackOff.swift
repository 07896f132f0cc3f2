import Glibc

/// How a model waits out `AcceptOutcome.backOff`: accepting pauses for
/// `Listener.backOffPause`, then tries again, so a full descriptor table neither spins
/// a CPU on a listener that stays readable nor leaves queued connections waiting for
/// an event that never comes. The first failure of a starved stretch is logged and so
/// is the recovery, not every retry in between.
struct AcceptBackOff {
    /// When accepting resumes (monotonic ns); 0 while not paused.
    private(set) var resumeTime: UInt64 = 0
    private var starvedOn: String?

    var isPaused: Bool { resumeTime != 0 }

    /// Starts (or extends) a pause after `code` from accept on `listener`.
    mutating func pause(after code: Int32, on listener: Listener, log: (String) -> Void) {
        if starvedOn == nil {
            let milliseconds = Int(Listener.backOffPause * 1000)
            log("ferry: accept on \(listener.address): \(String(cString: strerror(code))); "
                + "retrying every \(milliseconds) ms until descriptors or memory free up")
            starvedOn = "\(listener.address)"
        }
        resumeTime = monotonicNanoseconds() + Listener.backOffPause.nanoseconds
    }

    /// Whether a pause has ended by `now` (it is then over).
    mutating func ends(by now: UInt64) -> Bool {
        guard resumeTime != 0 && now >= resumeTime else { return false }
        resumeTime = 0
        return true
    }

    /// A connection was accepted: the starved stretch, if any, is over.
    mutating func accepted(log: (String) -> Void) {
        guard let address = starvedOn else { return }
        log("ferry: accept on \(address): accepting again")
        starvedOn = nil
    }

    /// Sleeps until the pause ends (for a process or thread that has nothing else to do).
    mutating func sleepOut() {
        let now = monotonicNanoseconds()
        if resumeTime > now { usleep(useconds_t((resumeTime - now) / 1000)) }
        resumeTime = 0
    }
}

extension Listener {
    /// For a model that waits until its listener is readable (or in a blocking accept)
    /// and then accepts: retries at once where that is right, and after a back-off
    /// sleeps the pause out before returning `.backOff`, so the wait that follows finds
    /// the queued connections again without spinning. Never returns `.retry`.
    func acceptWaitingOut(_ backOff: inout AcceptBackOff, log: (String) -> Void) -> AcceptOutcome {
        while true {
            let outcome = acceptConnection()
            switch outcome {
            case .retry:
                continue
            case .backOff(let code):
                backOff.pause(after: code, on: self, log: log)
                backOff.sleepOut()
            case .connection:
                backOff.accepted(log: log)
            case .empty, .closed:
                break
            }
            return outcome
        }
    }
}
