//! Points in time and spans of time, as credential files write them.
//!
//! Guarantees: parsing is total (bad input gives `None`/`Err`, never a panic), accepts the forms
//! tools really write (epoch seconds or milliseconds, RFC 3339 with `Z` or an offset, a trailing
//! `UTC`, `YYYY-MM-DD HH:MM:SS[.f]` read as UTC), and formats output as RFC 3339 UTC.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// How a bare number in a credential file is to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EpochUnit {
    /// Milliseconds when the number is too large to be seconds (after the year 5138), else seconds.
    #[default]
    Auto,
    #[serde(rename = "s")]
    Seconds,
    #[serde(rename = "ms")]
    Milliseconds,
}

/// Numbers at or above this are milliseconds in `Auto` mode (1e11 s is the year 5138).
const MILLIS_THRESHOLD: f64 = 1e11;

impl Timestamp {
    pub fn now() -> Self {
        let elapsed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Timestamp(elapsed)
    }

    pub const fn from_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    pub const fn from_secs(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(1000))
    }

    pub fn from_system_time(time: SystemTime) -> Self {
        match time.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp(d.as_millis() as i64),
            Err(e) => Timestamp(-(e.duration().as_millis() as i64)),
        }
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    pub fn saturating_add_millis(self, millis: i64) -> Self {
        Timestamp(self.0.saturating_add(millis))
    }

    /// Reads an epoch number in the given unit; `None` for NaN or values beyond year ±200,000.
    pub fn from_epoch_number(value: f64, unit: EpochUnit) -> Option<Self> {
        if !value.is_finite() {
            return None;
        }
        let millis = match unit {
            EpochUnit::Seconds => value * 1000.0,
            EpochUnit::Milliseconds => value,
            EpochUnit::Auto if value.abs() >= MILLIS_THRESHOLD => value,
            EpochUnit::Auto => value * 1000.0,
        };
        (millis.abs() < 6.3e15).then_some(Timestamp(millis as i64))
    }

    /// Lenient RFC 3339: `2026-11-25T08:00:00Z`, `…+02:00`, `…+0200`, `… UTC`, a space instead of
    /// `T`, fractional seconds, seconds omitted, no zone (read as UTC), or a bare date.
    pub fn parse_datetime(text: &str) -> Option<Self> {
        let text = text.trim();
        let bytes = text.as_bytes();
        let year = parse_digits(bytes.get(0..4)?)?;
        if bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
            return None;
        }
        let month = parse_digits(bytes.get(5..7)?)?;
        let day = parse_digits(bytes.get(8..10)?)?;
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        let mut seconds_of_day = 0i64;
        let mut millis = 0i64;
        let mut rest = &text[10..];
        if let Some(sep) = rest.chars().next().filter(|c| matches!(c, 'T' | 't' | ' ')) {
            rest = &rest[sep.len_utf8()..];
            let b = rest.as_bytes();
            let hour = parse_digits(b.get(0..2)?)?;
            if b.get(2) != Some(&b':') {
                return None;
            }
            let minute = parse_digits(b.get(3..5)?)?;
            let mut consumed = 5;
            let mut second = 0;
            if b.get(5) == Some(&b':') {
                second = parse_digits(b.get(6..8)?)?;
                consumed = 8;
                if matches!(b.get(8), Some(b'.') | Some(b',')) {
                    let digits = b[9..].iter().take_while(|c| c.is_ascii_digit()).count();
                    if digits == 0 {
                        return None;
                    }
                    let frac = &rest[9..9 + digits.min(3)];
                    millis = frac.parse::<i64>().ok()? * 10i64.pow(3 - frac.len() as u32);
                    consumed = 9 + digits;
                }
            }
            if hour > 23 || minute > 59 || second > 60 {
                return None;
            }
            seconds_of_day = hour * 3600 + minute * 60 + second;
            rest = &rest[consumed..];
        }
        let offset_seconds = parse_zone(rest.trim_start())?;
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + seconds_of_day - offset_seconds;
        Some(Timestamp(secs * 1000 + millis))
    }

    /// RFC 3339 in UTC with whole seconds, e.g. `2026-11-25T08:00:00Z`.
    pub fn rfc3339(self) -> String {
        let (date, h, m, s) = self.split();
        format!("{date}T{h:02}:{m:02}:{s:02}Z")
    }

    /// For people: `2026-11-25 08:00 UTC`.
    pub fn human(self) -> String {
        let (date, h, m, _) = self.split();
        format!("{date} {h:02}:{m:02} UTC")
    }

    /// [`Timestamp::human`] to the second (a sequence of events within a minute).
    pub fn human_seconds(self) -> String {
        let (date, h, m, s) = self.split();
        format!("{date} {h:02}:{m:02}:{s:02} UTC")
    }

    fn split(self) -> (String, i64, i64, i64) {
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, mo, d) = civil_from_days(days);
        (
            format!("{y:04}-{mo:02}-{d:02}"),
            sod / 3600,
            sod % 3600 / 60,
            sod % 60,
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

fn parse_digits(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    bytes.iter().try_fold(0i64, |acc, b| {
        acc.checked_mul(10)?.checked_add(i64::from(b - b'0'))
    })
}

/// The zone suffix as seconds east of UTC; an empty suffix is UTC.
fn parse_zone(zone: &str) -> Option<i64> {
    match zone {
        "" | "Z" | "z" | "UTC" | "GMT" | "+00:00" | "Z UTC" => return Some(0),
        _ => {}
    }
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 {
        return None;
    }
    let hours = parse_digits(&digits.as_bytes()[0..2])?;
    let minutes = parse_digits(&digits.as_bytes()[2..4])?;
    (hours <= 23 && minutes <= 59).then_some(sign * (hours * 3600 + minutes * 60))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Parses `3d`, `12h`, `30m`, `45s`, `2w`, `500ms` and sums like `1d12h`; returns milliseconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration: write it like \"3d\", \"12h\", \"30m\" or \"45s\"".into());
    }
    let mut total: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "\"{text}\" is not a duration: write it like \"3d\", \"12h\", \"30m\" or \"45s\""
            ));
        }
        let number: i64 = rest[..digits]
            .parse()
            .map_err(|_| format!("\"{text}\" is too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
        let unit_millis = match &rest[..unit_len] {
            "ms" => 1,
            "s" | "sec" => 1000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            other => {
                return Err(format!(
                    "\"{text}\": unknown unit \"{other}\" (use ms, s, m, h, d or w)"
                ))
            }
        };
        rest = rest[unit_len..].trim_start();
        total = number
            .checked_mul(unit_millis)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("\"{text}\" is too large"))?;
    }
    Ok(total)
}

