/// What a session waits for before it can go on.
public enum SessionWant: Equatable {
    case readable
    case writable
    /// Nothing to watch the socket for: call `advance` again at this monotonic time
    /// (ns). A rate-limited body waits so between its chunks.
    case wake(at: UInt64)
    /// A read the worker's disk readers make for it (an event loop only): call
    /// `advance` again once the handler reports it done (`takeCompletions`).
    case disk
    case finished
}

/// What one connection amounted to, for the worker's counters and the parent's tally.
public struct SessionSummary: Equatable {
    /// Requests answered on the connection (a persistent one answers many).
    public var requests = 0
    /// The last response's status (0: none was sent).
    public var status: Int = 0
    public var bytesViaSendfile: Int64 = 0
    public var bytesViaCopy: Int64 = 0
    /// Bytes written from memory: response heads, error pages, listings, echo data.
    public var bytesFromMemory: Int64 = 0

    public init() {}

    public var bytesSent: Int64 { bytesViaSendfile + bytesViaCopy + bytesFromMemory }
}

/// One connection's conversation over a non-blocking socket. A session never
/// blocks: `advance` does what the socket allows now and says what it waits for.
/// A blocking model polls the socket for that and calls `advance` again; an event
/// loop registers interest and calls it when the socket is ready. The session owns
/// nothing it does not release by the time it reports `.finished`, except the
/// socket itself, which the model closes.
public protocol Session: AnyObject {
    var socket: Int32 { get }

    /// Makes as much progress as the socket allows without blocking.
    func advance() -> SessionWant

    /// Monotonic time (ns) by which the next progress must happen; 0 for none.
    var deadline: UInt64 { get }

    /// The deadline passed: answer what can still be answered (408) and finish.
    func expire()

    /// The totals; final once the session has finished.
    var summary: SessionSummary { get }

    /// The server is shutting down. Returns true when the session is idle (between
    /// requests) and may be closed at once; otherwise it finishes what it is doing,
    /// answers nothing more, and reports `.finished` as usual.
    func drain() -> Bool

    /// The worker is being replaced (a reload): the request in progress, or the next
    /// one if the session is idle, is its last (HTTP: answered with `Connection:
    /// close`). Unlike `drain()` this never closes an idle session, so a client whose
    /// next request is already on its way gets an answer instead of a closed socket.
    func answerOneMore()
}

public extension Session {
    /// A session with no idle state runs to its end.
    func drain() -> Bool { false }

    func answerOneMore() {}
}

/// Starts sessions on accepted connections. Each worker process or thread makes its
/// own handler (through a `HandlerFactory`), so handlers keep per-worker caches and
/// buffers without locks.
public protocol ConnectionHandler: AnyObject {
    func makeSession(socket: Int32, peer: SocketAddress) -> Session

    /// What a server that holds as many connections as it may writes to a new one
    /// before closing it (HTTP: a 503). Small: it is written once, without waiting.
    /// Empty: just close.
    func overloadAnswer() -> [UInt8]

    // The hooks an event loop calls; a blocking driver calls none of them.

    /// A descriptor the event loop watches for readability on the handler's behalf
    /// (HTTP: the open-file cache's inotify descriptor); -1 for none. It may change
    /// during `loopWokeUp`.
    var changeDescriptor: Int32 { get }

    /// The loop woke up; called before any session of the wakeup runs.
    /// `changesReady`: the wakeup reported `changeDescriptor` readable, or may have
    /// missed it (its list of ready descriptors was full).
    func loopWokeUp(changesReady: Bool)

    /// The loop is about to wait again (HTTP: the access log lines of the iteration
    /// leave in one write).
    func loopIterationEnded()

    /// When the handler next needs the loop awake (monotonic ns; 0: never).
    var nextWakeup: UInt64 { get }

    /// A descriptor the loop watches for readability: work done for sessions off the
    /// loop (HTTP: disk reads) has completed; -1 for none. It may appear during a session's
    /// `advance`.
    var completionDescriptor: Int32 { get }

    /// The sockets of the sessions whose work off the loop completed.
    func takeCompletions(into sockets: inout [Int32])
}

public extension ConnectionHandler {
    func overloadAnswer() -> [UInt8] { [] }
    var changeDescriptor: Int32 { -1 }
    func loopWokeUp(changesReady: Bool) {}
    func loopIterationEnded() {}
    var nextWakeup: UInt64 { 0 }
    var completionDescriptor: Int32 { -1 }
    func takeCompletions(into sockets: inout [Int32]) {}
}

/// Makes one handler per worker, called in the worker after fork or at thread start.
public typealias HandlerFactory = () -> ConnectionHandler
