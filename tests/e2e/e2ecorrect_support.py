"""Helpers for the event-correctness e2e tests (test_types, test_replica_identity, test_events,
test_streaming): waiting for committed output, and an independent Python model of Debezium's value
encodings (EVENT-FORMAT.md c.8) used to compute the expected value of every column from what PostgreSQL's
own `SELECT` returns. Nothing here looks at the agent's output to decide what is expected."""

from __future__ import annotations

import base64
import collections
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext
from typing import Any, Callable, Optional

from harness import ChangeEvent, assert_exactly_once, change_of, committed_events, wait_until

# MARK: - Waiting for committed output


def wait_events(kafka, names, predicate: Callable[[list[ChangeEvent]], bool], timeout: float = 60.0,
                what: str = "committed events", agent=None, **kwargs) -> list[ChangeEvent]:
    """Polls `committed_events(names.prefix, names.agent_name)` until `predicate(events)` holds; returns
    the events. Fails early (with the log tail) when `agent` exited."""
    last: list[ChangeEvent] = []

    def ready():
        nonlocal last
        if agent is not None and not agent.alive():
            raise AssertionError(f"agent exited with {agent.returncode} while waiting for {what}; log tail:\n"
                                 f"{agent.log_tail()}")
        last = committed_events(names.prefix, names.agent_name, output=kafka, **kwargs)
        return predicate(last)

    try:
        wait_until(ready, timeout, interval=0.2, message=what)
    except AssertionError as error:
        raise AssertionError(f"{error}\nlast events seen ({len(last)}): {last[-20:]}") from None
    return last


def assert_exactly_once_brief(events: list[ChangeEvent], expected_changes) -> None:
    """`harness.assert_exactly_once`; when the changes differ, the message shows the counts and the first few
    missing and unexpected changes instead of listing thousands."""
    try:
        assert_exactly_once(events, expected_changes)
    except AssertionError as error:
        if "committed changes differ" not in str(error):
            raise
        actual = collections.Counter(change_of(e) for e in events if not e.tombstone)
        expected = collections.Counter(expected_changes)
        missing = list((expected - actual).elements())
        unexpected = list((actual - expected).elements())
        raise AssertionError(
            f"committed changes differ from the expected ones: {len(missing)} missing, {len(unexpected)} "
            f"unexpected\n  first missing:    {missing[:4]}\n  first unexpected: {unexpected[:4]}") from None


def non_tombstones(events: list[ChangeEvent]) -> list[ChangeEvent]:
    return [e for e in events if not e.tombstone]


def raw_value_schema(event: ChangeEvent) -> dict:
    """The Connect schema of an event's value (schemas.enable=true framing)."""
    document = event.record.value_json
    assert isinstance(document, dict) and set(document) == {"schema", "payload"}, \
        f"value is not JsonConverter-framed: {event.record.value[:200]!r}"
    return document["schema"]


def raw_key_schema(event: ChangeEvent) -> dict:
    document = event.record.key_json
    assert isinstance(document, dict) and set(document) == {"schema", "payload"}, \
        f"key is not JsonConverter-framed: {event.record.key!r}"
    return document["schema"]


def struct_fields(schema: dict) -> dict[str, dict]:
    """The fields of a Connect struct schema by name (in order)."""
    assert schema.get("type") == "struct", f"not a struct schema: {schema}"
    return {f["field"]: f for f in schema["fields"]}


def row_schema(event: ChangeEvent, image: str = "after") -> dict[str, dict]:
    """The field schemas of the `.Value` struct of an event's `before`/`after`."""
    envelope = struct_fields(raw_value_schema(event))
    return struct_fields(envelope[image])


# MARK: - Debezium value encodings (independent implementation)