/// A rough span for people: `40 s`, `5 min`, `3 h`, `2 days`.
pub fn describe_span(millis: i64) -> String {
    let secs = millis.unsigned_abs() / 1000;
    match secs {
        0..=89 => format!("{secs} s"),
        90..=5_399 => format!("{} min", (secs + 30) / 60),
        5_400..=129_599 => format!("{} h", (secs + 1800) / 3600),
        _ => format!("{} days", (secs + 43_200) / 86_400),
    }
}

/// A reason written at `written` (`expired 4 min ago`, `expires in 2 h`, `valid until … (in 3
/// days)`) said again at `now`: each span measured to one of `times` is measured anew, so text
/// shown later does not freeze ("0 s ago" three minutes on).
pub fn restate(reason: &str, written: Timestamp, now: Timestamp, times: &[Timestamp]) -> String {
    let mut text = reason.to_string();
    for &at in times {
        let old = describe_span(written.millis() - at.millis());
        let new = describe_span(now.millis() - at.millis());
        if old != new {
            text = text
                .replace(&format!(" {old} ago"), &format!(" {new} ago"))
                .replace(&format!("in {old}"), &format!("in {new}"));
        }
    }
    text
}

/// A reason written at `written` with its spans to `times` taken out, for text that is printed
/// later with no way to measure again (the warnings the shells print): `expired 4 min ago
/// (2026-12-07 02:19 UTC)` becomes `expired at 2026-12-07 02:19 UTC`.
pub fn without_spans(reason: &str, written: Timestamp, times: &[Timestamp]) -> String {
    let mut text = reason.to_string();
    for &at in times {
        let span = describe_span(written.millis() - at.millis());
        let human = at.human();
        text = text
            .replace(&format!(" {span} ago ({human})"), &format!(" at {human}"))
            .replace(&format!(" in {span} ({human})"), &format!(" at {human}"))
            .replace(&format!(" (in {span})"), "")
            .replace(&format!(" {span} ago, {human}"), &format!(" {human}"))
            .replace(&format!(" {span} ago"), "");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_are_measured_again_or_taken_out() {
        let deadline = Timestamp::parse_datetime("2026-12-07T02:19:00Z").unwrap();
        let written = deadline.saturating_add_millis(0);
        let reason = format!("login expired 0 s ago ({})", deadline.human());
        let later = deadline.saturating_add_millis(35_000);
        assert_eq!(
            restate(&reason, written, later, &[deadline]),
            "login expired 35 s ago (2026-12-07 02:19 UTC)"
        );
        assert_eq!(
            without_spans(&reason, written, &[deadline]),
            "login expired at 2026-12-07 02:19 UTC"
        );
        let before = deadline.saturating_add_millis(-2 * 3_600_000);
        let ok = format!("login valid until {} (in 2 h)", deadline.human());
        assert_eq!(
            restate(
                &ok,
                before,
                deadline.saturating_add_millis(-3_600_000),
                &[deadline]
            ),
            "login valid until 2026-12-07 02:19 UTC (in 60 min)"
        );
        assert_eq!(
            without_spans(&ok, before, &[deadline]),
            "login valid until 2026-12-07 02:19 UTC"
        );
    }

    #[test]
    fn rfc3339_forms_tools_write() {
        let z = Timestamp::parse_datetime("2026-11-25T08:00:00Z").unwrap();
        assert_eq!(z.rfc3339(), "2026-11-25T08:00:00Z");
        for same in [
            "2026-11-25T08:00:00UTC",
            "2026-11-25T08:00:00 UTC",
            "2026-11-25 08:00:00",
            "2026-11-25T10:00:00+02:00",
            "2026-11-25T03:00:00-0500",
            "2026-11-25T08:00Z",
        ] {
            assert_eq!(Timestamp::parse_datetime(same), Some(z), "{same}");
        }
        let frac = Timestamp::parse_datetime("2026-11-25 08:00:00.123456").unwrap();
        assert_eq!(frac.millis() - z.millis(), 123);
        assert_eq!(
            Timestamp::parse_datetime("2026-11-25").unwrap().rfc3339(),
            "2026-11-25T00:00:00Z"
        );
    }

    #[test]
    fn rejects_what_is_not_a_date() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-02-30",
            "2026-11-25T25:00:00Z",
            "2026-11-25X",
            "2026-11-25T08:00:00+2",
            "20261125",
            "2026-11-25T08:00:00.Z",
            "٢٠٢٦-11-25",
        ] {
            assert_eq!(Timestamp::parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn epoch_unit_auto_detects_milliseconds() {
        let s = Timestamp::from_epoch_number(1_764_057_600.0, EpochUnit::Auto).unwrap();
        let ms = Timestamp::from_epoch_number(1_764_057_600_000.0, EpochUnit::Auto).unwrap();
        assert_eq!(s, ms);
        assert_eq!(s.rfc3339(), "2025-11-25T08:00:00Z");
        let forced = Timestamp::from_epoch_number(1_764_057_600.0, EpochUnit::Milliseconds);
        assert_eq!(forced.unwrap().rfc3339(), "1970-01-21T10:00:57Z");
        assert_eq!(
            Timestamp::from_epoch_number(f64::NAN, EpochUnit::Auto),
            None
        );
        assert_eq!(Timestamp::from_epoch_number(1e300, EpochUnit::Auto), None);
    }

    #[test]
    fn calendar_round_trips_across_centuries() {
        for days in [-800_000, -1, 0, 59, 60, 365, 10_957, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3d"), Ok(3 * 86_400_000));
        assert_eq!(parse_duration("1d12h"), Ok(36 * 3_600_000));
        assert_eq!(parse_duration("500ms"), Ok(500));
        assert!(parse_duration("3 days")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(parse_duration("d3").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
        assert_eq!(describe_span(2 * 86_400_000 + 5), "2 days");
        assert_eq!(describe_span(-7_200_000), "2 h");
        assert_eq!(describe_span(300_000), "5 min");
    }
}
