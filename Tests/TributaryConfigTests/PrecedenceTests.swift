import Testing
import TributaryConfig
import TributaryCore

@Suite struct PrecedenceTests {
    let yaml = requiredYAML + "\ndatabase.hostname: from-file\ndatabase.port: 5433\n"

    @Test func fileBeatsDefault() throws {
        let c = try load(yaml)
        #expect(c.postgres.hostname == "from-file")
        #expect(c.postgres.port == 5433)
    }

    @Test func environmentBeatsFile() throws {
        let c = try load(yaml, environment: ["TRIBUTARY_DATABASE_HOSTNAME": "from-env"])
        #expect(c.postgres.hostname == "from-env")
        #expect(c.postgres.port == 5433)
        let setting = c.effectiveSettings().first { $0.key == "database.hostname" }
        #expect(setting?.source == .environment(variable: "TRIBUTARY_DATABASE_HOSTNAME"))
    }

    @Test func overrideBeatsEnvironment() throws {
        let c = try load(
            yaml,
            environment: ["TRIBUTARY_DATABASE_HOSTNAME": "from-env", "TRIBUTARY_DATABASE_PORT": "6000"],
            overrides: ["database.hostname": "from-flag"]
        )
        #expect(c.postgres.hostname == "from-flag")
        #expect(c.postgres.port == 6000)
        #expect(c.effectiveSettings().first { $0.key == "database.hostname" }?.source == .override)
    }

    @Test func environmentAloneCanSupplyRequiredKeys() throws {
        let c = try load(
            "",
            environment: [
                "TRIBUTARY_NAME": "env-agent", "TRIBUTARY_TOPIC_PREFIX": "envp", "TRIBUTARY_DATABASE_DBNAME": "db",
                "TRIBUTARY_KAFKA_BOOTSTRAP_SERVERS": "k:9092", "TRIBUTARY_DATABASE_PASSWORD": "s3cret",
            ]
        )
        #expect(c.name == "env-agent")
        #expect(c.postgres.password.exposedValue == "s3cret")
        #expect(c.kafka["bootstrap.servers"] == "k:9092")
    }

    @Test func kafkaEnvironmentVariablesMapToLowerCaseDottedProperties() throws {
        let c = try load(
            requiredYAML + "\nkafka.compression.type: lz4\n",
            environment: ["TRIBUTARY_KAFKA_COMPRESSION_TYPE": "zstd", "TRIBUTARY_KAFKA_SASL_PASSWORD": "pw"]
        )
        #expect(c.kafka["compression.type"] == "zstd")
        #expect(c.kafka["sasl.password"] == "pw")
        #expect(c.kafka["bootstrap.servers"] == "broker1:9092")
    }

    @Test func schemasEnableShorthandSetsBothAndSpecificKeyWinsInTheSameSource() throws {
        let both = try load(requiredYAML + "\nschemas.enable: false\n")
        #expect(both.format.keySchemasEnabled == false)
        #expect(both.format.valueSchemasEnabled == false)

        let specific = try load(requiredYAML + "\nschemas.enable: false\nvalue.converter.schemas.enable: true\n")
        #expect(specific.format.keySchemasEnabled == false)
        #expect(specific.format.valueSchemasEnabled == true)

        // A shorthand from a higher-precedence source beats a specific key from the file.
        let env = try load(
            requiredYAML + "\nkey.converter.schemas.enable: false\n",
            environment: ["TRIBUTARY_SCHEMAS_ENABLE": "true"]
        )
        #expect(env.format.keySchemasEnabled == true)
        #expect(env.format.valueSchemasEnabled == true)
    }

    @Test func selectOverrideStatementsComeFromAnySource() throws {
        let yaml =
            requiredYAML + """

                snapshot.select.statement.overrides: public.orders,inventory.Items
                snapshot.select.statement.overrides.public.orders: SELECT * FROM public.orders WHERE NOT archived
                """
        let c = try load(
            yaml,
            environment: [
                "TRIBUTARY_SNAPSHOT_SELECT_STATEMENT_OVERRIDES_INVENTORY_ITEMS": "SELECT id FROM inventory.\"Items\""
            ]
        )
        #expect(
            c.snapshot.selectStatementOverrides == [
                TableID(schema: "public", name: "orders"): "SELECT * FROM public.orders WHERE NOT archived",
                TableID(schema: "inventory", name: "Items"): "SELECT id FROM inventory.\"Items\"",
            ]
        )
        let overridden = try load(
            yaml,
            environment: [
                "TRIBUTARY_SNAPSHOT_SELECT_STATEMENT_OVERRIDES_INVENTORY_ITEMS": "SELECT 1",
                "TRIBUTARY_SNAPSHOT_SELECT_STATEMENT_OVERRIDES_PUBLIC_ORDERS": "SELECT 2",
            ],
            overrides: ["snapshot.select.statement.overrides.public.orders": "SELECT 3"]
        )
        #expect(overridden.snapshot.selectStatementOverrides[TableID(schema: "public", name: "orders")] == "SELECT 3")
    }

    @Test func unrelatedAndTestEnvironmentVariablesAreIgnored() throws {
        let c = try load(
            environment: [
                "PATH": "/usr/bin", "HOME": "/root", "KAFKA_BOOTSTRAP_SERVERS": "other:9092",
                "TRIBUTARY_TEST_PG_URL": "postgres://x", "TRIBUTARY_TEST_ANYTHING": "1",
                "TRIBUTARY_RECORD_FIXTURES": "1", "TRIBUTARY_CONFIG": "/etc/tributary.yaml",
            ])
        #expect(c.kafka == ["bootstrap.servers": "broker1:9092"])
    }
}
