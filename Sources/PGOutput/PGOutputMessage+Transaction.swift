import NIOCore
import TributaryCore

extension PGOutputMessage {
    /// `Begin`: `Byte1('B')`, `Int64` final LSN of the transaction, `Int64` commit timestamp (µs since
    /// 2000-01-01), `Int32` xid.
    public struct Begin: Sendable, Hashable {
        /// The LSN of the transaction's commit record (= Commit ``Commit/commitLSN``).
        public var finalLSN: LSN
        /// Commit time, µs since 2000-01-01 (``PGEpoch``).
        public var commitTime: Int64
        /// The transaction's xid.
        public var xid: UInt32

        public init(finalLSN: LSN, commitTime: Int64, xid: UInt32) {
            self.finalLSN = finalLSN
            self.commitTime = commitTime
            self.xid = xid
        }

        /// ``commitTime`` in µs since the Unix epoch.
        public var commitTimeUnixMicros: Int64 { PGEpoch.unixMicros(fromPostgresMicros: commitTime) }

        /// Decodes the body after the `'B'` byte.
        public static func decode(from buffer: inout ByteBuffer) throws -> Begin {
            try PGOutputMessage.decodeBody(.begin, from: &buffer) { (b) throws(PartialDecodingError) in
                try read(from: &b)
            }
        }

        static func read(from buffer: inout ByteBuffer) throws(PartialDecodingError) -> Begin {
            let finalLSN = try buffer.readPGInteger(as: UInt64.self, "Begin.finalLSN")
            let commitTime = try buffer.readPGInteger(as: Int64.self, "Begin.commitTime")
            let xid = try buffer.readPGInteger(as: UInt32.self, "Begin.xid")
            return Begin(finalLSN: LSN(finalLSN), commitTime: commitTime, xid: xid)
        }
    }

    /// `Commit`: `Byte1('C')`, `Int8` flags (unused, 0), `Int64` commit LSN, `Int64` end LSN of the
    /// transaction, `Int64` commit timestamp.
    public struct Commit: Sendable, Hashable {
        /// Unused (0).
        public var flags: UInt8
        /// The LSN of the commit record.
        public var commitLSN: LSN
        /// The end LSN of the transaction: once durably processed, the position to confirm as `flush`.
        public var endLSN: LSN
        /// Commit time, µs since 2000-01-01.
        public var commitTime: Int64

        public init(flags: UInt8 = 0, commitLSN: LSN, endLSN: LSN, commitTime: Int64) {
            self.flags = flags
            self.commitLSN = commitLSN
            self.endLSN = endLSN
            self.commitTime = commitTime
        }

        /// ``commitTime`` in µs since the Unix epoch.
        public var commitTimeUnixMicros: Int64 { PGEpoch.unixMicros(fromPostgresMicros: commitTime) }

        /// Decodes the body after the `'C'` byte.
        public static func decode(from buffer: inout ByteBuffer) throws -> Commit {
            try PGOutputMessage.decodeBody(.commit, from: &buffer) { (b) throws(PartialDecodingError) in
                try read(from: &b)
            }
        }

        static func read(from buffer: inout ByteBuffer) throws(PartialDecodingError) -> Commit {
            let flags = try buffer.readPGByte("Commit.flags")
            let commitLSN = try buffer.readPGInteger(as: UInt64.self, "Commit.commitLSN")
            let endLSN = try buffer.readPGInteger(as: UInt64.self, "Commit.endLSN")
            let commitTime = try buffer.readPGInteger(as: Int64.self, "Commit.commitTime")
            return Commit(flags: flags, commitLSN: LSN(commitLSN), endLSN: LSN(endLSN), commitTime: commitTime)
        }
    }

    /// `Origin`: `Byte1('O')`, `Int64` commit LSN on the origin server, `String` origin name. Sent after
    /// Begin for transactions replayed under a replication origin.
    public struct Origin: Sendable, Hashable {
        /// The LSN of the commit on the origin server.
        public var lsn: LSN
        /// The replication origin's name (`pg_replication_origin.roname`).
        public var name: String

        public init(lsn: LSN, name: String) {
            self.lsn = lsn
            self.name = name
        }

        /// Decodes the body after the `'O'` byte.
        public static func decode(from buffer: inout ByteBuffer) throws -> Origin {
            try PGOutputMessage.decodeBody(.origin, from: &buffer) { (b) throws(PartialDecodingError) in
                try read(from: &b)
            }
        }

        static func read(from buffer: inout ByteBuffer) throws(PartialDecodingError) -> Origin {
            let lsn = try buffer.readPGInteger(as: UInt64.self, "Origin.lsn")
            let name = try buffer.readPGNullTerminatedString("Origin.name")
            return Origin(lsn: LSN(lsn), name: name)
        }
    }
}
