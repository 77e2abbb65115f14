/// The exact position of one change in its source log, enough to order and deduplicate events.
public enum SourcePosition: Hashable, Sendable {
    case postgres(PostgresPosition)
}

/// Position of an event in PostgreSQL's logical replication stream.
///
/// `(commitLSN, eventIndex)` is unique and totally ordered across the stream: several changes can share
/// one WAL record LSN (multi-row inserts), so the event index inside the transaction breaks ties.
public struct PostgresPosition: Hashable, Sendable, Comparable {
    /// LSN of the transaction's commit record (pgoutput Begin `final_lsn` = Commit `commit_lsn`).
    /// For snapshot rows: the slot's consistent point.
    public var commitLSN: LSN
    /// LSN of this change's WAL record (XLogData `dataStart`); Debezium's `source.lsn`.
    public var lsn: LSN
    /// 0-based index of this event inside its source transaction (or snapshot).
    public var eventIndex: Int64
    /// Transaction id (`source.txId`), nil for snapshot rows.
    public var xid: UInt32?
    /// Commit LSN of the previous transaction, Debezium `sequence[0]`.
    public var lastCommitLSN: LSN?

    public init(commitLSN: LSN, lsn: LSN, eventIndex: Int64, xid: UInt32?, lastCommitLSN: LSN? = nil) {
        self.commitLSN = commitLSN
        self.lsn = lsn
        self.eventIndex = eventIndex
        self.xid = xid
        self.lastCommitLSN = lastCommitLSN
    }

    public static func < (lhs: PostgresPosition, rhs: PostgresPosition) -> Bool {
        (lhs.commitLSN, lhs.eventIndex) < (rhs.commitLSN, rhs.eventIndex)
    }
}
