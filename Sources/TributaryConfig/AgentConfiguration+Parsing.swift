import TributaryCore

extension AgentConfiguration {
    /// Reads and validates every key. Order matters only for derived defaults (`offset.storage` after
    /// `sink.type`, `offset.storage.topic` after `name`).
    init(reader: inout SettingsReader) throws {
        name = try reader.requiredString("name") { Validation.topicCharacters($0, maxLength: 200) }
        topicPrefix = try reader.requiredString("topic.prefix") { Validation.topicCharacters($0, maxLength: 200) }
        topicDelimiter = try reader.string("topic.delimiter", default: ".") {
            Validation.topicCharacters($0, maxLength: 10)
        }
        connector = try reader.choice(
            "connector.class",
            default: .postgresql,
            aliases: ["io.debezium.connector.postgresql.PostgresConnector": .postgresql]
        )
        try Self.readCompatibilityKeys(&reader)

        postgres = try Self.readPostgres(&reader)
        filter = try Self.readFilter(&reader)
        keyColumns = try Self.readKeyColumns(&reader)
        snapshot = try Self.readSnapshot(&reader)
        format = try Self.readFormat(&reader)
        heartbeat = HeartbeatSettings(
            interval: try reader.int("heartbeat.interval.ms", default: 0, range: 0...Int.max)
                .nonZero.map { .milliseconds($0) },
            actionQuery: try reader.optionalString("heartbeat.action.query"),
            topicPrefix: try reader.string("topic.heartbeat.prefix", default: "__debezium-heartbeat") {
                Validation.topicCharacters($0, maxLength: 200)
            }
        )
        engine = try Self.readEngine(&reader)
        sink = try Self.readSink(&reader)
        offsets = try Self.readOffsets(&reader, name: name, sink: sink)
        logging = LoggingSettings(
            level: try reader.choice("log.level", default: .info),
            format: try reader.choice("log.format", default: .text)
        )
        kafka = try Self.readKafka(&reader, sink: sink, offsets: offsets)

        settings = reader.effective.values.sorted { $0.key < $1.key }
    }

    private static func readCompatibilityKeys(_ reader: inout SettingsReader) throws {
        _ = try reader.int("tasks.max", default: 1, range: 1...1, expected: "1 (an agent runs one task)")
        let json = "org.apache.kafka.connect.json.JsonConverter"
        for key in ["key.converter", "value.converter"] {
            _ = try reader.string(key, default: json) {
                $0.trimmedWhitespace == json ? nil : "`\(json)` (Tributary writes JSON)"
            }
        }
    }

    private static func readPostgres(_ reader: inout SettingsReader) throws -> PostgresSettings {
        PostgresSettings(
            hostname: try reader.string("database.hostname", default: "127.0.0.1") {
                $0.trimmedWhitespace.isEmpty ? "a host name, IP address or socket directory" : nil
            },
            port: try reader.int("database.port", default: 5432, range: 1...65535),
            user: try reader.string("database.user", default: "postgres") { $0.isEmpty ? "a role name" : nil },
            password: Secret(try reader.string("database.password", default: "")),
            databaseName: try reader.requiredString("database.dbname"),
            sslMode: try reader.choice("database.sslmode", default: .prefer),
            sslRootCert: try reader.optionalString("database.sslrootcert"),
            sslCert: try reader.optionalString("database.sslcert"),
            sslKey: try reader.optionalString("database.sslkey"),
            connectTimeout: try reader.milliseconds("database.connect.timeout.ms", default: 10000, minimum: 1),
            pluginName: try reader.string("plugin.name", default: "pgoutput") {
                $0.trimmedWhitespace == "pgoutput" ? nil : "`pgoutput` (the only supported logical decoding plugin)"
            },
            slotName: try reader.string("slot.name", default: "tributary", validate: Validation.slotName),
            dropSlotOnStop: try reader.bool("slot.drop.on.stop", default: false),
            streamParameters: try readStreamParameters(&reader),
            publicationName: try reader.string(
                "publication.name",
                default: "tributary_publication",
                validate: Validation.identifier
            ),
            publicationAutocreateMode: try reader.choice("publication.autocreate.mode", default: .allTables),
            statusUpdateInterval: try reader.milliseconds("status.update.interval.ms", default: 10000, minimum: 1)
        )
    }

