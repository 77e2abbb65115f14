import EventFormat
import Foundation
import KafkaSink
import Logging
import TributaryCore

/// The Kafka sink of the agent: formats records with `EventFormat`, produces them into the open Kafka
/// transaction, and commits each unit together with its offset record (DESIGN.md "Offsets").
///
/// Before the offset record is produced, the unit's data messages are flushed (acknowledged). So an offset
/// record is visible only after every event of its unit is: a reader that cannot rely on read_committed
/// (librdkafka's mock cluster) can still tell committed units by their offset records.
actor KafkaChangeSink: ChangeSink {
    static let unitHeader = "tributary.unit"

    let producer: TransactionalProducer
    let offsets: OffsetTopic
    let kafka: KafkaConfiguration
    let agentName: String
    let offsetTopic: String
    let heartbeatsEnabled: Bool
    let logger: Logger
    private var formatter: DebeziumJSONFormatter
    private var initialized = false
    private var unitOpen = false
    private var unitID: [UInt8] = []
    private var buffer: [FormattedRecord] = []

    init(
        kafka: KafkaConfiguration, agentName: String, offsetTopic: String, formatter: DebeziumJSONFormatter,
        heartbeatsEnabled: Bool, logger: Logger
    ) throws {
        self.kafka = kafka
        self.producer = try TransactionalProducer(
            configuration: kafka, transactionalID: "tributary-\(agentName)", logger: logger)
        self.offsets = OffsetTopic(configuration: kafka, logger: logger)
        self.agentName = agentName
        self.offsetTopic = offsetTopic
        self.formatter = formatter
        self.heartbeatsEnabled = heartbeatsEnabled
        self.logger = logger
    }

    private func initialize() async throws {
        guard !initialized else { return }
        try await offsets.ensureTopic(name: offsetTopic, timeout: .seconds(2))
        try await producer.initTransactions(timeout: .seconds(30))
        initialized = true
    }

    func loadOffset() async throws -> Offset? {
        // Initialise transactions first: this fences an earlier or concurrent agent with the same name
        // (its open transaction is aborted, it stops with exit code 5) before this one reads the offset.
        try await initialize()
        guard let bytes = try await offsets.readLatest(topic: offsetTopic, key: agentName, timeout: .seconds(30))
        else { return nil }
        return try OffsetCodec.decode(bytes)
    }

    func beginUnit(id: String) async throws {
        try await initialize()
        try producer.beginTransaction()
        unitOpen = true
        unitID = Array(id.utf8)
    }

    func write(_ records: [SourceRecord]) async throws {
        for record in records {
            try formatter.format(record, heartbeats: heartbeatsEnabled, into: &buffer)
            if buffer.count >= 256 { try await produceBuffered() }
        }
        try await produceBuffered()
    }

    private func produceBuffered() async throws {
        for record in buffer {
            var headers = record.headers.map { ($0.key, $0.value) }
            headers.append((Self.unitHeader, unitID))
            try await producer.produce(topic: record.topic, key: record.key, value: record.value, headers: headers)
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func commitUnit(offset: Offset) async throws {
        var offset = offset
        offset.time = WallClock.nowMillis()
        // Every event of the unit is acknowledged before its offset record is sent (see type doc).
        try await producer.flush(timeout: .seconds(60))
        try await producer.produce(
            topic: offsetTopic, key: Array(agentName.utf8), value: try OffsetCodec.encode(offset),
            headers: [(Self.unitHeader, unitID)])
        try await producer.commitTransaction(timeout: .seconds(60))
        unitOpen = false
    }

    func abortUnit() async {
        guard unitOpen else { return }
        unitOpen = false
        buffer.removeAll()
        do {
            try await producer.abortTransaction(timeout: .seconds(30))
        } catch {
            logger.info("aborting the Kafka transaction failed", metadata: ["error": "\(error)"])
        }
    }
}

/// JSON form of the offset record (documented in the README).
enum OffsetCodec {
    static func encode(_ offset: Offset) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(offset))
    }

    static func decode(_ bytes: [UInt8]) throws -> Offset {
        do {
            return try JSONDecoder().decode(Offset.self, from: Data(bytes))
        } catch {
            throw OffsetRecordError(message: "the stored offset record is not valid: \(error)", bytes: bytes)
        }
    }
}

struct OffsetRecordError: Error, CustomStringConvertible {
    var message: String
    var bytes: [UInt8]
    var description: String { "\(message) (\(bytes.count) bytes)" }
}
