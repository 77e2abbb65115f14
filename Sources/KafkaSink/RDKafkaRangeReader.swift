internal import CRdKafka
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads topics from their low watermark up to the high watermark captured when the read starts
/// (`rd_kafka_query_watermark_offsets`; the last stable offset under `read_committed`), then stops.
///
/// Blocking: call it inside `BlockingQueue.run`. Every wait is bounded by 100 ms so `flag` and the deadline
/// are noticed promptly; a missing or empty topic returns after one metadata round trip.
enum RDKafkaRangeReader {
    /// Reads `topics` (nil: every topic except Kafka's internal `__consumer_offsets` / `__transaction_state`)
    /// and hands each record to `handle`, partition by partition in offset order (partitions interleave).
    static func read(
        configuration: KafkaConfiguration, topics: [String]?, isolationLevel: String, timeout: Duration,
        flag: CancellationFlag, logger: Logger, _ handle: (borrowing RDKafkaMessageView) throws -> Void
    ) throws {
        let deadline = ContinuousClock.now + timeout
        let consumer = try RDKafkaQueueConsumer(
            configuration: configuration,
            overrides: [
                ("isolation.level", isolationLevel), ("enable.partition.eof", "true"),
                ("fetch.wait.max.ms", "100"),
            ],
            logger: logger)

        // 1. Which partitions exist. All topics are listed (one request), so asking never auto-creates a missing
        // topic: brokers before Metadata v4 (librdkafka's mock among them) ignore allow.auto.create.topics=false.
        let listed = try sliced(deadline: deadline, flag: flag) { ms in
            try consumer.client.metadata(topic: nil, timeoutMs: ms)
        }
        let metadata: [RDKafkaClient.TopicMetadata]
        if let topics {
            let wanted = Set(topics)
            metadata = listed.filter { wanted.contains($0.name) }
        } else {
            metadata = listed.filter { $0.name != "__consumer_offsets" && $0.name != "__transaction_state" }
        }

        // 2. Where each partition ends right now.
        var end: [RDKafkaQueueConsumer.PartitionID: Int64] = [:]
        for topic in metadata {
            guard topic.error == RD_KAFKA_RESP_ERR_NO_ERROR.rawValue else {
                // UNKNOWN_TOPIC_OR_PART: a topic that does not exist holds no records.
                logger.debug(
                    "Kafka topic not readable, treated as empty",
                    metadata: [
                        KafkaLoggingKeys.topic: "\(topic.name)",
                        KafkaLoggingKeys.errorCode: "\(RDKafkaError.name(rd_kafka_resp_err_t(rawValue: topic.error)))",
                    ])
                continue
            }
            for partition in topic.partitions {
                try flag.check()
                let marks = try sliced(deadline: deadline, flag: flag) { ms in
                    try consumer.client.watermarks(topic: topic.name, partition: partition, timeoutMs: ms)
                }
                guard marks.high > marks.low else { continue }
                let id = RDKafkaQueueConsumer.PartitionID(topic: topic.name, partition: partition)
                end[id] = marks.high
                try consumer.start(topic: topic.name, partition: partition, offset: marks.low)
            }
        }

        // 3. Consume until every partition reached its end.
        var pending = Set(end.keys)
        while !pending.isEmpty {
            try flag.check()
            guard ContinuousClock.now < deadline else {
                throw KafkaSinkError(
                    .timedOut,
                    "reading \(pending.count) partition(s) up to their high watermark did not finish within \(timeout)",
                    topic: pending.first?.topic)
            }
            try consumer.consume(timeoutMs: 100) { message in
                let id = RDKafkaQueueConsumer.PartitionID(topic: message.topic, partition: message.partition)
                guard let last = end[id] else { return }
                if message.errorCode != 0 {
                    if message.isPartitionEOF {
                        if message.offset >= last { pending.remove(id) }
                        return
                    }
                    // Offset out of range (retention/purge) resets to the earliest offset; other errors are
                    // transient fetch errors that librdkafka retries.
                    logger.info(
                        "Kafka fetch error while reading a topic",
                        metadata: [
                            KafkaLoggingKeys.topic: "\(id.topic)", KafkaLoggingKeys.partition: "\(id.partition)",
                            KafkaLoggingKeys.errorCode: "\(message.errorName)",
                            KafkaLoggingKeys.librdkafkaMessage: "\(message.errorDescription)",
                        ])
                    return
                }
                guard message.offset < last else {
                    pending.remove(id)
                    return
                }
                try handle(message)
                if message.offset + 1 >= last { pending.remove(id) }
            }
        }
    }

    /// Runs a blocking query in waits of at most 1 s, repeating it after retriable failures (timeouts, broker
    /// transport) until it succeeds, `deadline` passes or `flag` is raised.
    static func sliced<T>(
        deadline: ContinuousClock.Instant, flag: CancellationFlag, _ query: (Int32) throws -> T
    ) throws -> T {
        while true {
            try flag.check()
            do {
                return try query(min(1000, remainingMs(deadline)))
            } catch let error as KafkaSinkError where error.isRetriable && ContinuousClock.now < deadline {
                // Transport errors can return at once: pause briefly (this runs on a blocking queue).
                usleep(50_000)
            }
        }
    }

    /// Milliseconds left until `deadline`, at least 1.
    static func remainingMs(_ deadline: ContinuousClock.Instant) -> Int32 {
        let remaining = ContinuousClock.now.duration(to: deadline)
        let ms = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(1, ms))
    }
}
