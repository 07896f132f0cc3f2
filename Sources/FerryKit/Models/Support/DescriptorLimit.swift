import Glibc

/// The descriptor limit (RLIMIT_NOFILE) a server process runs under, and how many
/// connections it leaves room for. Every process of the server inherits the limit
/// the parent sets before it forks, and each one (a prefork-pass-epoll worker, an
/// epoll loop) may have to hold every connection.
public enum DescriptorLimit {
    /// Descriptors a process needs beside its connections: the standard streams,
    /// listeners, epoll, signal descriptor and channels, the logs, libmagic's
    /// database, the files being sent. At most half of a small limit.
    static func reserve(of limit: Int) -> Int { min(64, limit / 2) }

    /// Raises the soft limit to the hard limit, as nginx's `worker_rlimit_nofile` and
    /// Go's runtime do (the soft limit is often 1024 for compatibility with select(2);
    /// no model that uses select is limited by it, since select refuses descriptors at
    /// or above FD_SETSIZE on its own). Returns the soft limit now in force.
    public static func raiseToHardLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// The most connections `limit` descriptors hold beside `kept` descriptors a worker
    /// keeps open for itself (its open-file cache).
    public static func connections(fitting limit: Int, besides kept: Int = 0) -> Int {
        max(1, limit - reserve(of: limit) - kept)
    }

    /// The descriptor limit `connections` need beside `kept` others.
    public static func limit(holding connections: Int, besides kept: Int = 0) -> Int {
        connections + min(64, connections) + kept
    }
}
