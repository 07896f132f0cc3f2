import Glibc
import Testing
@testable import FerryKit

@Suite struct ConfigLoaderTests {
    @Test func emptyFileGivesDefaultsWithRootBesideTheFile() throws {
        var expected = ServerConfig()
        expected.root = "/srv/ferry/conf/public"
        #expect(try loadTestConfig("") == expected)
        #expect(try loadTestConfig("# nothing but a comment\n[server]\n[log]\n") == expected)
    }

    @Test func readsEveryKey() throws {
        let config = try loadTestConfig("""
            [server]
            root = "/var/www"
            host = "::1"
            port = 0
            workers = 3
            max_workers = 9
            model = "epoll"
            scheduling = "batch"
            backlog = 16
            defer_accept = 0
            pid_file = "run/ferry.pid"
            [http]
            listing = false
            server_name = "Ferry/1.0 (test)"
            [body]
            mode = "copy"
            cork = false
            sendfile_chunk = 2147479552
            copy_buffer = 512
            [limits]
            request_line = 256
            header_bytes = 1024
            header_fields = 1
            head_timeout = 0.25
            send_timeout = 86400
            drain_timeout = 0
            [log]
            access = "logs/access.log"
            """)
        var expected = ServerConfig()
        expected.root = "/var/www"
        expected.host = "::1"
        expected.port = 0
        expected.workers = 3
        expected.maxWorkers = 9
        expected.model = "epoll"
        expected.scheduling = .batch
        expected.backlog = 16
        expected.deferAcceptSeconds = 0
        expected.pidFile = "/srv/ferry/conf/run/ferry.pid"
        expected.listing = false
        expected.serverName = "Ferry/1.0 (test)"
        expected.bodyMode = .copy
        expected.cork = false
        expected.sendfileChunkBytes = 2_147_479_552
        expected.copyBufferBytes = 512
        expected.requestLineBytes = 256
        expected.headerBytes = 1024
        expected.headerFields = 1
        expected.headTimeout = 0.25
        expected.sendTimeout = 86400
        expected.drainTimeout = 0
        expected.accessLog = .file("/srv/ferry/conf/logs/access.log")
        #expect(config == expected)
    }

    @Test func accessLogKeywords() throws {
        #expect(try loadTestConfig("[log]\naccess = \"off\"").accessLog == .off)
        #expect(try loadTestConfig("[log]\naccess = \"stdout\"").accessLog == .stdout)
        #expect(try loadTestConfig("[log]\naccess = \"./off\"").accessLog == .file("/srv/ferry/conf/off"))
        #expect(try loadTestConfig("[log]\naccess = \"/var/log/ferry.log\"").accessLog == .file("/var/log/ferry.log"))
    }

    @Test func rootIsResolvedAgainstTheFilesDirectory() throws {
        #expect(try loadTestConfig("[server]\nroot = \"../public\"").root == "/srv/ferry/public")
        #expect(try loadTestConfig("[server]\nroot = \"./site/\"").root == "/srv/ferry/conf/site")
        #expect(try loadTestConfig("[server]\nroot = \"/abs/../x\"").root == "/abs/../x")
    }

    @Test func privilegeAndPortSharingKeys() throws {
        let defaults = try loadTestConfig("")
        #expect(defaults.user == nil && defaults.group == nil)
        #expect(!defaults.chroot && !defaults.allowRoot && !defaults.reusePort)
        let set = try loadTestConfig("[server]\nuser = \"www-data\"\ngroup = \"www-data\"\nchroot = true\n"
                                     + "allow_root = true\nreuse_port = true")
        #expect(set.user == "www-data" && set.group == "www-data")
        #expect(set.chroot && set.allowRoot && set.reusePort)
        #expect(configProblem("[server]\nuser = \"\"") == "conf/ferry.toml: [server] user: expected a user name, got \"\"")
        #expect(configProblem("[server]\ngroup = \"a b\"") == "conf/ferry.toml: [server] group: expected a group name, got \"a b\"")
        #expect(configProblem("[server]\nuser = 65534") == "conf/ferry.toml: [server] user: expected a string, got an integer")
        #expect(configProblem("[server]\nchroot = \"yes\"") == "conf/ferry.toml: [server] chroot: expected true or false, got a string")
    }

    @Test func timeoutsAcceptIntegersAndFloats() throws {
        #expect(try loadTestConfig("[limits]\nsend_timeout = 5").sendTimeout == 5)
        #expect(try loadTestConfig("[limits]\nsend_timeout = 5.5").sendTimeout == 5.5)
    }

