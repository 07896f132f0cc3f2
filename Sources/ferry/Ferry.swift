import ArgumentParser
import FerryKit

@main
struct Ferry: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "A preforked, descriptor-passing sendfile file server, and a lab of Unix server designs.",
        version: FerryVersion.current,
        subcommands: [ServeCommand.self, ClientCommand.self, DemoCommand.self, BenchCommand.self]
    )

    static func main() {
        // Every subcommand (servers, client, bench, demos) starts from the same signal
        // state; the demos that need another set it up themselves.
        ProcessSignals.establish()
        main(nil)
    }
}
