import NIOCore
import TributaryCore

extension PGOutputMessage {
    /// `Stream Start` (protocol version 2): `Byte1('S')`, `Int32` xid, `Int8` 1 if this is the first stream
    /// segment of that transaction. Messages up to Stream Stop carry the xid.
    public struct StreamStart: Sendable, Hashable {
        /// The top-level transaction's xid.
        public var xid: UInt32
        /// Whether this is the transaction's first stream block.
        public var isFirstSegment: Bool

        public init(xid: UInt32, isFirstSegment: Bool) {
            self.xid = xid
            self.isFirstSegment = isFirstSegment
        }

        /// Decodes the body after the `'S'` byte.
        public static func decode(from buffer: inout ByteBuffer) throws -> StreamStart {
            try PGOutputMessage.decodeBody(.streamStart, from: &buffer) { (b) throws(PartialDecodingError) in
                try read(from: &b)
            }
        }

        static func read(from buffer: inout ByteBuffer) throws(PartialDecodingError) -> StreamStart {
            let xid = try buffer.readPGInteger(as: UInt32.self, "StreamStart.xid")
            let first = try buffer.readPGByte("StreamStart.firstSegment")
            return StreamStart(xid: xid, isFirstSegment: first == 1)
        }
    }

    /// `Stream Commit` (protocol version 2): `Byte1('c')`, `Int32` xid, `Int8` flags (unused), `Int64` commit
    /// LSN, `Int64` end LSN, `Int64` commit timestamp. Commits every streamed block of that xid.
    public struct StreamCommit: Sendable, Hashable {
        /// The top-level transaction's xid.
        public var xid: UInt32
        /// Unused (0).
        public var flags: UInt8
        /// The LSN of the commit record.
        public var commitLSN: LSN
        /// The end LSN of the transaction: the position to confirm as `flush` once processed.
        public var endLSN: LSN
        /// Commit time, µs since 2000-01-01.
        public var commitTime: Int64

        public init(xid: UInt32, flags: UInt8 = 0, commitLSN: LSN, endLSN: LSN, commitTime: Int64) {
            self.xid = xid
            self.flags = flags
            self.commitLSN = commitLSN
            self.endLSN = endLSN
            self.commitTime = commitTime
        }

        /// ``commitTime`` in µs since the Unix epoch.
        public var commitTimeUnixMicros: Int64 { PGEpoch.unixMicros(fromPostgresMicros: commitTime) }

        /// Decodes the body after the `'c'` byte.
        public static func decode(from buffer: inout ByteBuffer) throws -> StreamCommit {
            try PGOutputMessage.decodeBody(.streamCommit, from: &buffer) { (b) throws(PartialDecodingError) in
                try read(from: &b)
            }
        }

        static func read(from buffer: inout ByteBuffer) throws(PartialDecodingError) -> StreamCommit {
            let xid = try buffer.readPGInteger(as: UInt32.self, "StreamCommit.xid")
            let flags = try buffer.readPGByte("StreamCommit.flags")
            let commitLSN = try buffer.readPGInteger(as: UInt64.self, "StreamCommit.commitLSN")
            let endLSN = try buffer.readPGInteger(as: UInt64.self, "StreamCommit.endLSN")
            let commitTime = try buffer.readPGInteger(as: Int64.self, "StreamCommit.commitTime")
            return StreamCommit(
                xid: xid,
                flags: flags,
                commitLSN: LSN(commitLSN),
                endLSN: LSN(endLSN),
                commitTime: commitTime
            )
        }
    }

    /// `Stream Abort` (protocol versions 2 and 3): `Byte1('A')`, `Int32` xid, `Int32` subtransaction xid (= xid
    /// when the whole transaction aborted). Discards the streamed changes of that (sub)transaction.
    /// (Protocol 4's abort LSN and timestamp, PostgreSQL 16+ parallel apply, are not requested.)
    public struct StreamAbort: Sendable, Hashable {
        /// The top-level transaction's xid.
        public var xid: UInt32
        /// The aborted subtransaction's xid; equal to ``xid`` when the whole transaction aborted.
        public var subtransactionXID: UInt32

        public init(xid: UInt32, subtransactionXID: UInt32) {
            self.xid = xid
            self.subtransactionXID = subtransactionXID
        }

        /// The whole top-level transaction aborted (not only a subtransaction).
        public var abortsTopLevel: Bool { xid == subtransactionXID }

        /// Decodes the body after the `'A'` byte.
        public static func decode(from buffer: inout ByteBuffer) throws -> StreamAbort {
            try PGOutputMessage.decodeBody(.streamAbort, from: &buffer) { (b) throws(PartialDecodingError) in
                try read(from: &b)
            }
        }

        static func read(from buffer: inout ByteBuffer) throws(PartialDecodingError) -> StreamAbort {
            let xid = try buffer.readPGInteger(as: UInt32.self, "StreamAbort.xid")
            let subxid = try buffer.readPGInteger(as: UInt32.self, "StreamAbort.subtransactionXID")
            return StreamAbort(xid: xid, subtransactionXID: subxid)
        }
    }
}
