import TributaryCore

/// The validated configuration of one Tributary agent.
///
/// Built by `load(file:environment:overrides:)` from a YAML file of Debezium connector property names,
/// `TRIBUTARY_*` environment variables and command-line overrides, in precedence
/// overrides > environment > file > defaults. Every key is documented in `docs/configuration.md`.
///
/// Printing a configuration (`description`, `debugDescription`, `dump`) never shows secrets; use
/// `effectiveSettings(redacted:)` to list every key with its value and source.
public struct AgentConfiguration: Sendable {
    /// Debezium `connector.class`.
    public enum Connector: String, Sendable, Hashable, CaseIterable {
        /// PostgreSQL via pgoutput (`io.debezium.connector.postgresql.PostgresConnector`).
        case postgresql
    }

    /// `name`. Default: none (required).
    public var name: String
    /// `topic.prefix`. Default: none (required).
    public var topicPrefix: String
    /// `topic.delimiter`. Default: `.`.
    public var topicDelimiter: String
    /// `connector.class`. Default: `postgresql`.
    public var connector: Connector
    /// `database.*`, `slot.*`, `publication.*`, `plugin.name`, `status.update.interval.ms`.
    public var postgres: PostgresSettings
    /// `schema.*.list`, `table.*.list`, `column.*.list`. Default: every non-system table and column.
    public var filter: TableFilter
    /// `message.key.columns`. Default: none (primary key / replica identity).
    public var keyColumns: KeyColumnOverrides
    /// `snapshot.*`.
    public var snapshot: SnapshotSettings
    /// `*.schemas.enable`, `*.handling.mode`, `time.precision.mode`, `tombstones.on.delete`, transaction metadata.
    public var format: FormatSettings
    /// `heartbeat.*`, `topic.heartbeat.prefix`. Default: off.
    public var heartbeat: HeartbeatSettings
    /// `commit.*`, `max.*`, `errors.*`, `shutdown.timeout.ms`.
    public var engine: EngineSettings
    /// `offset.storage*`.
    public var offsets: OffsetSettings
    /// `sink.*`.
    public var sink: SinkSettings
    /// `log.*`.
    public var logging: LoggingSettings
    /// Every `kafka.<property>` with the `kafka.` prefix stripped, passed to librdkafka unchanged. Holds
    /// secrets (`sasl.password`, …) in clear: hand it only to librdkafka, never print it. Default: empty.
    public var kafka: [String: String]

    /// Every key with its value and source, captured while loading.
    let settings: [EffectiveSetting]

    // MARK: - Topic names

    /// The data topic of `table`: `<topic.prefix>.<schema>.<table>` (Debezium's default topic naming).
    public func topic(for table: TableID) -> String {
        [topicPrefix, table.schema, table.name].joined(separator: topicDelimiter)
    }

    /// The transaction metadata topic: `<topic.prefix>.<topic.transaction>`.
    public var transactionTopic: String {
        topicPrefix + topicDelimiter + format.transactionTopicSuffix
    }

    /// The heartbeat topic: `<topic.heartbeat.prefix>.<topic.prefix>`.
    public var heartbeatTopic: String {
        heartbeat.topicPrefix + topicDelimiter + topicPrefix
    }

    // MARK: - Printing

    /// Every effective key, sorted, with its value and where it came from. With `redacted` (the default),
    /// non-empty secret values are replaced by `<redacted>`.
    public func effectiveSettings(redacted: Bool = true) -> [EffectiveSetting] {
        settings.map { setting in
            var setting = setting
            if redacted, setting.isSecret, !setting.value.isEmpty {
                setting.value = Secret.redactionMarker
            }
            return setting
        }
    }

    /// The effective configuration as YAML lines (`key: "value"  # source`), secrets redacted.
    public var redactedDescription: String {
        effectiveSettings(redacted: true).map(\.description).joined(separator: "\n")
    }
}

extension AgentConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Same as `redactedDescription`.
    public var description: String { redactedDescription }
    public var debugDescription: String { "AgentConfiguration(\(name))\n" + redactedDescription }
    /// A mirror of the redacted settings, so `dump` shows no secret.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: effectiveSettings(redacted: true).map { (label: $0.key, value: $0.value) },
            displayStyle: .struct
        )
    }
}
