/// A decoded column value. Sources convert native encodings into these cases; `EventFormat` renders
/// them according to the column's `ColumnType` and the user's handling modes.
public indirect enum Value: Hashable, Sendable {
    case null
    /// PostgreSQL unchanged TOAST value: the real value was not sent. Rendered as
    /// `unavailable.value.placeholder`, never as a made-up value.
    case unavailable
    case bool(Bool)
    case int(Int64)
    /// float4/float8/DOUBLE, including NaN and ±infinity.
    case double(Double)
    /// An exact decimal in canonical text form (`-123.4500`, `0`, or `NaN`, `Infinity`, `-Infinity`).
    case decimal(String)
    case string(String)
    case bytes([UInt8])
    /// Days since 1970-01-01.
    case date(Int32)
    /// Microseconds since midnight.
    case time(Int64)
    /// Time with time zone, normalised to UTC: microseconds since midnight UTC.
    case timeTZ(Int64)
    /// A wall-clock timestamp without zone, read as UTC: microseconds since the epoch.
    case timestamp(Int64)
    /// An absolute instant: microseconds since the epoch, UTC.
    case timestampTZ(Int64)
    /// `infinity` / `-infinity` for dates and timestamps.
    case infinity(positive: Bool)
    /// A duration as PostgreSQL keeps it.
    case interval(months: Int32, days: Int32, microseconds: Int64)
    /// A bit string, most significant bit first (`B'101'` → [true, false, true]).
    case bits([Bool])
    case array([Value])
}
