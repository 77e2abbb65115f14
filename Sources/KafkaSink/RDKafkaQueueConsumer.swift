internal import CRdKafka
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// librdkafka's queue-based ("simple") consumer: partitions are started individually with
/// `rd_kafka_consume_start_queue` on one `rd_kafka_queue_t` and read with `rd_kafka_consume_batch_queue`.
///
/// It needs no consumer group (no `group.id`, no coordinator, no rebalance), so new partitions can be added
/// at any time without disturbing the others: what the offset reader, the topic reader and the dev broker's
/// record tap need. Not thread-safe: owned by one blocking loop, and every call blocks at most `timeoutMs`.
final class RDKafkaQueueConsumer {
    let client: RDKafkaClient
    /// `rd_kafka_queue_t *` that all started partitions forward to.
    private let queue: OpaquePointer
    /// `rd_kafka_topic_t *` per topic name.
    private var topics: [String: OpaquePointer] = [:]
    private var started: [PartitionID] = []
    private var batch: [UnsafeMutablePointer<rd_kafka_message_t>?]

    struct PartitionID: Hashable {
        var topic: String
        var partition: Int32
    }

    /// `properties` are the user's; `overrides` are applied on top (isolation level, EOF events, …).
    init(configuration: KafkaConfiguration, overrides: [(String, String)], batchSize: Int = 1024, logger: Logger)
        throws
    {
        // A fetch-only client: no group, no auto-commit of a group offset.
        let properties = RDKafkaConfig.layered(
            defaults: [("auto.offset.reset", "earliest")], user: configuration.properties,
            forced: [("enable.auto.commit", "false")] + overrides)
        self.client = try RDKafkaClient(kind: .consumer, properties: properties, logger: logger)
        guard let queue = rd_kafka_queue_new(client.handle) else {
            throw KafkaSinkError(.consumer, "rd_kafka_queue_new returned NULL")
        }
        self.queue = queue
        self.batch = Array(repeating: nil, count: max(1, batchSize))
    }

    deinit {
        stopAll()
        rd_kafka_queue_destroy(queue)
    }

    /// Whether `topic`/`partition` was started.
    func isStarted(_ id: PartitionID) -> Bool { started.contains(id) }

    /// Wraps `rd_kafka_consume_start_queue`: fetches `partition` from `offset` (or `RD_KAFKA_OFFSET_BEGINNING`).
    func start(topic: String, partition: Int32, offset: Int64) throws {
        let rkt = try topicHandle(topic)
        if rd_kafka_consume_start_queue(rkt, partition, offset, queue) == -1 {
            throw RDKafkaError.make(
                .consumer, code: rd_kafka_last_error(), operation: "rd_kafka_consume_start_queue(partition \(partition))",
                client: client, topic: topic)
        }
        started.append(PartitionID(topic: topic, partition: partition))
    }

    /// Starts from the earliest retained offset.
    func startFromBeginning(topic: String, partition: Int32) throws {
        try start(topic: topic, partition: partition, offset: Int64(RD_KAFKA_OFFSET_BEGINNING))
    }

    /// Wraps `rd_kafka_consume_stop` for every started partition and drops the topic handles.
    func stopAll() {
        for id in started {
            if let rkt = topics[id.topic] {
                rd_kafka_consume_stop(rkt, id.partition)
            }
        }
        started.removeAll()
        for rkt in topics.values {
            rd_kafka_topic_destroy(rkt)
        }
        topics.removeAll()
    }

