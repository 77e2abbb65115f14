extension ConfigurationKeys {
    /// Every key, grouped as in the reference. Names and defaults follow the Debezium PostgreSQL connector
    /// (3.1) unless the summary says otherwise.
    public static let all: [ConfigurationKey] =
        general + postgres + replication + filters + snapshot + format
        + heartbeat + engine + offsets + sink + logging + kafka + compatibility

    private static let general: [ConfigurationKey] = [
        .init(
            "name",
            .general,
            type: "string of `[A-Za-z0-9._-]`",
            default: nil,
            "**Required.** Agent name: key of its offset record, default offsets topic `<name>.offsets` and base of "
                + "its Kafka `transactional.id`. Keep it stable: a renamed agent starts without its offset."
        ),
        .init(
            "topic.prefix",
            .general,
            type: "string of `[A-Za-z0-9._-]`",
            default: nil,
            "**Required.** Logical server name: data topics are `<topic.prefix>.<schema>.<table>` and events carry "
                + "it as `source.name`."
        ),
        .init(
            "topic.delimiter",
            .general,
            type: "string",
            default: "`.`",
            "Separator between the parts of topic names."
        ),
        .init(
            "connector.class",
            .general,
            type: "`postgresql` \\| `io.debezium.connector.postgresql.PostgresConnector`",
            default: "`postgresql`",
            "Source kind. Debezium's class name is accepted so that a connector config carries over."
        ),
    ]

    private static let postgres: [ConfigurationKey] = [
        .init(
            "database.hostname",
            .postgres,
            type: "host name, IP address or socket directory",
            default: "`127.0.0.1`",
            "PostgreSQL server (libpq `host`)."
        ),
        .init("database.port", .postgres, type: "integer 1–65535", default: "`5432`", "PostgreSQL port."),
        .init(
            "database.user",
            .postgres,
            type: "string",
            default: "`postgres`",
            "Role with `REPLICATION` and `SELECT` on captured tables (and `CREATE` on the database when the "
                + "agent creates the publication)."
        ),
        .init(
            "database.password",
            .postgres,
            type: "string",
            default: "empty",
            secret: true,
            "Password of `database.user`."
        ),
        .init("database.dbname", .postgres, type: "string", default: nil, "**Required.** Database to capture."),
        .init(
            "database.sslmode",
            .postgres,
            type: "`disable` \\| `allow` \\| `prefer` \\| `require` \\| `verify-ca` \\| `verify-full`",
            default: "`prefer`",
            "libpq `sslmode`."
        ),
        .init(
            "database.sslrootcert",
            .postgres,
            type: "path",
            default: "none",
            "CA certificate file (libpq `sslrootcert`)."
        ),
        .init(
            "database.sslcert",
            .postgres,
            type: "path",
            default: "none",
            "Client certificate file (libpq `sslcert`)."
        ),
        .init("database.sslkey", .postgres, type: "path", default: "none", "Client private key file (libpq `sslkey`)."),
        .init(
            "database.connect.timeout.ms",
            .postgres,
            type: "integer ≥ 1",
            default: "`10000`",
            "Connection timeout, rounded up to whole seconds for libpq `connect_timeout`."
        ),
    ]

    private static let replication: [ConfigurationKey] = [
        .init(
            "plugin.name",
            .replication,
            type: "`pgoutput`",
            default: "`pgoutput`",
            "Logical decoding plugin. Only the built-in `pgoutput` is supported."
        ),
        .init(
            "slot.name",
            .replication,
            type: "`[a-z0-9_]`, 1–63 characters",
            default: "`tributary`",
            "Logical replication slot; one per agent."
        ),
        .init(
            "slot.drop.on.stop",
            .replication,
            type: "boolean",
            default: "`false`",
            "Drop the slot on a graceful stop. For tests only: the next start cannot resume and snapshots again."
        ),
        .init(
            "slot.stream.params",
            .replication,
            type: "`name=value;name=value`",
            default: "none",
            "Extra pgoutput options for `START_REPLICATION`, e.g. `streaming=on;messages=true`. The agent sets "
                + "`proto_version` and `publication_names` itself."
        ),
        .init(
            "publication.name",
            .replication,
            type: "identifier, 1–63 bytes",
            default: "`tributary_publication`",
            "Publication the slot streams."
        ),
        .init(
            "publication.autocreate.mode",
            .replication,
            type: "`all_tables` \\| `filtered` \\| `disabled`",
            default: "`all_tables`",
            "When the publication is missing: create it `FOR ALL TABLES`, create it for the tables the filters "
                + "select, or fail."
        ),
        .init(
            "status.update.interval.ms",
            .replication,
            type: "integer ≥ 1",
            default: "`10000`",
            "Longest interval between standby status updates to the server."
        ),
    ]

    private static let filters: [ConfigurationKey] = [
        .init(
            "schema.include.list",
            .filters,
            type: "comma-separated regexes",
            default: "all schemas",
            "Schemas to capture. Each regex must match the whole schema name, ignoring case (`\\,` is a literal "
                + "comma). Not with `schema.exclude.list`."
        ),
        .init(
            "schema.exclude.list",
            .filters,
            type: "comma-separated regexes",
            default: "none",
            "Schemas not to capture. Not with `schema.include.list`."
        ),
        .init(
            "table.include.list",
            .filters,
            type: "comma-separated regexes",
            default: "all tables",
            "Tables to capture, matched against `schema.table`. Not with `table.exclude.list`."
        ),
        .init(
            "table.exclude.list",
            .filters,
            type: "comma-separated regexes",
            default: "none",
            "Tables not to capture, matched against `schema.table`. Not with `table.include.list`."
        ),
        .init(
            "column.include.list",
            .filters,
            type: "comma-separated regexes",
            default: "all columns",
            "Columns to emit, matched against `schema.table.column`. Not with `column.exclude.list`."
        ),
        .init(
            "column.exclude.list",
            .filters,
            type: "comma-separated regexes",
            default: "none",
            "Columns to leave out of events, matched against `schema.table.column`. Not with `column.include.list`."
        ),
        .init(
            "message.key.columns",
            .filters,
            type: "`<table regex>:<column>,<column>;…`",
            default: "primary key",
            "Message key columns per table, e.g. `public.orders:tenant_id,id;public.log_.*:seq`. Table and column "
                + "names are regexes matched whole, ignoring case."
        ),
    ]

    private static let snapshot: [ConfigurationKey] = [
        .init(
            "snapshot.mode",
            .snapshot,
            type: "`initial` \\| `initial_only` \\| `no_data` \\| `never` \\| `when_needed` \\| `always`",
            default: "`initial`",
            "When to snapshot the captured tables. `never` is an alias of `no_data` (stream only)."
        ),
        .init(
            "snapshot.max.threads",
            .snapshot,
            type: "integer 1–1024",
            default: "`1`",
            "Connections reading snapshot chunks in parallel (all in the slot's exported snapshot)."
        ),
        .init(
            "snapshot.fetch.size",
            .snapshot,
            type: "integer ≥ 1",
            default: "`10000`",
            "Rows fetched per round trip while snapshotting."
        ),
        .init(
            "snapshot.chunk.size",
            .snapshot,
            type: "integer ≥ 1",
            default: "`20000`",
            "Rows per snapshot chunk, the unit of parallelism and of resumable progress. A chunk is read whole before it is published, so memory grows with `snapshot.chunk.size` × (2 × `snapshot.max.threads` + 1)."
        ),
        .init(
            "snapshot.include.collection.list",
            .snapshot,
            type: "comma-separated regexes",
            default: "all captured tables",
            "Captured tables to snapshot, matched against `schema.table`."
        ),
        .init(
            "snapshot.select.statement.overrides",
            .snapshot,
            type: "comma-separated `schema.table`",
            default: "none",
            "Tables whose snapshot uses a custom SELECT."
        ),
        .init(
            "snapshot.select.statement.overrides.<schema.table>",
            .snapshot,
            type: "SQL `SELECT`",
            default: "required for each listed table",
            "The SELECT that reads that table during the snapshot. Environment variable: "
                + "`TRIBUTARY_SNAPSHOT_SELECT_STATEMENT_OVERRIDES_<SCHEMA>_<TABLE>`."
        ),
        .init(
            "snapshot.progress.interval.ms",
            .snapshot,
            type: "integer ≥ 1",
            default: "`10000`",
            "Interval between snapshot progress log lines."
        ),
    ]

    private static let format: [ConfigurationKey] = [
        .init(
            "schemas.enable",
            .format,
            type: "boolean",
            default: "`true`",
            "Shorthand for both `key.converter.schemas.enable` and `value.converter.schemas.enable`; the specific "
                + "key wins when both are set in the same place."
        ),
        .init(
            "key.converter.schemas.enable",
            .format,
            type: "boolean",
            default: "`true`",
            "Wrap keys as `{\"schema\":…,\"payload\":…}`; `false` writes the bare payload."
        ),
        .init(
            "value.converter.schemas.enable",
            .format,
            type: "boolean",
            default: "`true`",
            "Wrap values as `{\"schema\":…,\"payload\":…}`; `false` writes the bare payload."
        ),
        .init(
            "tombstones.on.delete",
            .format,
            type: "boolean",
            default: "`true`",
            "Follow each delete event with a tombstone (null value) for log compaction."
        ),
        .init(
            "decimal.handling.mode",
            .format,
            type: "`precise` \\| `string` \\| `double`",
            default: "`precise`",
            "How DECIMAL/NUMERIC values are encoded."
        ),
        .init(
            "time.precision.mode",
            .format,
            type: "`adaptive` \\| `adaptive_time_microseconds` \\| `connect` \\| `isostring` \\| `microseconds` "
                + "\\| `nanoseconds`",
            default: "`adaptive`",
            "How temporal values are encoded."
        ),
        .init(
            "binary.handling.mode",
            .format,
            type: "`bytes` \\| `base64` \\| `base64-url-safe` \\| `hex`",
            default: "`bytes`",
            "How binary values are encoded."
        ),
        .init(
            "interval.handling.mode",
            .format,
            type: "`numeric` \\| `string`",
            default: "`numeric`",
            "INTERVAL as `io.debezium.time.MicroDuration` (µs) or ISO 8601 `io.debezium.time.Interval` text."
        ),
        .init(
            "provide.transaction.metadata",
            .format,
            type: "boolean",
            default: "`false`",
            "Write BEGIN/END records to the transaction topic and add `transaction` blocks to events."
        ),
        .init(
            "topic.transaction",
            .format,
            type: "string",
            default: "`transaction`",
            "Transaction topic name suffix: `<topic.prefix>.<topic.transaction>`."
        ),
        .init(
            "unavailable.value.placeholder",
            .format,
            type: "string",
            default: "`__debezium_unavailable_value`",
            "Written in place of unchanged TOAST values that the server did not send."
        ),
        .init(
            "schema.name.adjustment.mode",
            .format,
            type: "`avro` \\| `none`",
            default: "`avro`",
            "`avro` replaces characters that are not valid in Avro names with `_` in schema names."
        ),
        .init(
            "money.fraction.digits",
            .format,
            type: "integer 0–1000",
            default: "`2`",
            "Scale of PostgreSQL `money` values (a `precise` decimal)."
        ),
    ]

    private static let heartbeat: [ConfigurationKey] = [
        .init(
            "heartbeat.interval.ms",
            .heartbeat,
            type: "integer ≥ 0",
            default: "`0` (off)",
            "Interval of heartbeat records; they let the slot advance while captured tables are idle."
        ),
        .init(
            "heartbeat.action.query",
            .heartbeat,
            type: "SQL",
            default: "none",
            "Statement run on the source at each heartbeat, e.g. an update of a heartbeat table so that WAL keeps "
                + "moving in a quiet database."
        ),
        .init(
            "topic.heartbeat.prefix",
            .heartbeat,
            type: "string",
            default: "`__debezium-heartbeat`",
            "Heartbeat topic name prefix: `<topic.heartbeat.prefix>.<topic.prefix>`."
        ),
    ]

    private static let engine: [ConfigurationKey] = [
        .init(
            "commit.max.events",
            .engine,
            type: "integer ≥ 1",
            default: "`10000`",
            "A commit unit (one Kafka transaction) closes after this many events, at the next source "
                + "transaction boundary."
        ),
        .init(
            "commit.max.bytes",
            .engine,
            type: "integer ≥ 1",
            default: "`16777216`",
            "…or after this many bytes of formatted events."
        ),
        .init("commit.interval.ms", .engine, type: "integer ≥ 0", default: "`100`", "…or after this long."),
        .init(
            "max.queue.size",
            .engine,
            type: "integer ≥ 1",
            default: "`16`",
            "Batches buffered between the source and the engine (backpressure beyond that)."
        ),
        .init("max.batch.size", .engine, type: "integer ≥ 1", default: "`1024`", "Records per batch."),
        .init(
            "errors.max.retries",
            .engine,
            type: "integer ≥ -1",
            default: "`-1` (forever)",
            "Retries of a retriable failure (lost connection, broker transport) before the agent exits; `0` "
                + "never retries."
        ),
        .init(
            "errors.retry.delay.initial.ms",
            .engine,
            type: "integer ≥ 0",
            default: "`300`",
            "First retry delay; it doubles (with jitter) on each further failure."
        ),
        .init(
            "errors.retry.delay.max.ms",
            .engine,
            type: "integer ≥ `errors.retry.delay.initial.ms`",
            default: "`10000`",
            "Longest retry delay."
        ),
        .init(
            "shutdown.timeout.ms",
            .engine,
            type: "integer ≥ 1",
            default: "`30000`",
            "Longest graceful shutdown (drain, commit, flush) after SIGTERM/SIGINT."
        ),
    ]

    private static let offsets: [ConfigurationKey] = [
        .init(
            "offset.storage",
            .offsets,
            type: "`kafka` \\| `file`",
            default: "`kafka` if `sink.type` is `kafka`, else `file`",
            "Where the source offset is committed. `kafka` writes it in the same transaction as the events "
                + "(exactly once); `file` is at-least-once. Debezium Server's `…KafkaOffsetBackingStore` / "
                + "`…FileOffsetBackingStore` class names are accepted."
        ),
        .init(
            "offset.storage.topic",
            .offsets,
            type: "topic name",
            default: "`<name>.offsets`",
            "Compacted topic holding the offset records."
        ),
        .init(
            "offset.storage.file.filename",
            .offsets,
            type: "path",
            default: "required when `offset.storage` is `file`",
            "Offset file, replaced atomically."
        ),
    ]

    private static let sink: [ConfigurationKey] = [
        .init(
            "sink.type",
            .sink,
            type: "`kafka` \\| `stdout` \\| `file`",
            default: "`kafka`",
            "Destination of the events: Kafka (transactional), or JSON lines on stdout or in a file."
        ),
        .init(
            "sink.file.path",
            .sink,
            type: "path",
            default: "required when `sink.type` is `file`",
            "File the `file` sink appends to."
        ),
    ]

    private static let logging: [ConfigurationKey] = [
        .init(
            "log.level",
            .logging,
            type: "`trace` \\| `debug` \\| `info` \\| `notice` \\| `warning` \\| `error`",
            default: "`info`",
            "Lowest level logged."
        ),
        .init("log.format", .logging, type: "`text` \\| `json`", default: "`text`", "Log line format."),
    ]

    private static let kafka: [ConfigurationKey] = [
        .init(
            "kafka.bootstrap.servers",
            .kafka,
            type: "`host:port,host:port`",
            default: "required when `sink.type` or `offset.storage` is `kafka`",
            "Kafka brokers."
        ),
        .init(
            "kafka.<property>",
            .kafka,
            type: "string",
            default: "librdkafka's",
            "Any librdkafka property, passed through unchanged (`kafka.compression.type: zstd`, "
                + "`kafka.security.protocol: SASL_SSL`, `kafka.sasl.password`, …). Properties naming a password, "
                + "secret, token or key PEM are secrets. `kafka.transactional.id` and `kafka.enable.idempotence` "
                + "are rejected: the agent sets them."
        ),
    ]

    private static let compatibility: [ConfigurationKey] = [
        .init(
            "tasks.max",
            .compatibility,
            type: "`1`",
            default: "`1`",
            "Accepted so that a Kafka Connect config loads; must be 1."
        ),
        .init(
            "key.converter",
            .compatibility,
            type: "`org.apache.kafka.connect.json.JsonConverter`",
            default: "JsonConverter",
            "Accepted so that a Kafka Connect config loads; only JSON is produced."
        ),
        .init(
            "value.converter",
            .compatibility,
            type: "`org.apache.kafka.connect.json.JsonConverter`",
            default: "JsonConverter",
            "Accepted so that a Kafka Connect config loads; only JSON is produced."
        ),
    ]
}
