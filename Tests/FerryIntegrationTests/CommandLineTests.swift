import Foundation
import Testing

/// `ferry --version`, and the shell completion scripts swift-argument-parser makes
/// from the command definitions.
@Suite struct CommandLineTests {
    @Test func version() throws {
        let result = try run(ferryBinary, ["--version"], timeout: 30)
        #expect(result.status == 0)
        let version = result.text.trimmingCharacters(in: .newlines)
        #expect(version.split(separator: ".").count == 3 && version.split(separator: ".").allSatisfy { Int($0) != nil },
                "\(version)")
        #expect(try run(ferryBinary, ["--help"], timeout: 30).text.contains("--version"))
    }

    /// The bash script parses, names every subcommand and serve's flags, and
    /// completes `ferry se` to `serve` when sourced into a real bash.
    @Test func bashCompletion() throws {
        let script = try run(ferryBinary, ["--generate-completion-script", "bash"], timeout: 30)
        #expect(script.status == 0)
        for word in ["serve", "client", "demo", "bench", "--no-precompressed", "--error-pages"] {
            #expect(script.text.contains(word), "\(word)")
        }
        let check = try run("bash", ["-n"], stdin: script.stdout)
        #expect(check.status == 0, "\(check.stderr)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-completion-\(UUID().uuidString)")
        try script.stdout.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let completed = try run("bash", ["-c", """
            source "$1"
            COMP_WORDS=(ferry se); COMP_CWORD=1; COMP_LINE="ferry se"; COMP_POINT=${#COMP_LINE}
            _ferry ferry se ferry
            printf '%s\\n' "${COMPREPLY[@]}"
            """, "bash", file.path], timeout: 30)
        #expect(completed.text.split(separator: "\n").contains("serve"), "\(completed.text) \(completed.stderr)")
    }

    @Test(arguments: ["zsh", "fish"])
    func otherShells(shell: String) throws {
        let script = try run(ferryBinary, ["--generate-completion-script", shell], timeout: 30)
        #expect(script.status == 0)
        #expect(script.text.contains("serve"))
        #expect(script.text.contains("keepalive-timeout"))
    }
}
