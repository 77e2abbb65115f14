/// How events are encoded (EVENT-FORMAT.md; Debezium's converter and handling-mode options).
public struct FormatSettings: Sendable, Hashable {
    /// Debezium `decimal.handling.mode`.
    public enum DecimalHandlingMode: String, Sendable, Hashable, CaseIterable {
        case precise
        case string
        case double
    }

    /// Debezium `time.precision.mode`.
    public enum TimePrecisionMode: String, Sendable, Hashable, CaseIterable {
        case adaptive
        case adaptiveTimeMicroseconds = "adaptive_time_microseconds"
        case connect
        case isostring
        case microseconds
        case nanoseconds
    }

    /// Debezium `binary.handling.mode`.
    public enum BinaryHandlingMode: String, Sendable, Hashable, CaseIterable {
        case bytes
        case base64
        case base64URLSafe = "base64-url-safe"
        case hex
    }

    /// Debezium `interval.handling.mode`.
    public enum IntervalHandlingMode: String, Sendable, Hashable, CaseIterable {
        case numeric
        case string
    }

    /// Debezium `schema.name.adjustment.mode`.
    public enum SchemaNameAdjustmentMode: String, Sendable, Hashable, CaseIterable {
        /// Replace characters that are not valid in Avro names with `_` (EVENT-FORMAT.md c.1).
        case avro
        /// Keep names as derived from the topic.
        case none
    }

    /// `key.converter.schemas.enable` (or `schemas.enable`). Default: `true`.
    public var keySchemasEnabled: Bool
    /// `value.converter.schemas.enable` (or `schemas.enable`). Default: `true`.
    public var valueSchemasEnabled: Bool
    /// `tombstones.on.delete`. Default: `true`.
    public var tombstonesOnDelete: Bool
    /// `decimal.handling.mode`. Default: `precise`.
    public var decimalHandlingMode: DecimalHandlingMode
    /// `time.precision.mode`. Default: `adaptive`.
    public var timePrecisionMode: TimePrecisionMode
    /// `binary.handling.mode`. Default: `bytes`.
    public var binaryHandlingMode: BinaryHandlingMode
    /// `interval.handling.mode`. Default: `numeric`.
    public var intervalHandlingMode: IntervalHandlingMode
    /// `provide.transaction.metadata`. Default: `false`.
    public var provideTransactionMetadata: Bool
    /// `topic.transaction`, the suffix of the transaction topic. Default: `transaction`.
    public var transactionTopicSuffix: String
    /// `unavailable.value.placeholder`. Default: `__debezium_unavailable_value`.
    public var unavailableValuePlaceholder: String
    /// `schema.name.adjustment.mode`. Default: `avro`.
    public var schemaNameAdjustmentMode: SchemaNameAdjustmentMode
    /// `money.fraction.digits`, the scale of PostgreSQL `money` values. Default: 2.
    public var moneyFractionDigits: Int

    public init(
        keySchemasEnabled: Bool = true,
        valueSchemasEnabled: Bool = true,
        tombstonesOnDelete: Bool = true,
        decimalHandlingMode: DecimalHandlingMode = .precise,
        timePrecisionMode: TimePrecisionMode = .adaptive,
        binaryHandlingMode: BinaryHandlingMode = .bytes,
        intervalHandlingMode: IntervalHandlingMode = .numeric,
        provideTransactionMetadata: Bool = false,
        transactionTopicSuffix: String = "transaction",
        unavailableValuePlaceholder: String = "__debezium_unavailable_value",
        schemaNameAdjustmentMode: SchemaNameAdjustmentMode = .avro,
        moneyFractionDigits: Int = 2
    ) {
        self.keySchemasEnabled = keySchemasEnabled
        self.valueSchemasEnabled = valueSchemasEnabled
        self.tombstonesOnDelete = tombstonesOnDelete
        self.decimalHandlingMode = decimalHandlingMode
        self.timePrecisionMode = timePrecisionMode
        self.binaryHandlingMode = binaryHandlingMode
        self.intervalHandlingMode = intervalHandlingMode
        self.provideTransactionMetadata = provideTransactionMetadata
        self.transactionTopicSuffix = transactionTopicSuffix
        self.unavailableValuePlaceholder = unavailableValuePlaceholder
        self.schemaNameAdjustmentMode = schemaNameAdjustmentMode
        self.moneyFractionDigits = moneyFractionDigits
    }
}
