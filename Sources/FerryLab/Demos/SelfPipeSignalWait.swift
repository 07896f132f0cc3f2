import CFerry
import FerryKit
import Glibc

/// The csdesign document's selfpipe.py: the self-pipe trick, in the document's five steps.
///
/// The handler writes a byte to a pipe whose read end is in select's read set. A
/// signal that arrives before select is entered leaves that byte in the pipe, so
/// select returns at once: nothing is missed, however the signal and the call race.
public enum SelfPipeSignalWait {
    public static func run(sleepSeconds: Int) throws {
        // 1. Create a pipe and make both ends non-blocking: a flood of signals then
        //    fills the pipe and the handler's write fails with EAGAIN instead of
        //    blocking the process inside its own handler.
        var ends: [Int32] = [-1, -1]
        try check(pipe(&ends), "pipe")
        for end in ends {
            SocketOptions.setNonBlocking(end)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        let (readEnd, writeEnd) = (ends[0], ends[1])

        // 2. The read end goes into select's read set.
        let readSet = [readEnd]

        // 3. The handler writes one byte to the pipe (ferry_demo_write_self_pipe). It
        //    saves and restores errno, which its write would otherwise change under
        //    the interrupted code's feet. EAGAIN (pipe full) is fine: a byte waits.
        ferry_demo_set_self_pipe(writeEnd)
        try installHandler(SIGUSR1, ferry_demo_write_self_pipe, unblock: true)
        SignalDemoScript.announcePID()
        SignalDemoScript.sleep(seconds: sleepSeconds, thenBlockIn: "select")

        // 4. Wait until select reports the read end readable. EINTR only means a
        //    handler ran while select blocked: its byte is in the pipe, select again.
        while true {
            do {
                if try waitUntilReadable(readSet).contains(readEnd) { break }
            } catch let error as SystemError where error.code == EINTR {
                continue
            }
        }

        // 5. Read every byte in the pipe (several signals may have arrived), then act.
        var drained = 0
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let count = read(readEnd, &buffer, buffer.count)
            if count > 0 { drained += count; continue }
            if count < 0 && errno == EINTR { continue }
            break  // EAGAIN: the pipe is empty
        }
        Console.out("Got signal")
        Console.out("(read \(drained) byte\(drained == 1 ? "" : "s") from the self-pipe: one per handler run)")
    }
}
