import NIOCore

extension PGOutputMessage {
    /// `Relation`: `Byte1('R')`, [`Int32` xid, streamed only], `Int32` relation OID, `String` namespace (empty
    /// for `pg_catalog`), `String` relation name, `Int8` replica identity setting, `Int16` number of columns,
    /// then per column `Int8` flags (1 = part of the key), `String` name, `Int32` type OID, `Int32` type
    /// modifier. Sent before the first change of a relation and again after its definition changed.
    public struct Relation: Sendable, Hashable {
        /// `pg_class.relreplident`.
        public enum ReplicaIdentity: UInt8, Sendable, Hashable {
            /// Primary key columns (the default).
            case `default` = 0x64  // ascii: d
            case nothing = 0x6E  // ascii: n
            /// All columns: every column carries the key flag.
            case full = 0x66  // ascii: f
            /// The columns of a chosen unique index.
            case index = 0x69  // ascii: i
        }

        /// One relation column, in table order (dropped and generated columns are not sent).
        public struct Column: Sendable, Hashable {
            /// Bit 1: the column is part of the replica identity ("key").
            public var flags: UInt8
            /// The column name (`attname`).
            public var name: String
            /// The column's type (`atttypid`).
            public var typeOID: UInt32
            /// `atttypmod`: -1 when the type has no modifier.
            public var typmod: Int32

            public init(flags: UInt8, name: String, typeOID: UInt32, typmod: Int32) {
                self.flags = flags
                self.name = name
                self.typeOID = typeOID
                self.typmod = typmod
            }

            /// Flag 1: part of the replica identity (with REPLICA IDENTITY FULL: every column).
            public var isKey: Bool { flags & 1 != 0 }
        }

        /// The top-level xid, present only inside a stream block.
        public var xid: UInt32?
        /// The relation's OID (`pg_class.oid`): changes refer to the relation by it.
        public var oid: UInt32
        /// The schema; pgoutput sends an empty string for `pg_catalog`.
        public var namespace: String
        /// The relation name (`relname`).
        public var name: String
        /// `pg_class.relreplident`: which old values Update and Delete carry.
        public var replicaIdentity: ReplicaIdentity
        /// Columns in table order (dropped and generated columns are not sent).
        public var columns: [Column]

        public init(
            xid: UInt32? = nil,
            oid: UInt32,
            namespace: String,
            name: String,
            replicaIdentity: ReplicaIdentity,
            columns: [Column]
        ) {
            self.xid = xid
            self.oid = oid
            self.namespace = namespace
            self.name = name
            self.replicaIdentity = replicaIdentity
            self.columns = columns
        }

        /// Decodes the body after the `'R'` byte.
        public static func decode(from buffer: inout ByteBuffer, streamed: Bool = false) throws -> Relation {
            try PGOutputMessage.decodeBody(.relation, from: &buffer) { (b) throws(PartialDecodingError) in
                try read(from: &b, streamed: streamed)
            }
        }

        static func read(from buffer: inout ByteBuffer, streamed: Bool) throws(PartialDecodingError) -> Relation {
            let xid = try buffer.readPGStreamXID(streamed, "Relation.xid")
            let oid = try buffer.readPGInteger(as: UInt32.self, "Relation.oid")
            let namespace = try buffer.readPGNullTerminatedString("Relation.namespace")
            let name = try buffer.readPGNullTerminatedString("Relation.name")
            let identityByte = try buffer.readPGByte("Relation.replicaIdentity")
            guard let identity = ReplicaIdentity(rawValue: identityByte) else {
                throw .unexpectedByte("Relation.replicaIdentity", identityByte, expected: "'d', 'n', 'f' or 'i'")
            }
            let count = try buffer.readPGInteger(as: Int16.self, "Relation.columnCount")
            guard count >= 0 else {
                throw PartialDecodingError(.invalidField, "Relation.columnCount: negative (\(count))")
            }
            var columns = [Column]()
            columns.reserveCapacity(Int(count))
            for _ in 0..<count {
                let flags = try buffer.readPGByte("Relation.column.flags")
                let columnName = try buffer.readPGNullTerminatedString("Relation.column.name")
                let typeOID = try buffer.readPGInteger(as: UInt32.self, "Relation.column.typeOID")
                let typmod = try buffer.readPGInteger(as: Int32.self, "Relation.column.typmod")
                columns.append(Column(flags: flags, name: columnName, typeOID: typeOID, typmod: typmod))
            }
            return Relation(
                xid: xid,
                oid: oid,
                namespace: namespace,
                name: name,
                replicaIdentity: identity,
                columns: columns
            )
        }
    }

    /// `Type`: `Byte1('Y')`, [`Int32` xid, streamed only], `Int32` type OID, `String` namespace (empty for
    /// `pg_catalog`), `String` type name. Sent before a Relation that uses a non-built-in type. For a domain,
    /// PostgreSQL sends the domain's OID with its *base* type's namespace and name.
    public struct TypeMessage: Sendable, Hashable {
        /// The transaction's xid: present only inside a Stream Start … Stream Stop block.
        public var xid: UInt32?
        /// The type's OID (for a domain: the domain's OID).
        public var oid: UInt32
        /// The type's schema; empty for `pg_catalog`.
        public var namespace: String
        /// The type's name (for a domain: its base type's name).
        public var name: String

        public init(xid: UInt32? = nil, oid: UInt32, namespace: String, name: String) {
            self.xid = xid
            self.oid = oid
            self.namespace = namespace
            self.name = name
        }

        /// Decodes the body after the `'Y'` byte.
        public static func decode(from buffer: inout ByteBuffer, streamed: Bool = false) throws -> TypeMessage {
            try PGOutputMessage.decodeBody(.type, from: &buffer) { (b) throws(PartialDecodingError) in
                try read(from: &b, streamed: streamed)
            }
        }

        static func read(from buffer: inout ByteBuffer, streamed: Bool) throws(PartialDecodingError) -> TypeMessage {
            let xid = try buffer.readPGStreamXID(streamed, "Type.xid")
            let oid = try buffer.readPGInteger(as: UInt32.self, "Type.oid")
            let namespace = try buffer.readPGNullTerminatedString("Type.namespace")
            let name = try buffer.readPGNullTerminatedString("Type.name")
            return TypeMessage(xid: xid, oid: oid, namespace: namespace, name: name)
        }
    }
}
