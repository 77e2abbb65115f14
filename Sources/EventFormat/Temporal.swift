/// Calendar arithmetic and the `java.time` ISO layouts Debezium's temporal types use (EVENT-FORMAT.md c.8):
/// `ISO_OFFSET_DATE` (`2018-06-20Z`), `ISO_OFFSET_TIME` (`13:13:16.945104Z`), `ISO_OFFSET_DATE_TIME`
/// (`2018-06-20T13:13:16.945104Z`) and `ZonedTimestamp`'s fixed-width fraction (`…16.945100Z`).
/// Years follow `ISO_LOCAL_DATE`: at least four digits, `+` beyond 9999, `-` before year 0 (proleptic Gregorian).
enum Temporal {
    static let microsPerSecond: Int64 = 1_000_000
    static let microsPerDay: Int64 = 86_400_000_000

    /// `PGStatement.DATE_POSITIVE_INFINITY` / `DATE_NEGATIVE_INFINITY` read as epoch microseconds: what
    /// Debezium emits for PostgreSQL `infinity` / `-infinity` TIMESTAMP values
    /// (`PostgresValueConverter.POSITIVE_INFINITY_INSTANT`).
    static let positiveInfinityMicros: Int64 = 9_223_372_036_825_200_000
    static let negativeInfinityMicros: Int64 = -9_223_372_036_832_400_000

    /// Epoch days of `PostgresValueConverter.POSITIVE_INFINITY_LOCAL_DATE` (`-5877611-06-21`) and
    /// `NEGATIVE_INFINITY_LOCAL_DATE` (`-5877611-06-22`): Debezium's DATE `infinity` / `-infinity`.
    /// (Both are far in the past: that is Debezium's behaviour, reproduced as is.)
    static let positiveInfinityEpochDay: Int64 = -2_147_472_692
    static let negativeInfinityEpochDay: Int64 = -2_147_472_691

    @inline(__always)
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Never overflows (unlike `a - floorDiv(a, b) * b` near `Int64.min`). `b` must be positive.
    @inline(__always)
    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 {
        let r = a % b
        return r < 0 ? r + b : r
    }

