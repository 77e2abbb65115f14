import TributaryCore

/// Settings of the PostgreSQL source, built by the `tributary` composition root from the agent configuration.
public struct PostgresSourceConfiguration: Sendable {
    public enum PublicationAutocreate: String, Sendable {
        /// `CREATE PUBLICATION … FOR ALL TABLES` when missing.
        case allTables = "all_tables"
        /// `CREATE PUBLICATION … FOR TABLE <captured tables>` when missing; kept in sync at start.
        case filtered
        /// Never create: a missing publication is an error.
        case disabled
    }

    public var connection: PostgresConnectionSettings
    /// Default: `tributary`.
    public var slotName: String
    /// Default: `tributary_publication`.
    public var publicationName: String
    /// Default: `all_tables`.
    public var publicationAutocreate: PublicationAutocreate
    /// Which tables are captured (`table.include.list` / `exclude`, `schema.*.list`).
    public var captureTable: @Sendable (TableID) -> Bool
    /// Which columns are excluded (`column.exclude.list`), by table and column name.
    public var excludeColumn: @Sendable (TableID, String) -> Bool
    /// `message.key.columns` overrides: table → key column names (nil: the primary key).
    public var keyColumns: @Sendable (TableID, [String]) -> [String]?
    /// How often a standby status update is sent even when nothing changed. Default: 10 s.
    public var statusIntervalMilliseconds: Int
    /// `heartbeat.interval.ms`: when > 0 and the captured tables are idle while the server's WAL moves,
    /// the source emits `.heartbeat` records at this interval. Default: 0 (off).
    public var heartbeatIntervalMilliseconds: Int
    /// `heartbeat.action.query`: SQL run on the source at each heartbeat interval (e.g. an UPDATE of a
    /// heartbeat table, or `SELECT pg_logical_emit_message(false, 'tributary-heartbeat', '')`).
    public var heartbeatActionQuery: String?
    /// Extra pgoutput options from `slot.stream.params` (`streaming=on` enables protocol v2 streaming).
    public var streamParameters: [String: String]
    /// `max.batch.size`: records per batch handed to the engine. Default: 1024.
    public var maxBatchSize: Int
    /// Drop the slot on a clean stop (`slot.drop.on.stop`). Default: false.
    public var dropSlotOnStop: Bool
    /// How long a graceful stop waits for the in-flight transaction and the final acknowledgement.
    public var shutdownTimeoutMilliseconds: Int
    /// `snapshot.mode` and its settings.
    public var snapshot: SnapshotSettings

    public struct SnapshotSettings: Sendable {
        public enum Mode: String, Sendable {
            case initial, initialOnly = "initial_only", noData = "no_data", whenNeeded = "when_needed", always
        }
        public var mode: Mode
        public var maxThreads: Int
        public var fetchSize: Int
        public var chunkSize: Int
        /// Tables the snapshot reads (`snapshot.include.collection.list`), on top of `captureTable`.
        public var includeTable: @Sendable (TableID) -> Bool
        /// `snapshot.select.statement.overrides`: table → SELECT.
        public var selectOverrides: [TableID: String]
        public var progressIntervalMilliseconds: Int

        public init(
            mode: Mode = .initial, maxThreads: Int = 1, fetchSize: Int = 10_000, chunkSize: Int = 100_000,
            includeTable: @escaping @Sendable (TableID) -> Bool = { _ in true },
            selectOverrides: [TableID: String] = [:], progressIntervalMilliseconds: Int = 10_000
        ) {
            self.mode = mode
            self.maxThreads = maxThreads
            self.fetchSize = fetchSize
            self.chunkSize = chunkSize
            self.includeTable = includeTable
            self.selectOverrides = selectOverrides
            self.progressIntervalMilliseconds = progressIntervalMilliseconds
        }
    }

    public init(
        connection: PostgresConnectionSettings, slotName: String = "tributary",
        publicationName: String = "tributary_publication", publicationAutocreate: PublicationAutocreate = .allTables,
        captureTable: @escaping @Sendable (TableID) -> Bool = { _ in true },
        excludeColumn: @escaping @Sendable (TableID, String) -> Bool = { _, _ in false },
        keyColumns: @escaping @Sendable (TableID, [String]) -> [String]? = { _, _ in nil }, statusIntervalMilliseconds: Int = 10_000,
        heartbeatIntervalMilliseconds: Int = 0, heartbeatActionQuery: String? = nil,
        streamParameters: [String: String] = [:], maxBatchSize: Int = 1024, dropSlotOnStop: Bool = false,
        shutdownTimeoutMilliseconds: Int = 30_000, snapshot: SnapshotSettings = SnapshotSettings(mode: .noData)
    ) {
        self.connection = connection
        self.slotName = slotName
        self.publicationName = publicationName
        self.publicationAutocreate = publicationAutocreate
        self.captureTable = captureTable
        self.excludeColumn = excludeColumn
        self.keyColumns = keyColumns
        self.statusIntervalMilliseconds = statusIntervalMilliseconds
        self.heartbeatIntervalMilliseconds = heartbeatIntervalMilliseconds
        self.heartbeatActionQuery = heartbeatActionQuery
        self.streamParameters = streamParameters
        self.maxBatchSize = maxBatchSize
        self.dropSlotOnStop = dropSlotOnStop
        self.shutdownTimeoutMilliseconds = shutdownTimeoutMilliseconds
        self.snapshot = snapshot
    }
}
