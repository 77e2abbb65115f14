import NIOCore

extension PGOutputMessage {
    /// Marks the tuple that follows inside Insert, Update and Delete.
    public enum TupleMarker: UInt8, Sendable, Hashable {
        /// A new tuple.
        case new = 0x4E  // ascii: N
        /// The old tuple's replica-identity (key) columns; the other columns are sent as NULL.
        case key = 0x4B  // ascii: K
        /// The whole old tuple (REPLICA IDENTITY FULL).
        case old = 0x4F  // ascii: O
    }

    /// `Insert`: `Byte1('I')`, [`Int32` xid, streamed only], `Int32` relation OID, `Byte1('N')`, TupleData.
    public struct Insert: Sendable, Hashable {
        /// The (sub)transaction's xid: present only inside a Stream Start … Stream Stop block.
        public var xid: UInt32?
        /// The relation's OID, announced by an earlier Relation message.
        public var relationOID: UInt32
        /// The inserted row.
        public var newTuple: TupleData

        public init(xid: UInt32? = nil, relationOID: UInt32, newTuple: TupleData) {
            self.xid = xid
            self.relationOID = relationOID
            self.newTuple = newTuple
        }

        /// Decodes the body after the `'I'` byte.
        public static func decode(from buffer: inout ByteBuffer, streamed: Bool = false) throws -> Insert {
            try PGOutputMessage.decodeBody(.insert, from: &buffer) { (b) throws(PartialDecodingError) in
                try read(from: &b, streamed: streamed)
            }
        }

        static func read(from buffer: inout ByteBuffer, streamed: Bool) throws(PartialDecodingError) -> Insert {
            let xid = try buffer.readPGStreamXID(streamed, "Insert.xid")
            let oid = try buffer.readPGInteger(as: UInt32.self, "Insert.relationOID")
            let marker = try buffer.readPGByte("Insert.marker")
            guard marker == TupleMarker.new.rawValue else {
                throw .unexpectedByte("Insert.marker", marker, expected: "'N'")
            }
            return Insert(xid: xid, relationOID: oid, newTuple: try TupleData.read(from: &buffer))
        }
    }

    /// `Update`: `Byte1('U')`, [`Int32` xid, streamed only], `Int32` relation OID, optionally `Byte1('K')` +
    /// TupleData (old key, when the key changed with REPLICA IDENTITY DEFAULT/INDEX) or `Byte1('O')` +
    /// TupleData (old row, REPLICA IDENTITY FULL), then `Byte1('N')` + TupleData (new row).
    public struct Update: Sendable, Hashable {
        /// The (sub)transaction's xid: present only inside a Stream Start … Stream Stop block.
        public var xid: UInt32?
        /// The relation's OID, announced by an earlier Relation message.
        public var relationOID: UInt32
        /// The old key columns (others NULL): sent when the update changed a replica-identity column.
        public var oldKey: TupleData?
        /// The old row: sent with REPLICA IDENTITY FULL.
        public var oldTuple: TupleData?
        /// The new row. Unchanged out-of-line values are `.unchangedToast`.
        public var newTuple: TupleData

        public init(
            xid: UInt32? = nil,
            relationOID: UInt32,
            oldKey: TupleData? = nil,
            oldTuple: TupleData? = nil,
            newTuple: TupleData
        ) {
            self.xid = xid
            self.relationOID = relationOID
            self.oldKey = oldKey
            self.oldTuple = oldTuple
            self.newTuple = newTuple
        }

        /// Decodes the body after the `'U'` byte.
        public static func decode(from buffer: inout ByteBuffer, streamed: Bool = false) throws -> Update {
            try PGOutputMessage.decodeBody(.update, from: &buffer) { (b) throws(PartialDecodingError) in
                try read(from: &b, streamed: streamed)
            }
        }

        static func read(from buffer: inout ByteBuffer, streamed: Bool) throws(PartialDecodingError) -> Update {
            let xid = try buffer.readPGStreamXID(streamed, "Update.xid")
            let oid = try buffer.readPGInteger(as: UInt32.self, "Update.relationOID")
            var oldKey: TupleData?
            var oldTuple: TupleData?
            var marker = try buffer.readPGByte("Update.marker")
            switch TupleMarker(rawValue: marker) {
            case .key:
                oldKey = try TupleData.read(from: &buffer)
                marker = try buffer.readPGByte("Update.newMarker")
            case .old:
                oldTuple = try TupleData.read(from: &buffer)
                marker = try buffer.readPGByte("Update.newMarker")
            case .new:
                break
            case nil:
                throw .unexpectedByte("Update.marker", marker, expected: "'K', 'O' or 'N'")
            }
            guard marker == TupleMarker.new.rawValue else {
                throw .unexpectedByte("Update.newMarker", marker, expected: "'N'")
            }
            let newTuple = try TupleData.read(from: &buffer)
            return Update(xid: xid, relationOID: oid, oldKey: oldKey, oldTuple: oldTuple, newTuple: newTuple)
        }
    }

