/// One key of the effective configuration, for `tributary config show` and start-up logs.
public struct EffectiveSetting: Sendable, Hashable, CustomStringConvertible {
    /// The configuration key, e.g. `database.hostname` or `kafka.bootstrap.servers`.
    public var key: String
    /// The value as text; `<redacted>` for a non-empty secret when redaction was requested.
    public var value: String
    /// Where the value came from.
    public var source: ConfigurationSource
    /// Whether the key holds a secret (`database.password`, `kafka.sasl.password`, …).
    public var isSecret: Bool

    public init(key: String, value: String, source: ConfigurationSource, isSecret: Bool) {
        self.key = key
        self.value = value
        self.source = source
        self.isSecret = isSecret
    }

    /// `key: "value"  # source`, a valid YAML line; secrets are always redacted here.
    public var description: String {
        let shown = isSecret && !value.isEmpty ? Secret.redactionMarker : value
        return "\(key): \(YAMLQuoting.quoted(shown))  # \(source)"
    }
}

/// Quotes a string as a YAML double-quoted scalar.
enum YAMLQuoting {
    static func quoted(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
