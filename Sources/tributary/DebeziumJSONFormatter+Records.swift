import EventFormat
import TributaryCore

extension DebeziumJSONFormatter {
    /// Formats one engine record for any sink: transaction metadata for source transactions (not snapshot
    /// chunks), the change events, and heartbeat records when enabled.
    mutating func format(_ record: SourceRecord, heartbeats: Bool, into records: inout [FormattedRecord]) throws {
        switch record {
        case .begin(let boundary):
            if !boundary.isSnapshotChunk {
                beginTransaction(boundary, xid: boundary.xid, lsn: boundary.lsn, into: &records)
            }
        case .change(let event):
            try format(event, into: &records)
        case .commit(let boundary):
            if !boundary.isSnapshotChunk {
                endTransaction(boundary, xid: boundary.xid, lsn: boundary.lsn, into: &records)
            }
        case .heartbeat:
            if heartbeats {
                records.append(heartbeat(timestampMillis: WallClock.nowMillis()))
            }
        }
    }
}
