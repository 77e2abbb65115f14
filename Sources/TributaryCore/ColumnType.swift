/// The semantic type of a column, independent of the source database. `EventFormat` maps it to a
/// Kafka Connect schema (EVENT-FORMAT.md c.8); `typeName` keeps the native name for pass-through types.
public struct ColumnType: Hashable, Sendable {
    public indirect enum Kind: Hashable, Sendable {
        case boolean
        case int8
        case int16
        case int32
        case int64
        case float32
        case float64
        /// DECIMAL/NUMERIC. `scale == nil` means an unconstrained PostgreSQL NUMERIC
        /// (`io.debezium.data.VariableScaleDecimal`).
        case decimal(precision: Int?, scale: Int?)
        /// Character data: text, varchar, bpchar, name, char, citext, inet, … (Connect `string`).
        case string
        /// `io.debezium.data.Json` (json, jsonb).
        case json
        /// `io.debezium.data.Xml`.
        case xml
        /// `io.debezium.data.Uuid`.
        case uuid
        /// Raw bytes (bytea, BLOB, BINARY).
        case bytes
        /// `io.debezium.time.Date`.
        case date
        /// TIME(p); `precision == nil` means the default (6).
        case time(precision: Int?)
        /// TIME WITH TIME ZONE: `io.debezium.time.ZonedTime`.
        case timeTZ
        /// TIMESTAMP(p) / DATETIME(p) without time zone.
        case timestamp(precision: Int?)
        /// TIMESTAMP WITH TIME ZONE: `io.debezium.time.ZonedTimestamp`.
        case timestampTZ
        /// INTERVAL: `io.debezium.time.MicroDuration` (int64 µs; a month counts 365.25/12 days, as Debezium does).
        case interval
        /// BIT(n)/VARBIT: BIT(1) is a boolean, longer ones are `io.debezium.data.Bits` bytes.
        case bits(length: Int?)
        /// An enum type with its allowed labels (`io.debezium.data.Enum`); labels may be empty when unknown.
        case enumeration(labels: [String])
        /// An array of the element kind.
        case array(Kind)
        /// A type Tributary has no mapping for: passed through as its text with `typeName`.
        case unknown
    }

    public var kind: Kind
    /// The native type name, e.g. `int4`, `numeric`, `_text`, `mood` (user enum), `int4range`.
    public var typeName: String

    public init(_ kind: Kind, typeName: String) {
        self.kind = kind
        self.typeName = typeName
    }
}
