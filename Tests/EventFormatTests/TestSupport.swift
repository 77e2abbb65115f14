import Foundation
import Testing
import TributaryCore

@testable import EventFormat

// MARK: - Building events

enum Fixture {
    static let now: Int64 = 1_700_000_000_456_789
    static let commitMicros: Int64 = 1_700_000_000_123_456

    static func options(schemas: Bool = false) -> FormatOptions {
        var options = FormatOptions(topicPrefix: "pg1", databaseName: "app")
        options.schemasEnable = schemas
        options.clock = { Fixture.now }
        return options
    }

    static func column(
        _ name: String,
        _ kind: ColumnType.Kind,
        _ typeName: String,
        optional: Bool = true,
        key: Bool = false
    ) -> Column {
        Column(name: name, type: ColumnType(kind, typeName: typeName), isOptional: optional, isKey: key)
    }

    /// `public.customers (id int4 PRIMARY KEY, email varchar, balance numeric(10,2))`.
    static let customers = TableSchema(
        id: TableID(schema: "public", name: "customers"),
        columns: [
            column("id", .int32, "int4", optional: false, key: true),
            column("email", .string, "varchar"),
            column("balance", .decimal(precision: 10, scale: 2), "numeric"),
        ]
    )

    static func position(
        commit: UInt64 = 24_023_128,
        lsn: UInt64 = 24_023_128,
        index: Int64 = 0,
        xid: UInt32? = 555,
        lastCommit: UInt64? = 24_023_119
    ) -> SourcePosition {
        .postgres(
            PostgresPosition(
                commitLSN: LSN(commit),
                lsn: LSN(lsn),
                eventIndex: index,
                xid: xid,
                lastCommitLSN: lastCommit.map { LSN($0) }
            )
        )
    }

    static func event(
        _ op: ChangeEvent.Operation,
        table: TableSchema = customers,
        before: [Value]? = nil,
        after: [Value]? = nil,
        position: SourcePosition = position(),
        snapshot: ChangeEvent.SnapshotMarker = .false
    ) -> ChangeEvent {
        ChangeEvent(
            op: op,
            table: table,
            before: before,
            after: after,
            position: position,
            sourceTimestampMicros: commitMicros,
            snapshot: snapshot
        )
    }

    /// Formats one event and returns its records.
    static func records(_ event: ChangeEvent, options: FormatOptions = options()) throws -> [FormattedRecord] {
        var formatter = DebeziumJSONFormatter(options: options)
        var records: [FormattedRecord] = []
        try formatter.format(event, into: &records)
        return records
    }

    /// One table with a single column of `kind`, and the formatted `after` value of `value` in it.
    static func singleColumn(
        _ kind: ColumnType.Kind,
        typeName: String = "t",
        optional: Bool = true,
        value: Value,
        configure: (inout FormatOptions) -> Void = { _ in }
    ) throws -> (schema: Any, value: Any, valueJSON: String) {
        var opts = options(schemas: true)
        configure(&opts)
        let table = TableSchema(
            id: TableID(schema: "public", name: "t"),
            columns: [column("c", kind, typeName, optional: optional)]
        )
        let records = try Self.records(event(.create, table: table, after: [value]), options: opts)
        let envelope = try json(records[0].value)
        let payload = try #require((envelope as? [String: Any])?["payload"] as? [String: Any])
        let after = try #require(payload["after"] as? [String: Any])
        let schema = try #require((envelope as? [String: Any])?["schema"] as? [String: Any])
        let fields = try #require(schema["fields"] as? [[String: Any]])
        let afterFields = try #require(fields[1]["fields"] as? [[String: Any]])
        return (afterFields[0], after["c"] as Any, try afterJSON(records[0].value))
    }

