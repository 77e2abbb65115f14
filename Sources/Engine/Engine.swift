import Logging
import Synchronization
import TributaryCore

/// Limits of a commit unit and the retry policy.
public struct EngineConfiguration: Sendable {
    /// A unit is committed at the first transaction boundary after this many events. Default: 10000.
    public var maxEvents: Int
    /// … or after this many value bytes (approximate: the sink reports them). Default: 16 MiB.
    public var maxBytes: Int
    /// … or once the unit is this old. Default: 100 ms.
    public var maxIntervalMilliseconds: Int
    /// Batches buffered between source and engine. Default: 16.
    public var queueCapacity: Int
    /// -1 = retry forever. Default: -1.
    public var maxRetries: Int
    /// Default: 300 ms.
    public var initialRetryDelayMilliseconds: Int
    /// Default: 10 s.
    public var maxRetryDelayMilliseconds: Int

    public init(
        maxEvents: Int = 10_000, maxBytes: Int = 16 << 20, maxIntervalMilliseconds: Int = 100, queueCapacity: Int = 16,
        maxRetries: Int = -1, initialRetryDelayMilliseconds: Int = 300, maxRetryDelayMilliseconds: Int = 10_000
    ) {
        self.maxEvents = maxEvents
        self.maxBytes = maxBytes
        self.maxIntervalMilliseconds = maxIntervalMilliseconds
        self.queueCapacity = queueCapacity
        self.maxRetries = maxRetries
        self.initialRetryDelayMilliseconds = initialRetryDelayMilliseconds
        self.maxRetryDelayMilliseconds = maxRetryDelayMilliseconds
    }
}

/// Moves records from a source to a sink in commit units. A unit holds whole source transactions only; its
/// records and offset are committed atomically by the sink, and only then is the source acknowledged
/// (DESIGN.md steps 2–5). Failures abort the unit and restart the source from the last committed offset.
public final class Engine: Sendable {
    let source: any ChangeSource
    let sink: any ChangeSink
    let configuration: EngineConfiguration
    let logger: Logger
    let observer: (any EngineObserver)?
    /// Replaces the committed offset at start (`run --start-lsn`): replay or skip from an operator's position.
    let startOverride: Offset?
    private let stopRequested = Atomic<Bool>(false)

    public init(
        source: any ChangeSource, sink: any ChangeSink, configuration: EngineConfiguration, logger: Logger,
        observer: (any EngineObserver)? = nil, startOverride: Offset? = nil
    ) {
        self.startOverride = startOverride
        self.source = source
        self.sink = sink
        self.configuration = configuration
        self.logger = logger
        self.observer = observer
    }

    /// Asks the source to stop at the next transaction boundary; `run` then commits and returns.
    public func requestStop() {
        stopRequested.store(true, ordering: .relaxed)
        source.requestStop()
    }

    private var isStopping: Bool { stopRequested.load(ordering: .relaxed) }

    /// Runs until the source ends (graceful stop, `initial_only`), a permanent error, or cancellation.
    public func run() async throws {
        do {
            try await runUntilDone()
        } catch is Stopped {
            logger.notice("stop requested while retrying: nothing in flight, stopping")
        }
    }