    /// `slot.stream.params`: `name=value;name=value`.
    private static func readStreamParameters(_ reader: inout SettingsReader) throws -> [PostgresSettings
        .StreamParameter]
    {
        let key = "slot.stream.params"
        guard let text = try reader.optionalString(key) else { return [] }
        var parameters: [PostgresSettings.StreamParameter] = []
        for part in text.split(separator: ";") {
            let item = part.trimmedWhitespace
            if item.isEmpty { continue }
            let pieces = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = pieces[0].trimmedWhitespace
            guard pieces.count == 2, Validation.isOptionName(name) else {
                throw ConfigurationError(
                    code: .invalidValue,
                    key: key,
                    source: reader.source(of: key),
                    message: "expected `name=value;name=value`; `\(item)` is not a `name=value` pair"
                )
            }
            guard name != "proto_version", name != "publication_names" else {
                throw ConfigurationError(
                    code: .reservedKey,
                    key: key,
                    source: reader.source(of: key),
                    message: "`\(name)` is set by the agent (from the protocol it decodes and `publication.name`)"
                )
            }
            parameters.append(.init(name: name, value: pieces[1].trimmedWhitespace))
        }
        return parameters
    }

    private static func readFilter(_ reader: inout SettingsReader) throws -> TableFilter {
        let filter = TableFilter(
            schemaIncludeList: try reader.regexList("schema.include.list"),
            schemaExcludeList: try reader.regexList("schema.exclude.list"),
            tableIncludeList: try reader.regexList("table.include.list"),
            tableExcludeList: try reader.regexList("table.exclude.list"),
            columnIncludeList: try reader.regexList("column.include.list"),
            columnExcludeList: try reader.regexList("column.exclude.list")
        )
        let pairs: [(String, Bool, String, Bool)] = [
            (
                "schema.include.list", filter.schemaIncludeList != nil, "schema.exclude.list",
                filter.schemaExcludeList != nil
            ),
            (
                "table.include.list", filter.tableIncludeList != nil, "table.exclude.list",
                filter.tableExcludeList != nil
            ),
            (
                "column.include.list", filter.columnIncludeList != nil, "column.exclude.list",
                filter.columnExcludeList != nil
            ),
        ]
        for (include, hasInclude, exclude, hasExclude) in pairs where hasInclude && hasExclude {
            throw ConfigurationError(
                code: .conflictingKeys,
                key: exclude,
                source: reader.source(of: exclude),
                message:
                    "cannot be combined with `\(include)` (set at \(reader.source(of: include) ?? .defaultValue)); "
                    + "use one of them, as in Debezium"
            )
        }
        return filter
    }

    private static func readKeyColumns(_ reader: inout SettingsReader) throws -> KeyColumnOverrides {
        let key = "message.key.columns"
        guard let text = try reader.optionalString(key) else { return .none }
        do {
            return try KeyColumnOverrides(parsing: text)
        } catch let error as ConfigurationError {
            throw reader.rekeyed(error, key)
        }
    }

