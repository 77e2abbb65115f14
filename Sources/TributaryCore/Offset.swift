/// The committed source offset of one agent: the record stored in `<name>.offsets` (Kafka) or the local
/// offset file. Field names follow Debezium's offset maps where one exists; the JSON form is documented
/// in the README.
public struct Offset: Sendable, Hashable, Codable {
    /// `postgresql`, `mysql`, `mariadb` or `polling`.
    public var source: String
    /// PostgreSQL: end LSN of the last fully committed transaction; every transaction whose commit LSN
    /// is below it is done. This is the flush LSN confirmed to the slot.
    public var lsn: UInt64?
    /// PostgreSQL: commit LSN of that transaction (Debezium `lsn_commit`).
    public var lsnCommit: UInt64?
    /// PostgreSQL: xid of that transaction (Debezium `txId`).
    public var txId: UInt32?
    /// Source time of that transaction, µs (Debezium `ts_usec`).
    public var tsUsec: Int64?
    /// Snapshot progress while a snapshot is running; nil once streaming.
    public var snapshot: SnapshotProgress?
    /// The commit unit this offset was written in (`<run id>-<sequence>`); every event of that unit
    /// carries the same id in its `tributary.unit` header.
    public var unit: String?
    /// Agent version that wrote the record.
    public var version: String?
    /// Wall-clock time the record was written, ms since the epoch.
    public var time: Int64?

    public init(
        source: String, lsn: UInt64? = nil, lsnCommit: UInt64? = nil, txId: UInt32? = nil, tsUsec: Int64? = nil,
        snapshot: SnapshotProgress? = nil, unit: String? = nil, version: String? = nil, time: Int64? = nil
    ) {
        self.source = source
        self.lsn = lsn
        self.lsnCommit = lsnCommit
        self.txId = txId
        self.tsUsec = tsUsec
        self.snapshot = snapshot
        self.unit = unit
        self.version = version
        self.time = time
    }

    enum CodingKeys: String, CodingKey {
        case source, lsn
        case lsnCommit = "lsn_commit"
        case txId
        case tsUsec = "ts_usec"
        case snapshot, unit, version, time
    }
}

/// Progress of a running snapshot, part of the committed offset so a restart resumes it.
public struct SnapshotProgress: Sendable, Hashable, Codable {
    /// PostgreSQL: the slot's consistent point (LSN) the snapshot was taken at.
    public var lsn: UInt64?
    /// The exported snapshot name used by the run that wrote this record.
    public var snapshotName: String?
    /// Tables completely published.
    public var completedTables: [String]
    /// Per table in progress: the chunks already published (chunk index list).
    public var completedChunks: [String: [Int]]
    /// Per table: heap pages per chunk, fixed when the table's first chunk was planned so that a resumed
    /// snapshot cuts the same chunks.
    public var chunkPages: [String: Int]

    public init(lsn: UInt64? = nil, snapshotName: String? = nil, completedTables: [String] = [],
                completedChunks: [String: [Int]] = [:], chunkPages: [String: Int] = [:]) {
        self.lsn = lsn
        self.snapshotName = snapshotName
        self.completedTables = completedTables
        self.completedChunks = completedChunks
        self.chunkPages = chunkPages
    }

    enum CodingKeys: String, CodingKey {
        case lsn
        case snapshotName = "snapshot_name"
        case completedTables = "completed_tables"
        case completedChunks = "completed_chunks"
        case chunkPages = "chunk_pages"
    }
}
