import FerryKit
import Testing
@testable import FerryLab

@Suite struct EchoDemoServerTests {
    static func tally(_ label: String, _ connections: Int) -> WorkerTally {
        var tally = WorkerTally(label: label)
        tally.connections = connections
        return tally
    }

    @Test func namesProcessesAsTheDocumentDoes() {
        let lines = EchoDemoServer.distribution([Self.tally("worker 0", 127), Self.tally("worker 11", 3)])
        #expect(lines == ["child 0 : 127 times", "child 11 : 3 times"])
    }

    @Test func keepsThreadAndSingleRowLabels() {
        let lines = EchoDemoServer.distribution([Self.tally("thread 2", 5), Self.tally("server", 0)])
        #expect(lines == ["thread 2 : 5 times", "server : 0 times"])
    }
}
