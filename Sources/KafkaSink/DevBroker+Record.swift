internal import CRdKafka
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension DevBroker {
    /// Whether the tap records `topic`: every topic not starting with `_`, plus Debezium-style heartbeat topics
    /// (`__debezium-heartbeat.*`).
    public static func isRecorded(topic: String) -> Bool {
        !topic.hasPrefix("_") || topic.hasPrefix("__debezium-heartbeat")
    }

    /// Taps every recorded topic of this cluster into `path` (truncated first), one JSON object per line:
    ///
    ///     {"topic":"t","partition":0,"offset":7,"key":"k" | null,"value":"v" | null,"headers":{"name":"value"}}
    ///
    /// Keys, values and header values are written as UTF-8 text (invalid sequences become U+FFFD). The tap is a
    /// group-less queue consumer inside this process: it lists topics every 200 ms and starts new partitions
    /// from their earliest offset, so it reads while producers write (the mock keeps only ~5 MiB per
    /// partition). Aborted transactions are recorded too (the mock writes no control records). Lines are
    /// written to the file at least every `flushInterval`. Returns when the task is cancelled, after a final
    /// catch-up (at most 2 s) to the high watermarks of that moment.
    public func record(to path: String, flushInterval: Duration = .milliseconds(100)) async throws {
        let configuration = KafkaConfiguration(bootstrapServers: bootstrapServers)
        var logger = tapLogger
        logger[metadataKey: KafkaLoggingKeys.path] = "\(path)"
        let tapLogger = logger
        try await BlockingQueue(label: "tributary.kafka.devbroker.tap").runCancellable { flag in
            try RecordTap(
                broker: self, configuration: configuration, path: path, flushInterval: flushInterval,
                logger: tapLogger
            ).run(flag: flag)
        }
    }
}

/// The record tap's blocking loop (runs on its own dispatch queue).
private final class RecordTap {
    let broker: DevBroker
    let consumer: RDKafkaQueueConsumer
    let writer: JSONLinesFile
    let flushInterval: Duration
    let logger: Logger
    /// Next offset to record per started partition.
    var next: [RDKafkaQueueConsumer.PartitionID: Int64] = [:]

    init(broker: DevBroker, configuration: KafkaConfiguration, path: String, flushInterval: Duration, logger: Logger)
        throws
    {
        self.broker = broker
        self.consumer = try RDKafkaQueueConsumer(
            configuration: configuration,
            overrides: [
                // Record everything as written: the mock cannot hide aborted records anyway.
                ("isolation.level", "read_uncommitted"), ("enable.partition.eof", "false"),
                ("fetch.wait.max.ms", "10"), ("fetch.error.backoff.ms", "10"),
                ("log.connection.close", "false"),
            ],
            batchSize: 4096, logger: logger)
        self.writer = try JSONLinesFile(path: path)
        self.flushInterval = flushInterval
        self.logger = logger
    }

    func run(flag: CancellationFlag) throws {
        let clock = ContinuousClock()
        var lastRefresh = clock.now - .seconds(1)
        var lastFlush = clock.now
        logger.debug("Kafka dev broker record tap started")
        while !flag.isCancelled {
            if clock.now - lastRefresh >= .milliseconds(200) {
                refreshPartitions()
                lastRefresh = clock.now
            }
            try consumeOnce(timeoutMs: 20)
            if writer.pendingBytes >= 1 << 20 || clock.now - lastFlush >= flushInterval {
                try writer.flush()
                lastFlush = clock.now
            }
        }
        try catchUp(deadline: clock.now + .seconds(2))
        try writer.flush()
        logger.debug(
            "Kafka dev broker record tap stopped", metadata: [KafkaLoggingKeys.count: "\(broker.recordedMessages)"])
    }

