import Testing
import TributaryConfig
import TributaryCore

@Suite struct DefaultsTests {
    @Test func requiredKeysAloneGiveDebeziumDefaults() throws {
        let c = try load()
        #expect(c.name == "orders-agent")
        #expect(c.topicPrefix == "shop")
        #expect(c.topicDelimiter == ".")
        #expect(c.connector == .postgresql)

        let pg = c.postgres
        #expect(pg.hostname == "127.0.0.1")
        #expect(pg.port == 5432)
        #expect(pg.user == "postgres")
        #expect(pg.password.isEmpty)
        #expect(pg.databaseName == "shop")
        #expect(pg.sslMode == .prefer)
        #expect(pg.sslRootCert == nil)
        #expect(pg.sslCert == nil)
        #expect(pg.sslKey == nil)
        #expect(pg.connectTimeout == .milliseconds(10000))
        #expect(pg.pluginName == "pgoutput")
        #expect(pg.slotName == "tributary")
        #expect(pg.dropSlotOnStop == false)
        #expect(pg.streamParameters.isEmpty)
        #expect(pg.publicationName == "tributary_publication")
        #expect(pg.publicationAutocreateMode == .allTables)
        #expect(pg.statusUpdateInterval == .milliseconds(10000))

        #expect(c.filter == TableFilter.all)
        #expect(c.keyColumns.isEmpty)

        let s = c.snapshot
        #expect(s.mode == .initial)
        #expect(s.maxThreads == 1)
        #expect(s.fetchSize == 10000)
        #expect(s.chunkSize == 20_000)
        #expect(s.includeCollectionList == nil)
        #expect(s.selectStatementOverrides.isEmpty)
        #expect(s.progressInterval == .milliseconds(10000))

        let f = c.format
        #expect(f.keySchemasEnabled == true)
        #expect(f.valueSchemasEnabled == true)
        #expect(f.tombstonesOnDelete == true)
        #expect(f.decimalHandlingMode == .precise)
        #expect(f.timePrecisionMode == .adaptive)
        #expect(f.binaryHandlingMode == .bytes)
        #expect(f.intervalHandlingMode == .numeric)
        #expect(f.provideTransactionMetadata == false)
        #expect(f.transactionTopicSuffix == "transaction")
        #expect(f.unavailableValuePlaceholder == "__debezium_unavailable_value")
        #expect(f.schemaNameAdjustmentMode == .avro)
        #expect(f.moneyFractionDigits == 2)

        #expect(c.heartbeat.interval == nil)
        #expect(c.heartbeat.isEnabled == false)
        #expect(c.heartbeat.actionQuery == nil)
        #expect(c.heartbeat.topicPrefix == "__debezium-heartbeat")

        let e = c.engine
        #expect(e.commitMaxEvents == 10000)
        #expect(e.commitMaxBytes == 16_777_216)
        #expect(e.commitInterval == .milliseconds(100))
        #expect(e.maxQueueSize == 16)
        #expect(e.maxBatchSize == 1024)
        #expect(e.maxRetries == nil)
        #expect(e.retryInitialDelay == .milliseconds(300))
        #expect(e.retryMaxDelay == .milliseconds(10000))
        #expect(e.shutdownTimeout == .milliseconds(30000))

        #expect(c.sink.kind == .kafka)
        #expect(c.offsets.storage == .kafka(topic: "orders-agent.offsets"))
        #expect(c.logging.level == .info)
        #expect(c.logging.format == .text)
        #expect(c.kafka == ["bootstrap.servers": "broker1:9092"])
    }

    @Test func nonKafkaSinkDefaultsToFileOffsets() throws {
        let c = try load(
            """
            name: a
            topic.prefix: p
            database.dbname: d
            sink.type: stdout
            offset.storage.file.filename: /var/lib/tributary/a.offsets
            """
        )
        #expect(c.sink.kind == .stdout)
        #expect(c.offsets.storage == .file(path: "/var/lib/tributary/a.offsets"))
        #expect(c.kafka.isEmpty)
    }

    @Test func effectiveSettingsListEveryKnownKeyWithItsDefault() throws {
        let c = try load()
        let settings = c.effectiveSettings()
        let shown = Set(settings.map(\.key))
        let known = Set(ConfigurationKeys.all.filter { !$0.isTemplate }.map(\.name))
        #expect(shown == known)
        #expect(settings.map(\.key) == settings.map(\.key).sorted())
        let byKey = Dictionary(uniqueKeysWithValues: settings.map { ($0.key, $0) })
        #expect(byKey["database.port"]?.value == "5432")
        #expect(byKey["database.port"]?.source == .defaultValue)
        #expect(byKey["offset.storage.topic"]?.value == "orders-agent.offsets")
        #expect(byKey["snapshot.mode"]?.value == "initial")
        #expect(byKey["errors.max.retries"]?.value == "-1")
        #expect(byKey["name"]?.source == .file(path: "test.yaml", line: 1))
        #expect(byKey["kafka.bootstrap.servers"]?.source == .file(path: "test.yaml", line: 4))
    }

    @Test func everyKeyHasAUniqueEnvironmentVariable() {
        let keys = ConfigurationKeys.all.filter { !$0.isTemplate }
        let variables = Set(keys.map(\.environmentVariable))
        #expect(variables.count == keys.count)
        #expect(ConfigurationKeys.environmentVariable(for: "database.password") == "TRIBUTARY_DATABASE_PASSWORD")
        #expect(
            ConfigurationKeys.environmentVariable(for: "kafka.bootstrap.servers") == "TRIBUTARY_KAFKA_BOOTSTRAP_SERVERS"
        )
    }

    @Test func topicNamesFollowDebezium() throws {
        let c = try load(overrides: ["topic.delimiter": "_", "provide.transaction.metadata": "true"])
        #expect(c.topic(for: TableID(schema: "public", name: "orders")) == "shop_public_orders")
        #expect(c.transactionTopic == "shop_transaction")
        #expect(c.heartbeatTopic == "__debezium-heartbeat_shop")
        let dotted = try load()
        #expect(dotted.topic(for: TableID(schema: "public", name: "orders")) == "shop.public.orders")
    }

    @Test func libpqParametersCarryConnectionSettings() throws {
        let c = try load(
            overrides: [
                "database.hostname": "db1", "database.port": "6543", "database.password": "pw",
                "database.sslmode": "verify-full", "database.sslrootcert": "/etc/ca.pem",
                "database.connect.timeout.ms": "2500",
            ])
        let parameters = Dictionary(uniqueKeysWithValues: c.postgres.libpqParameters.map { ($0.keyword, $0.value) })
        #expect(
            parameters == [
                "host": "db1", "port": "6543", "user": "postgres", "dbname": "shop", "sslmode": "verify-full",
                "connect_timeout": "3", "password": "pw", "sslrootcert": "/etc/ca.pem",
            ]
        )
    }
}
