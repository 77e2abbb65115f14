import Foundation
import NIOCore
import PGOutput
import Testing
import TributaryCore

/// Loads captured fixtures from `fixtures/pgoutput/pg15/<case>.hex` (found via `#filePath`): one hex line
/// per pgoutput message (or raw CopyData frame), `#` lines are comments. A missing or empty fixture throws,
/// so the test fails instead of silently passing.
enum Fixture {
    struct Missing: Error, CustomStringConvertible {
        var path: String
        var description: String { "fixture missing or empty: \(path)" }
    }

    static let directory: String = {
        // <repo>/Tests/PGOutputTests/Fixture.swift → <repo>/fixtures/pgoutput/pg15
        var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        return components.joined(separator: "/") + "/fixtures/pgoutput/pg15"
    }()

    /// Every case captured from PostgreSQL 15 (the `.hex` files must exist: see the README).
    static let pgoutputCases = [
        "all-types", "begin-commit", "binary-tuple", "delete-default", "delete-full", "logical-message",
        "origin", "relation-change", "streaming", "streaming-abort", "toast-unchanged", "truncate", "type-enum",
        "update-default", "update-full", "update-key-change",
    ]

    static func lines(_ name: String) throws -> [ByteBuffer] {
        let path = "\(directory)/\(name).hex"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw Missing(path: path) }
        let lines = try text.split(whereSeparator: \.isNewline)
            .filter { !$0.hasPrefix("#") && !$0.isEmpty }
            .map { try ByteBuffer(plainHexEncodedBytes: String($0)) }
        guard !lines.isEmpty else { throw Missing(path: path) }
        return lines
    }

    /// Decodes every line of a pgoutput fixture through one decoder, calling `each` after every message
    /// (the decoder's relation cache is then as it was at that point of the stream).
    @discardableResult
    static func decode(
        _ name: String,
        registry: PGTypeRegistry = PGTypeRegistry(),
        each: (PGOutputDecoder, PGOutputMessage) throws -> Void = { _, _ in }
    ) throws -> (decoder: PGOutputDecoder, messages: [PGOutputMessage]) {
        var decoder = PGOutputDecoder(typeRegistry: registry)
        var messages = [PGOutputMessage]()
        for (index, line) in try lines(name).enumerated() {
            let message = try decoder.decode(line, at: LSN(UInt64(index)))
            messages.append(message)
            try each(decoder, message)
        }
        return (decoder, messages)
    }

    /// The message type letters of a fixture, e.g. "BRIC".
    static func shape(_ messages: [PGOutputMessage]) -> String {
        String(decoding: messages.map(\.id.rawValue), as: UTF8.self)
    }
}

/// `Value` equality that treats NaN as equal to NaN (`Value`'s synthesized `==` follows IEEE 754).
func same(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.double(let x), .double(let y)):
        return (x.isNaN && y.isNaN) || (x == y && x.sign == y.sign)
    case (.array(let xs), .array(let ys)):
        return xs.count == ys.count && zip(xs, ys).allSatisfy { same($0, $1) }
    default:
        return a == b
    }
}

/// Expects two value rows to be equal column by column, naming the differing columns.
func expectRow(
    _ actual: [Value],
    _ expected: [Value],
    columns: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "column count", sourceLocation: sourceLocation)
    for index in 0..<min(actual.count, expected.count) where !same(actual[index], expected[index]) {
        let name = index < columns.count ? columns[index] : "#\(index)"
        Issue.record("\(name): got \(actual[index]), expected \(expected[index])", sourceLocation: sourceLocation)
    }
}

extension PGOutputMessage {
    var insert: Insert? { if case .insert(let value) = self { value } else { nil } }
    var update: Update? { if case .update(let value) = self { value } else { nil } }
    var delete: Delete? { if case .delete(let value) = self { value } else { nil } }
    var relation: Relation? { if case .relation(let value) = self { value } else { nil } }
    var begin: Begin? { if case .begin(let value) = self { value } else { nil } }
    var commit: Commit? { if case .commit(let value) = self { value } else { nil } }
    var typeMessage: TypeMessage? { if case .type(let value) = self { value } else { nil } }
    var truncate: Truncate? { if case .truncate(let value) = self { value } else { nil } }
    var logicalMessage: LogicalMessage? { if case .message(let value) = self { value } else { nil } }
    var streamStart: StreamStart? { if case .streamStart(let value) = self { value } else { nil } }
    var streamCommit: StreamCommit? { if case .streamCommit(let value) = self { value } else { nil } }
    var streamAbort: StreamAbort? { if case .streamAbort(let value) = self { value } else { nil } }
    var origin: Origin? { if case .origin(let value) = self { value } else { nil } }
}

extension ByteBuffer {
    /// The readable bytes as a String (test convenience).
    var text: String { String(buffer: self) }
}
