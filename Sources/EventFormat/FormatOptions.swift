#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// How `DebeziumJSONFormatter` writes events. Every option carries the Debezium connector property it mirrors,
/// with the same meaning and default (EVENT-FORMAT.md, options list and c.8).
public struct FormatOptions: Sendable {
    /// `decimal.handling.mode`.
    public enum DecimalHandling: String, Sendable, CaseIterable {
        /// `bytes` `org.apache.kafka.connect.data.Decimal` (base64 of the unscaled two's-complement value), or
        /// `io.debezium.data.VariableScaleDecimal` for NUMERIC without a scale.
        case precise
        /// A plain decimal string (`toPlainString`); Flink-friendly.
        case string
        /// A float64.
        case double
    }

    /// `time.precision.mode` (Debezium 3.1's six modes).
    public enum TimePrecision: String, Sendable, CaseIterable {
        /// ms for precision 0–3, µs for 4–6 (`io.debezium.time.Time`/`MicroTime`, `Timestamp`/`MicroTimestamp`).
        case adaptive
        /// Like `adaptive`, but TIME is always `MicroTime`.
        case adaptiveTimeMicroseconds = "adaptive_time_microseconds"
        /// `org.apache.kafka.connect.data.Date`/`Time`/`Timestamp` (milliseconds).
        case connect
        /// ISO-8601 strings (`io.debezium.time.IsoDate`/`IsoTime`/`IsoTimestamp`); Flink-friendly.
        case isostring
        /// Always µs (`MicroTime`, `MicroTimestamp`).
        case microseconds
        /// Always ns (`NanoTime`, `NanoTimestamp`).
        case nanoseconds
    }

    /// `binary.handling.mode`.
    public enum BinaryHandling: String, Sendable, CaseIterable {
        /// Connect `bytes`, base64 in JSON.
        case bytes
        /// A base64 string (`string` schema).
        case base64
        /// A URL-safe base64 string.
        case base64URLSafe = "base64-url-safe"
        /// A lower-case hex string.
        case hex
    }

    /// `interval.handling.mode`.
    public enum IntervalHandling: String, Sendable, CaseIterable {
        /// `io.debezium.time.MicroDuration` (int64 µs; a month counts 365.25 / 12 days, as in Debezium).
        case numeric
        /// `io.debezium.time.Interval`, an ISO-8601 duration (`P1Y2M3DT4H5M6.78S`).
        case string
    }

    /// `schema.name.adjustment.mode`.
    public enum SchemaNameAdjustment: String, Sendable, CaseIterable {
        /// Replace characters that are not legal in Avro names with `_` (EVENT-FORMAT.md c.1).
        case avro
        /// Keep names as derived from the topic (Debezium ≥ 2.0's own default).
        case none
    }

    /// `topic.prefix`; also `source.name` and the heartbeat key. Required.
    public var topicPrefix: String
    /// `topic.delimiter`. Default: `"."`.
    public var topicDelimiter: String = "."
    /// `source.connector`. Default: `"postgresql"`.
    public var connector: String = "postgresql"
    /// `source.db`: the captured database's name. Required.
    public var databaseName: String
    /// JsonConverter `schemas.enable`: frame key and value as `{"schema":…,"payload":…}`. Default: `true`.
    public var schemasEnable: Bool = true
    /// Key framing (`key.converter.schemas.enable`) when it differs from the value's; nil: `schemasEnable`.
    public var keySchemasEnable: Bool?
    /// Whether keys are framed `{"schema":…,"payload":…}`.
    public var keySchemasEnabled: Bool { keySchemasEnable ?? schemasEnable }
    /// Default: `.precise`.
    public var decimalHandling: DecimalHandling = .precise
    /// Default: `.adaptive` (PostgreSQL's default).
    public var timePrecision: TimePrecision = .adaptive
    /// Default: `.bytes`.
    public var binaryHandling: BinaryHandling = .bytes
    /// Default: `.numeric`.
    public var intervalHandling: IntervalHandling = .numeric
    /// Default: `.avro`.
    public var schemaNameAdjustment: SchemaNameAdjustment = .avro
    /// `tombstones.on.delete`: follow every delete with a null-value record under the same key. Default: `true`.
    public var tombstonesOnDelete: Bool = true
    /// `provide.transaction.metadata`: fill `transaction` and write BEGIN/END records. Default: `false`.
    public var provideTransactionMetadata: Bool = false
    /// `topic.transaction` as a full topic name. Default: nil, meaning `<topic.prefix><delimiter>transaction`.
    public var transactionTopic: String?
    /// `topic.heartbeat.prefix`. Default: `"__debezium-heartbeat"`.
    public var heartbeatTopicPrefix: String = "__debezium-heartbeat"
    /// `unavailable.value.placeholder`: what unchanged TOASTed values become.
    /// Default: `"__debezium_unavailable_value"`.
    public var unavailableValuePlaceholder: String = "__debezium_unavailable_value"
    /// `money.fraction.digits`: the scale of PostgreSQL MONEY columns (`typeName == "money"`). Default: `2`.
    public var moneyFractionDigits: Int = 2
    /// Processing-time clock for the envelope's `ts_ms`/`ts_us`/`ts_ns`, in µs since the epoch.
    /// Default: the system's real-time clock.
    public var clock: @Sendable () -> Int64 = FormatOptions.systemClockMicros

    public init(topicPrefix: String, databaseName: String) {
        self.topicPrefix = topicPrefix
        self.databaseName = databaseName
    }

    /// The transaction topic in effect (`topic.transaction`, c.5).
    public var effectiveTransactionTopic: String {
        transactionTopic ?? topicPrefix + topicDelimiter + "transaction"
    }

    /// `__debezium-heartbeat.<topic.prefix>` (c.6).
    public var heartbeatTopic: String {
        heartbeatTopicPrefix + topicDelimiter + topicPrefix
    }

    /// `<topic.prefix>.message`: PostgreSQL logical-decoding messages (`LogicalDecodingMessageMonitor`; the
    /// suffix is fixed, it does not use `topic.delimiter`).
    public var messageTopic: String {
        topicPrefix + ".message"
    }

    /// Wall-clock time in µs since the epoch (`CLOCK_REALTIME`).
    @Sendable
    public static func systemClockMicros() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1_000
    }
}
