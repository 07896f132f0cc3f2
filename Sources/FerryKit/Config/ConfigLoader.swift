import Glibc
import TOMLKit

/// Loads `conf/ferry.toml`: parses it with TOMLKit, reads each key into a
/// `ServerConfig` (every key is optional), validates the result, and resolves relative
/// paths against the file's directory. Every failure is one `ConfigError` line naming
/// the file, the key and the problem.
public enum ConfigLoader {
    /// Reads and validates a TOML file. Relative paths inside it (server.root, a log file
    /// path) are resolved against the directory that holds the file, so `ferry serve`
    /// works from any cwd. `models` lists the valid values of [server] model.
    public static func load(path: String, models: [String]) throws -> ServerConfig {
        let bytes: [UInt8]
        let directory: String
        do {
            bytes = try ConfigFile.read(path)
            directory = try ConfigPath.directory(of: path)
        } catch let error as SystemError {
            throw ConfigError("\(path): cannot read: \(String(cString: strerror(error.code)))")
        }
        guard let toml = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError("\(path): cannot read: not UTF-8 text")
        }
        return try load(toml: toml, origin: path, directory: directory, models: models)
    }

    /// Same for a string (tests); `origin` names it in errors and `directory` is the
    /// base for relative paths (give a canonical absolute one).
    public static func load(toml: String, origin: String, directory: String, models: [String]) throws -> ServerConfig {
        let document = try parse(toml, origin: origin)
        var config = ServerConfig()
        if let problem = read(document, into: &config) ?? config.firstProblem(models: models)?.description {
            throw ConfigError("\(origin): \(problem)")
        }
        config.root = ConfigPath.resolve(config.root, against: directory)
        if !config.errorPages.isEmpty { config.errorPages = ConfigPath.resolve(config.errorPages, against: directory) }
        if !config.pidFile.isEmpty { config.pidFile = ConfigPath.resolve(config.pidFile, against: directory) }
        if case .file(let log) = config.accessLog {
            config.accessLog = .file(ConfigPath.resolve(log, against: directory))
        }
        return config
    }

    /// The document's root table, or the parser's message with its line.
    private static func parse(_ toml: String, origin: String) throws -> TOMLTable {
        // TOMLKit hands the text to C++ as a C string, which would end at a NUL.
        if let nul = toml.utf8.firstIndex(of: 0) {
            let line = toml.utf8[..<nul].lazy.filter { $0 == UInt8(ascii: "\n") }.count + 1
            throw ConfigError("\(origin): line \(line): NUL characters are not allowed in TOML")
        }
        do {
            return try TOMLTable(string: toml)
        } catch let error as TOMLParseError {
            throw ConfigError("\(origin): line \(error.source.begin.line): \(error.description)")
        }
    }

    /// Reads every key of `document` into `config`; returns the first problem, as
    /// "[section] key: problem", with unknown sections and keys among them. Tables are
    /// visited in key order (toml++ keeps them sorted), not file order, so with several
    /// problems the one reported is stable but not necessarily the topmost.
    private static func read(_ document: TOMLTable, into config: inout ServerConfig) -> String? {
        let sectionNames = ConfigSchema.sections.map(\.name).joined(separator: ", ")
        for (name, value) in document {
            if name == HeaderRulesReader.name {
                if let problem = HeaderRulesReader.read(value, into: &config) { return problem }
                continue
            }
            guard let section = ConfigSchema.section(named: name) else {
                return value.type == .table
                    ? "[\(display(name))]: unknown section (known: \(sectionNames))"
                    : "\(display(name)): unknown key outside any section (sections: \(sectionNames))"
            }
            guard let table = value.table else {
                return "[\(name)]: expected a table, got \(ConfigWording.article(value.type))"
            }
            for (keyName, keyValue) in table {
                guard let key = section.key(named: keyName) else {
                    let keyNames = section.keys.map(\.name).joined(separator: ", ")
                    return "[\(name)] \(display(keyName)): unknown key (known: \(keyNames))"
                }
                if let problem = key.read(keyValue, &config) { return "[\(name)] \(keyName): \(problem)" }
            }
        }
        return nil
    }

    /// A key as TOML would write it: bare when it can be, quoted otherwise.
    private static func display(_ key: String) -> String {
        let bare = !key.isEmpty && key.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
        return bare ? key : ConfigWording.quoted(key)
    }
}
