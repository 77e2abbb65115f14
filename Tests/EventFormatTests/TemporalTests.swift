import Testing

@testable import EventFormat

@Suite struct TemporalTests {
    private func written(_ body: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter(capacity: 32)
        body(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test func convertsEpochDaysToCivilDates() {
        #expect(Temporal.civil(fromEpochDay: 0) == (1970, 1, 1))
        #expect(Temporal.civil(fromEpochDay: 17_109) == (2016, 11, 4))
        #expect(Temporal.civil(fromEpochDay: -1) == (1969, 12, 31))
        #expect(Temporal.civil(fromEpochDay: 11_016) == (2000, 2, 29))
        // `LocalDate.parse("-5877611-06-21").toEpochDay()` = -2147472692 (OpenJDK 17).
        #expect(Temporal.civil(fromEpochDay: -2_147_472_692) == (-5_877_611, 6, 21))
    }

    @Test func writesISODatesWithJavaYearRules() {
        #expect(written { Temporal.writeDate(epochDay: 17_109, into: &$0) } == "2016-11-04")
        #expect(written { Temporal.writeDate(epochDay: -719_528, into: &$0) } == "0000-01-01")
        #expect(written { Temporal.writeDate(epochDay: -2_147_472_692, into: &$0) } == "-5877611-06-21")
        #expect(written { Temporal.writeDate(epochDay: 2_932_897, into: &$0) } == "+10000-01-01")
    }

    /// Expected strings from `java.time` formatters (OpenJDK 17) and Debezium's own PostgreSQL tests
    /// (`AbstractRecordsProducerTest`: `"+21016-11-04T06:51:30.000000Z"`, `"11:51:30.123789Z"`).
    @Test func writesTimesAndTimestamps() {
        let micros: Int64 = (13 * 3_600 + 51 * 60 + 30) * 1_000_000 + 123_000
        #expect(written { Temporal.writeTime(microsOfDay: micros, fraction: .minimal, into: &$0) } == "13:51:30.123")
        #expect(
            written { Temporal.writeTime(microsOfDay: micros, fraction: .fixedMicros, into: &$0) }
                == "13:51:30.123000"
        )
        #expect(written { Temporal.writeTime(microsOfDay: 0, fraction: .minimal, into: &$0) } == "00:00:00")
        #expect(
            written {
                Temporal.writeDateTime(epochMicros: Temporal.positiveInfinityMicros, fraction: .minimal, into: &$0)
            } == "+294247-01-10T04:00:25.2Z"
        )
        #expect(
            written {
                Temporal.writeDateTime(epochMicros: Temporal.negativeInfinityMicros, fraction: .minimal, into: &$0)
            } == "-290308-12-21T19:59:27.6Z"
        )
        // 1936-10-25T22:10:12.608 (Debezium's `tsneg`).
        #expect(
            written {
                Temporal.writeDateTime(epochMicros: -1_047_174_587_392_000, fraction: .minimal, into: &$0)
            } == "1936-10-25T22:10:12.608Z"
        )
        // 21016-11-04T06:51:30Z with ZonedTimestamp's six digits.
        #expect(
            written {
                Temporal.writeDateTime(epochMicros: 601_060_287_090_000_000, fraction: .fixedMicros, into: &$0)
            } == "+21016-11-04T06:51:30.000000Z"
        )
    }

    /// `MicroDuration.durationMicros` values computed by OpenJDK 17 with Debezium's formula.
    @Test func convertsIntervalsToMicroDurationLikeDebezium() {
        // '1 year 2 months 3 days 4 hours 5 minutes 6.78 seconds'
        let a = Temporal.IntervalParts(
            months: 14,
            days: 3,
            microseconds: (4 * 3_600 + 5 * 60 + 6) * 1_000_000 + 780_000
        )
        #expect(a.durationMicros == 37_091_106_780_000)
        // '-2 mons -3 days -04:05:06.000001': the double arithmetic loses the last µs, as in Java.
        let b = Temporal.IntervalParts(
            months: -2,
            days: -3,
            microseconds: -((4 * 3_600 + 5 * 60 + 6) * 1_000_000 + 1)
        )
        #expect(b.durationMicros == -5_533_506_000_001)
        #expect(Temporal.IntervalParts(months: -14, days: 0, microseconds: 0).durationMicros == -36_817_200_000_000)
        #expect(Temporal.IntervalParts(months: 1, days: 0, microseconds: 0).durationMicros == 2_629_800_000_000)
    }

    @Test func writesISOIntervalsLikeDebezium() {
        let a = Temporal.IntervalParts(
            months: 14,
            days: 3,
            microseconds: (4 * 3_600 + 5 * 60 + 6) * 1_000_000 + 780_000
        )
        #expect(written { a.writeISO(into: &$0) } == "\"P1Y2M3DT4H5M6.78S\"")
        let zero = Temporal.IntervalParts(months: 0, days: 0, microseconds: 0)
        #expect(written { zero.writeISO(into: &$0) } == "\"P0Y0M0DT0H0M0S\"")
        let negative = Temporal.IntervalParts(
            months: -14,
            days: -3,
            microseconds: -((4 * 3_600 + 5 * 60 + 6) * 1_000_000 + 1)
        )
        #expect(written { negative.writeISO(into: &$0) } == "\"P-1Y-2M-3DT-4H-5M-6.000001S\"")
        let subSecond = Temporal.IntervalParts(months: 0, days: 0, microseconds: -500_000)
        #expect(written { subSecond.writeISO(into: &$0) } == "\"P0Y0M0DT0H0M-0.5S\"")
    }
}
