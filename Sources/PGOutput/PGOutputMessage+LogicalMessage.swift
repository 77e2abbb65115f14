import NIOCore
import TributaryCore

extension PGOutputMessage {
    /// `Message`: `Byte1('M')`, [`Int32` xid, streamed only], `Int8` flags (1 = transactional), `Int64` LSN of
    /// the message, `String` prefix, `Int32` content length, `Byten` content. Produced by
    /// `pg_logical_emit_message` when the `messages` option is on.
    public struct LogicalMessage: Sendable, Hashable, CustomDebugStringConvertible {
        /// The (sub)transaction's xid: present only inside a Stream Start … Stream Stop block.
        public var xid: UInt32?
        /// Bit 1: transactional (see ``isTransactional``).
        public var flags: UInt8
        /// The LSN of the message's WAL record.
        public var lsn: LSN
        /// The prefix passed to `pg_logical_emit_message`.
        public var prefix: String
        /// The content, a slice of the message buffer.
        public var content: ByteBuffer

        public init(xid: UInt32? = nil, flags: UInt8, lsn: LSN, prefix: String, content: ByteBuffer) {
            self.xid = xid
            self.flags = flags
            self.lsn = lsn
            self.prefix = prefix
            self.content = content
        }

        /// Flag 1: emitted inside a transaction and delivered with it (between Begin and Commit);
        /// otherwise sent at once, outside any transaction.
        public var isTransactional: Bool { flags & 1 != 0 }

        /// Decodes the body after the `'M'` byte.
        public static func decode(from buffer: inout ByteBuffer, streamed: Bool = false) throws -> LogicalMessage {
            try PGOutputMessage.decodeBody(.message, from: &buffer) { (b) throws(PartialDecodingError) in
                try read(from: &b, streamed: streamed)
            }
        }

        static func read(
            from buffer: inout ByteBuffer,
            streamed: Bool
        ) throws(PartialDecodingError) -> LogicalMessage {
            let xid = try buffer.readPGStreamXID(streamed, "Message.xid")
            let flags = try buffer.readPGByte("Message.flags")
            let lsn = try buffer.readPGInteger(as: UInt64.self, "Message.lsn")
            let prefix = try buffer.readPGNullTerminatedString("Message.prefix")
            let length = try buffer.readPGInteger(as: Int32.self, "Message.contentLength")
            let content = try buffer.readPGSlice(length: Int(length), "Message.content")
            return LogicalMessage(xid: xid, flags: flags, lsn: LSN(lsn), prefix: prefix, content: content)
        }

        public var debugDescription: String {
            "LogicalMessage(xid: \(xid.map(String.init) ?? "nil"), flags: \(flags), lsn: \(lsn), "
                + "prefix: \(String(reflecting: prefix)), content: \(content.readableBytes) bytes)"
        }
    }
}
