import CFerry
import Glibc

/// Giving up root once everything that needs it is done.
///
/// Started as root, `ferry serve` binds its ports, opens the access log, the error
/// pages directory and the document root, reads the magic database and
/// /etc/mime.types, and resolves `[server] user` and `group` while still root. Then
/// every process that serves drops to that user: each forked worker right after
/// fork (the parent of the pool models stays root, like nginx's master, to re-read
/// the configuration and reopen logs; it never parses what a client sends), or the
/// process itself in the single-process models. The order is nginx's and
/// lighttpd's: chroot (then chdir "/"), setgroups to the one group, setgid, setuid.
/// The result is then checked, and a process that could not drop completely exits
/// with one line instead of serving half-dropped.
public struct PrivilegeDrop: Equatable {
    public let userName: String
    public let groupName: String
    public let uid: uid_t
    public let gid: gid_t
    /// The directory to confine the process to (the document root), nil for none.
    public let chrootDirectory: String?

    /// The process that planned the drop: the parent of forked workers. Changing
    /// credentials clears a process's parent-death signal (the kernel's
    /// commit_creds), so a worker sets the one it had again after the drop (if any)
    /// and checks the parent is still this one.
    let plannerPID: pid_t

    /// The drop `config` asks for, or nil when there is none to make: Ferry was not
    /// started as root (the settings are ignored, with a warning through `warn` for
    /// those set to something the process is not), or it serves as root by request
    /// (`allow_root` with `user = "root"`) and no chroot is wanted.
    ///
    /// Throws a `ConfigError` naming the key for an unknown user or group, and a
    /// `FileServerError` (exit code 2) when started as root with root as the target
    /// and no `allow_root`.
    public static func plan(_ config: ServerConfig, documentRoot: String,
                            warn: (String) -> Void = { Console.error($0) }) throws -> PrivilegeDrop? {
        let userName = config.user ?? ServerConfig.defaultUser
        let groupName = config.group ?? ServerConfig.defaultGroup
        guard geteuid() == 0 else {
            warnIgnored(config, warn: warn)
            return nil
        }
        guard let uid = lookUpUser(userName) else {
            throw ConfigError(section: "server", key: "user", problem: "unknown user \(ConfigWording.quoted(userName))")
        }
        guard let gid = lookUpGroup(groupName) else {
            throw ConfigError(section: "server", key: "group", problem: "unknown group \(ConfigWording.quoted(groupName))")
        }
        if uid == 0 && !config.allowRoot {
            throw FileServerError("refusing to serve as root; set [server] user (default nobody) or pass --allow-root",
                                  exitCode: 2)
        }
        if uid == 0 && !config.chroot { return nil }
        return PrivilegeDrop(userName: userName, groupName: groupName, uid: uid, gid: gid,
                             chrootDirectory: config.chroot ? documentRoot : nil, plannerPID: getpid())
    }

    /// Drops in a freshly forked worker; on any failure the worker writes one line and
    /// exits (status 1), before it has served anything.
    public func applyInWorker() {
        // Changing the user clears the parent-death signal: keep the one the model set
        // (none for event-driven workers, which drain on their channel's end of stream).
        let deathSignal = ferry_get_parent_death_signal()
        if let problem = apply() {
            Console.error("ferry: worker \(getpid()): cannot drop privileges: \(problem)")
            _exit(1)
        }
        if deathSignal > 0 { ferry_set_parent_death_signal(deathSignal) }
        if getppid() != plannerPID { _exit(0) }
    }