    private func runUntilDone() async throws {
        let runID = RunID.make()
        var committed: Offset? = try await withRetries("load offset") { try await sink.loadOffset() }
        if let startOverride {
            logger.notice(
                "starting from the operator's position instead of the committed offset",
                metadata: ["offset.lsn": "\(startOverride.lsn.map { LSN($0).description } ?? "-")",
                           "offset.committed.lsn": "\(committed?.lsn.map { LSN($0).description } ?? "-")"])
            committed = startOverride
        } else if let committed {
            logger.notice("resuming after committed offset", metadata: ["offset.lsn": "\(committed.lsn.map { LSN($0).description } ?? "-")"])
        } else {
            logger.notice("no committed offset: starting fresh")
        }
        var attempt = 0
        var unitSequence = 0
        while true {
            let channel = RecordChannel(capacity: configuration.queueCapacity)
            var session = UnitSession(runID: runID, sequence: unitSequence)
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    let startOffset = committed
                    group.addTask {
                        do {
                            try await self.source.run(after: startOffset, into: channel)
                            channel.finish()
                        } catch {
                            channel.finish(throwing: error)
                            throw error
                        }
                    }
                    do {
                        try await self.consume(
                            channel, session: &session, committed: &committed, resetAttempts: { attempt = 0 })
                    } catch {
                        // Wake a source suspended on a full channel so the group can end.
                        channel.finish(throwing: error)
                        throw error
                    }
                    try await group.waitForAll()
                }
                unitSequence = session.sequence
                return
            } catch {
                unitSequence = session.sequence
                await sink.abortUnit()
                if error is CancellationError || Task.isCancelled { throw error }
                if error.isOffsetConflict, !isOperatorOverride(committed) {
                    // Maybe another agent of the same name committed right after we read the offset: re-read
                    // it once; only an unchanged offset makes the conflict real.
                    let fresh = try await withRetries("reload offset") { try await sink.loadOffset() }
                    if let fresh, fresh != committed {
                        logger.notice("the committed offset moved while starting: resuming after the new one")
                        committed = fresh
                        continue
                    }
                }
                attempt += 1
                guard error.isRetriable, configuration.maxRetries < 0 || attempt <= configuration.maxRetries else {
                    logger.error("stopping on a permanent error", metadata: ["error": "\(error)"])
                    throw error
                }
                if isStopping { throw Stopped() }
                let delay = backoff(attempt: attempt)
                logger.info(
                    "retrying after a recoverable error",
                    metadata: ["error": "\(error)", "retry.attempt": "\(attempt)", "retry.delay.ms": "\(delay)"])
                observer?.retried(error: error)
                try await sleepUnlessStopped(milliseconds: delay)
                // Another process (a previous or concurrent agent of the same name) may have committed since:
                // resume after the sink's committed offset, not a stale copy.
                if !isOperatorOverride(committed) {
                    committed = try await withRetries("reload offset") { try await sink.loadOffset() } ?? committed
                }
            }
        }
    }

    /// Capped exponential backoff with jitter.
    func backoff(attempt: Int) -> Int {
        let base = configuration.initialRetryDelayMilliseconds
        let capped = min(configuration.maxRetryDelayMilliseconds, base << min(attempt - 1, 16))
        return max(1, capped / 2 + Int.random(in: 0...max(1, capped / 2)))
    }

    /// Thrown inside `run` when a stop is requested while nothing is in flight.
    struct Stopped: Error {}

    /// Back-off sleep in short slices, so a stop request is honoured at once (throws `Stopped`).
    private func sleepUnlessStopped(milliseconds: Int) async throws {
        let deadline = ContinuousClock.now + .milliseconds(milliseconds)
        while ContinuousClock.now < deadline {
            if isStopping { throw Stopped() }
            try await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
        }
    }

    /// Whether `offset` is still the operator's `--start-lsn`, which must not be replaced by the sink's.
    private func isOperatorOverride(_ offset: Offset?) -> Bool {
        startOverride != nil && offset == startOverride
    }

    private func withRetries<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch {
                attempt += 1
                guard error.isRetriable, configuration.maxRetries < 0 || attempt <= configuration.maxRetries else { throw error }
                let delay = backoff(attempt: attempt)
                logger.info("\(what) failed; retrying", metadata: ["error": "\(error)", "retry.delay.ms": "\(delay)"])
                try await sleepUnlessStopped(milliseconds: delay)
            }
        }
    }

    // MARK: - Commit units

    struct UnitSession {
        let runID: String
        var sequence: Int
        var open = false
        var events = 0
        var startedAt = ContinuousClock.now
        var inTransaction = false
        /// Offset reached at the last transaction boundary inside the open unit.
        var pending: Offset?

        init(runID: String, sequence: Int) {
            self.runID = runID
            self.sequence = sequence
        }

        var unitID: String { "\(runID)-\(sequence)" }
    }

    private func consume(
        _ channel: RecordChannel, session: inout UnitSession, committed: inout Offset?, resetAttempts: () -> Void
    ) async throws {
        let maxInterval = Duration.milliseconds(configuration.maxIntervalMilliseconds)
        while let batch = try await channel.next() {
            var segmentStart = 0
            for index in batch.indices {
                if !session.open {
                    session.sequence += 1
                    try await sink.beginUnit(id: session.unitID)
                    session.open = true
                    session.events = 0
                    session.startedAt = .now
                    session.pending = nil
                }
                switch batch[index] {
                case .begin:
                    session.inTransaction = true
                case .change:
                    session.events += 1
                case .commit(let boundary):
                    session.inTransaction = false
                    session.pending = boundary.offset
                case .heartbeat(let offset):
                    session.pending = offset
                }
                let atBoundary = !session.inTransaction && session.pending != nil
                if atBoundary,
                    session.events >= configuration.maxEvents || ContinuousClock.now - session.startedAt >= maxInterval
                {
                    try await sink.write(Array(batch[segmentStart...index]))
                    segmentStart = index + 1
                    try await commit(&session, committed: &committed)
                    resetAttempts()
                }
            }
            if segmentStart < batch.count {
                try await sink.write(Array(batch[segmentStart...]))
            }
            // The source is idle (nothing queued): commit what is complete rather than wait.
            if session.open, !session.inTransaction, session.pending != nil, channel.isEmpty {
                try await commit(&session, committed: &committed)
                resetAttempts()
            }
        }
        // Source finished (graceful stop): commit the complete part, abort an incomplete one.
        if session.open {
            if !session.inTransaction, session.pending != nil {
                try await commit(&session, committed: &committed)
            } else {
                await sink.abortUnit()
                session.open = false
            }
        }
    }

    private func commit(_ session: inout UnitSession, committed: inout Offset?) async throws {
        guard var offset = session.pending else { return }
        offset.unit = session.unitID
        offset.version = TributaryVersion.current
        let start = ContinuousClock.now
        try await sink.commitUnit(offset: offset)
        session.open = false
        committed = offset
        source.acknowledge(offset)
        observer?.committed(offset: offset, events: session.events, duration: ContinuousClock.now - start)
        logger.trace("committed unit", metadata: ["unit": "\(session.unitID)", "events": "\(session.events)"])
    }
}

/// Observability hook: the composition root turns these into metrics.
public protocol EngineObserver: Sendable {
    func committed(offset: Offset, events: Int, duration: Duration)
    func retried(error: any Error)
}

enum RunID {
    /// A short random id distinguishing this process's units from earlier runs' (e.g. `k3x9q2`).
    static func make() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<8).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }
}
