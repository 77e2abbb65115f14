/// Tributary's version, written into offset records and printed by `tributary version`.
public enum TributaryVersion {
    public static let current = "0.1.0"
    /// The Debezium release whose event format Tributary emits (`source.version`).
    public static let debeziumCompatible = "3.1.0.Final"
}
