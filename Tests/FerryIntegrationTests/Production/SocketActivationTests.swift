import Foundation
import Testing

private enum ActivationSite: FixtureSite {
    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/hello.txt", "hello from an activated socket\n")
        try scratch.write("launch.py", launcher)
    }

    /// What a service manager does, by hand: bind and listen, put the socket at
    /// descriptor 3, say so in LISTEN_FDS and LISTEN_PID (this process's pid, which
    /// os.execve keeps), and exec ferry. It prints the port, then waits for the file
    /// named by its second argument, so a test can connect before ferry exists.
    /// KIND "file" or "udp" passes something else at descriptor 3; "foreign" passes a
    /// listening socket but names another process in LISTEN_PID.
    static let launcher = #"""
        import os, socket, sys, time
        kind, go, command = sys.argv[1], sys.argv[2], sys.argv[3:]
        if kind in ("listen", "foreign"):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sock.listen(16)
            print(sock.getsockname()[1], flush=True)
            passed = sock.fileno()
        elif kind == "udp":
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            passed = sock.fileno()
        else:
            passed = os.open("/dev/null", os.O_RDONLY)
        deadline = time.time() + 20
        while kind == "listen" and not os.path.exists(go) and time.time() < deadline:
            time.sleep(0.01)
        if passed != 3:
            os.dup2(passed, 3)
        os.set_inheritable(3, True)  # dup2 onto itself would keep Python's close-on-exec
        meant_for = os.getpid() if kind != "foreign" else os.getppid()
        env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(meant_for), LISTEN_FDNAMES="http")
        os.execve(command[0], command, env)
        """#
}

/// systemd socket activation: ferry serves on the descriptors it is given, and a
/// connection made before it started (waiting in the passed socket's backlog) is
/// answered once it runs.
@Suite(.serialized, .fixture("activation", serving: nil, site: ActivationSite.self))
struct SocketActivationTests {
    var scratch: Scratch { Fixture.scratch }

    static let getHello = "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

    /// The honest test: systemd's own tool binds, waits for the first connection, and
    /// execs ferry with the socket (Debian's systemd package ships it).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-socket-activate"),
                   "systemd-socket-activate is missing (Debian package systemd)"))
    func servesTheSocketSystemdSocketActivatePasses() throws {
        let port = try freeLoopbackPort()
        let ferry = try FerryProcess(["-l", "127.0.0.1:\(port)", ferryBinary, "serve", "--workers", "1", scratch.root],
                                     executable: "/usr/bin/systemd-socket-activate")
        defer { ferry.stop() }
        #expect(ferry.waitForErrors("Listening on 127.0.0.1:\(port) as 3."))
        // systemd-socket-activate starts ferry only once this connection arrives.
        let client = try RawClient(port: port)
        client.send(Self.getHello)
        let response = client.response()
        #expect(response.status == 200)
        #expect(response.bodyText == "hello from an activated socket\n")
        #expect(ferry.waitForOutput("Ferry serving \(scratch.root) at http://127.0.0.1:\(port)/"))
    }

    @Test func answersAConnectionQueuedBeforeItStarted() throws {
        let go = scratch.at("go-listen")
        let launcher = try FerryProcess(["listen", go, ferryBinary, "serve", "--workers", "1", scratch.root],
                                        executable: scratch.at("launch.py"), launcher: ["python3"])
        defer { launcher.stop() }
        var port: Int?
        #expect(waitUntil(timeout: 20) {
            port = Int(launcher.output.split(separator: "\n").first ?? "")
            return port != nil
        })
        let client = try RawClient(port: try #require(port))
        client.send(Self.getHello)
        // Nothing has answered yet: ferry is not running, the connection waits in the backlog.
        usleep(200_000)
        #expect(!launcher.output.contains("Ferry serving"))
        FileManager.default.createFile(atPath: go, contents: nil)
        let response = client.response()
        #expect(response.status == 200)
        #expect(response.bodyText == "hello from an activated socket\n")
        #expect(launcher.output.contains("Ferry serving \(scratch.root) at http://127.0.0.1:\(port!)/"))
        // A second connection, to show the socket keeps serving.
        #expect(try request(port!, "/hello.txt").status == 200)
        // The passed socket was made non-blocking and close-on-exec, like ferry's own.
        let fdinfo = (try? String(contentsOfFile: "/proc/\(launcher.pid)/fdinfo/3", encoding: .utf8)) ?? ""
        let flags = fdinfo.split(separator: "\n").first { $0.hasPrefix("flags:") }
            .flatMap { Int($0.dropFirst("flags:".count).trimmingCharacters(in: .whitespaces), radix: 8) } ?? 0
        #expect(flags & Int(O_NONBLOCK) != 0)
        #expect(flags & 0o2000000 != 0)  // O_CLOEXEC
        let stopped = launcher.stop()
        #expect(stopped.status == 0)
    }

    @Test(arguments: [("file", "is not a socket"), ("udp", "is not a stream socket")])
    func refusesADescriptorThatIsNotAListeningSocket(kind: String, problem: String) throws {
        let result = try run("python3", [scratch.at("launch.py"), kind, "-", ferryBinary, "serve", scratch.root],
                             timeout: 30)
        #expect(result.status == 2)
        #expect(result.stderr == "ferry: LISTEN_FDS: descriptor 3 \(problem) (socket activation passes listening"
                + " TCP sockets from descriptor 3 on)\n")
    }

    /// LISTEN_PID naming another process: the descriptors are not ferry's, and it
    /// binds its own listener as usual.
    @Test func socketsMeantForAnotherProcessAreLeftAlone() throws {
        let launcher = try FerryProcess(["foreign", "-", ferryBinary, "serve", "--workers", "1", "--host", "127.0.0.1",
                                         "--port", "0", scratch.root],
                                        executable: scratch.at("launch.py"), launcher: ["python3"])
        defer { launcher.stop() }
        #expect(waitUntil(timeout: 20) { launcher.output.contains("Ferry serving") })
        let lines = launcher.output.split(separator: "\n")
        let passedPort = try #require(lines.first.flatMap { Int($0) })
        let ownPort = try #require(launcher.announcedPort())
        #expect(ownPort != passedPort)
        #expect(try request(ownPort, "/hello.txt").status == 200)
    }
}
