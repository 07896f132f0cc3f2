extension ServerConfig {
    /// Checks every value against its range and the rules between values, whether it
    /// came from the file or from a flag. `models` lists the concurrency models the
    /// executable offers. Throws the first problem as a `ConfigError` naming the key,
    /// e.g. `[server] port: expected an integer from 0 to 65535, got 70000`.
    public func validate(models: [String]) throws {
        if let problem = firstProblem(models: models) { throw problem }
    }

    /// The first problem, in the order of `ConfigSchema`.
    func firstProblem(models: [String]) -> ConfigError? {
        for section in ConfigSchema.sections {
            for key in section.keys {
                if let problem = key.check(self) { return ConfigError(section: section.name, key: key.name, problem: problem) }
            }
        }
        if maxWorkers < workers {
            return ConfigError(section: "server", key: "max_workers",
                               problem: "must be at least workers (\(workers)), got \(maxWorkers)")
        }
        if !models.contains(model) {
            return ConfigError(section: "server", key: "model",
                               problem: "unknown model \(ConfigWording.quoted(model)) (known: \(models.joined(separator: ", ")))")
        }
        return nil
    }
}
