import Testing
import TributaryConfig
import TributaryCore

@Suite struct UnknownKeyTests {
    @Test func unknownFileKeyIsNamedWithItsLine() {
        let error = configurationError { try load(requiredYAML + "\ndatabase.hostnme: db1\n") }
        #expect(error?.code == .unknownKey)
        #expect(error?.key == "database.hostnme")
        #expect(error?.source == .file(path: "test.yaml", line: 5))
        #expect(error?.description.contains("did you mean `database.hostname`?") == true)
        #expect(error?.description.contains("test.yaml:5") == true)
    }

    @Test func unknownEnvironmentVariableIsNamed() {
        let error = configurationError { try load(environment: ["TRIBUTARY_DATABASE_HOSTNAM": "db1"]) }
        #expect(error?.code == .unknownKey)
        #expect(error?.key == "TRIBUTARY_DATABASE_HOSTNAM")
        #expect(error?.source == .environment(variable: "TRIBUTARY_DATABASE_HOSTNAM"))
        #expect(error?.description.contains("TRIBUTARY_DATABASE_HOSTNAME") == true)
    }

    @Test func unknownOverrideIsNamed() {
        let error = configurationError { try load(overrides: ["snapshot.modus": "initial"]) }
        #expect(error?.code == .unknownKey)
        #expect(error?.key == "snapshot.modus")
        #expect(error?.source == .override)
    }

    @Test func renamedDebeziumKeysGetAHint() {
        let error = configurationError { try load(requiredYAML + "\ntable.whitelist: public.a\n") }
        #expect(error?.key == "table.whitelist")
        #expect(error?.message.contains("table.include.list") == true)
    }

    @Test func selectOverrideForAnUnlistedTableIsRejected() {
        let fromFile = configurationError {
            try load(requiredYAML + "\nsnapshot.select.statement.overrides.public.orders: SELECT 1\n")
        }
        #expect(fromFile?.code == .unknownKey)
        #expect(fromFile?.key == "snapshot.select.statement.overrides.public.orders")
        let fromEnvironment = configurationError {
            try load(environment: ["TRIBUTARY_SNAPSHOT_SELECT_STATEMENT_OVERRIDES_PUBLIC_ORDERS": "SELECT 1"])
        }
        #expect(fromEnvironment?.key == "TRIBUTARY_SNAPSHOT_SELECT_STATEMENT_OVERRIDES_PUBLIC_ORDERS")
    }

    @Test func kafkaPropertyNamesMustLookLikeLibrdkafkaProperties() {
        let error = configurationError { try load(requiredYAML + "\nkafka.Bootstrap Servers: x\n") }
        #expect(error?.code == .unknownKey)
        #expect(error?.key == "kafka.Bootstrap Servers")
    }
}

