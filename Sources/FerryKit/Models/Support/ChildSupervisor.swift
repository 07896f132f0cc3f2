import Glibc

/// The child processes a forking model has started (fork, prefork-accept, prefork-pass,
/// prefork-pass-epoll), each with the slot it serves: one fork, one reap loop and one
/// kill-then-wait for all of them. The model watches SIGCHLD on its signal descriptor
/// and calls `reap()`; what an ended child means (replace it, collect its last report)
/// stays the model's business.
struct ChildSupervisor {
    /// A child that has ended, with its waitpid(2) status.
    struct Ended {
        let pid: pid_t
        let slot: Int
        let status: Int32
    }

    /// Live children: pid → slot.
    private(set) var slots: [pid_t: Int] = [:]

    var count: Int { slots.count }
    var isEmpty: Bool { slots.isEmpty }

    /// Forks a child for `slot`; the child runs `body`, which must end with `_exit`.
    mutating func start(slot: Int, child body: () -> Never) throws -> pid_t {
        let pid = fork()
        if pid < 0 { throw SystemError("fork") }
        if pid == 0 { body() }
        slots[pid] = slot
        return pid
    }

    /// Reaps every child that has ended. SIGCHLD is not queued (one signal may stand
    /// for several ends), so this collects until none is left.
    mutating func reap() -> [Ended] {
        var ended: [Ended] = []
        var status: Int32 = 0
        while true {
            let pid = waitpid(-1, &status, WNOHANG)
            if pid < 0 && errno == EINTR { continue }
            guard pid > 0 else { return ended }
            if let slot = slots.removeValue(forKey: pid) { ended.append(Ended(pid: pid, slot: slot, status: status)) }
        }
    }

    /// SIGKILL to every live child, then waits for each.
    mutating func killAll() -> [Ended] {
        var ended: [Ended] = []
        for (pid, _) in slots { kill(pid, SIGKILL) }
        for (pid, slot) in slots {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            ended.append(Ended(pid: pid, slot: slot, status: status))
        }
        slots.removeAll()
        return ended
    }
}

/// "exited with status 3" / "was killed by signal 9 (Killed)".
func describeExit(_ status: Int32) -> String {
    let signal = status & 0x7F
    if signal == 0 { return "exited with status \((status >> 8) & 0xFF)" }
    return "was killed by signal \(signal) (\(String(cString: strsignal(signal))))"
}