# pgjdbc PGStatement.DATE_POSITIVE_INFINITY / DATE_NEGATIVE_INFINITY; Debezium reads them as epoch
# microseconds for TIMESTAMP 'infinity' / '-infinity' (PostgresValueConverter.POSITIVE_INFINITY_INSTANT).
PG_DATE_POSITIVE_INFINITY = 9223372036825200000
PG_DATE_NEGATIVE_INFINITY = -9223372036832400000
# PostgresValueConverter.POSITIVE_INFINITY_LOCAL_DATE / NEGATIVE_INFINITY_LOCAL_DATE.
DEBEZIUM_DATE_POSITIVE_INFINITY = (-5877611, 6, 21)
DEBEZIUM_DATE_NEGATIVE_INFINITY = (-5877611, 6, 22)
DAYS_PER_MONTH_AVG = 365.25 / 12  # MicroDuration.DAYS_PER_MONTH_AVG


def b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def twos_complement(value: int) -> bytes:
    """Java BigInteger.toByteArray(): minimal big-endian two's complement (at least one byte)."""
    length = 1
    while not (-(1 << (8 * length - 1)) <= value < (1 << (8 * length - 1))):
        length += 1
    return value.to_bytes(length, "big", signed=True)


def decimal_bytes(value: Decimal, scale: int) -> str:
    """org.apache.kafka.connect.data.Decimal at `scale`: base64 of the unscaled two's complement."""
    with localcontext(Context(prec=2000)):
        unscaled = value.scaleb(scale)
    assert unscaled == unscaled.to_integral_value(), f"{value} has more than {scale} fraction digits"
    return b64(twos_complement(int(unscaled)))


def variable_scale_decimal(value: Decimal) -> dict:
    """io.debezium.data.VariableScaleDecimal: stripTrailingZeros, negative scales raised to 0."""
    with localcontext(Context(prec=2000)):
        sign, digits, exponent = value.normalize().as_tuple() if value != 0 else (0, (0,), 0)
    unscaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    scale = -exponent
    if scale < 0:
        unscaled *= 10 ** (-scale)
        scale = 0
    return {"scale": scale, "value": b64(twos_complement(unscaled))}


