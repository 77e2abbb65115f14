/// One column of a captured table, in table column order.
public struct Column: Hashable, Sendable {
    public var name: String
    public var type: ColumnType
    /// Whether the column may be NULL (Connect `optional`).
    public var isOptional: Bool
    /// Part of the key used for the Kafka message key (primary key, replica-identity index or
    /// `message.key.columns`).
    public var isKey: Bool

    public init(name: String, type: ColumnType, isOptional: Bool = true, isKey: Bool = false) {
        self.name = name
        self.type = type
        self.isOptional = isOptional
        self.isKey = isKey
    }
}

/// The shape of a captured table at one point of the stream. A relation change mid-stream yields a new
/// `TableSchema` with a higher `version`; events carry the schema they were decoded with.
public struct TableSchema: Hashable, Sendable {
    public var id: TableID
    public var columns: [Column]
    /// Bumped whenever the source sees the table's shape change, so formatters can cache per version.
    public var version: Int
    /// Key column indices in key order (primary-key order), when it differs from column order.
    public var keyOrder: [Int]?

    public init(id: TableID, columns: [Column], version: Int = 0, keyOrder: [Int]? = nil) {
        self.id = id
        self.columns = columns
        self.version = version
        self.keyOrder = keyOrder
    }

    /// Indices of key columns in key order: `keyOrder` when set (primary-key order, as Debezium keys
    /// are), otherwise the `isKey` columns in column order.
    public var keyColumnIndices: [Int] {
        if let keyOrder { return keyOrder }
        return columns.indices.filter { columns[$0].isKey }
    }

    public var hasKey: Bool { columns.contains { $0.isKey } }
}
