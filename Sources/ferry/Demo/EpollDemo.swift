import ArgumentParser
import FerryKit

struct EpollDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "epoll",
        abstract: "One process multiplexes every connection with epoll(7), level-triggered.",
        discussion: """
            The select demo's loop with epoll: the kernel keeps the interest list, so a \
            connection that has to wait is registered once (EPOLL_CTL_ADD) and changed once \
            from EPOLLIN to EPOLLOUT when it has its count but cannot take the whole answer \
            (EPOLL_CTL_MOD); one whose request is there at accept is answered at once and \
            never registered. epoll_wait returns only the ready descriptors: the cost of a \
            wait follows the ready connections, not all of them.

            Level-triggered, not edge-triggered: a ready socket is reported on every wait \
            until it is served. Edge-triggered would save the one EPOLL_CTL_MOD per \
            connection, but it is correct only if every step runs until EAGAIN; a \
            connection that stopped early (to let others have a turn during a long send) \
            would never be woken again. Level-triggered keeps the loop correct whatever a \
            connection does, for at most one extra system call per connection.

            Try: ferry demo epoll -i 127.0.0.1 -p 2000, then in another terminal \
            ferry client -i 127.0.0.1 -p 2000 -c 5 -t 500 -b 3000, then Ctrl-C the server. \
            It prints one row, "child 0 : 2500 times": a single process served them all.
            """
    )

    @OptionGroup var listen: EchoListenOptions

    func run() throws {
        try EchoServerDemo.run(EpollModel(), listen: listen, workers: 1,
                               what: "one process, epoll(7) level-triggered over every connection")
    }
}
