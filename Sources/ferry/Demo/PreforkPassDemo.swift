import ArgumentParser
import FerryKit

struct PreforkPassDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prefork-pass",
        abstract: "Preforked children; the parent accepts and passes each descriptor to a free child.",
        discussion: """
            The parent is the only process that calls accept(2). It sends each connected \
            socket to an idle child over a UNIX socket with SCM_RIGHTS, closes its copy, and \
            marks the child busy until the child writes back that it is done. No thundering \
            herd: only the parent waits on the listening socket.

            Try: ferry demo prefork-pass -i 127.0.0.1 -p 2000 -n 10, then in another terminal \
            ferry client -i 127.0.0.1 -p 2000 -c 15 -t 100 -b 4096, then Ctrl-C the server. \
            Expect the distribution to lean toward the first children: the parent always \
            picks the lowest-numbered idle child (UNP 30.9 saw the same skew).
            """
    )

    @OptionGroup var listen: EchoListenOptions
    @OptionGroup var pool: PoolSizeOptions

    func run() throws {
        try EchoServerDemo.run(PreforkPassModel(), listen: listen, workers: pool.n,
                               what: "\(pool.n) preforked children, descriptors passed by the parent")
    }
}
