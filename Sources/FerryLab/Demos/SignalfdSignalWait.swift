import CFerry
import FerryKit
import Glibc

/// signalfd(2), the second alternative the csdesign document names (Linux only): the signal is
/// blocked and becomes a readable descriptor, so select waits for it like for any
/// other input and no handler ever runs.
///
/// A signal sent before select (during the sleep) stays pending; the descriptor is
/// readable from that moment, and select returns at once.
public enum SignalfdSignalWait {
    public static func run(sleepSeconds: Int) throws {
        let signals = try SignalDescriptor([SIGUSR1])
        SignalDemoScript.announcePID()
        SignalDemoScript.sleep(seconds: sleepSeconds, thenBlockIn: "select")
        while true {
            do {
                guard try waitUntilReadable([signals.fd]).contains(signals.fd) else { continue }
            } catch let error as SystemError where error.code == EINTR {
                continue
            }
            var info = signalfd_siginfo()
            let size = MemoryLayout<signalfd_siginfo>.size
            let count = read(signals.fd, &info, size)
            if count == size {
                Console.out("Got signal")
                Console.out("(signal \(describeSignal(Int32(info.ssi_signo))) sent by PID \(info.ssi_pid),"
                            + " uid \(info.ssi_uid))")
                return
            }
            if count < 0 && errno != EAGAIN && errno != EINTR { throw SystemError("read signalfd") }
        }
    }
}
