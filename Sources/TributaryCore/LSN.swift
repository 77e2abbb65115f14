/// A PostgreSQL log sequence number: a 64-bit position in the write-ahead log, written `XXX/YYY` in hex.
public struct LSN: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static let zero = LSN(0)

    /// Parses `16/B374D848` (PostgreSQL's text form) or a plain decimal integer.
    public init?(string: String) {
        let parts = string.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2 {
            guard let high = UInt32(parts[0], radix: 16), let low = UInt32(parts[1], radix: 16) else { return nil }
            self.rawValue = UInt64(high) << 32 | UInt64(low)
        } else if parts.count == 1, let value = UInt64(string) {
            self.rawValue = value
        } else {
            return nil
        }
    }

    public var description: String {
        String(rawValue >> 32, radix: 16, uppercase: true) + "/"
            + String(rawValue & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    public static func < (lhs: LSN, rhs: LSN) -> Bool { lhs.rawValue < rhs.rawValue }
}
