import Testing
import TributaryConfig

@Suite struct SecretTests {
    let secret = "hunter2-S3cr3t"

    func withSecrets(_ extra: String = "") -> String {
        requiredYAML + "\ndatabase.password: \(secret)\nkafka.sasl.password: \(secret)\n" + extra
    }

    @Test func descriptionsNeverShowSecrets() throws {
        let c = try load(withSecrets(), environment: ["TRIBUTARY_KAFKA_SSL_KEY_PASSWORD": secret])
        #expect(c.postgres.password.exposedValue == secret)
        #expect(c.kafka["sasl.password"] == secret)
        var dumped = ""
        dump(c, to: &dumped)
        var dumpedPostgres = ""
        dump(c.postgres, to: &dumpedPostgres)
        for text in [
            c.description, c.debugDescription, c.redactedDescription, String(describing: c), String(reflecting: c),
            dumped, String(describing: c.postgres), String(reflecting: c.postgres), dumpedPostgres,
            "\(c.postgres.password)", c.effectiveSettings().map(\.description).joined(),
        ] {
            #expect(!text.contains(secret))
        }
        #expect(c.redactedDescription.contains("database.password: \"<redacted>\""))
        #expect(c.redactedDescription.contains("kafka.ssl.key.password: \"<redacted>\""))
        #expect(c.redactedDescription.contains("database.hostname: \"127.0.0.1\"  # default"))
    }

    @Test func unredactedSettingsShowSecretsOnRequest() throws {
        let c = try load(withSecrets())
        let password = c.effectiveSettings(redacted: false).first { $0.key == "database.password" }
        #expect(password?.value == secret)
        #expect(password?.isSecret == true)
        #expect(c.effectiveSettings().first { $0.key == "kafka.sasl.password" }?.value == "<redacted>")
    }

    @Test func errorsNeverQuoteSecrets() {
        let cases: [String] = [
            // A typo in a secret key: the value must not be echoed.
            requiredYAML + "\ndatabase.pasword: \(secret)\n",
            // The same secret twice with different values.
            requiredYAML + "\ndatabase.password: \(secret)\ndatabase:\n  password: other-\(secret)\n",
            // A YAML syntax error on the line holding the secret.
            requiredYAML + "\ndatabase.password: \"\(secret)\n",
            requiredYAML + "\ndatabase.password: [\(secret)]\n",
            // An unrelated error while secrets are set.
            withSecrets("database.port: nope\n"),
        ]
        for yaml in cases {
            let error = configurationError { try load(yaml) }
            #expect(error != nil)
            #expect(error.map { !$0.description.contains(secret) } == true, "\(error.map(\.description) ?? "")")
        }
        let environment = configurationError { try load(environment: ["TRIBUTARY_DATABASE_PASSWRD": secret]) }
        #expect(environment.map { !$0.description.contains(secret) } == true)
    }

    @Test func secretKeysAreRecognised() {
        for key in [
            "database.password", "kafka.sasl.password", "kafka.ssl.key.password", "kafka.ssl.keystore.password",
            "kafka.sasl.oauthbearer.client.secret", "kafka.ssl.key.pem", "kafka.sasl.oauthbearer.config",
        ] {
            #expect(ConfigurationKeys.isSecret(key), "\(key)")
        }
        for key in ["database.user", "kafka.bootstrap.servers", "kafka.sasl.username", "database.sslkey", "name"] {
            #expect(!ConfigurationKeys.isSecret(key), "\(key)")
        }
    }
}
