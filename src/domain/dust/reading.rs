//! One dust reading as the system holds it: a time, the granularity it was reported at, and
//! up to seven quantities in fixed units (µg/m³, m/s, degrees, °C, %), with their plausible ranges.

use chrono::{DateTime, FixedOffset};

/// Wuhai's local time (UTC+8): HJ 212 DataTime, GB 3095 natural days and the times we serve.
pub const LOCAL: FixedOffset = match FixedOffset::east_opt(LOCAL_OFFSET_S) {
    Some(o) => o,
    None => panic!("UTC+8 is a valid offset"),
};

/// The local offset in seconds.
pub const LOCAL_OFFSET_S: i32 = 8 * 3600;

/// A Unix time (seconds) as RFC 3339 in local time, e.g. `2025-01-10T10:00:00+08:00`.
pub fn local_rfc3339(t: i64) -> String {
    DateTime::from_timestamp(t, 0)
        .map(|d| {
            d.with_timezone(&LOCAL)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        })
        .unwrap_or_default()
}

/// What a value measures. The order is the storage order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantity {
    Tsp,
    Pm10,
    Pm25,
    WindSpeed,
    WindDir,
    Temperature,
    Humidity,
}

impl Quantity {
    pub const ALL: [Quantity; 7] = [
        Quantity::Tsp,
        Quantity::Pm10,
        Quantity::Pm25,
        Quantity::WindSpeed,
        Quantity::WindDir,
        Quantity::Temperature,
        Quantity::Humidity,
    ];

    /// The JSON field (and the `pollutants` value of the monitors layer).
    pub fn name(self) -> &'static str {
        match self {
            Quantity::Tsp => "tsp",
            Quantity::Pm10 => "pm10",
            Quantity::Pm25 => "pm25",
            Quantity::WindSpeed => "wind_speed",
            Quantity::WindDir => "wind_dir",
            Quantity::Temperature => "temperature",
            Quantity::Humidity => "humidity",
        }
    }

    /// The HJ 212-2017 factor code (appendix B).
    pub fn hj212_code(self) -> &'static str {
        match self {
            Quantity::Tsp => "a34001",
            Quantity::Pm10 => "a34002",
            Quantity::Pm25 => "a34004",
            Quantity::WindSpeed => "a01007",
            Quantity::WindDir => "a01008",
            Quantity::Temperature => "a01001",
            Quantity::Humidity => "a01002",
        }
    }

    pub fn from_hj212_code(code: &str) -> Option<Quantity> {
        Quantity::ALL.into_iter().find(|q| q.hj212_code() == code)
    }

    pub fn unit(self) -> &'static str {
        match self {
            Quantity::Tsp | Quantity::Pm10 | Quantity::Pm25 => "µg/m³",
            Quantity::WindSpeed => "m/s",
            Quantity::WindDir => "°",
            Quantity::Temperature => "°C",
            Quantity::Humidity => "%",
        }
    }

    /// Particulates: the GB 3095 concentrations whose 24-h means have a validity rule.
    pub fn is_particulate(self) -> bool {
        matches!(self, Quantity::Tsp | Quantity::Pm10 | Quantity::Pm25)
    }

    /// The values accepted, inclusive. Particulates up to 100 mg/m³ (the top of dust-monitor
    /// ranges; dust storms reach about 10 mg/m³), wind up to 75 m/s (beyond any recorded gust
    /// here), air temperature −60…70 °C, relative humidity 0…100 %.
    pub fn range(self) -> (f64, f64) {
        match self {
            Quantity::Tsp | Quantity::Pm10 | Quantity::Pm25 => (0.0, 100_000.0),
            Quantity::WindSpeed => (0.0, 75.0),
            Quantity::WindDir => (0.0, 360.0),
            Quantity::Temperature => (-60.0, 70.0),
            Quantity::Humidity => (0.0, 100.0),
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// The kind of data a reading was reported as. When an hour is rolled up only its most
/// preferred kind counts, in this order (the discriminant), so a device sending several kinds is
/// not counted twice: minute data first, since the monitoring standards build an hourly value
/// from minute values; then real-time values; then the device's own hourly figure, for hours with
/// nothing finer. Daily figures are stored and never rolled into hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// HJ 212 minute data (CN 2051).
    Minute = 0,
    /// HTTP readings and HJ 212 real-time data (CN 2011).
    RealTime = 1,
    /// HJ 212 hourly data (CN 2061).
    Hour = 2,
    /// HJ 212 daily data (CN 2031).
    Day = 3,
}

impl Level {
    pub fn from_i64(n: i64) -> Option<Level> {
        [Level::Minute, Level::RealTime, Level::Hour, Level::Day]
            .into_iter()
            .find(|l| *l as i64 == n)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::RealTime => "realtime",
            Level::Minute => "minute",
            Level::Hour => "hour",
            Level::Day => "day",
        }
    }
}

/// One reading. `at` is Unix seconds (UTC); values, their data flags and the suspect marks are
/// indexed by [`Quantity::index`].
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub at: i64,
    pub level: Level,
    pub values: [Option<f64>; 7],
    /// Each value's HJ 212 data flag (数据标记, an ASCII letter) as the device sent it; `None`
    /// where it sent none (HTTP readings, devices that leave `-Flag` out).
    pub flags: [Option<u8>; 7],
    /// Bit `i`: value `i` is implausible for its quantity and the device's unit ([`plausible`]).
    /// It is kept and shown, and counts towards nothing.
    pub suspect: u8,
}

impl Reading {
    pub fn new(at: i64, level: Level) -> Reading {
        Reading {
            at,
            level,
            values: [None; 7],
            flags: [None; 7],
            suspect: 0,
        }
    }

    pub fn get(&self, q: Quantity) -> Option<f64> {
        self.values[q.index()]
    }