    @Test func outOfRangeValuesNameFileKeyAndValue() {
        let cases: [(String, String)] = [
            ("[server]\nport = 70000",
             "conf/ferry.toml: [server] port: expected an integer from 0 to 65535, got 70000"),
            ("[server]\nport = -1",
             "conf/ferry.toml: [server] port: expected an integer from 0 to 65535, got -1"),
            ("[server]\nworkers = 0",
             "conf/ferry.toml: [server] workers: expected an integer from 1 to 1024, got 0"),
            ("[server]\nbacklog = 65536",
             "conf/ferry.toml: [server] backlog: expected an integer from 1 to 65535, got 65536"),
            ("[server]\ndefer_accept = 601",
             "conf/ferry.toml: [server] defer_accept: expected an integer from 0 to 600, got 601"),
            ("[body]\nsendfile_chunk = 2147479553",
             "conf/ferry.toml: [body] sendfile_chunk: expected an integer from 4096 to 2147479552, got 2147479553"),
            ("[body]\ncopy_buffer = 511",
             "conf/ferry.toml: [body] copy_buffer: expected an integer from 512 to 16777216, got 511"),
            ("[limits]\nrequest_line = 255",
             "conf/ferry.toml: [limits] request_line: expected an integer from 256 to 1048576, got 255"),
            ("[limits]\nheader_bytes = 1048577",
             "conf/ferry.toml: [limits] header_bytes: expected an integer from 1024 to 1048576, got 1048577"),
            ("[limits]\nheader_fields = 10001",
             "conf/ferry.toml: [limits] header_fields: expected an integer from 1 to 10000, got 10001"),
            ("[limits]\nhead_timeout = 0",
             "conf/ferry.toml: [limits] head_timeout: expected a number of seconds greater than 0 and at most 3600, got 0"),
            ("[limits]\nhead_timeout = 3600.5",
             "conf/ferry.toml: [limits] head_timeout: expected a number of seconds greater than 0 and at most 3600, got 3600.5"),
            ("[limits]\nsend_timeout = nan",
             "conf/ferry.toml: [limits] send_timeout: expected a number of seconds greater than 0 and at most 86400, got nan"),
            ("[limits]\ndrain_timeout = -0.5",
             "conf/ferry.toml: [limits] drain_timeout: expected a number of seconds from 0 to 86400, got -0.5"),
            ("[limits]\ndrain_timeout = inf",
             "conf/ferry.toml: [limits] drain_timeout: expected a number of seconds from 0 to 86400, got inf"),
        ]
        for (toml, message) in cases {
            #expect(configProblem(toml) == message)
        }
    }

    @Test func wrongTypesNameTheTypeFound() {
        let cases: [(String, String)] = [
            ("[server]\nport = \"80\"",
             "conf/ferry.toml: [server] port: expected an integer from 0 to 65535, got a string"),
            ("[server]\nport = 80.0",
             "conf/ferry.toml: [server] port: expected an integer from 0 to 65535, got a floating-point number"),
            ("[server]\nroot = 1",
             "conf/ferry.toml: [server] root: expected a string, got an integer"),
            ("[server]\nhost = [\"a\"]",
             "conf/ferry.toml: [server] host: expected a string, got an array"),
            ("[http]\nlisting = \"yes\"",
             "conf/ferry.toml: [http] listing: expected true or false, got a string"),
            ("[body]\nmode = true",
             "conf/ferry.toml: [body] mode: expected \"sendfile\" or \"copy\", got a boolean"),
            ("[limits]\nhead_timeout = \"10s\"",
             "conf/ferry.toml: [limits] head_timeout: expected a number of seconds, got a string"),
            ("[limits]\nsend_timeout = 1979-05-27",
             "conf/ferry.toml: [limits] send_timeout: expected a number of seconds, got a date"),
            ("[log]\naccess = false",
             "conf/ferry.toml: [log] access: expected \"stdout\", \"off\" or a file path, got a boolean"),
            ("[server.tls]\ncert = \"x\"",
             "conf/ferry.toml: [server] tls: unknown key (known: root, host, port, workers, max_workers, model, scheduling, backlog, defer_accept, max_connections, max_connections_per_address, reuse_port, user, group, chroot, allow_root, pid_file)"),
            ("server = 1",
             "conf/ferry.toml: [server]: expected a table, got an integer"),
            ("[[log]]\naccess = \"off\"",
             "conf/ferry.toml: [log]: expected a table, got an array"),
        ]
        for (toml, message) in cases {
            #expect(configProblem(toml) == message)
        }
    }

