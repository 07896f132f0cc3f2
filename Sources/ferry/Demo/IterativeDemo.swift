import ArgumentParser
import FerryKit

struct IterativeDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iterative",
        abstract: "One connection at a time in one process: the baseline of the comparison.",
        discussion: """
            The server accepts a connection, answers it to the end, and only then accepts the \
            next; everyone else waits in the kernel's listen backlog. Every other design is \
            measured against this one. Ctrl-C is read between connections, so nothing is ever \
            cut short.

            Try: ferry demo iterative -i 127.0.0.1 -p 2000, then in another terminal \
            ferry client -i 127.0.0.1 -p 2000 -c 5 -t 100 -b 3000, then Ctrl-C the server. \
            Expect one line, child 0, with every connection; the client's latency grows with \
            its number of children, since they queue behind each other.
            """
    )

    @OptionGroup var listen: EchoListenOptions

    func run() throws {
        try EchoServerDemo.run(IterativeModel(), listen: listen, workers: 1,
                               what: "one connection at a time in one process")
    }
}
