/// A `[section]` of the configuration file and the keys it may hold.
struct ConfigSection {
    let name: String
    let keys: [ConfigKey]

    func key(named name: String) -> ConfigKey? { keys.first { $0.name == name } }
}

/// Every section and key of `conf/ferry.toml`, in the order the file documents them,
/// with the range each value must lie in. This table is the single place that names
/// a key, its field and its limits.
enum ConfigSchema {
    /// The kernel's cap on bytes moved by one sendfile(2) call (0x7ffff000).
    static let sendfileCallCap = 2_147_479_552

    static let sections: [ConfigSection] = [
        ConfigSection(name: "server", keys: [
            .text("root", \.root) { $0.isEmpty ? "expected a directory path, got \"\"" : nil },
            .text("host", \.host, hostProblem),
            .integer("port", \.port, 0...65535),
            .integer("workers", \.workers, 1...1024),
            .integer("max_workers", \.maxWorkers, 1...1024),
            .text("model", \.model) { _ in nil },  // judged against the caller's list of models
            .choice("scheduling", \.scheduling),
            .integer("backlog", \.backlog, 1...65535),
            .integer("defer_accept", \.deferAcceptSeconds, 0...600),
            .integer("max_connections", \.maxConnections, 1...1_048_576),
            .integer("max_connections_per_address", \.maxConnectionsPerAddress, 0...1_048_576),
            .flag("reuse_port", \.reusePort),
            .optionalText("user", \.user) { accountNameProblem($0, "user") },
            .optionalText("group", \.group) { accountNameProblem($0, "group") },
            .flag("chroot", \.chroot),
            .flag("allow_root", \.allowRoot),
            .text("pid_file", \.pidFile) { _ in nil },  // "" is none
        ]),
        ConfigSection(name: "http", keys: [
            .flag("listing", \.listing),
            .flag("precompressed", \.precompressed),
            .flag("digests", \.digests),
            .text("error_pages", \.errorPages) { _ in nil },  // "" is off; the directory is checked at start
            .text("server_name", \.serverName, serverNameProblem),
            .seconds("keepalive_timeout", \.keepAliveTimeout, from: 0, to: 3600),
            .integer("keepalive_requests", \.keepAliveRequests, 1...1_000_000),
            .flag("minimal_http10", \.minimalHTTP10),
        ]),
        ConfigSection(name: "body", keys: [
            .choice("mode", \.bodyMode),
            .flag("cork", \.cork),
            .integer("sendfile_chunk", \.sendfileChunkBytes, 4096...sendfileCallCap),
            .integer("copy_buffer", \.copyBufferBytes, 512...16_777_216),
            .integer("send_per_turn", \.sendPerTurn, 65536...1_073_741_824),
            .integer("reader_threads", \.readerThreads, 0...64),
            .integer("read_ahead", \.readAheadBytes, 0...1_073_741_824),
            .integer("limit_rate", \.limitRate, 0...Int(Int32.max)),
            .integer("limit_rate_after", \.limitRateAfter, 0...Int.max),
        ]),
        ConfigSection(name: "cache", keys: [
            .flag("enabled", \.fileCache),
            .integer("open_files", \.openFiles, 1...1_048_576),
            .seconds("inactive", \.fileCacheInactive, greaterThan: 0, atMost: 86400),
        ]),
        ConfigSection(name: "limits", keys: [
            .integer("request_line", \.requestLineBytes, 256...1_048_576),
            .integer("header_bytes", \.headerBytes, 1024...1_048_576),
            .integer("header_fields", \.headerFields, 1...10_000),
            .integer("max_ranges", \.maxRanges, 1...10_000),
            .seconds("head_timeout", \.headTimeout, greaterThan: 0, atMost: 3600),
            .seconds("send_timeout", \.sendTimeout, greaterThan: 0, atMost: 86400),
            .seconds("drain_timeout", \.drainTimeout, from: 0, to: 86400),
        ]),
        ConfigSection(name: "log", keys: [
            .accessLog("access"),
        ]),
    ]

    static func section(named name: String) -> ConfigSection? { sections.first { $0.name == name } }

    /// A host is resolved when the server binds; here it only has to look like a name
    /// or an address: not empty, no spaces or control characters.
    private static func hostProblem(_ host: String) -> String? {
        let plausible = !host.isEmpty && host.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
        return plausible ? nil : "expected a host name or address, got \(ConfigWording.quoted(host))"
    }

    /// A user or group name is looked up when the server starts as root; here it only
    /// has to be a plausible name: 1 to 64 printable characters, no space or colon.
    private static func accountNameProblem(_ name: String, _ kind: String) -> String? {
        let plausible = (1...64).contains(name.unicodeScalars.count)
            && name.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != ":" }
        return plausible ? nil : "expected a \(kind) name, got \(ConfigWording.quoted(name))"
    }

    /// The Server header value: 1 to 64 printable ASCII characters, no space at either
    /// end (a header value's edges are stripped by every reader).
    private static func serverNameProblem(_ name: String) -> String? {
        let scalars = name.unicodeScalars
        let valid = (1...64).contains(scalars.count)
            && scalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
            && scalars.first != " " && scalars.last != " "
        return valid ? nil
            : "expected 1 to 64 printable ASCII characters, not starting or ending with a space, got \(ConfigWording.quoted(name))"
    }
}
