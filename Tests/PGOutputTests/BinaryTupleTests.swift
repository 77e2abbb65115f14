import NIOCore
import PGOutput
import Testing
import TributaryCore

/// The `binary 'true'` option: values arrive as 'b' in each type's send format.
@Suite struct BinaryTupleTests {
    @Test func decodesBinaryColumnValues() throws {
        let (decoder, messages) = try Fixture.decode("binary-tuple")
        #expect(Fixture.shape(messages) == "BRICBIC")
        let inserts = messages.compactMap(\.insert)
        let first = try #require(inserts.first)
        #expect(first.newTuple.columns.allSatisfy { if case .binary = $0 { true } else { false } })
        // Expected: the SELECT of binary-tuple.expected.
        expectRow(
            try decoder.values(of: first.newTuple, relation: 16466),
            [
                .int(1), .bool(true), .int(-2), .int(1_234_567_890_123), .double(1.5), .double(-0.25),
                .string("héllo"), .bytes([0xDE, 0xAD, 0xBE, 0xEF]), .string("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
                .date(19782), .timestamp(1_704_164_645_123_456), .timestampTZ(1_704_164_645_123_456),
                .time(14_706_789_000), .decimal("12.5"),
            ]
        )
        let second = try #require(inserts.last)
        #expect(
            try decoder.values(of: second.newTuple, relation: 16466) == [.int(2)] + Array(repeating: .null, count: 13)
        )
    }
}
