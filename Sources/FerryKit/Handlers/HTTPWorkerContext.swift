/// What every HTTP session of one worker shares: the responder and its caches, the
/// Date cache, the logs and a scratch buffer. One per worker process or thread, so
/// nothing here needs a lock; the sessions of one worker never run at once.
final class HTTPWorkerContext {
    let responder: StaticFileResponder
    let dates = DateHeaderCache()
    let accessLog: AccessLog
    /// Where a session reports trouble (a client gone mid-response, a file that shrank).
    let errorLog: (String) -> Void
    /// Where sessions read into before keeping what they need: allocated once per
    /// worker instead of per read.
    var scratch = [UInt8](repeating: 0, count: 4096)

    init(responder: StaticFileResponder, accessLog: AccessLog, errorLog: @escaping (String) -> Void) {
        self.responder = responder
        self.accessLog = accessLog
        self.errorLog = errorLog
    }
}
