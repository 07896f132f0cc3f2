import Testing
@testable import FerryKit

@Suite struct HeaderRulesConfigTests {
    @Test func rulesAreReadInOrder() throws {
        let config = try loadTestConfig("""
            [[headers]]
            path = "*.html"
            set = { Cache-Control = "no-cache" }

            [[headers]]
            path = "/api/**"
            set = { Access-Control-Allow-Origin = "*" }
            remove = ["ETag", "Last-Modified"]
            """)
        #expect(config.headerRules.count == 2)
        #expect(config.headerRules[0].pattern.text == "*.html")
        #expect(config.headerRules[0].set.map(\.name) == ["Cache-Control"])
        #expect(config.headerRules[0].set.map(\.value) == ["no-cache"])
        #expect(config.headerRules[1].remove == ["ETag", "Last-Modified"])
    }

    @Test(arguments: [
        ("[[headers]]\npath = \"*.js\"\nset = { \"X Bad\" = \"1\" }",
         #"conf/ferry.toml: [[headers]] #1 (path "*.js"): set: "X Bad" is not a field name (letters, digits and !#$%&'*+-.^_`|~ only)"#),
        ("[[headers]]\npath = \"*.js\"\nset = { X-A = \"a\\r\\nSet-Cookie: x=1\" }",
         #"conf/ferry.toml: [[headers]] #1 (path "*.js"): set: X-A: value "a\r\nSet-Cookie: x=1" holds a control character (CR, LF, ...)"#),
        ("[[headers]]\npath = \"*.js\"\nset = { X-A = \" padded\" }",
         #"conf/ferry.toml: [[headers]] #1 (path "*.js"): set: X-A: value " padded" starts or ends with whitespace"#),
        ("[[headers]]\npath = \"*.js\"\nset = { Content-Length = \"0\" }",
         "conf/ferry.toml: [[headers]] #1 (path \"*.js\"): set: Content-Length is written by Ferry itself and cannot be set or removed"),
        ("[[headers]]\npath = \"/a\"\nremove = [\"Connection\"]",
         "conf/ferry.toml: [[headers]] #1 (path \"/a\"): remove: Connection is written by Ferry itself and cannot be set or removed"),
        ("[[headers]]\npath = \"/a\"\nset = { X-A = 1 }",
         "conf/ferry.toml: [[headers]] #1 (path \"/a\"): set: X-A: expected a string, got an integer"),
        ("[[headers]]\npath = \"/a\"\nset = { X-A = \"1\" }\n[[headers]]\npath = \"a/b\"\nset = { X-A = \"1\" }",
         "conf/ferry.toml: [[headers]] #2 (path \"a/b\"): path: expected \"/...\" (the whole path) or a name without \"/\" (\"*.html\")"),
        ("[[headers]]\nset = { X-A = \"1\" }",
         "conf/ferry.toml: [[headers]] #1: path: expected a pattern string such as \"/assets/**\" or \"*.html\""),
        ("[[headers]]\npath = \"/a\"",
         "conf/ferry.toml: [[headers]] #1 (path \"/a\"): sets and removes nothing"),
        ("[[headers]]\npath = \"/a\"\nadd = { X-A = \"1\" }",
         "conf/ferry.toml: [[headers]] #1 (path \"/a\"): unknown key \"add\" (known: path, set, remove)"),
        ("headers = \"x\"",
         "conf/ferry.toml: [[headers]]: expected an array of tables ([[headers]]), got a string"),
    ])
    func badRulesAreOneLineNamingTheRule(toml: String, expected: String) {
        #expect(configProblem(toml) == expected)
    }

    @Test func errorPagesResolveBesideTheFile() throws {
        #expect(try loadTestConfig("[http]\nerror_pages = \"../errors\"").errorPages == "/srv/ferry/errors")
        #expect(try loadTestConfig("").errorPages == "")
    }
}
