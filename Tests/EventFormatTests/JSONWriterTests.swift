import Foundation
import Testing

@testable import EventFormat

@Suite struct JSONWriterTests {
    private func written(_ body: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter(capacity: 16)
        body(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test func escapesStringsLikeJackson() throws {
        let input = "a\"b\\c\u{08}\u{09}\u{0A}\u{0C}\u{0D}\u{00}\u{1F}\u{7F}/é😀"
        let out = written { $0.string(input) }
        #expect(out == "\"a\\\"b\\\\c\\b\\t\\n\\f\\r\\u0000\\u001F\u{7F}/é😀\"")
        // And it round-trips through a real JSON parser.
        let parsed = try json(Array(out.utf8)) as? String
        #expect(parsed == input)
    }

    @Test func writesEveryControlCharacterAsValidJSON() throws {
        let input = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) })
        let out = written { $0.string(input) }
        #expect(try json(Array(out.utf8)) as? String == input)
    }

    @Test func writesIntegersAtTheLimits() {
        #expect(written { $0.int(0) } == "0")
        #expect(written { $0.int(-1) } == "-1")
        #expect(written { $0.int(Int64.min) } == "-9223372036854775808")
        #expect(written { $0.int(Int64.max) } == "9223372036854775807")
        #expect(written { $0.uint(UInt64.max) } == "18446744073709551615")
        #expect(written { $0.int(1_000_000) } == "1000000")
    }

    /// Expected strings printed by `Double.toString` / `Float.toString` (OpenJDK 17, which agrees with the
    /// shortest-digit algorithm of JDK ≥ 19 on all of these except 1e23, where 17 prints the non-shortest
    /// `9.999999999999999E22` and 19+ prints `1.0E23`; we follow 19+). Known difference: for
    /// the few subnormals whose shortest form has one digit, Java picks the closest two-digit decimal
    /// (`4.9E-324`) where Swift's shortest gives `5.0E-324`; both parse back to the same double.
    @Test(arguments: [
        (1.0, "1.0"), (0.1, "0.1"), (1e-5, "1.0E-5"), (0.001, "0.001"), (1_234_567.0, "1234567.0"),
        (12_345_678.9, "1.23456789E7"), (1e7, "1.0E7"), (1e16, "1.0E16"), (1e21, "1.0E21"), (123.456, "123.456"),
        (-0.5, "-0.5"), (3.3, "3.3"), (100.0, "100.0"), (9_999_999.0, "9999999.0"), (0.00099, "9.9E-4"),
        (1.7976931348623157e308, "1.7976931348623157E308"), (Double.leastNormalMagnitude, "2.2250738585072014E-308"),
        (1e23, "1.0E23"), (0.0, "0.0"), (-0.0, "-0.0"),
    ])
    func writesDoublesLikeJavaDoubleToString(value: Double, expected: String) {
        #expect(written { $0.double(value) } == expected)
    }

    @Test(arguments: [
        (Float(3.3), "3.3"), (Float(1.0), "1.0"), (Float(1e10), "1.0E10"), (Float(0.1), "0.1"),
        (Float(16_777_216), "1.6777216E7"), (Float(1e-4), "1.0E-4"),
    ])
    func writesFloatsLikeJavaFloatToString(value: Float, expected: String) {
        #expect(written { $0.float(value) } == expected)
    }

    @Test func quotesNonFiniteNumbersLikeJacksonDefaults() {
        #expect(written { $0.double(.nan) } == "\"NaN\"")
        #expect(written { $0.double(.infinity) } == "\"Infinity\"")
        #expect(written { $0.double(-.infinity) } == "\"-Infinity\"")
        #expect(written { $0.float(.nan) } == "\"NaN\"")
        #expect(written { $0.float(-.infinity) } == "\"-Infinity\"")
    }

    @Test func writesBase64WithPadding() {
        #expect(written { $0.base64([]) } == "\"\"")
        #expect(written { $0.base64([0x01, 0xE2, 0x40]) } == "\"AeJA\"")
        #expect(written { $0.base64([0xFF]) } == "\"/w==\"")
        #expect(written { $0.base64([0x00, 0x80]) } == "\"AIA=\"")
        #expect(written { $0.base64([0xFB, 0xFF]) } == "\"+/8=\"")
        #expect(written { $0.base64([0xFB, 0xFF], urlSafe: true) } == "\"-_8=\"")
        let all = (0...255).map { UInt8($0) }
        let out = written { $0.base64(all) }
        #expect(out == "\"" + Data(all).base64EncodedString() + "\"")
    }

    @Test func writesLowerCaseHex() {
        #expect(written { $0.hex([0x01, 0xAB, 0xFF]) } == "\"01abff\"")
    }
}

@Suite struct NameSanitizerTests {
    @Test func keepsLegalTopicNames() {
        #expect(NameSanitizer.topicName("pg1.public.customers") == "pg1.public.customers")
        #expect(NameSanitizer.topicName("a-b_c.D9") == "a-b_c.D9")
    }

    @Test func replacesIllegalTopicCharactersPerUTF16Unit() {
        #expect(NameSanitizer.topicName("pg1.public.my table") == "pg1.public.my_table")
        #expect(NameSanitizer.topicName("pg1.public.Ünïcode") == "pg1.public._n_code")
        // Outside the BMP: two UTF-16 units, two replacements (Java `charAt`).
        #expect(NameSanitizer.topicName("t😀") == "t__")
        #expect(NameSanitizer.topicName(".") == "_")
        #expect(NameSanitizer.topicName("..") == "__")
        #expect(NameSanitizer.topicName(String(repeating: "a", count: 300)).count == 249)
    }

    @Test func makesAvroFullNames() {
        #expect(NameSanitizer.avroFullName("pg1.public.customers.Value") == "pg1.public.customers.Value")
        #expect(NameSanitizer.avroFullName("my-server.public.t.Key") == "my_server.public.t.Key")
        // A leading digit keeps the digit behind an underscore (`SchemaNameAdjuster.validFullname`).
        #expect(NameSanitizer.avroFullName("1db.public.t.Value") == "_1db.public.t.Value")
        #expect(NameSanitizer.avroFullName("-x") == "_x")
    }
}
