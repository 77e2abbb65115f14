import Foundation
import Testing
import TributaryConfig

/// The smallest valid configuration: the required keys only.
let requiredYAML = """
    name: orders-agent
    topic.prefix: shop
    database.dbname: shop
    kafka.bootstrap.servers: broker1:9092
    """

/// Loads `yaml` (defaults to `requiredYAML`) with the given environment and overrides.
func load(
    _ yaml: String = requiredYAML,
    environment: [String: String] = [:],
    overrides: [String: String] = [:]
) throws -> AgentConfiguration {
    try AgentConfiguration.load(yaml: yaml, path: "test.yaml", environment: environment, overrides: overrides)
}

/// The `ConfigurationError` thrown by `body`; records an issue when it throws nothing or something else.
func configurationError(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> AgentConfiguration
) -> ConfigurationError? {
    do {
        let configuration = try body()
        Issue.record("expected a ConfigurationError, loaded \(configuration.name)", sourceLocation: sourceLocation)
        return nil
    } catch let error as ConfigurationError {
        return error
    } catch {
        Issue.record("expected a ConfigurationError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
