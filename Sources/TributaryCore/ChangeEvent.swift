/// One committed row change (or truncate / logical message), ready to be formatted.
public struct ChangeEvent: Sendable {
    /// Debezium `op` codes.
    public enum Operation: String, Sendable, Hashable {
        case create = "c"
        case update = "u"
        case delete = "d"
        case read = "r"
        case truncate = "t"
        case message = "m"
    }

    /// `source.snapshot`: Debezium's enum, a string in JSON.
    public enum SnapshotMarker: String, Sendable, Hashable {
        case `false` = "false"
        case `true` = "true"
        case first = "first"
        case firstInDataCollection = "first_in_data_collection"
        case lastInDataCollection = "last_in_data_collection"
        case last = "last"
        case incremental = "incremental"
    }

    /// A `pg_logical_emit_message` payload (op `m`).
    public struct LogicalMessage: Sendable, Hashable {
        public var prefix: String
        public var content: [UInt8]
        public var transactional: Bool
        public init(prefix: String, content: [UInt8], transactional: Bool) {
            self.prefix = prefix
            self.content = content
            self.transactional = transactional
        }
    }

    public var op: Operation
    /// The table's schema as of this event. For logical messages, a placeholder with no columns
    /// whose id is (`""`, `""`).
    public var table: TableSchema
    /// Values in `table.columns` order. `nil` when the event has no before image. With REPLICA
    /// IDENTITY DEFAULT, deletes carry only key columns: the others are `.null`.
    public var before: [Value]?
    public var after: [Value]?
    public var position: SourcePosition
    /// Commit (or event) time at the source, µs since the epoch.
    public var sourceTimestampMicros: Int64
    public var snapshot: SnapshotMarker
    public var message: LogicalMessage?

    public init(
        op: Operation, table: TableSchema, before: [Value]?, after: [Value]?, position: SourcePosition,
        sourceTimestampMicros: Int64, snapshot: SnapshotMarker = .false, message: LogicalMessage? = nil
    ) {
        self.op = op
        self.table = table
        self.before = before
        self.after = after
        self.position = position
        self.sourceTimestampMicros = sourceTimestampMicros
        self.snapshot = snapshot
        self.message = message
    }
}

/// The start or end of one source transaction, for commit units and transaction metadata.
public struct TransactionBoundary: Sendable, Hashable {
    /// Source transaction id as Debezium writes it in `transaction.id` (PostgreSQL: `"<xid>:<lsn>"`).
    public var id: String
    /// Source commit/begin time, µs since the epoch.
    public var timestampMicros: Int64
    /// The position that is fully done once this transaction is committed (on `.commit`).
    public var offset: Offset
    /// True for the boundaries of a snapshot chunk: not a source transaction, so no transaction metadata.
    public var isSnapshotChunk: Bool
    /// PostgreSQL: the transaction id and the LSN of the BEGIN/COMMIT message (Debezium's metadata ids).
    public var xid: UInt32?
    public var lsn: LSN?

    public init(
        id: String, timestampMicros: Int64, offset: Offset, isSnapshotChunk: Bool = false, xid: UInt32? = nil,
        lsn: LSN? = nil
    ) {
        self.id = id
        self.timestampMicros = timestampMicros
        self.offset = offset
        self.isSnapshotChunk = isSnapshotChunk
        self.xid = xid
        self.lsn = lsn
    }
}

/// What a source hands to the engine, in source order.
public enum SourceRecord: Sendable {
    case begin(TransactionBoundary)
    case change(ChangeEvent)
    /// End of a source transaction: after it, `boundary.offset` may be committed.
    case commit(TransactionBoundary)
    /// The source is idle and its log advanced without captured changes: committing this offset (with a
    /// heartbeat record when enabled) lets the database recycle its log.
    case heartbeat(Offset)
}
