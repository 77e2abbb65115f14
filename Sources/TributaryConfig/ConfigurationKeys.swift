/// Every configuration key Tributary knows, with Debezium's names and defaults, and the rules that map
/// keys to environment variables, recognise secrets and accept Debezium's long-form prefixes.
///
/// Debezium reference: PostgreSQL connector properties (3.1); Debezium Server `debezium.source.*` /
/// `debezium.sink.*`; librdkafka `CONFIGURATION.md` for `kafka.*` pass-through properties.
public enum ConfigurationKeys {
    /// Environment variables that override keys start with this prefix.
    public static let environmentPrefix = "TRIBUTARY_"

    /// `TRIBUTARY_*` environment variables that are not configuration keys and are ignored:
    /// `TRIBUTARY_CONFIG` (the file path, read by the CLI) and `TRIBUTARY_RECORD_FIXTURES` (tests).
    public static let ignoredEnvironmentVariables: Set<String> = ["TRIBUTARY_CONFIG", "TRIBUTARY_RECORD_FIXTURES"]
    /// Environment variables with this prefix are ignored (test configuration such as `TRIBUTARY_TEST_PG_URL`).
    public static let ignoredEnvironmentPrefix = "TRIBUTARY_TEST_"

    /// Prefix of librdkafka properties passed through to the producer and consumer.
    public static let kafkaPrefix = "kafka."
    /// Prefix of the per-table snapshot SELECT statements.
    public static let selectOverridePrefix = "snapshot.select.statement.overrides."

    /// `TRIBUTARY_` + the key upper-cased with `.` (and `-`) → `_`.
    public static func environmentVariable(for key: String) -> String {
        environmentPrefix
            + String(key.uppercased().map { $0 == "." || $0 == "-" ? "_" : $0 })
    }

    /// Whether a key holds a secret: the known password keys, and any `kafka.*` property whose name
    /// mentions a password, secret, token, credential or JAAS config, or is a PEM private key.
    public static func isSecret(_ key: String) -> Bool {
        if let known = byName[key] { return known.isSecret }
        guard key.hasPrefix(kafkaPrefix) else { return false }
        let lowered = key.lowercased()
        for marker in ["password", "secret", "token", "credential", "jaas"] where lowered.contains(marker) {
            return true
        }
        return lowered == "kafka.ssl.key.pem" || lowered == "kafka.sasl.oauthbearer.config"
    }

    /// Maps Debezium's long forms onto Tributary keys: Debezium Server's `debezium.source.<key>`,
    /// `debezium.sink.type`, `debezium.sink.kafka.producer.<property>` (→ `kafka.<property>`), and the
    /// Kafka Connect REST form's `config.<key>` (a connector JSON file is also valid YAML).
    public static func canonicalKey(_ key: String) -> String {
        if key.hasPrefix("debezium.source.") { return String(key.dropFirst("debezium.source.".count)) }
        if key.hasPrefix("debezium.sink.kafka.producer.") {
            return kafkaPrefix + key.dropFirst("debezium.sink.kafka.producer.".count)
        }
        if key == "debezium.sink.type" { return "sink.type" }
        if key.hasPrefix("config.") { return String(key.dropFirst("config.".count)) }
        return key
    }

    /// Whether `key` (already canonical) is accepted: a known key, a `kafka.<property>` or a
    /// `snapshot.select.statement.overrides.<schema.table>`. Whether that table is listed is checked later.
    static func isAccepted(_ key: String) -> Bool {
        if byName[key] != nil { return true }
        if key.hasPrefix(kafkaPrefix) { return key.count > kafkaPrefix.count }
        if key.hasPrefix(selectOverridePrefix) { return key.count > selectOverridePrefix.count }
        return false
    }

    /// Keys of older Debezium releases, with the key that replaced them.
    static let renamedKeys: [String: String] = [
        "table.whitelist": "table.include.list",
        "table.blacklist": "table.exclude.list",
        "schema.whitelist": "schema.include.list",
        "schema.blacklist": "schema.exclude.list",
        "column.whitelist": "column.include.list",
        "column.blacklist": "column.exclude.list",
        "database.server.name": "topic.prefix",
        "snapshot.select.statement.overrides.tables": "snapshot.select.statement.overrides",
    ]

    /// The message for an unknown key: a rename hint, or the closest known key when it is a likely typo.
    static func unknownKeyMessage(_ key: String) -> String {
        if let renamed = renamedKeys[key] {
            return "unknown key; Debezium renamed it to `\(renamed)`"
        }
        if let suggestion = closestKey(to: key) {
            return "unknown key; did you mean `\(suggestion)`?"
        }
        return "unknown key (see docs/configuration.md for the accepted keys)"
    }

    /// The known key within edit distance 2 of `key` (3 for long keys), if any.
    static func closestKey(to key: String) -> String? {
        var best: (name: String, distance: Int)?
        let limit = key.count > 20 ? 3 : 2
        for candidate in all where !candidate.isTemplate {
            let distance = editDistance(key, candidate.name)
            if distance <= limit, distance < (best?.distance ?? Int.max) {
                best = (candidate.name, distance)
            }
        }
        return best?.name
    }

    /// The environment variable within edit distance 2 of `variable`, if any.
    static func closestEnvironmentVariable(to variable: String) -> String? {
        var best: (name: String, distance: Int)?
        for name in byEnvironmentVariable.keys.sorted() {
            let distance = editDistance(variable, name)
            if distance <= 2, distance < (best?.distance ?? Int.max) {
                best = (name, distance)
            }
        }
        return best?.name
    }

    /// Levenshtein distance over UTF-8 bytes.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// Known keys by name (templates excluded).
    static let byName: [String: ConfigurationKey] = Dictionary(
        all.filter { !$0.isTemplate }.map { ($0.name, $0) },
        uniquingKeysWith: { first, _ in first }
    )

    /// Known keys by their environment variable (templates excluded).
    static let byEnvironmentVariable: [String: String] = Dictionary(
        all.filter { !$0.isTemplate }.map { ($0.environmentVariable, $0.name) },
        uniquingKeysWith: { first, _ in first }
    )

    /// The reference table for `docs/configuration.md`, one Markdown table per group.
    public static func markdownReference() -> String {
        var out = ""
        for group in ConfigurationKey.Group.allCases {
            let keys = all.filter { $0.group == group }
            guard !keys.isEmpty else { continue }
            out += "### \(group.rawValue)\n\n"
            out += "| Key | Type | Default | Description |\n|---|---|---|---|\n"
            for key in keys {
                let defaultText = key.defaultValue ?? "—"
                let summary = key.summary + (key.isSecret ? " **Secret:** never printed or logged." : "")
                out += "| `\(key.name)` | \(key.type) | \(defaultText) | \(summary) |\n"
            }
            out += "\n"
        }
        return out
    }
}
