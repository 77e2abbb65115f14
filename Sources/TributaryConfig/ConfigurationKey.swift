/// The description of one configuration key: the single source for key validation, environment variable
/// names, secret redaction and the reference table in `docs/configuration.md`.
public struct ConfigurationKey: Sendable, Hashable {
    /// Sections of the reference, in document order.
    public enum Group: String, Sendable, Hashable, CaseIterable {
        case general = "General"
        case postgres = "PostgreSQL connection"
        case replication = "Replication slot and publication"
        case filters = "Table, column and key selection"
        case snapshot = "Snapshot"
        case format = "Event format"
        case heartbeat = "Heartbeats"
        case engine = "Engine and retries"
        case offsets = "Offsets"
        case sink = "Sink"
        case logging = "Logging"
        case kafka = "Kafka"
        case compatibility = "Kafka Connect compatibility"
    }

    /// The key as written in the YAML file, e.g. `database.hostname`. A name containing `<…>` is a
    /// template (`snapshot.select.statement.overrides.<schema.table>`).
    public let name: String
    public let group: Group
    /// The accepted values, in words (`integer ≥ 1`, `disable | allow | …`).
    public let type: String
    /// The default in words; nil when the key is required or has no default.
    public let defaultValue: String?
    /// Whether the value is a secret that is never printed.
    public let isSecret: Bool
    /// One sentence for the reference table.
    public let summary: String

    init(
        _ name: String,
        _ group: Group,
        type: String,
        default defaultValue: String?,
        secret: Bool = false,
        _ summary: String
    ) {
        self.name = name
        self.group = group
        self.type = type
        self.defaultValue = defaultValue
        self.isSecret = secret
        self.summary = summary
    }

    /// Whether the name is a template standing for many keys.
    public var isTemplate: Bool { name.contains("<") }

    /// The environment variable that overrides this key: `TRIBUTARY_` + the key upper-cased with `.` → `_`.
    public var environmentVariable: String { ConfigurationKeys.environmentVariable(for: name) }
}
