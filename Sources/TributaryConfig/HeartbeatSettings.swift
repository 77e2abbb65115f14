/// Heartbeats (`heartbeat.*`, `topic.heartbeat.prefix`): periodic records that let the offset (and the
/// slot) advance while the captured tables are idle.
public struct HeartbeatSettings: Sendable, Hashable {
    /// `heartbeat.interval.ms`; nil when `0` (off). Default: nil.
    public var interval: Duration?
    /// `heartbeat.action.query`, run on the source at each heartbeat. Default: nil.
    public var actionQuery: String?
    /// `topic.heartbeat.prefix`. Default: `__debezium-heartbeat`.
    public var topicPrefix: String

    public init(interval: Duration? = nil, actionQuery: String? = nil, topicPrefix: String = "__debezium-heartbeat") {
        self.interval = interval
        self.actionQuery = actionQuery
        self.topicPrefix = topicPrefix
    }

    /// Whether heartbeats are on.
    public var isEnabled: Bool { interval != nil }
}
