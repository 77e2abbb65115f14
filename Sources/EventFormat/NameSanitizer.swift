/// Topic and schema-name sanitising, as Debezium does it (EVENT-FORMAT.md c.1). Both work on UTF-16 code
/// units like Java's `String.charAt`, so a character outside the BMP becomes two replacement characters.
enum NameSanitizer {
    /// Kafka's longest legal topic name (`TopicNamingStrategy.MAX_NAME_LENGTH`).
    static let maxTopicLength = 249

    /// `AbstractTopicNamingStrategy.sanitizedTopicName`: characters outside `[a-zA-Z0-9._-]` become `_`,
    /// names are cut at 249 characters, and `.`/`..` (illegal topics) become `_`/`__`.
    static func topicName(_ name: String) -> String {
        var changed = false
        var result: [UInt16] = []
        result.reserveCapacity(name.utf16.count)
        for unit in name.utf16 {
            if isTopicCharacter(unit) {
                result.append(unit)
            } else {
                result.append(UInt16(UInt8(ascii: "_")))
                changed = true
            }
        }
        if result.count > maxTopicLength {
            result.removeLast(result.count - maxTopicLength)
            changed = true
        }
        let dot = UInt16(UInt8(ascii: "."))
        if result == [dot] || result == [dot, dot] {
            result = result.map { _ in UInt16(UInt8(ascii: "_")) }
            changed = true
        }
        return changed ? String(decoding: result, as: UTF16.self) : name
    }

    /// `SchemaNameAdjuster.AVRO` (`validFullname` with underscore replacement): the first character must
    /// be `[A-Za-z_]` (a leading digit is kept behind an added `_`), the others `[A-Za-z0-9_.]`.
    static func avroFullName(_ name: String) -> String {
        var changed = false
        var result: [UInt16] = []
        result.reserveCapacity(name.utf16.count + 1)
        let underscore = UInt16(UInt8(ascii: "_"))
        for (index, unit) in name.utf16.enumerated() {
            if index == 0 {
                if isAvroFirst(unit) {
                    result.append(unit)
                } else {
                    result.append(underscore)
                    if isDigit(unit) { result.append(unit) }
                    changed = true
                }
            } else if isAvroFirst(unit) || isDigit(unit) || unit == UInt16(UInt8(ascii: ".")) {
                result.append(unit)
            } else {
                result.append(underscore)
                changed = true
            }
        }
        return changed ? String(decoding: result, as: UTF16.self) : name
    }

    @inline(__always)
    private static func isDigit(_ u: UInt16) -> Bool { u >= 0x30 && u <= 0x39 }

    @inline(__always)
    private static func isAvroFirst(_ u: UInt16) -> Bool {
        (u >= 0x41 && u <= 0x5A) || (u >= 0x61 && u <= 0x7A) || u == 0x5F
    }

    @inline(__always)
    private static func isTopicCharacter(_ u: UInt16) -> Bool {
        isAvroFirst(u) || isDigit(u) || u == 0x2E || u == 0x2D
    }
}
