import TributaryCore

/// The initial snapshot (`snapshot.*`).
public struct SnapshotSettings: Sendable, Hashable {
    /// Debezium `snapshot.mode`.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Snapshot when no offset exists, then stream.
        case initial
        /// Snapshot when no offset exists, then stop.
        case initialOnly = "initial_only"
        /// Never snapshot; stream from the slot (`never` is an alias).
        case noData = "no_data"
        /// Snapshot when no offset exists or the stored position is no longer available, then stream.
        case whenNeeded = "when_needed"
        /// Snapshot at every start, then stream.
        case always
    }

    /// `snapshot.mode`. Default: `initial`.
    public var mode: Mode
    /// `snapshot.max.threads`. Default: 1.
    public var maxThreads: Int
    /// `snapshot.fetch.size`. Default: 10000.
    public var fetchSize: Int
    /// `snapshot.chunk.size`. Default: 20000.
    public var chunkSize: Int
    /// `snapshot.include.collection.list` over `schema.table`. Default: nil (snapshot every captured table).
    public var includeCollectionList: RegexList?
    /// `snapshot.select.statement.overrides` with each table's
    /// `snapshot.select.statement.overrides.<schema.table>` statement. Default: empty.
    public var selectStatementOverrides: [TableID: String]
    /// `snapshot.progress.interval.ms`. Default: 10 s.
    public var progressInterval: Duration

    public init(
        mode: Mode = .initial,
        maxThreads: Int = 1,
        fetchSize: Int = 10000,
        chunkSize: Int = 20_000,
        includeCollectionList: RegexList? = nil,
        selectStatementOverrides: [TableID: String] = [:],
        progressInterval: Duration = .seconds(10)
    ) {
        self.mode = mode
        self.maxThreads = maxThreads
        self.fetchSize = fetchSize
        self.chunkSize = chunkSize
        self.includeCollectionList = includeCollectionList
        self.selectStatementOverrides = selectStatementOverrides
        self.progressInterval = progressInterval
    }

    /// Whether a captured table is snapshotted (`snapshot.include.collection.list`; all when unset).
    public func includes(_ table: TableID) -> Bool {
        includeCollectionList?.matches(table.description) ?? true
    }
}
