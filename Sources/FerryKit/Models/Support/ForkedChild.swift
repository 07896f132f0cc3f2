import CFerry
import Glibc

/// The first steps of a child forked by the fork, prefork-accept and prefork-pass models.
enum ForkedChild {
    /// Leaves signal handling to the parent. SIGINT, SIGTERM, SIGHUP and SIGUSR1 are ignored — the
    /// parent decides when a child stops, so a Ctrl-C reaching the whole process
    /// group does not cut a response short — before the mask the parent set up for
    /// its signal descriptor is restored (in this order, so that no signal arriving
    /// in between kills the child). The parent's signal descriptor is closed, the
    /// child gets `deathSignal` when its parent dies (nil: none; it must then learn
    /// of the death another way, as an event-driven worker does from end of stream on
    /// its channel), and ends at once if the parent is already gone.
    static func leaveSignalsToParent(_ signals: SignalDescriptor, parentPID: pid_t, processName: String,
                                     deathSignal: Int32? = SIGKILL) {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        // SIGHUP and SIGUSR1 are the parent's too (reload, reopen the log); a
        // `systemctl kill` reaches every process of the unit and must not end a child.
        for operatorSignal in OperatorSignals.all { signal(operatorSignal, SIG_IGN) }
        signals.restoreMask()
        close(signals.fd)
        if let deathSignal { ferry_set_parent_death_signal(deathSignal) }
        if getppid() != parentPID { _exit(0) }
        ferry_set_process_name(processName)
    }
}