def bits_bytes(bit_string: str) -> str:
    """io.debezium.data.Bits: java.util.BitSet.toByteArray() of the bit string read as a binary number
    (bit 0 = the last character): little-endian, no trailing zero bytes."""
    number = int(bit_string, 2) if bit_string else 0
    return b64(number.to_bytes((number.bit_length() + 7) // 8, "little"))


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (year 0 = 1 BC), computed by counting."""
    def days_before_year(y: int) -> int:
        # days from 0000-03-01-based counting: use the closed form for years relative to year 0
        y -= 1
        return y * 365 + y // 4 - y // 100 + y // 400

    def is_leap(y: int) -> bool:
        return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)

    month_lengths = [31, 29 if is_leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    ordinal = days_before_year(year) + sum(month_lengths[:month - 1]) + day  # 0001-01-01 → 1
    return ordinal - dt.date(1970, 1, 1).toordinal()


_DATE = re.compile(r"^(\d{4,})-(\d{2})-(\d{2})( BC)?$")
_TIME = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$")
_OFFSET = re.compile(r"^([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?$")


def parse_date_text(text: str) -> tuple[int, int, int]:
    """PostgreSQL's ISO date output (`YYYY-MM-DD[ BC]`) as a proleptic (year, month, day), year 0 = 1 BC."""
    m = _DATE.match(text)
    assert m, f"unexpected date text {text!r}"
    year = int(m.group(1))
    if m.group(4):
        year = 1 - year
    return year, int(m.group(2)), int(m.group(3))


def time_text_micros(text: str) -> int:
    m = _TIME.match(text)
    assert m, f"unexpected time text {text!r}"
    fraction = (m.group(4) or "").ljust(6, "0")
    return ((int(m.group(1)) * 60 + int(m.group(2))) * 60 + int(m.group(3))) * 1_000_000 + int(fraction or 0)


def offset_seconds(text: str) -> int:
    m = _OFFSET.match(text)
    assert m, f"unexpected UTC offset {text!r}"
    seconds = int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60 + int(m.group(4) or 0)
    return -seconds if m.group(1) == "-" else seconds


def split_offset(text: str) -> tuple[str, int]:
    """`'12:34:56.7+05:30'` → (`'12:34:56.7'`, 19800)."""
    m = re.search(r"[+-]\d{2}(:?\d{2}){0,2}$", text)
    assert m, f"no UTC offset in {text!r}"
    return text[:m.start()], offset_seconds(m.group(0))


def timestamp_text_micros(text: str) -> int:
    """PostgreSQL's `YYYY-MM-DD HH:MM:SS[.f][+HH[:MM]][ BC]` as epoch microseconds (UTC; no offset = UTC)."""
    bc = text.endswith(" BC")
    if bc:
        text = text[:-3]
    date_part, time_part = text.split(" ")
    offset = 0
    if re.search(r"[+-]\d{2}(:?\d{2}){0,2}$", time_part):
        time_part, offset = split_offset(time_part)
    year, month, day = parse_date_text(date_part + (" BC" if bc else ""))
    return days_from_civil(year, month, day) * 86_400_000_000 + time_text_micros(time_part) - offset * 1_000_000


def iso_fraction(micros: int, fixed: Optional[int]) -> str:
    """`.ffffff` with `fixed` digits, or java.time's minimal fraction (none when zero)."""
    if fixed is not None:
        return "." + str(micros).rjust(6, "0")[:fixed]
    if micros == 0:
        return ""
    return "." + str(micros).rjust(6, "0").rstrip("0")


def iso_time(micros_of_day: int, fixed: Optional[int] = None) -> str:
    seconds, micros = divmod(micros_of_day, 1_000_000)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{iso_fraction(micros, fixed)}"


def iso_date_time_utc(epoch_micros: int, fixed: Optional[int] = 6) -> str:
    """ZonedTimestamp layout: `yyyy-MM-ddTHH:mm:ss.ffffffZ` in UTC (years 1..9999)."""
    days, micros_of_day = divmod(epoch_micros, 86_400_000_000)
    date = dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + days)
    return f"{date.isoformat()}T{iso_time(micros_of_day, fixed)}Z"


def micro_duration(years: int, months: int, days: int, hours: int, minutes: int, seconds: float) -> int:
    """io.debezium.time.MicroDuration.durationMicros(…, DAYS_PER_MONTH_AVG): double arithmetic, (long) cast."""
    number_of_days = (years * 12 + months) * DAYS_PER_MONTH_AVG + days
    number_of_seconds = (((number_of_days * 24 + hours) * 60) + minutes) * 60 + seconds
    micros = number_of_seconds * 1e6
    # Java's (long) cast of a double saturates.
    return max(-(1 << 63), min((1 << 63) - 1, int(micros))) if micros == micros else 0


# MARK: - Encoding modes


@dataclass(frozen=True)
class Modes:
    decimal: str = "precise"   # decimal.handling.mode
    time: str = "adaptive"     # time.precision.mode


def float_value(text: str) -> Any:
    """float4/float8 from PostgreSQL's text: JsonConverter (Jackson QUOTE_NON_NUMERIC_NUMBERS) writes the
    special values as strings."""
    if text in ("NaN", "Infinity", "-Infinity"):
        return text
    return float(text)


def numeric_value(text: str, scale: Optional[int], modes: Modes, money: bool = False) -> Any:
    """NUMERIC/DECIMAL/MONEY per decimal.handling.mode. `scale` None: unconstrained NUMERIC."""
    special = {"NaN": "NAN", "Infinity": "POSITIVE_INFINITY", "-Infinity": "NEGATIVE_INFINITY"}
    if text in special:
        if modes.decimal == "string":
            return special[text]        # SpecialValueDecimal.toString(): the enum constant's name
        if modes.decimal == "double":
            return {"NaN": "NaN", "Infinity": "Infinity", "-Infinity": "-Infinity"}[text]
        return None                     # cannot be a Connect Decimal (EVENT-FORMAT.md c.8)
    value = Decimal(text)
    if modes.decimal == "double":
        return float(value)
    if modes.decimal == "string":
        if scale is not None and not money:
            with localcontext(Context(prec=2000)):
                value = value.quantize(Decimal(1).scaleb(-scale))
        return format(value, "f")
    if scale is None:
        return variable_scale_decimal(value)
    return decimal_bytes(value, scale)


def date_value(text: str, modes: Modes) -> Any:
    if text == "infinity":
        days = days_from_civil(*DEBEZIUM_DATE_POSITIVE_INFINITY)
    elif text == "-infinity":
        days = days_from_civil(*DEBEZIUM_DATE_NEGATIVE_INFINITY)
    else:
        days = days_from_civil(*parse_date_text(text))
    return days


def time_value(text: str, precision: int, modes: Modes) -> int:
    micros = time_text_micros(text)
    if modes.time == "connect" or precision <= 3:
        return micros // 1000           # io.debezium.time.Time / connect Time: ms past midnight
    return micros                       # io.debezium.time.MicroTime


def timetz_value(text: str, modes: Modes) -> str:
    """io.debezium.time.ZonedTime: the time shifted to UTC, ISO_OFFSET_TIME (`HH:mm:ss[.f]Z`)."""
    local, offset = split_offset(text)
    if time_text_micros(local) == 86_400_000_000 and offset == 0:
        # PostgreSQL's end-of-day 24:00:00 at UTC stays the end of the day, not the start of it
        # (Debezium PostgresTimeBoundary.TIME_WITH_TIMEZONE_BOUNDARY_AT_UTC).
        return "24:00:00Z"
    micros = (time_text_micros(local) - offset * 1_000_000) % 86_400_000_000
    return iso_time(micros) + "Z"


def timestamp_value(text: str, precision: int, modes: Modes) -> int:
    if text == "infinity":
        micros = PG_DATE_POSITIVE_INFINITY
    elif text == "-infinity":
        micros = PG_DATE_NEGATIVE_INFINITY
    else:
        micros = timestamp_text_micros(text)
    if modes.time == "connect" or precision <= 3:
        return micros // 1000           # io.debezium.time.Timestamp / connect Timestamp: epoch ms (floor)
    return micros                       # io.debezium.time.MicroTimestamp


def timestamptz_value(text: str, modes: Modes) -> str:
    if text in ("infinity", "-infinity"):
        return text
    return iso_date_time_utc(timestamp_text_micros(text), fixed=6)


def interval_value(parts: str, modes: Modes) -> int:
    """`parts` = 'years,months,days,hours,minutes,microseconds' from SQL `extract(...)` (each with its own
    sign, as pgjdbc's PGInterval reads the server's text); seconds = whole + micros / 1e6 as PGInterval."""
    years, months, days, hours, minutes, micros = (Decimal(p) for p in parts.split(","))
    whole = int(micros / 1_000_000)
    fraction = int(micros - whole * 1_000_000)
    seconds = whole + fraction / 1e6
    return micro_duration(int(years), int(months), int(days), int(hours), int(minutes), seconds)


INTERVAL_PARTS_SQL = ("CASE WHEN {c} IS NOT NULL THEN concat_ws(',', extract(year from {c}), "
                      "extract(month from {c}), extract(day from {c}), extract(hour from {c}), "
                      "extract(minute from {c}), extract(microseconds from {c})) END")


def drop_objects_sql(prefix: str) -> list[str]:
    """Statements that drop the user types created by these tests (named `<prefix>_…`)."""
    return [f"DROP TYPE IF EXISTS {prefix}_mood CASCADE", f"DROP DOMAIN IF EXISTS {prefix}_price CASCADE"]


