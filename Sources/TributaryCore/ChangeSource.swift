/// A database change log reader (PostgreSQL pgoutput, MySQL binlog, polling).
public protocol ChangeSource: Sendable {
    /// Reads changes in source order and sends them into `output`, starting strictly after `offset`
    /// (nil: from the beginning, per the snapshot mode). Returns when cancelled or when the source is done
    /// (`snapshot.mode: initial_only`); throws on failure, answering `RetriableError.isRetriable`.
    func run(after offset: Offset?, into output: RecordChannel) async throws

    /// The sink durably committed everything up to `offset`: the source may now confirm it upstream
    /// (PostgreSQL standby status `flush`). Must not block.
    func acknowledge(_ offset: Offset)

    /// Graceful stop: finish the source transaction in flight, then end `output` (so the engine commits
    /// it) and return from `run` once the final position was confirmed upstream. Must not block.
    func requestStop()
}

/// A destination for formatted change events, committed in units together with the offset.
public protocol ChangeSink: Sendable {
    /// Reads the last committed offset record of this agent, nil if none.
    func loadOffset() async throws -> Offset?
    /// Opens a commit unit (a Kafka transaction). `id` goes into every record's `tributary.unit` header.
    func beginUnit(id: String) async throws
    /// Formats and publishes records of the open unit. Suspends (backpressure) while the sink's queue is full.
    func write(_ records: [SourceRecord]) async throws
    /// Writes `offset` and commits the unit atomically with its records.
    func commitUnit(offset: Offset) async throws
    /// Aborts the open unit, if any.
    func abortUnit() async
}

/// Errors that the engine can retry (connection loss, broker transport) vs. permanent ones
/// (authentication, configuration, corrupt data, a fenced producer).
public protocol RetriableError: Error {
    var isRetriable: Bool { get }
}

extension Error {
    /// Whether a retry may succeed. Errors that do not say are treated as permanent.
    public var isRetriable: Bool { (self as? any RetriableError)?.isRetriable ?? false }
}

/// An error saying the source cannot serve the offset it was given (e.g. PostgreSQL: the stored offset is
/// behind the slot). It may only mean the offset was read just before another agent of the same name
/// committed its last unit, so the engine re-reads the committed offset once before giving up.
public protocol OffsetConflictError: Error {
    var isOffsetConflict: Bool { get }
}

extension Error {
    public var isOffsetConflict: Bool { (self as? any OffsetConflictError)?.isOffsetConflict ?? false }
}
