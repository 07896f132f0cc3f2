import TOMLKit

/// Reads the `[[headers]]` array of tables into `ServerConfig.headerRules`:
///
///     [[headers]]
///     path = "*.html"
///     set = { Cache-Control = "no-cache" }
///     remove = ["ETag"]
///
/// Each rule is checked as it is read; the first problem is one line naming the
/// rule by its number and path: `[[headers]] #2 (path "/assets/**"): set: ...`.
enum HeaderRulesReader {
    static let name = "headers"

    static func read(_ value: TOMLValueConvertible, into config: inout ServerConfig) -> String? {
        guard let array = value.array else {
            return "[[headers]]: expected an array of tables ([[headers]]), got \(ConfigWording.article(value.type))"
        }
        var rules: [HeaderRule] = []
        for (index, element) in array.enumerated() {
            let label = "[[headers]] #\(index + 1)"
            guard let table = element.table else {
                return "\(label): expected a table, got \(ConfigWording.article(element.type))"
            }
            switch rule(table) {
            case .success(let rule): rules.append(rule)
            case .failure(let problem):
                let path = table["path"]?.string.map { " (path \(ConfigWording.quoted($0)))" } ?? ""
                return "\(label)\(path): \(problem.text)"
            }
        }
        config.headerRules = rules
        return nil
    }

    private struct Problem: Error {
        var text: String
        init(_ text: String) { self.text = text }
    }

    private static func rule(_ table: TOMLTable) -> Result<HeaderRule, Problem> {
        for (key, _) in table where !["path", "set", "remove"].contains(key) {
            return .failure(Problem("unknown key \(ConfigWording.quoted(key)) (known: path, set, remove)"))
        }
        guard let text = table["path"]?.string else {
            return .failure(Problem("path: expected a pattern string such as \"/assets/**\" or \"*.html\""))
        }
        guard let pattern = PathPattern(text) else {
            return .failure(Problem("path: expected \"/...\" (the whole path) or a name without \"/\" (\"*.html\")"))
        }
        var rule = HeaderRule(pattern: pattern)
        if let set = table["set"] {
            guard let fields = set.table else {
                return .failure(Problem("set: expected a table of field = \"value\", got \(ConfigWording.article(set.type))"))
            }
            for (name, value) in fields {
                if let problem = HeaderRule.nameProblem(name) { return .failure(Problem("set: \(problem)")) }
                guard let text = value.string else {
                    return .failure(Problem("set: \(name): expected a string, got \(ConfigWording.article(value.type))"))
                }
                if let problem = HeaderRule.valueProblem(text) { return .failure(Problem("set: \(name): \(problem)")) }
                // Both checks above are the ones FieldName and FieldValue make.
                guard let fieldName = FieldName(name), let fieldValue = FieldValue(text) else {
                    return .failure(Problem("set: \(name): not a valid field"))
                }
                rule.set.append((fieldName, fieldValue))
            }
        }
        if let remove = table["remove"] {
            guard let names = remove.array else {
                return .failure(Problem("remove: expected an array of field names, got \(ConfigWording.article(remove.type))"))
            }
            for element in names {
                guard let name = element.string else {
                    return .failure(Problem("remove: expected field names, got \(ConfigWording.article(element.type))"))
                }
                if let problem = HeaderRule.nameProblem(name) { return .failure(Problem("remove: \(problem)")) }
                rule.remove.append(name)
            }
        }
        if rule.set.isEmpty && rule.remove.isEmpty { return .failure(Problem("sets and removes nothing")) }
        return .success(rule)
    }
}
