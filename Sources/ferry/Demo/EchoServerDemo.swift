import ArgumentParser
import FerryKit
import FerryLab

/// Where an echo-server demo listens: the csdesign programs' -i HOST -p PORT.
struct EchoListenOptions: ParsableArguments {
    @Option(name: .customShort("i"), help: "Address to listen on.")
    var host = "0.0.0.0"

    @Option(name: .short, help: "TCP port (0 picks a free one; the printed line shows it).")
    var port = 2000

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("-p must be from 0 to 65535") }
    }
}

/// Size of a demo's pool: the csdesign programs' -n CHILDREN.
struct PoolSizeOptions: ParsableArguments {
    @Option(name: .short, help: "Children (processes or threads) in the pool.")
    var n = 10

    func validate() throws {
        guard (1...1024).contains(n) else { throw ValidationError("-n must be from 1 to 1024") }
    }
}

/// Opens the demo's listening socket and runs `model` on it with the echo handler.
enum EchoServerDemo {
    static func run(_ model: any ServerModel, listen: EchoListenOptions, workers: Int, what: String) throws {
        let listeners: [Listener]
        do {
            listeners = try Listener.open(host: listen.host, port: listen.port)
        } catch {
            Console.error("ferry: cannot listen on \(listen.host) port \(listen.port): \(error)")
            throw ExitCode(1)
        }
        try EchoDemoServer.run(model, listeners: listeners, workers: workers, what: what)
    }
}
