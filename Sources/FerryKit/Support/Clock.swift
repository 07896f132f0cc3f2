import Glibc

/// Monotonic time in nanoseconds: deadlines and durations, never wall-clock dates.
public func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// Wall-clock seconds since the epoch, for `Date` headers and logs.
public func wallClockSeconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec)
}

/// Milliseconds from now until `deadline` for poll/epoll: -1 without a deadline, 0 when past.
public func pollTimeout(until deadline: UInt64, now: UInt64 = monotonicNanoseconds()) -> Int32 {
    if deadline == 0 { return -1 }
    if deadline <= now { return 0 }
    let milliseconds = (deadline - now + 999_999) / 1_000_000
    return Int32(clamping: milliseconds)
}

public extension Double {
    /// Seconds as nanoseconds, for deadlines.
    var nanoseconds: UInt64 { UInt64(self * 1_000_000_000) }
}
