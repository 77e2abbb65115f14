/// Commit units, batching, retries and shutdown (`commit.*`, `max.*`, `errors.*`, `shutdown.timeout.ms`).
public struct EngineSettings: Sendable, Hashable {
    /// `commit.max.events`. Default: 10000.
    public var commitMaxEvents: Int
    /// `commit.max.bytes`. Default: 16777216 (16 MiB).
    public var commitMaxBytes: Int
    /// `commit.interval.ms`. Default: 100 ms.
    public var commitInterval: Duration
    /// `max.queue.size`, in batches. Default: 16.
    public var maxQueueSize: Int
    /// `max.batch.size`, in records. Default: 1024.
    public var maxBatchSize: Int
    /// `errors.max.retries`; nil when `-1` (retry forever). Default: nil.
    public var maxRetries: Int?
    /// `errors.retry.delay.initial.ms`. Default: 300 ms.
    public var retryInitialDelay: Duration
    /// `errors.retry.delay.max.ms`. Default: 10 s.
    public var retryMaxDelay: Duration
    /// `shutdown.timeout.ms`. Default: 30 s.
    public var shutdownTimeout: Duration

    public init(
        commitMaxEvents: Int = 10000,
        commitMaxBytes: Int = 16_777_216,
        commitInterval: Duration = .milliseconds(100),
        maxQueueSize: Int = 16,
        maxBatchSize: Int = 1024,
        maxRetries: Int? = nil,
        retryInitialDelay: Duration = .milliseconds(300),
        retryMaxDelay: Duration = .seconds(10),
        shutdownTimeout: Duration = .seconds(30)
    ) {
        self.commitMaxEvents = commitMaxEvents
        self.commitMaxBytes = commitMaxBytes
        self.commitInterval = commitInterval
        self.maxQueueSize = maxQueueSize
        self.maxBatchSize = maxBatchSize
        self.maxRetries = maxRetries
        self.retryInitialDelay = retryInitialDelay
        self.retryMaxDelay = retryMaxDelay
        self.shutdownTimeout = shutdownTimeout
    }
}
