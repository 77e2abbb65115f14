import Foundation
import Testing
import TributaryConfig
import TributaryCore

@Suite struct DocumentationTests {
    static let beginMarker = "<!-- BEGIN GENERATED KEY REFERENCE -->\n"
    static let endMarker = "<!-- END GENERATED KEY REFERENCE -->"

    /// `docs/configuration.md` and the README embed `ConfigurationKeys.markdownReference()` verbatim. Run the
    /// tests with `TRIBUTARY_RECORD_FIXTURES=1` to rewrite that section after changing the key catalog.
    @Test(arguments: ["docs/configuration.md", "README.md"])
    func referenceTableMatchesTheKeyCatalog(file: String) throws {
        let url = repositoryRoot.appendingPathComponent(file)
        let document = try String(contentsOf: url, encoding: .utf8)
        let generated = ConfigurationKeys.markdownReference()
        guard let begin = document.range(of: Self.beginMarker), let end = document.range(of: Self.endMarker) else {
            Issue.record("\(file) lacks the generated-reference markers")
            return
        }
        let current = String(document[begin.upperBound..<end.lowerBound])
        if current != generated, ProcessInfo.processInfo.environment["TRIBUTARY_RECORD_FIXTURES"] == "1" {
            let updated = document.replacingCharacters(in: begin.upperBound..<end.lowerBound, with: generated)
            try updated.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        #expect(current == generated, "\(file) is stale: rerun with TRIBUTARY_RECORD_FIXTURES=1")
    }

    @Test func exampleConfigurationLoads() throws {
        let path = repositoryRoot.appendingPathComponent("fixtures/config/example-postgres.yaml").path
        let c = try AgentConfiguration.load(
            file: path,
            environment: ["TRIBUTARY_DATABASE_PASSWORD": "from-env"],
            overrides: [:]
        )
        #expect(c.name == "inventory-agent")
        #expect(c.topicPrefix == "inventory")
        #expect(c.postgres.databaseName == "inventory")
        #expect(c.postgres.password.exposedValue == "from-env")
        #expect(c.filter.includes(.init(schema: "inventory", name: "orders")))
        #expect(!c.filter.includes(.init(schema: "public", name: "orders")))
        #expect(c.kafka["bootstrap.servers"] == "127.0.0.1:9092")
        #expect(c.offsets.storage == .kafka(topic: "inventory-agent.offsets"))
    }

    @Test func missingFileIsReported() {
        let error = configurationError {
            try AgentConfiguration.load(file: "/nonexistent/tributary.yaml", environment: [:], overrides: [:])
        }
        #expect(error?.code == .unreadableFile)
        #expect(error?.source == .file(path: "/nonexistent/tributary.yaml", line: nil))
    }
}
