import NIOCore
import Testing

@testable import PostgresSource

/// Pure tests of the COPY text-format row parser (no server needed).
@Suite struct CopyTextParserTests {
    func parse(_ text: String, fields: Int) throws -> [String?] {
        var bytes = Array(text.utf8)
        return try bytes.withUnsafeMutableBytes { raw in
            try CopyTextParser.parse(UnsafeRawBufferPointer(raw), expectedFields: fields).map { field in
                field.map { String(buffer: $0) }
            }
        }
    }

    @Test func splitsFieldsAndUnescapes() throws {
        #expect(try parse("1\tabc\t\\N\n", fields: 3) == ["1", "abc", nil])
        #expect(try parse("a\\tb\tc\\\\d\te\\nf", fields: 3) == ["a\tb", "c\\d", "e\nf"])
        #expect(try parse("\\101\\x42\\b\\f\\r\\v", fields: 1) == ["AB\u{8}\u{C}\r\u{B}"])
        #expect(try parse("\t\t", fields: 3) == ["", "", ""])
        #expect(try parse("é\t€", fields: 2) == ["é", "€"])
    }

    @Test func malformedRowsThrow() {
        #expect(throws: CopyTextParser.MalformedRow.self) { try parse("a\\", fields: 1) }
        #expect(throws: CopyTextParser.MalformedRow.self) { try parse("a\tb", fields: 3) }
        #expect(throws: CopyTextParser.MalformedRow.self) { try parse("a\tb\tc", fields: 2) }
    }
}
