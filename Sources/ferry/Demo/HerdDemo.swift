import ArgumentParser
import FerryKit
import FerryLab
import Glibc

struct HerdDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herd",
        abstract: "Count the thundering herd: children waiting on one listening socket five ways.",
        discussion: """
            The csdesign document says that when children all block in accept on the same socket, \
            every one wakes for each connection. This counts it. N children wait on a \
            listener on 127.0.0.1 in blocking accept, in select, in epoll (level-triggered, \
            each child its own epoll instance on the shared listener), in epoll with \
            EPOLLEXCLUSIVE, and with SO_REUSEPORT (each child its own listener on the \
            same port). The parent connects in small bursts and waits until each burst is \
            accepted and the children are idle again. Each child counts, in shared memory, \
            its wakeups (returns from accept/select/epoll_wait), its accepts, and its \
            wasted wakeups (the accept after a wakeup found nothing: EAGAIN).

            Try: ferry demo herd, or ferry demo herd -n 8 --connections 400 --burst 2.

            Expect sleeps/conn (the children's context switches per connection) near 1 \
            for blocking accept (Linux wakes one accept waiter), EPOLLEXCLUSIVE and \
            SO_REUSEPORT, and near -n for select and plain epoll: the herd, every child \
            woken for each connection. Only part of it reaches the program as wasted \
            wakeups, since select and epoll_wait re-check the listener before returning.
            """
    )

    @Option(name: .short, help: "Children waiting on the listening socket.")
    var n = 4

    @Option(help: "Connections to make in each variant.")
    var connections = 200

    @Option(help: "Connections per burst (each burst is accepted before the next one).")
    var burst = 4

    func validate() throws {
        guard (1...64).contains(n) else { throw ValidationError("-n must be from 1 to 64") }
        guard (1...100_000).contains(connections) else {
            throw ValidationError("--connections must be from 1 to 100000")
        }
        guard (1...1000).contains(burst) else { throw ValidationError("--burst must be from 1 to 1000") }
    }

    func run() throws {
        var options = HerdMeasurement.Options()
        options.children = n
        options.connections = connections
        options.burst = burst
        Console.out("herd: \(n) children, \(connections) connections per variant in bursts of \(burst),"
                    + " on 127.0.0.1")
        var results: [HerdMeasurement.Result] = []
        for variant in HerdMeasurement.Variant.allCases {
            do {
                results.append(try HerdMeasurement.measure(variant, options: options))
            } catch {
                Console.error("ferry demo herd: \(variant.label): \(error)")
                throw ExitCode(1)
            }
        }
        HerdMeasurement.report(results).forEach(Console.out)
    }
}