    private static func readSnapshot(_ reader: inout SettingsReader) throws -> SnapshotSettings {
        let mode: SnapshotSettings.Mode = try reader.choice(
            "snapshot.mode",
            default: .initial,
            aliases: ["never": .noData]
        )
        let maxThreads = try reader.int("snapshot.max.threads", default: 1, range: 1...1024)
        let fetchSize = try reader.int("snapshot.fetch.size", default: 10000, range: 1...Int(Int32.max))
        let chunkSize = try reader.int("snapshot.chunk.size", default: 20_000, range: 1...Int.max)
        let includeList = try reader.regexList("snapshot.include.collection.list")
        let listKey = "snapshot.select.statement.overrides"
        var overrides: [TableID: String] = [:]
        if let list = try reader.optionalString(listKey) {
            for entry in RegexList.split(list) {
                guard let table = Validation.tableID(entry) else {
                    throw ConfigurationError(
                        code: .invalidValue,
                        key: listKey,
                        source: reader.source(of: listKey),
                        message: "expected a comma-separated list of `schema.table`; `\(entry)` has no schema"
                    )
                }
                overrides[table] = try reader.requiredString(
                    ConfigurationKeys.selectOverridePrefix + entry,
                    because: "because `\(entry)` is listed in `\(listKey)`"
                )
            }
        }
        return SnapshotSettings(
            mode: mode,
            maxThreads: maxThreads,
            fetchSize: fetchSize,
            chunkSize: chunkSize,
            includeCollectionList: includeList,
            selectStatementOverrides: overrides,
            progressInterval: try reader.milliseconds("snapshot.progress.interval.ms", default: 10000, minimum: 1)
        )
    }

    private static func readFormat(_ reader: inout SettingsReader) throws -> FormatSettings {
        // Validated and shown on its own; applied through the two specific keys below.
        _ = try reader.bool("schemas.enable", default: true)
        return FormatSettings(
            keySchemasEnabled: try reader.bool(
                "key.converter.schemas.enable",
                default: true,
                shorthand: "schemas.enable"
            ),
            valueSchemasEnabled: try reader.bool(
                "value.converter.schemas.enable",
                default: true,
                shorthand: "schemas.enable"
            ),
            tombstonesOnDelete: try reader.bool("tombstones.on.delete", default: true),
            decimalHandlingMode: try reader.choice("decimal.handling.mode", default: .precise),
            timePrecisionMode: try reader.choice("time.precision.mode", default: .adaptive),
            binaryHandlingMode: try reader.choice("binary.handling.mode", default: .bytes),
            intervalHandlingMode: try reader.choice("interval.handling.mode", default: .numeric),
            provideTransactionMetadata: try reader.bool("provide.transaction.metadata", default: false),
            transactionTopicSuffix: try reader.string("topic.transaction", default: "transaction") {
                Validation.topicCharacters($0, maxLength: 200)
            },
            unavailableValuePlaceholder: try reader.string(
                "unavailable.value.placeholder",
                default: "__debezium_unavailable_value"
            ),
            schemaNameAdjustmentMode: try reader.choice("schema.name.adjustment.mode", default: .avro),
            moneyFractionDigits: try reader.int("money.fraction.digits", default: 2, range: 0...1000)
        )
    }

    private static func readEngine(_ reader: inout SettingsReader) throws -> EngineSettings {
        let initialDelayMillis = try reader.int("errors.retry.delay.initial.ms", default: 300, range: 0...Int.max)
        return EngineSettings(
            commitMaxEvents: try reader.int("commit.max.events", default: 10000, range: 1...Int.max),
            commitMaxBytes: try reader.int("commit.max.bytes", default: 16_777_216, range: 1...Int.max),
            commitInterval: try reader.milliseconds("commit.interval.ms", default: 100, minimum: 0),
            maxQueueSize: try reader.int("max.queue.size", default: 16, range: 1...Int.max),
            maxBatchSize: try reader.int("max.batch.size", default: 1024, range: 1...Int.max),
            maxRetries: try reader.int(
                "errors.max.retries",
                default: -1,
                range: -1...Int.max,
                expected: "an integer ≥ -1 (-1 retries forever)"
            )
            .nonNegative,
            retryInitialDelay: .milliseconds(initialDelayMillis),
            retryMaxDelay: .milliseconds(
                try reader.int(
                    "errors.retry.delay.max.ms",
                    default: 10000,
                    range: initialDelayMillis...Int.max,
                    expected: "an integer ≥ errors.retry.delay.initial.ms (\(initialDelayMillis))"
                )
            ),
            shutdownTimeout: try reader.milliseconds("shutdown.timeout.ms", default: 30000, minimum: 1)
        )
    }

    /// The `sink.type` values.
    private enum SinkType: String, CaseIterable {
        case kafka, stdout, file
    }

