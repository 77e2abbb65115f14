import ArgumentParser
import Foundation
import KafkaSink
import Logging
import TributaryConfig
import TributaryCore

/// `tributary offsets show|set|reset`: operate on the committed offset record (Kafka or file).
struct OffsetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offsets",
        abstract: "Show, set or reset the committed source offset of an agent.",
        discussion: "Stop the agent first: set/reset use the agent's transactional.id and fence a running agent.",
        subcommands: [Show.self, Set.self, Reset.self])

    struct Common: ParsableArguments {
        @Option(name: .long, help: "The agent's YAML configuration file.")
        var config: String?
        @Option(name: .customLong("set"), help: "Override one key: --set key=value (repeatable).")
        var overrides: [String] = []
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the committed offset record as JSON.")
        @OptionGroup var common: Common

        func run() async throws {
            let configuration = try loadConfiguration(file: common.config, overrides: common.overrides)
            let store = try OffsetAdmin(configuration: configuration)
            guard let offset = try await store.load() else {
                print("no committed offset for agent '\(configuration.name)'")
                return
            }
            print(String(decoding: try OffsetCodec.encodePretty(offset), as: UTF8.self))
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the committed offset: the next run resumes after --lsn.")
        @OptionGroup var common: Common
        @Option(name: .long, help: "PostgreSQL LSN, e.g. 0/16B3748 (transactions committed before it are skipped).")
        var lsn: String
        @Flag(name: .long, help: "Do not ask for confirmation (for scripts).")
        var yes = false

        func run() async throws {
            let configuration = try loadConfiguration(file: common.config, overrides: common.overrides)
            guard let parsed = LSN(string: lsn) else {
                throw ValidationError("--lsn must look like 16/B374D848, got '\(lsn)'")
            }
            try confirm(yes: yes, "set the offset of agent '\(configuration.name)' to \(parsed)")
            let store = try OffsetAdmin(configuration: configuration)
            var offset = Offset(source: "postgresql", lsn: parsed.rawValue)
            offset.version = TributaryVersion.current
            try await store.store(offset)
            print("offset of agent '\(configuration.name)' set to \(parsed)")
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the committed offset: the next run starts as a first run (snapshot.mode applies).")
        @OptionGroup var common: Common
        @Flag(name: .long, help: "Do not ask for confirmation (for scripts).")
        var yes = false

        func run() async throws {
            let configuration = try loadConfiguration(file: common.config, overrides: common.overrides)
            try confirm(yes: yes, "delete the offset of agent '\(configuration.name)'")
            let store = try OffsetAdmin(configuration: configuration)
            try await store.store(nil)
            print("offset of agent '\(configuration.name)' reset")
        }
    }
}

func confirm(yes: Bool, _ action: String) throws {
    guard !yes else { return }
    guard isatty(STDIN_FILENO) == 1 else {
        throw ValidationError("refusing to \(action) without --yes (standard input is not a terminal)")
    }
    print("About to \(action). Type 'yes' to continue: ", terminator: "")
    guard readLine() == "yes" else { throw ExitCode(ExitCodes.failure) }
}

/// Reads and writes the offset record outside the agent (Kafka: in its own transaction; file: atomically).
struct OffsetAdmin {
    let configuration: AgentConfiguration
    let logger = Logger(label: "tributary.offsets")

    init(configuration: AgentConfiguration) throws {
        self.configuration = configuration
    }

    func load() async throws -> Offset? {
        switch configuration.offsets.storage {
        case .kafka(let topic):
            let offsets = OffsetTopic(configuration: KafkaConfiguration(configuration.kafka), logger: logger)
            guard let bytes = try await offsets.readLatest(topic: topic, key: configuration.name) else { return nil }
            return try OffsetCodec.decode(bytes)
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else { return nil }
            return try OffsetCodec.decode(Array(data))
        }
    }

    /// Writes `offset`, or a tombstone (Kafka) / removes the file when nil.
    func store(_ offset: Offset?) async throws {
        var offset = offset
        offset?.time = WallClock.nowMillis()
        switch configuration.offsets.storage {
        case .kafka(let topic):
            let producer = try TransactionalProducer(
                configuration: KafkaConfiguration(configuration.kafka), transactionalID: "tributary-\(configuration.name)",
                logger: logger)
            try await producer.initTransactions()
            try producer.beginTransaction()
            try await producer.produce(
                topic: topic, key: Array(configuration.name.utf8), value: try offset.map { try OffsetCodec.encode($0) })
            try await producer.commitTransaction()
        case .file(let path):
            if let offset {
                try OffsetFile.write(try OffsetCodec.encode(offset), to: path)
            } else if FileManager.default.fileExists(atPath: path) {
                try FileManager.default.removeItem(atPath: path)
            }
        }
    }
}

extension OffsetCodec {
    static func encodePretty(_ offset: Offset) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return Array(try encoder.encode(offset))
    }
}
