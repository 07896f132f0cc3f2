import Glibc

/// The signals an operator sends a running server besides the stop signals: SIGHUP
/// (reload the configuration) and SIGUSR1 (reopen the access log, logrotate's
/// `postrotate` convention). Every model reads them on its signal descriptor, so
/// their default action (end the process) never runs.
enum OperatorSignals {
    static let all: [Int32] = [SIGHUP, SIGUSR1]

    /// The answer of a model that cannot reload: SIGHUP gets a one-line note, and
    /// SIGUSR1 reopens the access log in this process when `reopensInPlace` (the
    /// process, or the children it forks later, write to that log), else a note.
    /// Returns the other signals, for the model.
    static func answer(_ signals: [Int32], model: String, options: ModelOptions,
                       reopensInPlace: Bool = true) -> [Int32] {
        signals.filter { signal in
            switch signal {
            case SIGHUP:
                options.log("ferry: SIGHUP: reload needs --model prefork-pass-epoll or prefork-pass; "
                            + "\(model) keeps serving with its configuration (restart it to apply changes)")
                return false
            case SIGUSR1:
                if reopensInPlace {
                    reopenAccessLog(options)
                } else if options.accessLog?.fileDescriptor != nil {
                    options.log("ferry: SIGUSR1: reopening the access log needs a model whose parent passes it "
                                + "(prefork-pass-epoll, prefork-pass) or a single process; \(model) keeps the open file")
                }
                return false
            default:
                return true
            }
        }
    }

    /// Reopens the access log in this process; a failure is one line and the old file
    /// stays in use. Returns the descriptor to pass to workers, nil when there is none.
    @discardableResult
    static func reopenAccessLog(_ options: ModelOptions) -> Int32? {
        guard let log = options.accessLog else { return nil }
        do {
            guard try log.reopen(), case .file(let path) = log.target else { return nil }
            options.log("ferry: SIGUSR1: reopened the access log \(path)")
            return log.fileDescriptor
        } catch {
            options.log("ferry: SIGUSR1: cannot reopen the \(error); still writing to the file open before")
            return nil
        }
    }
}
