import ArgumentParser
import FerryKit

struct ThreadDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thread",
        abstract: "One thread per client in one process (csdesign's roadmap).",
        discussion: """
            The main thread accepts each connection and starts a detached pthread for it; the \
            thread answers and ends. SIGINT and SIGTERM are blocked before the first thread \
            starts, so they reach only the main thread's signalfd; on Ctrl-C it stops accepting \
            and waits for the live threads to finish. Cheaper than a fork per client: no \
            address space is copied. At most \(ThreadDemo.threadCap) threads are alive at once.

            Try: ferry demo thread -i 127.0.0.1 -p 2000, then in another terminal \
            ferry client -i 127.0.0.1 -p 2000 -c 5 -t 100 -b 3000, then Ctrl-C the server. \
            Expect one line, child 0, with the total of all the threads.
            """
    )

    /// Threads alive at once; only a guard against a runaway client.
    static let threadCap = 1024

    @OptionGroup var listen: EchoListenOptions

    func run() throws {
        try EchoServerDemo.run(ThreadPerClientModel(), listen: listen, workers: Self.threadCap,
                               what: "one thread per client")
    }
}
