import TributaryCore

/// Value checks shared by several keys; each returns what was expected, or nil when the value is fine.
enum Validation {
    /// Kafka topic name characters (`[A-Za-z0-9._-]`), 1…`maxLength`.
    static func topicCharacters(_ value: String, maxLength: Int) -> String? {
        let valid =
            !value.isEmpty && value.utf8.count <= maxLength
            && value.utf8.allSatisfy {
                $0.isASCIIAlphanumeric || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
            }
        return valid ? nil : "1–\(maxLength) characters of `[A-Za-z0-9._-]`"
    }

    /// PostgreSQL replication slot names: `[a-z0-9_]{1,63}` (`ReplicationSlotValidateName`).
    static func slotName(_ value: String) -> String? {
        let valid =
            (1...63).contains(value.utf8.count)
            && value.utf8.allSatisfy {
                ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z"))
                    || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_")
            }
        return valid ? nil : "1–63 characters of `[a-z0-9_]` (PostgreSQL replication slot name)"
    }

    /// A PostgreSQL identifier (quoted by the agent): 1–63 bytes (NAMEDATALEN - 1), no control characters.
    static func identifier(_ value: String) -> String? {
        let valid =
            (1...63).contains(value.utf8.count)
            && value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
        return valid ? nil : "a PostgreSQL identifier of 1–63 bytes"
    }

    /// A pgoutput option name: `[a-z_]+`.
    static func isOptionName(_ value: String) -> Bool {
        !value.isEmpty
            && value.utf8.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || $0 == UInt8(ascii: "_") }
    }

    /// A librdkafka property name: `[a-z0-9._]+`.
    static func isKafkaPropertyName(_ value: String) -> Bool {
        !value.isEmpty && !value.hasPrefix(".") && !value.hasSuffix(".")
            && value.utf8.allSatisfy {
                ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z"))
                    || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                    || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_")
            }
    }

    /// `schema.table` split at the first dot; nil when either part is empty.
    static func tableID(_ value: String) -> TableID? {
        guard let dot = value.firstIndex(of: ".") else { return nil }
        let schema = String(value[..<dot])
        let name = String(value[value.index(after: dot)...])
        guard !schema.isEmpty, !name.isEmpty else { return nil }
        return TableID(schema: schema, name: name)
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (self >= UInt8(ascii: "a") && self <= UInt8(ascii: "z"))
            || (self >= UInt8(ascii: "A") && self <= UInt8(ascii: "Z"))
            || (self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9"))
    }
}