    /// Starts every recorded partition not started yet, from its earliest offset.
    private func refreshPartitions() {
        let topics: [RDKafkaClient.TopicMetadata]
        do {
            topics = try consumer.client.metadata(topic: nil, timeoutMs: 500)
        } catch {
            logger.debug("Kafka dev broker tap: metadata refresh failed", metadata: ["error": "\(error)"])
            return
        }
        for topic in topics where topic.error == 0 && DevBroker.isRecorded(topic: topic.name) {
            for partition in topic.partitions {
                let id = RDKafkaQueueConsumer.PartitionID(topic: topic.name, partition: partition)
                guard next[id] == nil else { continue }
                do {
                    try consumer.startFromBeginning(topic: topic.name, partition: partition)
                    next[id] = 0
                } catch {
                    logger.info("Kafka dev broker tap: cannot start partition", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// One `rd_kafka_consume_batch_queue` round: records messages, counts gaps, logs fetch errors.
    @discardableResult
    private func consumeOnce(timeoutMs: Int32) throws -> Int {
        var written = 0
        // Per-message work avoids building Strings: the partition key is rebuilt only when the topic changes.
        var currentHandle: OpaquePointer?
        var currentTopic = ""
        try consumer.consume(timeoutMs: timeoutMs) { message in
            guard message.errorCode == 0 else {
                if message.isPartitionEOF { return }
                self.logger.info(
                    "Kafka dev broker tap: fetch error",
                    metadata: [
                        KafkaLoggingKeys.topic: "\(message.topic)", KafkaLoggingKeys.partition: "\(message.partition)",
                        KafkaLoggingKeys.errorCode: "\(message.errorName)",
                        KafkaLoggingKeys.librdkafkaMessage: "\(message.errorDescription)",
                    ])
                return
            }
            if currentHandle == nil || message.topicHandle != currentHandle {
                currentHandle = message.topicHandle
                currentTopic = message.topic
            }
            let id = RDKafkaQueueConsumer.PartitionID(topic: currentTopic, partition: message.partition)
            let expected = self.next[id] ?? 0
            if message.offset > expected {
                // The mock purged these before the tap read them (auto.offset.reset moved past them).
                self.broker.addLost(Int(message.offset - expected))
                // A warning: tests reading the record file would otherwise miss records silently.
                self.logger.warning(
                    "Kafka dev broker tap: records purged by the mock before they were recorded",
                    metadata: [
                        KafkaLoggingKeys.topic: "\(id.topic)", KafkaLoggingKeys.partition: "\(id.partition)",
                        KafkaLoggingKeys.offset: "\(expected)..<\(message.offset)",
                    ])
            }
            self.writer.append(message)
            self.next[id] = message.offset + 1
            written += 1
        }
        broker.addRecorded(written)
        return written
    }

    /// After cancellation: reads on until every started partition reached the high watermark it had when the
    /// tap stopped, or `deadline`.
    private func catchUp(deadline: ContinuousClock.Instant) throws {
        refreshPartitions()
        var targets: [RDKafkaQueueConsumer.PartitionID: Int64] = [:]
        for id in next.keys {
            guard ContinuousClock.now < deadline,
                let marks = try? consumer.client.watermarks(topic: id.topic, partition: id.partition, timeoutMs: 200)
            else { continue }
            targets[id] = marks.high
        }
        while ContinuousClock.now < deadline {
            let behind = targets.contains { id, high in (next[id] ?? 0) < high }
            guard behind else { return }
            try consumeOnce(timeoutMs: 20)
        }
    }
}

/// Buffered JSON-lines output with POSIX `open`/`write`.
final class JSONLinesFile {
    private let fd: Int32
    private let path: String
    private var buffer: [UInt8] = []

    init(path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw KafkaSinkError(.recordFile, "cannot open \(path) for writing: errno \(errno)")
        }
        self.fd = fd
        self.path = path
        buffer.reserveCapacity(1 << 20)
    }

    deinit {
        close(fd)
    }

    var pendingBytes: Int { buffer.count }

    /// Writes the buffered lines to the file.
    func flush() throws {
        var written = 0
        let total = buffer.count
        while written < total {
            let result = buffer.withUnsafeBytes { bytes in
                write(fd, bytes.baseAddress.map { $0 + written }, total - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw KafkaSinkError(.recordFile, "write to \(path) failed: errno \(errno)")
            }
            written += result
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Appends one record as a JSON line.
    func append(_ message: borrowing RDKafkaMessageView) {
        Self.appendLine(&buffer, message)
    }

    private static func appendLine(_ out: inout [UInt8], _ message: borrowing RDKafkaMessageView) {
        appendASCII(&out, "{\"topic\":")
        appendJSONString(&out, message.topicNameBytes)
        appendASCII(&out, ",\"partition\":")
        appendDecimal(&out, Int64(message.partition))
        appendASCII(&out, ",\"offset\":")
        appendDecimal(&out, message.offset)
        appendASCII(&out, ",\"key\":")
        appendJSONStringOrNull(&out, message.keyBytes)
        appendASCII(&out, ",\"value\":")
        appendJSONStringOrNull(&out, message.valueBytes)
        appendASCII(&out, ",\"headers\":{")
        var first = true
        message.forEachHeader { name, value in
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            appendJSONString(&out, UnsafeRawBufferPointer(start: name, count: strlen(name)))
            out.append(UInt8(ascii: ":"))
            appendJSONStringOrNull(&out, value)
        }
        appendASCII(&out, "}}\n")
    }

    private static func appendASCII(_ out: inout [UInt8], _ text: StaticString) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    private static func appendDecimal(_ out: inout [UInt8], _ value: Int64) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var index = buffer.count
            repeat {
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[index...]))
        }
    }

    /// `null`, or the bytes as a JSON string.
    private static func appendJSONStringOrNull(_ out: inout [UInt8], _ bytes: UnsafeRawBufferPointer?) {
        guard let bytes else {
            appendASCII(&out, "null")
            return
        }
        appendJSONString(&out, bytes)
    }

    /// Appends `bytes` as a JSON string (RFC 8259 §7): `"`, `\` and control characters escaped, unescaped runs
    /// copied at once. Invalid UTF-8 is replaced by U+FFFD so every line stays valid JSON text.
    private static func appendJSONString(_ out: inout [UInt8], _ bytes: UnsafeRawBufferPointer) {
        let start = out.count
        let sawNonASCII = appendEscaped(&out, bytes)
        if sawNonASCII, String(validating: bytes, as: UTF8.self) == nil {
            out.removeSubrange(start...)
            let repaired = Array(String(decoding: bytes, as: UTF8.self).utf8)
            repaired.withUnsafeBytes { _ = appendEscaped(&out, $0) }
        }
    }

    /// Returns whether any byte was ≥ 0x80.
    private static func appendEscaped(_ out: inout [UInt8], _ bytes: UnsafeRawBufferPointer) -> Bool {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        var high: UInt8 = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            high |= byte
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < index {
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
            }
            runStart = index + 1
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "\n"): out.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): out.append(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): out.append(UInt8(ascii: "t"))
            default:
                let hex: StaticString = "0123456789abcdef"
                hex.withUTF8Buffer { digits in
                    out.append(contentsOf: [
                        UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), digits[Int(byte >> 4)],
                        digits[Int(byte & 0xF)],
                    ])
                }
            }
        }
        if runStart < bytes.count {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart...]))
        }
        out.append(UInt8(ascii: "\""))
        return high >= 0x80
    }
}
