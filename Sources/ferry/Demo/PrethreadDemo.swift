import ArgumentParser
import FerryKit

struct PrethreadDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prethread",
        abstract: "A pool of threads started up front; each accepts under a mutex, or the main thread hands off.",
        discussion: """
            --lock (the default, UNP 30.11): every pool thread calls accept(2) itself, one at a \
            time under a pthread mutex. --main-accept (UNP 30.12): the main thread accepts and \
            appends each connection to a queue; a pool thread waiting on a condition variable \
            takes it. Unix Network Programming measured the locked accept slightly faster: the \
            hand-off adds a lock, a signal and a thread switch per connection.

            Try: ferry demo prethread -i 127.0.0.1 -p 2000 -n 10 --main-accept, then in \
            another terminal ferry client -i 127.0.0.1 -p 2000 -c 15 -t 100 -b 4096, then \
            Ctrl-C the server. Expect one line per thread; the counts sum to the client's \
            connections.
            """
    )

    enum Handoff: EnumerableFlag {
        case lock
        case mainAccept

        static func help(for value: Handoff) -> ArgumentHelp? {
            switch value {
            case .lock: return "Each pool thread calls accept under a mutex (UNP 30.11; the default)."
            case .mainAccept: return "The main thread accepts and hands each connection to the pool (UNP 30.12)."
            }
        }
    }

    @OptionGroup var listen: EchoListenOptions
    @OptionGroup var pool: PoolSizeOptions
    @Flag var handoff: Handoff = .lock

    func run() throws {
        let model: PrethreadModel
        let what: String
        switch handoff {
        case .lock:
            model = PrethreadModel(handoff: .lockedAccept)
            what = "\(pool.n) pool threads, each calling accept under a mutex"
        case .mainAccept:
            model = PrethreadModel(handoff: .mainThreadAccepts)
            what = "\(pool.n) pool threads, connections accepted by the main thread and queued"
        }
        try EchoServerDemo.run(model, listen: listen, workers: pool.n, what: what)
    }
}
