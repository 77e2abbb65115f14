internal import CRdKafka

/// librdkafka configuration properties, passed through verbatim.
///
/// Users write `kafka.bootstrap.servers`, `kafka.security.protocol`, … in Tributary's configuration; the
/// caller strips the `kafka.` prefix and hands the rest here. Property names and values are those of
/// librdkafka's CONFIGURATION.md (the Java client's names for the common ones).
public struct KafkaConfiguration: Sendable, Hashable {
    /// Property name → value, e.g. `["bootstrap.servers": "127.0.0.1:9092"]`.
    public var properties: [String: String]

    public init(_ properties: [String: String] = [:]) {
        self.properties = properties
    }

    /// Convenience for the one property every client needs.
    public init(bootstrapServers: String, _ properties: [String: String] = [:]) {
        var all = properties
        all["bootstrap.servers"] = bootstrapServers
        self.properties = all
    }

    public subscript(property: String) -> String? {
        get { properties[property] }
        set { properties[property] = newValue }
    }

    /// `bootstrap.servers`, if set.
    public var bootstrapServers: String? { properties["bootstrap.servers"] }

    /// Returns a copy with `overrides` applied on top.
    public func merging(_ overrides: [String: String]) -> KafkaConfiguration {
        KafkaConfiguration(properties.merging(overrides) { _, new in new })
    }

    /// Checks every property with `rd_kafka_conf_set` on a scratch configuration, so a typo is reported at
    /// startup naming the property and librdkafka's message. Tributary never adds the value itself (it may be
    /// a secret); librdkafka quotes it only for enum/number properties.
    public func validate() throws {
        let conf = try RDKafkaConfig.make(RDKafkaConfig.ordered(properties))
        rd_kafka_conf_destroy(conf)
    }
}

/// Builds `rd_kafka_conf_t` objects (`rd_kafka_conf_new` + `rd_kafka_conf_set`).
enum RDKafkaConfig {
    /// User properties in a stable order (sorted by name).
    static func ordered(_ properties: [String: String]) -> [(String, String)] {
        properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Layers `defaults` < `user` < `forced` into one ordered list.
    static func layered(
        defaults: [(String, String)] = [], user: [String: String], forced: [(String, String)] = []
    ) -> [(String, String)] {
        let overridden = Set(user.keys).union(forced.map(\.0))
        let forcedNames = Set(forced.map(\.0))
        return defaults.filter { !overridden.contains($0.0) } + ordered(user).filter { !forcedNames.contains($0.0) }
            + forced
    }

    /// Creates a configuration with `properties` applied in order. The caller owns the result (pass it
    /// to `rd_kafka_new`, or `rd_kafka_conf_destroy` it).
    static func make(_ properties: [(String, String)]) throws -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaSinkError(.configuration, "rd_kafka_conf_new returned NULL")
        }
        for (name, value) in properties {
            do {
                try set(conf, name, value)
            } catch {
                rd_kafka_conf_destroy(conf)
                throw error
            }
        }
        return conf
    }

    /// Wraps `rd_kafka_conf_set`. The error names the property and carries librdkafka's message.
    static func set(_ conf: OpaquePointer, _ name: String, _ value: String) throws {
        var errstr = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, name, value, &errstr, errstr.count)
        guard result != RD_KAFKA_CONF_OK else { return }
        let reason = String(cBuffer: errstr)
        let kind = result == RD_KAFKA_CONF_UNKNOWN ? "unknown librdkafka property" : "invalid value for librdkafka property"
        throw KafkaSinkError(
            .configuration, "\(kind) '\(name)': \(reason.isEmpty ? "rejected" : reason)", property: name)
    }
}