@Suite struct InvalidValueTests {
    @Test func badIntegerNamesKeySourceAndExpectation() {
        let error = configurationError { try load(environment: ["TRIBUTARY_DATABASE_PORT": "54x"]) }
        #expect(error?.code == .invalidValue)
        #expect(error?.key == "database.port")
        #expect(error?.source == .environment(variable: "TRIBUTARY_DATABASE_PORT"))
        #expect(
            error?.description
                == "configuration error (invalidValue): database.port (from environment variable "
                + "TRIBUTARY_DATABASE_PORT): expected an integer in 1...65535, got \"54x\""
        )
    }

    @Test func integerOutOfRange() {
        let error = configurationError { try load(overrides: ["snapshot.max.threads": "0"]) }
        #expect(error?.key == "snapshot.max.threads")
        #expect(error?.message == "expected an integer in 1...1024, got \"0\"")
    }

    @Test func badEnumListsAcceptedValues() {
        let error = configurationError { try load(requiredYAML + "\nsnapshot.mode: sometimes\n") }
        #expect(error?.key == "snapshot.mode")
        #expect(error?.source == .file(path: "test.yaml", line: 5))
        #expect(
            error?.message
                == "expected one of `initial`, `initial_only`, `no_data`, `when_needed`, `always`, `never`, "
                + "got \"sometimes\""
        )
    }

    @Test func badBoolean() {
        let error = configurationError { try load(overrides: ["tombstones.on.delete": "yes"]) }
        #expect(error?.key == "tombstones.on.delete")
        #expect(error?.message == "expected `true` or `false`, got \"yes\"")
    }

    @Test func enumsAcceptAliasesAndAnyCase() throws {
        let c = try load(
            overrides: [
                "snapshot.mode": "never", "decimal.handling.mode": "STRING",
                "connector.class":
                    "io.debezium.connector.postgresql.PostgresConnector",
                "time.precision.mode": "nanoseconds", "binary.handling.mode": "base64-url-safe",
                "schema.name.adjustment.mode": "none",
                "interval.handling.mode": "string", "log.level": "debug", "log.format": "json",
                "database.sslmode": "verify-ca", "publication.autocreate.mode": "filtered",
            ])
        #expect(c.snapshot.mode == .noData)
        #expect(c.format.decimalHandlingMode == .string)
        #expect(c.format.timePrecisionMode == .nanoseconds)
        #expect(c.format.binaryHandlingMode == .base64URLSafe)
        #expect(c.format.schemaNameAdjustmentMode == FormatSettings.SchemaNameAdjustmentMode.none)
        #expect(c.format.intervalHandlingMode == .string)
        #expect(c.logging.level == .debug)
        #expect(c.logging.format == .json)
        #expect(c.postgres.sslMode == .verifyCA)
        #expect(c.postgres.publicationAutocreateMode == .filtered)
    }

    @Test func requiredKeysAreNamed() {
        for (missingKey, yaml) in [
            ("name", "topic.prefix: p\ndatabase.dbname: d\nkafka.bootstrap.servers: k:1"),
            ("topic.prefix", "name: n\ndatabase.dbname: d\nkafka.bootstrap.servers: k:1"),
            ("database.dbname", "name: n\ntopic.prefix: p\nkafka.bootstrap.servers: k:1"),
            ("kafka.bootstrap.servers", "name: n\ntopic.prefix: p\ndatabase.dbname: d"),
            ("sink.file.path", "name: n\ntopic.prefix: p\ndatabase.dbname: d\nsink.type: file"),
            ("offset.storage.file.filename", "name: n\ntopic.prefix: p\ndatabase.dbname: d\nsink.type: stdout"),
        ] {
            let error = configurationError { try load(yaml) }
            #expect(error?.code == .missingValue, "\(missingKey)")
            #expect(error?.key == missingKey)
            #expect(error?.message.contains(ConfigurationKeys.environmentVariable(for: missingKey)) == true)
        }
        let empty = configurationError { try load(requiredYAML, overrides: ["name": ""]) }
        #expect(empty?.code == .missingValue)
        #expect(empty?.key == "name")
        let statement = configurationError {
            try load(requiredYAML + "\nsnapshot.select.statement.overrides: public.orders\n")
        }
        #expect(statement?.code == .missingValue)
        #expect(statement?.key == "snapshot.select.statement.overrides.public.orders")
    }

    @Test func namesAndIdentifiersAreChecked() {
        let cases: [(String, String)] = [
            ("name", "orders agent"), ("topic.prefix", "shop/eu"), ("slot.name", "Tributary"),
            ("slot.name", String(repeating: "s", count: 64)), ("plugin.name", "wal2json"),
            ("publication.name", String(repeating: "p", count: 64)), ("tasks.max", "2"),
            ("value.converter", "io.confluent.connect.avro.AvroConverter"), ("errors.max.retries", "-2"),
        ]
        for (key, value) in cases {
            let error = configurationError { try load(overrides: [key: value]) }
            #expect(error?.code == .invalidValue, "\(key)=\(value)")
            #expect(error?.key == key)
        }
    }

    @Test func retryMaxDelayCannotBeBelowInitialDelay() {
        let error = configurationError {
            try load(overrides: ["errors.retry.delay.initial.ms": "5000", "errors.retry.delay.max.ms": "1000"])
        }
        #expect(error?.key == "errors.retry.delay.max.ms")
        #expect(error?.message == "expected an integer ≥ errors.retry.delay.initial.ms (5000), got \"1000\"")
    }

    @Test func includeAndExcludeListsAreExclusive() {
        let error = configurationError {
            try load(requiredYAML + "\ntable.include.list: public.a\ntable.exclude.list: public.b\n")
        }
        #expect(error?.code == .conflictingKeys)
        #expect(error?.key == "table.exclude.list")
        #expect(error?.message.contains("table.include.list") == true)
    }

    @Test func agentManagedKafkaPropertiesAreRejectedWithAReason() {
        let transactional = configurationError { try load(overrides: ["kafka.transactional.id": "x"]) }
        #expect(transactional?.code == .reservedKey)
        #expect(transactional?.key == "kafka.transactional.id")
        #expect(transactional?.message.contains("fences") == true)
        let idempotence = configurationError { try load(environment: ["TRIBUTARY_KAFKA_ENABLE_IDEMPOTENCE": "false"]) }
        #expect(idempotence?.code == .reservedKey)
        #expect(idempotence?.key == "kafka.enable.idempotence")
        #expect(idempotence?.source == .environment(variable: "TRIBUTARY_KAFKA_ENABLE_IDEMPOTENCE"))
    }

    @Test func kafkaOffsetsNeedTheKafkaSink() {
        let error = configurationError {
            try load(overrides: ["sink.type": "stdout", "offset.storage": "kafka"])
        }
        #expect(error?.code == .conflictingKeys)
        #expect(error?.key == "offset.storage")
    }

    @Test func slotStreamParamsParseAndRejectAgentOptions() throws {
        let c = try load(overrides: ["slot.stream.params": "streaming=on; messages=true;"])
        #expect(
            c.postgres.streamParameters == [
                .init(name: "streaming", value: "on"), .init(name: "messages", value: "true"),
            ]
        )
        let malformed = configurationError { try load(overrides: ["slot.stream.params": "streaming"]) }
        #expect(malformed?.key == "slot.stream.params")
        #expect(malformed?.code == .invalidValue)
        let reserved = configurationError { try load(overrides: ["slot.stream.params": "proto_version=2"]) }
        #expect(reserved?.code == .reservedKey)
    }

    @Test func configurationErrorsAreNotRetriable() {
        let error: any Error = ConfigurationError(code: .invalidValue, key: "x", source: nil, message: "m")
        #expect(error.isRetriable == false)
    }
}
