import ArgumentParser

@main
struct Ferry: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "A preforked, descriptor-passing sendfile file server, and a lab of Unix server designs.",
        subcommands: [ServeCommand.self, ClientCommand.self, DemoCommand.self],
        defaultSubcommand: nil
    )
}
