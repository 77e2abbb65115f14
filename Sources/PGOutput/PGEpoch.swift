/// PostgreSQL's epoch: timestamps on the wire (replication protocol `serverTime`/`clientTime`, pgoutput commit
/// times, binary `timestamp` values) count microseconds since 2000-01-01 00:00:00 UTC. Tributary's `Value`s and
/// `ChangeEvent`s count from the Unix epoch.
public enum PGEpoch {
    /// Microseconds from 1970-01-01 to 2000-01-01 (10957 days).
    public static let unixOffsetMicros: Int64 = 946_684_800_000_000
    /// Days from 1970-01-01 to 2000-01-01.
    public static let unixOffsetDays: Int32 = 10_957

    /// µs since 2000-01-01 → µs since 1970-01-01, saturating at the `Int64` bounds (which PostgreSQL uses for
    /// ±infinity in binary timestamps).
    @inlinable
    public static func unixMicros(fromPostgresMicros micros: Int64) -> Int64 {
        let (sum, overflow) = micros.addingReportingOverflow(unixOffsetMicros)
        return overflow ? .max : sum
    }

    /// µs since 1970-01-01 → µs since 2000-01-01, saturating at the `Int64` bounds.
    @inlinable
    public static func postgresMicros(fromUnixMicros micros: Int64) -> Int64 {
        let (difference, overflow) = micros.subtractingReportingOverflow(unixOffsetMicros)
        return overflow ? .min : difference
    }
}
