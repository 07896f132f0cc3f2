import ArgumentParser
import FerryKit

extension PreforkAcceptModel.Lock: ExpressibleByArgument {}

struct PreforkAcceptDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prefork-accept",
        abstract: "Preforked children all blocking in accept on the same listening socket.",
        discussion: """
            The parent forks the children and does nothing else; every child sleeps in \
            accept(2) on the one listening socket it inherited, and the kernel gives each new \
            connection to one of them. Each child counts its connections in memory shared \
            with the parent (mmap MAP_SHARED|MAP_ANONYMOUS before fork), so on Ctrl-C or \
            SIGTERM the parent prints how many connections each child got. Linux wakes one \
            waiting child per connection; systems that woke them all (the thundering herd) \
            needed a lock around accept: --lock file takes an fcntl lock on a temporary file \
            (UNP 30.7), --lock mutex a process-shared pthread mutex (UNP 30.8).

            Try: ferry demo prefork-accept -i 127.0.0.1 -p 2000 -n 10, then in another \
            terminal ferry client -i 127.0.0.1 -p 2000 -c 15 -t 100 -b 4096, then Ctrl-C the \
            server. Expect "child 0 : 127 times" lines, one per child, summing to the client's \
            connections. Compare --lock file and --lock mutex with the client's connections/s.
            """
    )

    @OptionGroup var listen: EchoListenOptions
    @OptionGroup var pool: PoolSizeOptions

    @Option(help: """
        What serializes accept: none (the kernel picks a child), file (fcntl lock on a temporary \
        file), mutex (process-shared pthread mutex).
        """)
    var lock: PreforkAcceptModel.Lock = .none

    func run() throws {
        let locking = lock == .none ? "no lock" : "accept under a \(lock.rawValue) lock"
        try EchoServerDemo.run(PreforkAcceptModel(lock: lock), listen: listen, workers: pool.n,
                               what: "\(pool.n) preforked children calling accept, \(locking)")
    }
}