    /// The raw bytes of the `"after":{…}` member's `c` value, as written (order-preserving).
    static func afterJSON(_ bytes: [UInt8]?) throws -> String {
        let text = String(decoding: try #require(bytes), as: UTF8.self)
        let marker = "\"payload\":{\"before\":null,\"after\":{\"c\":"
        let start = try #require(text.range(of: marker)).upperBound
        let end = try #require(text.range(of: "},\"source\":", range: start..<text.endIndex)).lowerBound
        return String(text[start..<end])
    }
}

// MARK: - JSON helpers

/// Parses bytes with Foundation's JSONSerialization: proves the writer produced valid JSON.
func json(_ bytes: [UInt8]?) throws -> Any {
    let data = Data(try #require(bytes, "expected JSON bytes, got nil"))
    return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
}

func text(_ bytes: [UInt8]?) -> String? {
    bytes.map { String(decoding: $0, as: UTF8.self) }
}

/// Removes insignificant whitespace from JSON text (outside strings), keeping member order.
func minifyJSON(_ text: String) -> String {
    var out: [UInt8] = []
    var inString = false
    var escaped = false
    for b in text.utf8 {
        if inString {
            out.append(b)
            if escaped {
                escaped = false
            } else if b == UInt8(ascii: "\\") {
                escaped = true
            } else if b == UInt8(ascii: "\"") {
                inString = false
            }
        } else if b == UInt8(ascii: "\"") {
            inString = true
            out.append(b)
        } else if b != UInt8(ascii: " ") && b != UInt8(ascii: "\n") && b != UInt8(ascii: "\t")
            && b != UInt8(ascii: "\r")
        {
            out.append(b)
        }
    }
    return String(decoding: out, as: UTF8.self)
}

// MARK: - Golden files

/// An expected record from `fixtures/events/<name>.golden`.
///
/// Format: records separated by `---` lines; `#` lines are comments; `topic: <name>`; `key:` / `value:` /
/// `header <name>:` each followed by pretty-printed JSON on the next lines, or `null` on the same line.
/// JSON is compared byte for byte after removing whitespace outside strings, so member order counts.
struct GoldenRecord {
    var topic = ""
    var key: String?
    var value: String?
    var headers: [(String, String)] = []
}

enum Golden {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/events")

    static func load(_ name: String) throws -> [GoldenRecord] {
        let url = directory.appendingPathComponent(name + ".golden")
        let content = try String(contentsOf: url, encoding: .utf8)
        var records: [GoldenRecord] = []
        var current = GoldenRecord()
        var section: String?
        var buffer = ""
        func flush() {
            guard let name = section else { return }
            let value = minifyJSON(buffer)
            switch name {
            case "key": current.key = value == "null" ? nil : value
            case "value": current.value = value == "null" ? nil : value
            default: current.headers.append((name, value))
            }
            section = nil
            buffer = ""
        }
        for line in content.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("#") { continue }
            if trimmed == "---" {
                flush()
                records.append(current)
                current = GoldenRecord()
            } else if trimmed.hasPrefix("topic:") {
                flush()
                current.topic = trimmed.dropFirst("topic:".count).trimmingCharacters(in: .whitespaces)
            } else if let colon = trimmed.firstIndex(of: ":"),
                ["key", "value"].contains(String(trimmed[..<colon])) || trimmed.hasPrefix("header ")
            {
                flush()
                let head = String(trimmed[..<colon])
                section = head.hasPrefix("header ") ? String(head.dropFirst("header ".count)) : head
                buffer = String(trimmed[trimmed.index(after: colon)...])
            } else {
                buffer += line + "\n"
            }
        }
        flush()
        if !current.topic.isEmpty { records.append(current) }
        return records
    }

    /// Compares formatted records with a golden file, record by record, byte for byte (minified).
    static func expect(
        _ records: [FormattedRecord],
        matches name: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let expected = try load(name)
        #expect(records.count == expected.count, "record count", sourceLocation: sourceLocation)
        for (index, (actual, golden)) in zip(records, expected).enumerated() {
            #expect(actual.topic == golden.topic, "record \(index) topic", sourceLocation: sourceLocation)
            #expect(text(actual.key) == golden.key, "record \(index) key", sourceLocation: sourceLocation)
            #expect(text(actual.value) == golden.value, "record \(index) value", sourceLocation: sourceLocation)
            #expect(
                actual.headers.map { $0.key } == golden.headers.map { $0.0 },
                "record \(index) header names",
                sourceLocation: sourceLocation
            )
            for (header, goldenHeader) in zip(actual.headers, golden.headers) {
                #expect(
                    text(header.value) == goldenHeader.1,
                    "record \(index) header \(header.key)",
                    sourceLocation: sourceLocation
                )
            }
            // Every key and value must also be valid JSON.
            if let key = actual.key { _ = try json(key) }
            if let value = actual.value { _ = try json(value) }
        }
    }
}
