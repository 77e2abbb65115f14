import NIOCore

/// Throwing field readers over NIO's optional reads. All integers in the replication protocol and in
/// pgoutput are big-endian (PostgreSQL docs, "Message Data Types": `Int8`, `Int16`, `Int32`, `Int64`).
/// They throw the cheap `PartialDecodingError`; message decoders wrap it at their boundary.
extension ByteBuffer {
    @inline(__always)
    mutating func readPGInteger<T: FixedWidthInteger>(
        as: T.Type = T.self,
        _ field: StaticString
    ) throws(PartialDecodingError) -> T {
        guard let value = readInteger(endianness: .big, as: T.self) else {
            throw .truncated(field, need: MemoryLayout<T>.size, have: readableBytes)
        }
        return value
    }

    /// Reads one byte (`Byte1` / `Int8`).
    @inline(__always)
    mutating func readPGByte(_ field: StaticString) throws(PartialDecodingError) -> UInt8 {
        try readPGInteger(as: UInt8.self, field)
    }

    /// Reads a PostgreSQL `String`: bytes up to a NUL terminator, which is consumed (UTF-8 assumed, invalid
    /// sequences repaired rather than trapped on).
    mutating func readPGNullTerminatedString(_ field: StaticString) throws(PartialDecodingError) -> String {
        guard let end = readableBytesView.firstIndex(of: 0) else {
            throw .truncated(field, need: readableBytes + 1, have: readableBytes)
        }
        let length = end - readerIndex
        let string = getString(at: readerIndex, length: length) ?? ""
        moveReaderIndex(forwardBy: length + 1)
        return string
    }

    /// Reads `length` bytes as a slice sharing this buffer's storage (zero-copy).
    mutating func readPGSlice(length: Int, _ field: StaticString) throws(PartialDecodingError) -> ByteBuffer {
        guard length >= 0 else {
            throw PartialDecodingError(.invalidField, "\(field): negative length \(length)")
        }
        guard let slice = readSlice(length: length) else {
            throw .truncated(field, need: length, have: readableBytes)
        }
        return slice
    }

    /// Writes a PostgreSQL `String` (bytes + NUL).
    mutating func writePGNullTerminatedString(_ string: String) {
        writeString(string)
        writeInteger(UInt8(0))
    }
}