    @Test func badStringValues() throws {
        #expect(configProblem("[body]\nmode = \"splice\"")
            == "conf/ferry.toml: [body] mode: expected \"sendfile\" or \"copy\", got \"splice\"")
        #expect(configProblem("[server]\nscheduling = \"fifo\"")
            == "conf/ferry.toml: [server] scheduling: expected \"batch\" or \"normal\", got \"fifo\"")
        #expect(configProblem("[server]\nroot = \"\"")
            == "conf/ferry.toml: [server] root: expected a directory path, got \"\"")
        #expect(configProblem("[server]\nhost = \"my host\"")
            == "conf/ferry.toml: [server] host: expected a host name or address, got \"my host\"")
        #expect(configProblem("[log]\naccess = \"\"")
            == "conf/ferry.toml: [log] access: expected \"stdout\", \"off\" or a file path, got \"\"")
        let serverNameProblem = "expected 1 to 64 printable ASCII characters, not starting or ending with a space"
        #expect(configProblem("[http]\nserver_name = \"\"")
            == "conf/ferry.toml: [http] server_name: \(serverNameProblem), got \"\"")
        #expect(configProblem("[http]\nserver_name = \"Ferry\\r\\nX-Evil: 1\"")
            == "conf/ferry.toml: [http] server_name: \(serverNameProblem), got \"Ferry\\r\\nX-Evil: 1\"")
        #expect(configProblem("[http]\nserver_name = \"Ferr\u{E9}\"")
            == "conf/ferry.toml: [http] server_name: \(serverNameProblem), got \"Ferr\u{E9}\"")
        #expect(configProblem("[http]\nserver_name = \" Ferry\"")
            == "conf/ferry.toml: [http] server_name: \(serverNameProblem), got \" Ferry\"")
        #expect(configProblem("[http]\nserver_name = \"\(String(repeating: "x", count: 65))\"")
            == "conf/ferry.toml: [http] server_name: \(serverNameProblem), got \"\(String(repeating: "x", count: 40))...\"")
        #expect(try loadTestConfig("[http]\nserver_name = \"\(String(repeating: "x", count: 64))\"").serverName.count == 64)
    }

    @Test func unknownSectionsAndKeysListTheKnownOnes() {
        #expect(configProblem("[server]\nprot = 80")
            == "conf/ferry.toml: [server] prot: unknown key (known: root, host, port, workers, max_workers, model, scheduling, backlog, defer_accept, max_connections, max_connections_per_address, reuse_port, user, group, chroot, allow_root, pid_file)")
        #expect(configProblem("[bodyy]\nmode = \"copy\"")
            == "conf/ferry.toml: [bodyy]: unknown section (known: server, http, body, cache, limits, log)")
        #expect(configProblem("port = 80")
            == "conf/ferry.toml: port: unknown key outside any section (sections: server, http, body, cache, limits, log)")
        #expect(configProblem("[log]\n\"access log\" = \"off\"")
            == "conf/ferry.toml: [log] \"access log\": unknown key (known: access)")
        // Keys are matched exactly: TOML is case-sensitive.
        #expect(configProblem("[Server]")
            == "conf/ferry.toml: [Server]: unknown section (known: server, http, body, cache, limits, log)")
    }

    @Test func rulesBetweenKeysAndTheModelList() throws {
        #expect(configProblem("[server]\nworkers = 4\nmax_workers = 2")
            == "conf/ferry.toml: [server] max_workers: must be at least workers (4), got 2")
        #expect(try loadTestConfig("[server]\nworkers = 4\nmax_workers = 4").maxWorkers == 4)
        #expect(configProblem("[server]\nmodel = \"x\"")
            == "conf/ferry.toml: [server] model: unknown model \"x\" (known: iterative, epoll, prefork-pass, prefork-pass-epoll)")
    }

    @Test func syntaxErrorsGiveTheLineAndTheParsersMessage() throws {
        let problem = try #require(configProblem("[server]\nport = 80\nhost = \n"))
        #expect(problem.hasPrefix("conf/ferry.toml: line 3: "))
        #expect(problem.count > "conf/ferry.toml: line 3: ".count)
        #expect(!problem.contains("\n"))

        let duplicate = try #require(configProblem("[server]\nport = 1\nport = 2\n"))
        #expect(duplicate.hasPrefix("conf/ferry.toml: line 3: "))

        #expect(configProblem("[server]\nhost = \"a\"\n\0\n") == "conf/ferry.toml: line 3: NUL characters are not allowed in TOML")
    }

    @Test func errorsAreOneLine() {
        #expect(ConfigError("a\nb\r\nc").description == "a b c")
        #expect(configProblem("[log]\n\"a\\nb\" = 1") == "conf/ferry.toml: [log] \"a\\nb\": unknown key (known: access)")
    }

    @Test func validateJudgesValuesSetByFlags() throws {
        var config = ServerConfig()
        try config.validate(models: ["prefork-pass-epoll"])
        config.port = 65536
        #expect(throws: ConfigError("[server] port: expected an integer from 0 to 65535, got 65536")) {
            try config.validate(models: ["prefork-pass-epoll"])
        }
        config.port = 80
        config.workers = 65
        #expect(throws: ConfigError("[server] max_workers: must be at least workers (65), got 64")) {
            try config.validate(models: ["prefork-pass-epoll"])
        }
    }

    /// The error says which key, apart from what is wrong, so a command can name the
    /// flag that set the value instead.
    @Test func validationErrorsCarryTheKey() throws {
        var config = ServerConfig()
        config.maxWorkers = 2000
        let error = try #require(throws: ConfigError.self) { try config.validate(models: ["prefork-pass"]) }
        #expect(error.key == "server.max_workers")
        #expect(error.problem == "expected an integer from 1 to 1024, got 2000")
        #expect(ConfigError("conf/ferry.toml: line 3: oops").key == nil)
    }

    @Test func defaultWorkersFollowTheCPUCount() {
        let cpus = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #expect(ServerConfig.defaultWorkers == min(max(cpus, 2), 64))
        #expect(ServerConfig().workers <= ServerConfig().maxWorkers)
    }
}