    /// Wraps `rd_kafka_consume_batch_queue`: waits up to `timeoutMs` for messages and hands each (including
    /// error events such as `_PARTITION_EOF`) to `handle`, then destroys it. Returns how many were handled.
    @discardableResult
    func consume(timeoutMs: Int32, _ handle: (borrowing RDKafkaMessageView) throws -> Void) throws -> Int {
        client.poll()
        let count = batch.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_consume_batch_queue(queue, timeoutMs, buffer.baseAddress, buffer.count)
        }
        guard count >= 0 else {
            throw RDKafkaError.make(
                .consumer, code: rd_kafka_last_error(), operation: "rd_kafka_consume_batch_queue", client: client,
                topic: nil)
        }
        var index = 0
        // Destroy every message, including those after one whose handler threw.
        defer {
            for i in 0..<count {
                if let message = batch[i] { rd_kafka_message_destroy(message) }
                batch[i] = nil
            }
        }
        while index < count {
            if let message = batch[index] {
                try handle(RDKafkaMessageView(message: message))
            }
            index += 1
        }
        return count
    }

    private func topicHandle(_ topic: String) throws -> OpaquePointer {
        if let rkt = topics[topic] { return rkt }
        guard let rkt = rd_kafka_topic_new(client.handle, topic, nil) else {
            throw RDKafkaError.make(
                .consumer, code: rd_kafka_last_error(), operation: "rd_kafka_topic_new", client: client, topic: topic)
        }
        topics[topic] = rkt
        return rkt
    }
}

/// A borrowed view of one `rd_kafka_message_t`, valid only inside `RDKafkaQueueConsumer.consume`'s handler.
struct RDKafkaMessageView: ~Copyable {
    let message: UnsafeMutablePointer<rd_kafka_message_t>

    /// `rd_kafka_message_t.err` raw value (0 = a message; otherwise an event such as `_PARTITION_EOF`).
    var errorCode: Int32 { message.pointee.err.rawValue }
    var isPartitionEOF: Bool { message.pointee.err == RD_KAFKA_RESP_ERR__PARTITION_EOF }
    var errorName: String { RDKafkaError.name(message.pointee.err) }
    /// `rd_kafka_message_errstr`.
    var errorDescription: String {
        rd_kafka_message_errstr(message).map { String(cString: $0) } ?? RDKafkaError.describe(message.pointee.err)
    }
    var topic: String {
        guard let rkt = message.pointee.rkt else { return "" }
        return String(cString: rd_kafka_topic_name(rkt))
    }
    /// The topic handle (`rd_kafka_topic_t *`), to cache per-topic data without building a `String`.
    var topicHandle: OpaquePointer? { message.pointee.rkt }
    /// The topic name's bytes (no NUL), valid while the message is.
    var topicNameBytes: UnsafeRawBufferPointer {
        guard let rkt = message.pointee.rkt, let name = rd_kafka_topic_name(rkt) else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(start: name, count: strlen(name))
    }
    var partition: Int32 { message.pointee.partition }
    var offset: Int64 { message.pointee.offset }

    /// Key bytes without copying; nil for a null key.
    var keyBytes: UnsafeRawBufferPointer? {
        guard let key = message.pointee.key else { return nil }
        return UnsafeRawBufferPointer(start: key, count: message.pointee.key_len)
    }

    /// Value bytes without copying; nil for a tombstone.
    var valueBytes: UnsafeRawBufferPointer? {
        guard let payload = message.pointee.payload else { return nil }
        return UnsafeRawBufferPointer(start: payload, count: message.pointee.len)
    }

    /// Calls `body` for each header (name, value or nil) in order, without copying.
    func forEachHeader(_ body: (UnsafePointer<CChar>, UnsafeRawBufferPointer?) throws -> Void) rethrows {
        var headers: OpaquePointer?
        guard rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers else { return }
        var index = 0
        while true {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            guard rd_kafka_header_get_all(headers, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR else {
                return
            }
            if let name {
                try body(name, value.map { UnsafeRawBufferPointer(start: $0, count: size) })
            }
            index += 1
        }
    }

    /// Copies the record out (an error event must not be copied: check `errorCode` first).
    func copy() -> KafkaMessage {
        var headers: [KafkaHeader] = []
        forEachHeader { name, value in
            headers.append(KafkaHeader(name: String(cString: name), value: value.map { Array($0) }))
        }
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &type)
        return KafkaMessage(
            topic: topic, partition: partition, offset: offset, key: keyBytes.map { Array($0) },
            value: valueBytes.map { Array($0) }, headers: headers,
            timestampMillis: type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp)
    }
}
