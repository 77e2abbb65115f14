import TributaryCore

/// Date/time text parsing for PostgreSQL's ISO `DateStyle` and `postgres` `IntervalStyle` output
/// (`datetime.c` `EncodeDateOnly`, `EncodeTimeOnly`, `EncodeDateTime`, `EncodeInterval`), without Foundation.
///
/// - date: `2024-02-29`, `0044-03-15 BC`, `12345-06-07`, `infinity`, `-infinity`
/// - time: `04:05:06`, `04:05:06.789`, `24:00:00`
/// - timetz: time then offset `+02`, `-15:59`, `+01:02:03`
/// - timestamp: `2024-01-02 03:04:05.123456`, `… BC`; timestamptz adds the offset before ` BC`
/// - interval: `1 year 2 mons 3 days 04:05:06.789`, `-1 years -2 mons +3 days -04:05:06.789`, `-00:00:01`
///
/// The calendar is proleptic Gregorian with astronomical year numbering (1 BC = year 0), as PostgreSQL's.
enum PGDateTime {
    static let microsPerSecond: Int64 = 1_000_000
    static let microsPerDay: Int64 = 86_400_000_000

    // MARK: - Calendar

    /// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func isLeapYear(_ year: Int64) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // MARK: - Public entry points

    static func parseDate(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Value {
        if let infinity = infinity(raw) { return infinity }
        var scanner = Scanner(raw: raw)
        var days = try scanner.date()
        if scanner.consumeBC() {
            days = try scanner.bcAdjusted(days)
        }
        try scanner.expectEnd()
        guard let value = Int32(exactly: days) else { throw ValueParseError("date out of range") }
        return .date(value)
    }

    static func parseTime(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int64 {
        var scanner = Scanner(raw: raw)
        let micros = try scanner.timeOfDay()
        try scanner.expectEnd()
        return micros
    }

    static func parseTimeTZ(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int64 {
        var scanner = Scanner(raw: raw)
        let local = try scanner.timeOfDay()
        let offset = try scanner.zoneOffset()
        try scanner.expectEnd()
        // UTC = local time - offset east of UTC, wrapped into one day. Exactly 24:00 UTC stays the end of the
        // day (86,400,000,000 µs), as for `time`, instead of becoming the start of it.
        if local - offset == microsPerDay { return microsPerDay }
        var utc = (local - offset) % microsPerDay
        if utc < 0 { utc += microsPerDay }
        return utc
    }

    static func parseTimestamp(_ raw: UnsafeRawBufferPointer, withZone: Bool) throws(ValueParseError) -> Value {
        if let infinity = infinity(raw) { return infinity }
        var scanner = Scanner(raw: raw)
        var days = try scanner.date()
        try scanner.expect(UInt8(ascii: " "), "' ' between date and time")
        let time = try scanner.timeOfDay()
        let offset = withZone ? try scanner.zoneOffset() : 0
        if scanner.consumeBC() {
            days = try scanner.bcAdjusted(days)
        }
        try scanner.expectEnd()
        let (dayMicros, o1) = days.multipliedReportingOverflow(by: microsPerDay)
        let (local, o2) = dayMicros.addingReportingOverflow(time)
        let (utc, o3) = local.subtractingReportingOverflow(offset)
        guard !o1 && !o2 && !o3 else { throw ValueParseError("timestamp out of the Int64 microsecond range") }
        return withZone ? .timestampTZ(utc) : .timestamp(utc)
    }

    /// `postgres` IntervalStyle: optional `N year(s)`, `N mon(s)`, `N day(s)` (each with its own sign) and an
    /// optional `[+-]H:MM:SS[.ffffff]` (hours unbounded). `00:00:00` for zero.
    static func parseInterval(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Value {
        var scanner = Scanner(raw: raw)
        var months: Int64 = 0
        var days: Int64 = 0
        var micros: Int64 = 0
        var sawAnything = false
        while !scanner.isAtEnd {
            if sawAnything { try scanner.expect(UInt8(ascii: " "), "' ' between interval fields") }
            sawAnything = true
            let start = scanner.index
            var negative = false
            if scanner.consume(UInt8(ascii: "-")) {
                negative = true
            } else {
                _ = scanner.consume(UInt8(ascii: "+"))
            }
            let (number, digits) = try scanner.unsignedInteger(maxDigits: 18)
            guard digits > 0 else { throw ValueParseError("expected a number in interval") }
            if scanner.peek() == UInt8(ascii: ":") {
                // The time part: hours:minutes:seconds[.fraction].
                scanner.index = start
                micros = try scanner.intervalTime()
                continue
            }
            try scanner.expect(UInt8(ascii: " "), "' ' before an interval unit")
            let unit = scanner.word()
            let signed = negative ? -number : number
            switch unit {
            case "year", "years":
                months += signed * 12
            case "mon", "mons":
                months += signed
            case "day", "days":
                days += signed
            default:
                throw ValueParseError(
                    "unknown interval unit '\(unit)' (IntervalStyle must be postgres)"
                )
            }
        }
        guard sawAnything else { throw ValueParseError("empty interval") }
        guard let m = Int32(exactly: months), let d = Int32(exactly: days) else {
            throw ValueParseError("interval months or days out of Int32 range")
        }
        return .interval(months: m, days: d, microseconds: micros)
    }

    private static func infinity(_ raw: UnsafeRawBufferPointer) -> Value? {
        if raw.elementsEqual("infinity".utf8) { return .infinity(positive: true) }
        if raw.elementsEqual("-infinity".utf8) { return .infinity(positive: false) }
        return nil
    }

    // MARK: - Scanner

    struct Scanner {
        let raw: UnsafeRawBufferPointer
        var index = 0

        init(raw: UnsafeRawBufferPointer) {
            self.raw = raw
        }

        var isAtEnd: Bool { index >= raw.count }

        func peek() -> UInt8? { index < raw.count ? raw[index] : nil }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard peek() == byte else { return false }
            index += 1
            return true
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(ValueParseError) {
            guard consume(byte) else { throw ValueParseError("expected \(what) at offset \(index)") }
        }

        func expectEnd() throws(ValueParseError) {
            guard isAtEnd else { throw ValueParseError("unexpected bytes at offset \(index)") }
        }

        /// Up to `maxDigits` decimal digits; returns the value and how many digits were read.
        mutating func unsignedInteger(maxDigits: Int) throws(ValueParseError) -> (Int64, Int) {
            var value: Int64 = 0
            var count = 0
            while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                guard count < maxDigits else { throw ValueParseError("number too long at offset \(index)") }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
                count += 1
                index += 1
            }
            return (value, count)
        }

        /// Exactly `count` digits.
        mutating func digits(_ count: Int, _ what: String) throws(ValueParseError) -> Int64 {
            let start = index
            let (value, read) = try unsignedInteger(maxDigits: count)
            guard read == count else { throw ValueParseError("expected \(count) digits of \(what) at offset \(start)") }
            return value
        }

        /// A lower-case ASCII word (interval unit).
        mutating func word() -> String {
            let start = index
            while let byte = peek(), byte >= UInt8(ascii: "a"), byte <= UInt8(ascii: "z") { index += 1 }
            return String(decoding: UnsafeRawBufferPointer(rebasing: raw[start..<index]), as: UTF8.self)
        }

        /// `Y…Y-MM-DD` (four or more year digits) → days since 1970-01-01, year as written (AD).
        mutating func date() throws(ValueParseError) -> Int64 {
            let start = index
            let (year, yearDigits) = try unsignedInteger(maxDigits: 8)
            guard yearDigits >= 4 else {
                throw ValueParseError("expected a year of four or more digits at offset \(start)")
            }
            try expect(UInt8(ascii: "-"), "'-' after the year")
            let month = try digits(2, "month")
            try expect(UInt8(ascii: "-"), "'-' after the month")
            let day = try digits(2, "day")
            guard (1...12).contains(month) else { throw ValueParseError("month \(month) out of range") }
            // The BC adjustment changes the leap-year rule: validate the day after it (see bcAdjusted).
            guard day >= 1 && day <= 31 else { throw ValueParseError("day \(day) out of range") }
            pendingDate = (year, month, day)
            guard day <= PGDateTime.daysInMonth(year: year, month: month) || isFollowedByBC() else {
                throw ValueParseError("day \(day) out of range for \(year)-\(month)")
            }
            return PGDateTime.daysFromCivil(year: year, month: month, day: day)
        }

        /// The last parsed date, for the BC re-computation.
        var pendingDate: (year: Int64, month: Int64, day: Int64) = (0, 0, 0)

        private func isFollowedByBC() -> Bool {
            raw.count >= 3 && raw[raw.count - 3] == UInt8(ascii: " ") && raw[raw.count - 2] == UInt8(ascii: "B")
                && raw[raw.count - 1] == UInt8(ascii: "C")
        }

        /// Consumes a trailing ` BC`.
        mutating func consumeBC() -> Bool {
            guard raw.count - index == 3, isFollowedByBC() else { return false }
            index += 3
            return true
        }

        /// Recomputes the pending date for year N BC = astronomical year 1 - N.
        func bcAdjusted(_ days: Int64) throws(ValueParseError) -> Int64 {
            let (year, month, day) = pendingDate
            guard year >= 1 else { throw ValueParseError("year 0 BC does not exist") }
            let astronomical = 1 - year
            guard day <= PGDateTime.daysInMonth(year: astronomical, month: month) else {
                throw ValueParseError("day \(day) out of range for \(year)-\(month) BC")
            }
            return PGDateTime.daysFromCivil(year: astronomical, month: month, day: day)
        }

        /// `HH:MM:SS[.f…]` → µs since midnight; 24:00:00 is allowed (PostgreSQL accepts it).
        mutating func timeOfDay() throws(ValueParseError) -> Int64 {
            let hour = try digits(2, "hour")
            try expect(UInt8(ascii: ":"), "':' after the hour")
            let minute = try digits(2, "minute")
            try expect(UInt8(ascii: ":"), "':' after the minute")
            let second = try digits(2, "second")
            let fraction = try fractionMicros()
            guard minute < 60, second < 60 else { throw ValueParseError("minute or second out of range") }
            let micros = ((hour * 60 + minute) * 60 + second) * PGDateTime.microsPerSecond + fraction
            guard hour < 24 || micros == 24 * 3600 * PGDateTime.microsPerSecond else {
                throw ValueParseError("hour \(hour) out of range")
            }
            return micros
        }

        /// `.f…` (1 to 6 digits) → µs; nothing when there is no '.'.
        mutating func fractionMicros() throws(ValueParseError) -> Int64 {
            guard consume(UInt8(ascii: ".")) else { return 0 }
            let start = index
            let (value, count) = try unsignedInteger(maxDigits: 6)
            guard count > 0 else { throw ValueParseError("expected fraction digits at offset \(start)") }
            var micros = value
            for _ in count..<6 { micros *= 10 }
            return micros
        }

        /// `+HH`, `-HH:MM`, `+HH:MM:SS` → µs east of UTC.
        mutating func zoneOffset() throws(ValueParseError) -> Int64 {
            let negative: Bool
            if consume(UInt8(ascii: "+")) {
                negative = false
            } else if consume(UInt8(ascii: "-")) {
                negative = true
            } else {
                throw ValueParseError("expected a time zone offset at offset \(index)")
            }
            let hours = try digits(2, "offset hours")
            var minutes: Int64 = 0
            var seconds: Int64 = 0
            if consume(UInt8(ascii: ":")) {
                minutes = try digits(2, "offset minutes")
                if consume(UInt8(ascii: ":")) { seconds = try digits(2, "offset seconds") }
            }
            guard minutes < 60, seconds < 60 else { throw ValueParseError("time zone offset out of range") }
            let micros = ((hours * 60 + minutes) * 60 + seconds) * PGDateTime.microsPerSecond
            return negative ? -micros : micros
        }

        /// Interval time part `[+-]H…:MM:SS[.f…]` → signed µs (hours may exceed 24; |value| ≤ Int64 range).
        mutating func intervalTime() throws(ValueParseError) -> Int64 {
            var negative = false
            if consume(UInt8(ascii: "-")) {
                negative = true
            } else {
                _ = consume(UInt8(ascii: "+"))
            }
            let (hours, hourDigits) = try unsignedInteger(maxDigits: 10)
            guard hourDigits > 0 else { throw ValueParseError("expected interval hours") }
            try expect(UInt8(ascii: ":"), "':' after interval hours")
            let minutes = try digits(2, "interval minutes")
            try expect(UInt8(ascii: ":"), "':' after interval minutes")
            let seconds = try digits(2, "interval seconds")
            let fraction = try fractionMicros()
            guard minutes < 60, seconds < 60 else { throw ValueParseError("interval minutes or seconds out of range") }
            // Magnitude in UInt64 so that -2562047788:00:54.775808 (Int64.min µs) still fits.
            let (hourMicros, o1) = UInt64(hours).multipliedReportingOverflow(by: 3_600_000_000)
            let rest = UInt64((minutes * 60 + seconds) * PGDateTime.microsPerSecond + fraction)
            let (magnitude, o2) = hourMicros.addingReportingOverflow(rest)
            guard !o1, !o2 else { throw ValueParseError("interval time out of range") }
            if negative {
                guard magnitude <= UInt64(Int64.max) + 1 else { throw ValueParseError("interval time out of range") }
                return magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)
            }
            guard magnitude <= UInt64(Int64.max) else { throw ValueParseError("interval time out of range") }
            return Int64(magnitude)
        }
    }
}