    pub fn set(&mut self, q: Quantity, v: Option<f64>) {
        self.values[q.index()] = v;
    }

    pub fn flag(&self, q: Quantity) -> Option<u8> {
        self.flags[q.index()]
    }

    pub fn set_flag(&mut self, q: Quantity, flag: Option<u8>) {
        self.flags[q.index()] = flag;
    }

    pub fn is_suspect(&self, q: Quantity) -> bool {
        self.suspect & (1 << q.index()) != 0
    }

    /// The value where it may count towards means, exceedances and warnings: present, flagged
    /// as a measurement ([`flag_counts`]) and plausible.
    pub fn valid(&self, q: Quantity) -> Option<f64> {
        self.get(q)
            .filter(|_| flag_counts(self.flag(q)) && !self.is_suspect(q))
    }

    /// Marks every implausible value suspect; returns how many it marked.
    pub fn judge(&mut self) -> u32 {
        let mut marked = 0;
        for q in Quantity::ALL {
            if let Some(v) = self.get(q)
                && !plausible(q, v)
                && !self.is_suspect(q)
            {
                self.suspect |= 1 << q.index();
                marked += 1;
            }
        }
        marked
    }

    /// How many values are marked suspect.
    pub fn suspects(&self) -> u32 {
        self.suspect.count_ones()
    }

    pub fn is_empty(&self) -> bool {
        self.values.iter().all(Option::is_none)
    }
}

/// Whether a value with this HJ 212 data flag is a measurement of the air that counts (HJ
/// 212-2017 table 5 / HJ 212-2025): none given, N (normal) and T (over the instrument's upper
/// limit: the true value is at least this, so an exceedance must not be hidden). F (stopped), M
/// (maintenance), S (set by hand), D (fault), C (calibration), B (communication fault) and any
/// other letter mark a value that is kept and shown but left out of means.
pub fn flag_counts(flag: Option<u8>) -> bool {
    matches!(flag, None | Some(b'N') | Some(b'T'))
}

/// The highest particulate concentration taken as a measurement, in µg/m³: twice the ~10 mg/m³
/// that dust storms reach. Above it the device's unit is almost surely wrong (a µg/m³ figure
/// read as mg/m³ is a thousand times too high).
pub const PARTICULATE_PLAUSIBLE_MAX: f64 = 20_000.0;

/// Whether a value (in the stored unit) is plausible. Particulates: 0, or 1 to
/// [`PARTICULATE_PLAUSIBLE_MAX`] µg/m³ — monitors resolve 1 µg/m³, so a non-zero value below it
/// is an mg/m³ figure read as µg/m³. Other quantities: within [`Quantity::range`].
pub fn plausible(q: Quantity, v: f64) -> bool {
    if q.is_particulate() {
        v == 0.0 || (1.0..=PARTICULATE_PLAUSIBLE_MAX).contains(&v)
    } else {
        check(q, v).is_ok()
    }
}

/// Why a value was refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutOfRange {
    pub quantity: Quantity,
    pub value: f64,
}

/// Checks a value against its quantity's range (NaN and infinities are out of range).
pub fn check(q: Quantity, v: f64) -> Result<f64, OutOfRange> {
    let (lo, hi) = q.range();
    if v.is_finite() && v >= lo && v <= hi {
        Ok(v)
    } else {
        Err(OutOfRange {
            quantity: q,
            value: v,
        })
    }
}

/// The earliest time accepted (2000-01-01T00:00:00Z): older stamps are a device clock that was
/// never set.
pub const EARLIEST: i64 = 946_684_800;

/// How far ahead of the server's clock a reading may be stamped (device clocks drift).
pub const FUTURE_TOLERANCE_S: i64 = 3600;

/// Whether a reading's time is plausible at `now` (Unix seconds).
pub fn time_ok(at: i64, now: i64) -> bool {
    (EARLIEST..=now + FUTURE_TOLERANCE_S).contains(&at)
}

/// How a device reports particulate concentrations. Field dust and air monitors send µg/m³
/// (the standard's own air example reports PM10 295 and PM2.5 207), so that is the default; a
/// few send mg/m³ (0.083), so each monitor says which it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParticulateUnit {
    MgPerM3,
    #[default]
    UgPerM3,
}

impl ParticulateUnit {
    /// The factor to µg/m³, the unit stored and served (GB 3095 states its limits in µg/m³).
    pub fn to_ug(self) -> f64 {
        match self {
            ParticulateUnit::MgPerM3 => 1000.0,
            ParticulateUnit::UgPerM3 => 1.0,
        }
    }

    pub fn parse(s: &str) -> Option<ParticulateUnit> {
        match s {
            "mg" | "mg/m3" | "mg/m³" => Some(ParticulateUnit::MgPerM3),
            "ug" | "µg" | "ug/m3" | "µg/m³" => Some(ParticulateUnit::UgPerM3),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ParticulateUnit::MgPerM3 => "mg",
            ParticulateUnit::UgPerM3 => "ug",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_map_to_their_hj212_codes_and_back() {
        for q in Quantity::ALL {
            assert_eq!(Quantity::from_hj212_code(q.hj212_code()), Some(q));
        }
        assert_eq!(Quantity::from_hj212_code("a21026"), None);
    }

    #[test]
    fn values_outside_their_range_are_refused() {
        assert!(check(Quantity::Pm10, 86.0).is_ok());
        assert!(check(Quantity::Pm10, -1.0).is_err());
        assert!(check(Quantity::WindDir, 361.0).is_err());
        assert!(check(Quantity::Humidity, f64::NAN).is_err());
    }

    #[test]
    fn local_times_are_utc_plus_8() {
        assert_eq!(local_rfc3339(0), "1970-01-01T08:00:00+08:00");
    }
}
