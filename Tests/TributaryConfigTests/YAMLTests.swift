import Testing
import TributaryConfig

@Suite struct YAMLTests {
    @Test func nestedMappingsFlattenWithDots() throws {
        let c = try load(
            """
            name: nested
            topic:
              prefix: shop
            database:
              hostname: db1
              port: 6432
              connect.timeout.ms: 5000
              dbname: shop
            kafka:
              bootstrap.servers: k1:9092,k2:9092
              security:
                protocol: SASL_SSL
            """
        )
        #expect(c.topicPrefix == "shop")
        #expect(c.postgres.hostname == "db1")
        #expect(c.postgres.port == 6432)
        #expect(c.postgres.connectTimeout == .seconds(5))
        #expect(c.kafka == ["bootstrap.servers": "k1:9092,k2:9092", "security.protocol": "SASL_SSL"])
    }

    @Test func flatAndNestedFormsOfOneKeyMustAgree() throws {
        let same = try load(requiredYAML + "\ndatabase:\n  dbname: shop\n")
        #expect(same.postgres.databaseName == "shop")
        let error = configurationError { try load(requiredYAML + "\ndatabase:\n  dbname: other\n") }
        #expect(error?.code == .conflictingKeys)
        #expect(error?.key == "database.dbname")
    }

    @Test func listsAreRejectedNamingTheKey() {
        let error = configurationError {
            try load(requiredYAML + "\ntable.include.list:\n  - public.a\n  - public.b\n")
        }
        #expect(error?.code == .invalidYAML)
        #expect(error?.key == "table.include.list")
        #expect(error?.message.contains("comma-separated") == true)
    }

    @Test func nullMeansUnset() throws {
        let c = try load(requiredYAML + "\ndatabase.sslrootcert:\ndatabase.hostname: ~\nheartbeat.action.query: null\n")
        #expect(c.postgres.sslRootCert == nil)
        #expect(c.postgres.hostname == "127.0.0.1")
        #expect(c.heartbeat.actionQuery == nil)
        let quoted = try load(requiredYAML + "\nunavailable.value.placeholder: \"null\"\n")
        #expect(quoted.format.unavailableValuePlaceholder == "null")
    }

    @Test func documentMustBeAMapping() {
        let error = configurationError { try load("- name: a\n") }
        #expect(error?.code == .invalidYAML)
        #expect(error?.key == nil)
    }

    @Test func emptyDocumentContributesNothing() {
        let error = configurationError { try load("# only a comment\n") }
        #expect(error?.code == .missingValue)
        #expect(error?.key == "name")
    }

    @Test func syntaxErrorsGiveTheLine() {
        let error = configurationError { try load("name: a\ntopic.prefix: [p\ndatabase.dbname: d\n") }
        #expect(error?.code == .invalidYAML)
        if case .file(let path, let line?) = error?.source {
            #expect(path == "test.yaml")
            #expect(line >= 2)
        } else {
            Issue.record("expected a file source with a line, got \(String(describing: error?.source))")
        }
    }

    @Test func duplicateYAMLKeysAreRejected() {
        let error = configurationError { try load(requiredYAML + "\nname: again\n") }
        #expect(error?.code == .invalidYAML)
        #expect(error?.message.contains("`name`") == true)
    }

    @Test func scalarsOfAnyYAMLTypeAreReadAsText() throws {
        let c = try load(
            requiredYAML + "\nslot.drop.on.stop: TRUE\ndatabase.password: 12345\nheartbeat.interval.ms: 0\n"
        )
        #expect(c.postgres.dropSlotOnStop)
        #expect(c.postgres.password.exposedValue == "12345")
        #expect(c.heartbeat.interval == nil)
    }

    @Test func debeziumServerPrefixesAreAccepted() throws {
        let c = try load(
            """
            debezium.source.name: srv
            debezium.source.topic.prefix: shop
            debezium.source.database.dbname: shop
            debezium.source.offset.storage: org.apache.kafka.connect.storage.FileOffsetBackingStore
            debezium.source.offset.storage.file.filename: data/offsets.dat
            debezium.sink.type: stdout
            """
        )
        #expect(c.name == "srv")
        #expect(c.sink.kind == .stdout)
        #expect(c.offsets.storage == .file(path: "data/offsets.dat"))

        let kafka = try load(
            """
            debezium.source.name: srv
            debezium.source.topic.prefix: shop
            debezium.source.database.dbname: shop
            debezium.sink.type: kafka
            debezium.sink.kafka.producer.bootstrap.servers: k:9092
            """
        )
        #expect(kafka.kafka == ["bootstrap.servers": "k:9092"])
    }

    @Test func kafkaConnectConnectorJSONLoads() throws {
        let c = try load(
            """
            {
              "name": "inventory-connector",
              "config": {
                "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
                "tasks.max": "1",
                "name": "inventory-connector",
                "database.hostname": "postgres",
                "database.port": "5432",
                "database.user": "postgres",
                "database.password": "postgres",
                "database.dbname": "postgres",
                "topic.prefix": "dbserver1",
                "schema.include.list": "inventory",
                "plugin.name": "pgoutput",
                "key.converter": "org.apache.kafka.connect.json.JsonConverter",
                "value.converter.schemas.enable": "false",
                "kafka.bootstrap.servers": "kafka:9092"
              }
            }
            """
        )
        #expect(c.name == "inventory-connector")
        #expect(c.topicPrefix == "dbserver1")
        #expect(c.filter.schemaIncludeList?.patterns == ["inventory"])
        #expect(c.format.valueSchemasEnabled == false)
        #expect(c.format.keySchemasEnabled == true)
    }
}