    /// Proleptic Gregorian civil date of `days` since 1970-01-01 (H. Hinnant's `civil_from_days`).
    static func civil(fromEpochDay days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    // MARK: - Writers

    private static func twoDigits(_ value: Int64, into writer: inout JSONWriter) {
        writer.byte(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value / 10))
        writer.byte(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value % 10))
    }

    /// `yyyy-MM-dd` with `ISO_LOCAL_DATE`'s year rules.
    static func writeDate(epochDay: Int64, into writer: inout JSONWriter) {
        let (year, month, day) = civil(fromEpochDay: epochDay)
        if year > 9_999 {
            writer.byte(UInt8(ascii: "+"))
            writer.int(year)
        } else if year < 0 {
            writer.byte(UInt8(ascii: "-"))
            writeYearDigits(-year, into: &writer)
        } else {
            writeYearDigits(year, into: &writer)
        }
        writer.byte(UInt8(ascii: "-"))
        twoDigits(month, into: &writer)
        writer.byte(UInt8(ascii: "-"))
        twoDigits(day, into: &writer)
    }

    private static func writeYearDigits(_ year: Int64, into writer: inout JSONWriter) {
        var pad = 1_000 as Int64
        while pad > 1 && year < pad {
            writer.byte(UInt8(ascii: "0"))
            pad /= 10
        }
        writer.int(year)
    }

    enum Fraction {
        /// `appendFraction(NANO_OF_SECOND, 0, 9, true)`: no point when zero, otherwise no trailing zeros.
        case minimal
        /// `appendFraction(NANO_OF_SECOND, 6, 6, true)`: always `.ffffff` (`ZonedTimestamp` for precision 6).
        case fixedMicros
    }

    /// `HH:mm:ss[.fraction]` of a time of day in microseconds (0 ≤ µs < 24 h).
    static func writeTime(microsOfDay: Int64, fraction: Fraction, into writer: inout JSONWriter) {
        let seconds = microsOfDay / microsPerSecond
        let micros = microsOfDay % microsPerSecond
        twoDigits(seconds / 3_600, into: &writer)
        writer.byte(UInt8(ascii: ":"))
        twoDigits(seconds / 60 % 60, into: &writer)
        writer.byte(UInt8(ascii: ":"))
        twoDigits(seconds % 60, into: &writer)
        switch fraction {
        case .fixedMicros:
            writer.byte(UInt8(ascii: "."))
            writeFractionDigits(micros, count: 6, into: &writer)
        case .minimal:
            guard micros != 0 else { return }
            var count = 6
            var value = micros
            while value % 10 == 0 {
                value /= 10
                count -= 1
            }
            writer.byte(UInt8(ascii: "."))
            writeFractionDigits(value, count: count, into: &writer)
        }
    }

    private static func writeFractionDigits(_ value: Int64, count: Int, into writer: inout JSONWriter) {
        var divisor: Int64 = 1
        for _ in 1..<max(count, 1) { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            writer.byte(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// `yyyy-MM-ddTHH:mm:ss[.f]Z` of epoch microseconds, UTC.
    static func writeDateTime(epochMicros: Int64, fraction: Fraction, into writer: inout JSONWriter) {
        let day = floorDiv(epochMicros, microsPerDay)
        let timeOfDay = floorMod(epochMicros, microsPerDay)
        writeDate(epochDay: day, into: &writer)
        writer.byte(UInt8(ascii: "T"))
        writeTime(microsOfDay: timeOfDay, fraction: fraction, into: &writer)
        writer.byte(UInt8(ascii: "Z"))
    }

    // MARK: - Intervals

    /// PostgreSQL's interval fields as pgjdbc's `PGInterval` splits the server's text form: months into
    /// years and months, the time part into hours, minutes and seconds (all carrying the sign).
    struct IntervalParts {
        var years: Int64
        var months: Int64
        var days: Int64
        var hours: Int64
        var minutes: Int64
        var wholeSeconds: Int64
        var microseconds: Int64

        init(months totalMonths: Int32, days: Int32, microseconds total: Int64) {
            years = Int64(totalMonths) / 12
            months = Int64(totalMonths) % 12
            self.days = Int64(days)
            hours = total / 3_600_000_000
            minutes = total / 60_000_000 % 60
            wholeSeconds = total / 1_000_000 % 60
            microseconds = total % 1_000_000
        }

        /// `MicroDuration.durationMicros(…, DAYS_PER_MONTH_AVG)`: the same double arithmetic, in the same
        /// order, so results match Debezium bit for bit (a month is 365.25 / 12 days).
        var durationMicros: Int64 {
            let daysPerMonthAverage = 365.25 / 12.0
            let seconds = Double(wholeSeconds) + Double(microseconds) / 1_000_000
            let numberOfDays = Double(years * 12 + months) * daysPerMonthAverage + Double(days)
            let numberOfSeconds = (((numberOfDays * 24 + Double(hours)) * 60) + Double(minutes)) * 60 + seconds
            let micros = numberOfSeconds * 1e6
            // Java's (long) cast saturates; Swift's traps, so clamp first.
            if micros.isNaN { return 0 }
            if micros >= 9.223372036854775807e18 { return Int64.max }
            if micros <= -9.223372036854775808e18 { return Int64.min }
            return Int64(micros)
        }

        /// `Interval.toIsoString`: `P<y>Y<m>M<d>DT<h>H<m>M<s>S`, seconds with trailing zeros stripped.
        func writeISO(into writer: inout JSONWriter) {
            writer.byte(UInt8(ascii: "\""))
            writer.byte(UInt8(ascii: "P"))
            writer.int(years)
            writer.byte(UInt8(ascii: "Y"))
            writer.int(months)
            writer.byte(UInt8(ascii: "M"))
            writer.int(days)
            writer.raw("DT")
            writer.int(hours)
            writer.byte(UInt8(ascii: "H"))
            writer.int(minutes)
            writer.byte(UInt8(ascii: "M"))
            if wholeSeconds < 0 || microseconds < 0 {
                writer.byte(UInt8(ascii: "-"))
            }
            writer.uint(wholeSeconds.magnitude)
            var fraction = microseconds.magnitude
            if fraction != 0 {
                var count = 6
                while fraction % 10 == 0 {
                    fraction /= 10
                    count -= 1
                }
                writer.byte(UInt8(ascii: "."))
                writeFractionDigits(Int64(fraction), count: count, into: &writer)
            }
            writer.byte(UInt8(ascii: "S"))
            writer.byte(UInt8(ascii: "\""))
        }
    }
}
