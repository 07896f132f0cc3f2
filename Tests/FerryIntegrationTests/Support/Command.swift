import Foundation

/// The result of running a program to its end.
struct CommandResult {
    var status: Int32
    var stdout: Data
    var stderr: String
    var text: String { String(decoding: stdout, as: UTF8.self) }
}

enum CommandError: Error, CustomStringConvertible {
    case timedOut(String)
    var description: String {
        switch self { case .timedOut(let command): return "timed out: \(command)" }
    }
}

/// Runs `program` (looked up on PATH) with `arguments`, killing it after `timeout`
/// seconds. Output is read on background threads so a full pipe never stalls it.
@discardableResult
func run(_ program: String, _ arguments: [String], timeout: Double = 120, stdin: Data? = nil,
         directory: String? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program.hasPrefix("/") ? program : "/usr/bin/env")
    process.arguments = program.hasPrefix("/") ? arguments : [program] + arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    let stdoutData = PipeCollector(out.fileHandleForReading)
    let stderrData = PipeCollector(err.fileHandleForReading)
    try process.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try? input.fileHandleForWriting.close()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        process.terminate()
        usleep(200_000)
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        throw CommandError.timedOut("\(program) \(arguments.joined(separator: " "))")
    }
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: stdoutData.finish(),
                         stderr: String(decoding: stderrData.finish(), as: UTF8.self))
}

/// Reads a pipe to its end on a background thread.
final class PipeCollector: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)
    private var ended = false

    init(_ handle: FileHandle) {
        self.handle = handle
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock(); data.append(chunk); lock.unlock()
            }
            done.signal()
        }
    }

    /// What has arrived so far.
    var snapshot: Data {
        lock.lock(); defer { lock.unlock() }
        return data
    }

    /// Waits (bounded) for end of stream and returns everything.
    func finish(timeout: Double = 10) -> Data {
        lock.lock()
        let alreadyEnded = ended
        lock.unlock()
        if !alreadyEnded && done.wait(timeout: .now() + timeout) == .success {
            lock.lock(); ended = true; lock.unlock()
        }
        return snapshot
    }
}