    /// Makes the drop once in a throwaway child and returns what failed, nil when it
    /// works: a server whose workers drop after fork checks at start that they can,
    /// instead of forking worker after worker that fails (a missing capability, a
    /// chroot refused).
    public func probe() -> String? {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return "pipe: \(Self.lastError())" }
        ends.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        let pid = fork()
        if pid == 0 {
            close(ends[0])
            if let problem = apply() { Console.write(problem, to: ends[1]) }
            _exit(0)
        }
        close(ends[1])
        defer { close(ends[0]) }
        guard pid > 0 else { return "fork: \(Self.lastError())" }
        var report: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while true {
            let n = read(ends[0], &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            report += chunk[..<n]
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let problem = String(decoding: report, as: UTF8.self).split(separator: "\n").first.map(String.init)
        return problem ?? (status == 0 ? nil : "the trial drop in a child did not finish")
    }

    /// Drops in this process: chroot, setgroups, setgid, setuid, then checks that it
    /// took. Returns what failed, nil on success.
    public func apply() -> String? {
        if let directory = chrootDirectory {
            guard chroot(directory) == 0 else { return "chroot \(directory): \(Self.lastError())" }
            guard chdir("/") == 0 else { return "chdir / in the chroot: \(Self.lastError())" }
        }
        var groups = [gid]
        guard setgroups(1, &groups) == 0 else { return "setgroups \(groupName): \(Self.lastError())" }
        guard setgid(gid) == 0 else { return "setgid \(groupName) (\(gid)): \(Self.lastError())" }
        guard setuid(uid) == 0 else { return "setuid \(userName) (\(uid)): \(Self.lastError())" }
        return verify()
    }

    /// Every id is the target, and root cannot be had back (unless root is the target).
    private func verify() -> String? {
        guard getuid() == uid, geteuid() == uid else { return "uid is \(getuid())/\(geteuid()), not \(uid)" }
        guard getgid() == gid, getegid() == gid else { return "gid is \(getgid())/\(getegid()), not \(gid)" }
        var groups = [gid_t](repeating: 0, count: 64)
        let count = getgroups(Int32(groups.count), &groups)
        guard count >= 0, groups[..<Int(count)].allSatisfy({ $0 == gid }) else {
            return "supplementary groups remain after setgroups"
        }
        if uid != 0 && setuid(0) == 0 { return "setuid(0) still succeeds after the drop" }
        return nil
    }

    /// Started as non-root: nothing can be dropped, so the settings are ignored; a
    /// user or group set explicitly to another than the process's own is worth a line.
    private static func warnIgnored(_ config: ServerConfig, warn: (String) -> Void) {
        let ownUser = lookUpUserName(getuid())
        if let user = config.user, user != ownUser {
            warn("ferry: [server] user \(ConfigWording.quoted(user)) ignored: not started as root (running as \(ownUser ?? String(getuid())))")
        }
        let ownGroup = lookUpGroupName(getgid())
        if let group = config.group, group != ownGroup {
            warn("ferry: [server] group \(ConfigWording.quoted(group)) ignored: not started as root (running as group \(ownGroup ?? String(getgid())))")
        }
        if config.chroot {
            warn("ferry: [server] chroot ignored: only root can chroot; serving without it")
        }
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }

    /// The reentrant lookups with a buffer grown on ERANGE.
    private static func withLookUpBuffer<T>(_ body: (inout [CChar]) -> (code: Int32, value: T?)) -> T? {
        var buffer = [CChar](repeating: 0, count: 1024)
        while true {
            let (code, value) = body(&buffer)
            if code == ERANGE && buffer.count < 1 << 20 {
                buffer = [CChar](repeating: 0, count: buffer.count * 4)
                continue
            }
            return value
        }
    }

    static func lookUpUser(_ name: String) -> uid_t? {
        withLookUpBuffer { buffer in
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            let code = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
            return (code, result == nil ? nil : entry.pw_uid)
        }
    }

    static func lookUpGroup(_ name: String) -> gid_t? {
        withLookUpBuffer { buffer in
            var entry = group()
            var result: UnsafeMutablePointer<group>?
            let code = getgrnam_r(name, &entry, &buffer, buffer.count, &result)
            return (code, result == nil ? nil : entry.gr_gid)
        }
    }

    static func lookUpUserName(_ uid: uid_t) -> String? {
        withLookUpBuffer { buffer in
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            let code = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
            return (code, result == nil ? nil : String(cString: entry.pw_name))
        }
    }

    static func lookUpGroupName(_ gid: gid_t) -> String? {
        withLookUpBuffer { buffer in
            var entry = group()
            var result: UnsafeMutablePointer<group>?
            let code = getgrgid_r(gid, &entry, &buffer, buffer.count, &result)
            return (code, result == nil ? nil : String(cString: entry.gr_name))
        }
    }
}
