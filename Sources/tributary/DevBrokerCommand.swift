import ArgumentParser
import Foundation
import KafkaSink
import Logging

/// `tributary dev-broker`: hosts librdkafka's mock Kafka cluster on 127.0.0.1 for the quick start and tests.
struct DevBrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-broker",
        abstract: "Run librdkafka's in-process mock Kafka cluster on 127.0.0.1 (development and tests only).",
        discussion: """
            Prints the bootstrap list as the first line of stdout, then serves until SIGTERM/SIGINT.
            Limits of the mock (see README): aborted transactions stay visible to read_committed readers,
            no CreateTopics or compaction, about 5 MiB kept per partition. Auto-created topics get 4 partitions.
            """)

    @Option(name: .long, help: "Number of mock brokers.")
    var brokers: Int = 1

    @Option(name: .long, help: "Also write the bootstrap list to this file (written atomically once serving).")
    var bootstrapFile: String?

    @Option(name: .long, help: "Append every message of every topic to this file as JSON lines, as it arrives.")
    var record: String?

    @Option(name: .long, help: "Log level (trace, debug, info, notice, warning, error).")
    var logLevel: String = "notice"

    func validate() throws {
        guard (1...16).contains(brokers) else { throw ValidationError("--brokers must be between 1 and 16") }
    }

    func run() async throws {
        LoggingBootstrap.bootstrap(level: Logger.Level(rawValue: logLevel) ?? .notice, json: false)
        let logger = Logger(label: "tributary.dev-broker")
        let broker = try DevBroker(brokerCount: brokers, logger: logger)
        // Unbuffered, so a parent reading our stdout sees the line at once.
        FileHandle.standardOutput.write(Data((broker.bootstrapServers + "\n").utf8))
        if let bootstrapFile {
            try OffsetFile.write(Array((broker.bootstrapServers + "\n").utf8), to: bootstrapFile)
        }
        let signals = SignalWatcher(signals: [SIGTERM, SIGINT])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await broker.run(recordingTo: record) }
            group.addTask {
                for await _ in signals.stream { return }
            }
            try await group.next()
            group.cancelAll()
        }
        await broker.shutdown()
        logger.notice("dev broker stopped")
    }
}
