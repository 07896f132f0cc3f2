import CFerry
import Glibc

/// How the kernel schedules the processes that serve connections (`[server] scheduling`).
///
/// `batch` is SCHED_BATCH (sched(7)): a worker woken by new input does not preempt the
/// task running on its CPU; it runs when that task sleeps or its slice ends, and a
/// worker that runs is not cut short by a sibling that just woke. sched(7) names the
/// case: a workload that wants no "extra preemptions (between the workload's tasks)".
/// Where two workers share a CPU (a client on the same machine, more workers than free
/// CPUs) they otherwise take turns at nearly every request that arrives: on 2 CPUs with
/// wrk beside them, 35,700 context switches in 3 s against 11,700 under batch, and
/// 15.5 against 11.9 µs of CPU per kept 1 KiB request. The price is paid when other
/// programs keep every CPU busy: a woken worker then waits for their slice instead of
/// preempting them (beside two CPU hogs, one client opening a connection per request
/// got 1,149 requests/s under batch against 2,685 under normal), which is why it is
/// not the default.
///
/// `normal`, the default, leaves the policy Ferry was started with (SCHED_OTHER unless
/// started under chrt). Either way a policy the operator chose with chrt is kept: only
/// a process under SCHED_OTHER is moved to batch.
public enum SchedulingPolicy: String, Equatable, CaseIterable {
    case batch, normal

    /// Puts the calling thread, and the threads it starts afterwards, under this
    /// policy. Returns why it could not (one line), or nil.
    func apply() -> String? {
        guard changesCallingThread else { return nil }
        return Self.set(ferry_sched_batch()).map { "cannot set SCHED_BATCH: \($0)" }
    }

    /// Whether `apply` can work here, tried on the calling thread and undone: the
    /// parent checks once at start instead of every worker failing on its own.
    func probe() -> String? {
        guard changesCallingThread else { return nil }
        if let problem = apply() { return problem }
        return Self.set(SCHED_OTHER).map { "cannot return to SCHED_OTHER: \($0)" }
    }

    /// Whether `apply` does anything here: only batch does, and only to a thread
    /// under SCHED_OTHER (another policy was chosen from outside and is kept).
    private var changesCallingThread: Bool { self == .batch && sched_getscheduler(0) == SCHED_OTHER }

    private static func set(_ policy: Int32) -> String? {
        var parameters = sched_param()  // priority 0, the only one of these policies
        guard sched_setscheduler(0, policy, &parameters) != 0 else { return nil }
        return String(cString: strerror(errno))
    }
}
