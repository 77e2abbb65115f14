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

    public init(id: TableID, columns: [Column], version: Int = 0) {
        self.id = id
        self.columns = columns
        self.version = version
    }

    /// Indices of key columns, in column order (PostgreSQL relation order = key order for the replica identity).
    public var keyColumnIndices: [Int] {
        columns.indices.filter { columns[$0].isKey }
    }

    public var hasKey: Bool { columns.contains { $0.isKey } }
}
