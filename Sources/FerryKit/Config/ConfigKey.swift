import TOMLKit

/// One key of the configuration file and the `ServerConfig` field behind it.
///
/// Reading and checking are separate on purpose: `read` only converts the TOML value
/// (looking at its type itself, since TOMLKit's decoder reports a wrong type as a
/// missing key), and `check` judges the field's value wherever it came from, so a
/// value set by a command-line flag is held to the same range as one from the file.
struct ConfigKey {
    let name: String
    /// Stores `value` into the configuration; returns the problem when its type is wrong.
    let read: (TOMLValueConvertible, inout ServerConfig) -> String?
    /// Returns the problem with the configuration's current value, if any.
    let check: (ServerConfig) -> String?
}

private typealias Wording = ConfigWording

/// "expected ..., got a string".
private func wrongType(_ expected: String, _ value: TOMLValueConvertible) -> String {
    "\(expected), got \(Wording.article(value.type))"
}

extension ConfigKey {
    /// An integer field that must lie in `range`.
    static func integer(_ name: String, _ field: WritableKeyPath<ServerConfig, Int>,
                        _ range: ClosedRange<Int>) -> ConfigKey {
        let expected = "expected an integer from \(range.lowerBound) to \(range.upperBound)"
        return ConfigKey(
            name: name,
            read: { value, config in
                guard let number = value.int else { return wrongType(expected, value) }
                config[keyPath: field] = number
                return nil
            },
            check: { config in
                let number = config[keyPath: field]
                return range.contains(number) ? nil : "\(expected), got \(number)"
            })
    }

    /// A duration in seconds, above `minimum` and at most `maximum`.
    static func seconds(_ name: String, _ field: WritableKeyPath<ServerConfig, Double>,
                        greaterThan minimum: Double, atMost maximum: Double) -> ConfigKey {
        let bounds = "greater than \(Wording.seconds(minimum)) and at most \(Wording.seconds(maximum))"
        return seconds(name, field, bounds) { $0 > minimum && $0 <= maximum }
    }

    /// A duration in seconds, from `minimum` to `maximum` inclusive.
    static func seconds(_ name: String, _ field: WritableKeyPath<ServerConfig, Double>,
                        from minimum: Double, to maximum: Double) -> ConfigKey {
        let bounds = "from \(Wording.seconds(minimum)) to \(Wording.seconds(maximum))"
        return seconds(name, field, bounds) { $0 >= minimum && $0 <= maximum }
    }

    /// A duration written as an integer or a float; `inRange` is false for NaN, since
    /// every comparison with NaN is.
    private static func seconds(_ name: String, _ field: WritableKeyPath<ServerConfig, Double>,
                                _ bounds: String, _ inRange: @escaping (Double) -> Bool) -> ConfigKey {
        let expected = "expected a number of seconds"
        return ConfigKey(
            name: name,
            read: { value, config in
                if let whole = value.int {
                    config[keyPath: field] = Double(whole)
                } else if let seconds = value.double {
                    config[keyPath: field] = seconds
                } else {
                    return wrongType(expected, value)
                }
                return nil
            },
            check: { config in
                let seconds = config[keyPath: field]
                return inRange(seconds) ? nil : "\(expected) \(bounds), got \(Wording.seconds(seconds))"
            })
    }

    /// A boolean field.
    static func flag(_ name: String, _ field: WritableKeyPath<ServerConfig, Bool>) -> ConfigKey {
        ConfigKey(
            name: name,
            read: { value, config in
                guard let flag = value.bool else { return wrongType("expected true or false", value) }
                config[keyPath: field] = flag
                return nil
            },
            check: { _ in nil })
    }

    /// A string field; `rule` returns the problem with a value, nil when it is fine.
    static func text(_ name: String, _ field: WritableKeyPath<ServerConfig, String>,
                     _ rule: @escaping (String) -> String?) -> ConfigKey {
        ConfigKey(
            name: name,
            read: { value, config in
                guard let text = value.string else { return wrongType("expected a string", value) }
                config[keyPath: field] = text
                return nil
            },
            check: { config in rule(config[keyPath: field]) })
    }

    /// A string field that may be left unset (nil); `rule` judges a value that is set.
    static func optionalText(_ name: String, _ field: WritableKeyPath<ServerConfig, String?>,
                             _ rule: @escaping (String) -> String?) -> ConfigKey {
        ConfigKey(
            name: name,
            read: { value, config in
                guard let text = value.string else { return wrongType("expected a string", value) }
                config[keyPath: field] = text
                return nil
            },
            check: { config in config[keyPath: field].flatMap(rule) })
    }

    /// A string naming one case of `Choice`.
    static func choice<Choice: RawRepresentable & CaseIterable>(
        _ name: String, _ field: WritableKeyPath<ServerConfig, Choice>
    ) -> ConfigKey where Choice.RawValue == String {
        let expected = "expected " + Wording.alternatives(Choice.allCases.map { Wording.quoted($0.rawValue) })
        return ConfigKey(
            name: name,
            read: { value, config in
                guard let text = value.string else { return wrongType(expected, value) }
                guard let choice = Choice(rawValue: text) else { return "\(expected), got \(Wording.quoted(text))" }
                config[keyPath: field] = choice
                return nil
            },
            check: { _ in nil })
    }

    /// The access log: "stdout", "off", or any other string as a file path.
    static func accessLog(_ name: String) -> ConfigKey {
        let expected = #"expected "stdout", "off" or a file path"#
        return ConfigKey(
            name: name,
            read: { value, config in
                guard let text = value.string else { return wrongType(expected, value) }
                switch text {
                case "stdout": config.accessLog = .stdout
                case "off": config.accessLog = .off
                default: config.accessLog = .file(text)
                }
                return nil
            },
            check: { config in config.accessLog == .file("") ? "\(expected), got \"\"" : nil })
    }
}