    /// The `offset.storage` values.
    private enum OffsetStorageType: String, CaseIterable {
        case kafka, file
    }

    private static func readSink(_ reader: inout SettingsReader) throws -> SinkSettings {
        let type: SinkType = try reader.choice("sink.type", default: .kafka)
        let path = try reader.optionalString("sink.file.path")
        switch type {
        case .kafka: return SinkSettings(kind: .kafka)
        case .stdout: return SinkSettings(kind: .stdout)
        case .file:
            guard let path else { throw reader.missing("sink.file.path", because: "when `sink.type` is `file`") }
            return SinkSettings(kind: .file(path: path))
        }
    }

    private static func readOffsets(_ reader: inout SettingsReader, name: String, sink: SinkSettings) throws
        -> OffsetSettings
    {
        let key = "offset.storage"
        let type: OffsetStorageType = try reader.choice(
            key,
            default: sink.kind == .kafka ? .kafka : .file,
            aliases: [
                "org.apache.kafka.connect.storage.KafkaOffsetBackingStore": .kafka,
                "org.apache.kafka.connect.storage.FileOffsetBackingStore": .file,
            ]
        )
        let topic = try reader.string("offset.storage.topic", default: name + ".offsets") {
            Validation.topicCharacters($0, maxLength: 249)
        }
        let filename = try reader.optionalString("offset.storage.file.filename")
        switch type {
        case .kafka:
            guard sink.kind == .kafka else {
                throw ConfigurationError(
                    code: .conflictingKeys,
                    key: key,
                    source: reader.source(of: key),
                    message: "`kafka` offsets are committed in the Kafka sink's transactions; with a non-Kafka "
                        + "`sink.type` use `offset.storage: file`"
                )
            }
            return OffsetSettings(storage: .kafka(topic: topic))
        case .file:
            guard let filename else {
                throw reader.missing("offset.storage.file.filename", because: "when `offset.storage` is `file`")
            }
            return OffsetSettings(storage: .file(path: filename))
        }
    }

    private static func readKafka(_ reader: inout SettingsReader, sink: SinkSettings, offsets: OffsetSettings) throws
        -> [String: String]
    {
        let reserved: [String: String] = [
            "transactional.id":
                "the agent derives it from `name`, so that a restarted agent fences its previous instance",
            "enable.idempotence": "the transactional producer requires idempotence and the agent enables it",
        ]
        var kafka: [String: String] = [:]
        for key in reader.keys(withPrefix: ConfigurationKeys.kafkaPrefix) {
            guard let setting = reader.raw(key) else { continue }
            let property = String(key.dropFirst(ConfigurationKeys.kafkaPrefix.count))
            if let reason = reserved[property] {
                throw ConfigurationError(
                    code: .reservedKey,
                    key: key,
                    source: setting.source,
                    message: "not allowed: \(reason)"
                )
            }
            guard Validation.isKafkaPropertyName(property) else {
                throw ConfigurationError(
                    code: .unknownKey,
                    key: key,
                    source: setting.source,
                    message: "not a librdkafka property name (lower-case letters, digits, `.`, `_`)"
                )
            }
            kafka[property] = setting.value
            reader.record(key, setting.value, setting.source)
        }
        let needsKafka: String? =
            if sink.kind == .kafka { "when `sink.type` is `kafka`" } else if case .kafka = offsets.storage {
                "when `offset.storage` is `kafka`"
            } else { nil }
        if let needsKafka {
            let servers = kafka["bootstrap.servers"] ?? kafka["metadata.broker.list"] ?? ""
            if servers.trimmedWhitespace.isEmpty {
                throw reader.missing(
                    "kafka.bootstrap.servers",
                    source: reader.source(of: "kafka.bootstrap.servers"),
                    because: needsKafka
                )
            }
        }
        return kafka
    }
}

extension Int {
    /// nil for 0 (an "off" interval).
    fileprivate var nonZero: Int? { self == 0 ? nil : self }
    /// nil for negative values (`-1` = unlimited).
    fileprivate var nonNegative: Int? { self < 0 ? nil : self }
}
