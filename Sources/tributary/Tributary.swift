import ArgumentParser
import TributaryCore

/// `tributary`: the change-data-capture agent's command line.
@main
struct Tributary: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tributary",
        abstract: "Change-data-capture agent: PostgreSQL logical replication to Kafka, exactly once.",
        discussion: """
            Exit codes: 0 success or graceful stop; 1 unexpected failure; 2 invalid configuration;
            3 permanent source error (authentication, slot or publication problem, lost position);
            4 permanent Kafka error; 5 fenced by another agent with the same name; 64 bad command line.
            """,
        version: TributaryVersion.current,
        subcommands: [RunCommand.self, DevBrokerCommand.self, OffsetsCommand.self, VersionCommand.self]
    )
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")

    func run() {
        print("tributary \(TributaryVersion.current) (Debezium event format \(TributaryVersion.debeziumCompatible))")
    }
}

/// Documented exit codes.
enum ExitCodes {
    static let failure: Int32 = 1
    static let configuration: Int32 = 2
    static let source: Int32 = 3
    static let sink: Int32 = 4
    static let fenced: Int32 = 5
}