    /// `Delete`: `Byte1('D')`, [`Int32` xid, streamed only], `Int32` relation OID, then `Byte1('K')` + TupleData
    /// (key columns, others NULL) or `Byte1('O')` + TupleData (whole old row, REPLICA IDENTITY FULL).
    public struct Delete: Sendable, Hashable {
        /// The (sub)transaction's xid: present only inside a Stream Start … Stream Stop block.
        public var xid: UInt32?
        /// The relation's OID, announced by an earlier Relation message.
        public var relationOID: UInt32
        /// The deleted row's replica-identity columns, others NULL (REPLICA IDENTITY DEFAULT/INDEX).
        public var oldKey: TupleData?
        /// The whole deleted row (REPLICA IDENTITY FULL).
        public var oldTuple: TupleData?

        public init(xid: UInt32? = nil, relationOID: UInt32, oldKey: TupleData? = nil, oldTuple: TupleData? = nil) {
            self.xid = xid
            self.relationOID = relationOID
            self.oldKey = oldKey
            self.oldTuple = oldTuple
        }

        /// Decodes the body after the `'D'` byte.
        public static func decode(from buffer: inout ByteBuffer, streamed: Bool = false) throws -> Delete {
            try PGOutputMessage.decodeBody(.delete, from: &buffer) { (b) throws(PartialDecodingError) in
                try read(from: &b, streamed: streamed)
            }
        }

        static func read(from buffer: inout ByteBuffer, streamed: Bool) throws(PartialDecodingError) -> Delete {
            let xid = try buffer.readPGStreamXID(streamed, "Delete.xid")
            let oid = try buffer.readPGInteger(as: UInt32.self, "Delete.relationOID")
            let marker = try buffer.readPGByte("Delete.marker")
            switch TupleMarker(rawValue: marker) {
            case .key:
                return Delete(xid: xid, relationOID: oid, oldKey: try TupleData.read(from: &buffer))
            case .old:
                return Delete(xid: xid, relationOID: oid, oldTuple: try TupleData.read(from: &buffer))
            case .new, nil:
                throw .unexpectedByte("Delete.marker", marker, expected: "'K' or 'O'")
            }
        }
    }

    /// `Truncate`: `Byte1('T')`, [`Int32` xid, streamed only], `Int32` number of relations, `Int8` option bits
    /// (1 = CASCADE, 2 = RESTART IDENTITY), then that many `Int32` relation OIDs.
    public struct Truncate: Sendable, Hashable {
        /// The option bits of a Truncate.
        public struct Options: OptionSet, Sendable, Hashable {
            /// The raw `Int8` option bits.
            public var rawValue: UInt8
            public init(rawValue: UInt8) { self.rawValue = rawValue }
            /// `TRUNCATE … CASCADE`.
            public static let cascade = Options(rawValue: 1)
            /// `TRUNCATE … RESTART IDENTITY`.
            public static let restartIdentity = Options(rawValue: 2)
        }

        /// The (sub)transaction's xid: present only inside a Stream Start … Stream Stop block.
        public var xid: UInt32?
        /// `CASCADE` / `RESTART IDENTITY`.
        public var options: Options
        /// The truncated relations, in the order the server sent them.
        public var relationOIDs: [UInt32]

        public init(xid: UInt32? = nil, options: Options, relationOIDs: [UInt32]) {
            self.xid = xid
            self.options = options
            self.relationOIDs = relationOIDs
        }

        /// Decodes the body after the `'T'` byte.
        public static func decode(from buffer: inout ByteBuffer, streamed: Bool = false) throws -> Truncate {
            try PGOutputMessage.decodeBody(.truncate, from: &buffer) { (b) throws(PartialDecodingError) in
                try read(from: &b, streamed: streamed)
            }
        }

        static func read(from buffer: inout ByteBuffer, streamed: Bool) throws(PartialDecodingError) -> Truncate {
            let xid = try buffer.readPGStreamXID(streamed, "Truncate.xid")
            let count = try buffer.readPGInteger(as: Int32.self, "Truncate.relationCount")
            guard count >= 0 else {
                throw PartialDecodingError(.invalidField, "Truncate.relationCount: negative (\(count))")
            }
            let options = try buffer.readPGByte("Truncate.options")
            // Check the length before reserving: a corrupt count must not allocate gigabytes.
            guard buffer.readableBytes >= Int(count) * 4 else {
                throw .truncated("Truncate.relationOIDs", need: Int(count) * 4, have: buffer.readableBytes)
            }
            var oids = [UInt32]()
            oids.reserveCapacity(Int(count))
            for _ in 0..<count {
                oids.append(try buffer.readPGInteger(as: UInt32.self, "Truncate.relationOID"))
            }
            return Truncate(xid: xid, options: Options(rawValue: options), relationOIDs: oids)
        }
    }
}
