import ArgumentParser
import FerryKit
import FerryLab
import Glibc

struct SendfileDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sendfile",
        abstract: "Send a file to a local reader with sendfile(2) and with a read/write loop; compare time and CPU.",
        discussion: """
            The csdesign document's "Need for Speed" section, measured. FILE goes to a reader process \
            on 127.0.0.1 (it reads and discards) with sendfile, which moves page-cache \
            pages to the socket inside the kernel, and with a read/write loop that copies \
            every byte into a user-space buffer and back. The file is read once first, \
            untimed, so both find it in the page cache. For each mode it prints the \
            median over the runs of: wall time, this process's user and sys CPU \
            (getrusage RUSAGE_SELF deltas: it is the sender and does nothing else), MB/s, \
            the ratio to sendfile, and the reader process's CPU.

            Make a file first: `truncate -s 1G /tmp/big` (a sparse file: reads give zeros \
            from the page cache without touching the disk) or `head -c 1G /dev/urandom > \
            /tmp/big` (real data). Then: ferry demo sendfile /tmp/big --repeat 5.

            Expect sendfile to need a fraction of the sender CPU the copy loop needs, \
            the more so the smaller --buffer is. The wall time on loopback may favour the \
            copy loop: the reader runs on the same machine and, measured here, spends \
            more CPU receiving what sendfile sent. The notes under the table say which \
            way it went.
            """
    )

    @Argument(help: "The file to send: a regular file, such as one made with `truncate -s 1G /tmp/big`.")
    var file: String

    @Option(help: "Buffer size in bytes for the read/write loop (the csdesign document used 4096).")
    var buffer = 64 * 1024

    @Option(help: "Runs of each mode; the median is reported.")
    var `repeat` = 3

    func validate() throws {
        guard (1...(64 << 20)).contains(buffer) else {
            throw ValidationError("--buffer must be from 1 to 67108864 bytes")
        }
        guard (1...100).contains(`repeat`) else { throw ValidationError("--repeat must be from 1 to 100") }
    }

    func run() throws {
        let source: SendfileMeasurement.Source
        do {
            source = try SendfileMeasurement.open(file)
        } catch {
            Console.error("ferry demo sendfile: \(error) (make a file with `truncate -s 1G /tmp/big`)")
            throw ExitCode(1)
        }
        defer { close(source.fd) }
        Console.out("sendfile: \(file) (\(source.size) bytes) to a reader process on 127.0.0.1,"
                    + " \(`repeat`) run(s) of each mode, alternating")
        let results: [SendfileMeasurement.Result]
        do {
            results = try SendfileMeasurement.compare(source, modes: [.sendfile, .readWrite(bufferSize: buffer)],
                                                      repeat: `repeat`, progress: Console.out)
        } catch {
            Console.error("ferry demo sendfile: \(error)")
            throw ExitCode(1)
        }
        SendfileMeasurement.report(results).forEach(Console.out)
    }
}
