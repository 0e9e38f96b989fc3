//! Hourly and 24-hour means, pure: the sums an hour's row keeps, how two of them combine, and
//! the GB 3095-2012 rules on how many hourly values a 24-hour mean needs.
//!
//! An hour keeps, per quantity, a count and a sum (in tenths, the stored unit), so a reading
//! arriving late or out of order is added to its own hour in O(1). Wind direction is a circular
//! quantity: its mean is the direction of the summed unit vectors, never the arithmetic mean
//! (350° and 10° average to 0°, not 180°).

use super::reading::{LOCAL_OFFSET_S, Level, Quantity, Reading};

/// Stored values are tenths of the unit (0.1 µg/m³, 0.1 m/s, 0.1°): integers keep rows small
/// and sums exact.
pub const SCALE: f64 = 10.0;

/// How many hourly values a valid 24-hour mean of `q` needs in its day: GB 3095-2012 table 4
/// (污染物浓度数据有效性的最低要求) asks PM10 and PM2.5 for at least 20 hourly values and TSP
/// for 24 hours of sampling, which for a continuous monitor is every hour of the day. Wind has
/// no rule (0). The table has no 1-hour rule for particulates (its 45 minutes an hour are for
/// SO2, NO2, CO, O3 and NOx), so an hour's mean is taken from whatever the hour holds.
pub fn min_hours_for_day(q: Quantity) -> usize {
    match q {
        Quantity::Tsp => 24,
        Quantity::Pm10 | Quantity::Pm25 => 20,
        _ => 0,
    }
}

/// The quantities an hour sums (wind direction is summed as a vector, apart).
pub const SUMMED: [Quantity; 4] = [
    Quantity::Tsp,
    Quantity::Pm10,
    Quantity::Pm25,
    Quantity::WindSpeed,
];

/// A value in tenths, as stored.
pub fn to_tenths(v: f64) -> i64 {
    (v * SCALE).round() as i64
}

/// A count and a sum in tenths.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sum {
    pub n: i64,
    pub tenths: i64,
}

impl Sum {
    fn add(self, o: Sum) -> Sum {
        Sum {
            n: self.n + o.n,
            tenths: self.tenths + o.tenths,
        }
    }

    pub fn mean(self) -> Option<f64> {
        (self.n > 0).then(|| self.tenths as f64 / SCALE / self.n as f64)
    }
}

/// Wind directions as summed unit vectors (x east, y north).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WindSum {
    pub n: i64,
    pub x: f64,
    pub y: f64,
}

impl WindSum {
    pub fn of_degrees(deg: f64) -> WindSum {
        let r = deg.to_radians();
        WindSum {
            n: 1,
            x: r.sin(),
            y: r.cos(),
        }
    }

    fn add(self, o: WindSum) -> WindSum {
        WindSum {
            n: self.n + o.n,
            x: self.x + o.x,
            y: self.y + o.y,
        }
    }

    /// The mean direction in [0, 360), or none when there is none or the winds cancel out.
    pub fn mean(self) -> Option<f64> {
        if self.n == 0 || (self.x.hypot(self.y) / self.n as f64) < 1e-9 {
            return None;
        }
        Some(self.x.atan2(self.y).to_degrees().rem_euclid(360.0))
    }
}

/// What one hour's row holds: the sums of the most preferred level of reading seen in that hour
/// (see [`Level`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HourSums {
    pub level: Level,
    /// Readings behind the sums.
    pub n: i64,
    /// By [`SUMMED`] order.
    pub sums: [Sum; 4],
    pub wind_dir: WindSum,
}

/// The hour (Unix seconds / 3600) a time falls in.
pub fn hour_of(at: i64) -> i64 {
    at.div_euclid(3600)
}

impl HourSums {
    /// One reading's contribution; daily data carries no hour and gives none.
    pub fn of(r: &Reading) -> Option<HourSums> {
        if r.level == Level::Day {
            return None;
        }
        let mut sums = [Sum::default(); 4];
        // Only valid values count: flagged (maintenance, calibration…) and suspect ones are
        // kept with the reading and left out of means and exceedances.
        for (s, q) in sums.iter_mut().zip(SUMMED) {
            if let Some(v) = r.valid(q) {
                *s = Sum {
                    n: 1,
                    tenths: to_tenths(v),
                };
            }
        }
        Some(HourSums {
            level: r.level,
            n: 1,
            sums,
            wind_dir: r
                .valid(Quantity::WindDir)
                .map(WindSum::of_degrees)
                .unwrap_or_default(),
        })
    }

    /// Combines two hours' worth: the preferred level (lower) wins outright, equal levels add.
    /// Associative and commutative, so readings may arrive in any order and in any grouping: an
    /// hour holds exactly the sums of its most preferred readings. (A device sending minute and
    /// hourly data would otherwise be counted twice.)
    pub fn merge(self, o: HourSums) -> HourSums {
        match self.level.cmp(&o.level) {
            std::cmp::Ordering::Less => self,
            std::cmp::Ordering::Greater => o,
            std::cmp::Ordering::Equal => {
                let mut sums = self.sums;
                for (s, x) in sums.iter_mut().zip(o.sums) {
                    *s = s.add(x);
                }
                HourSums {
                    level: self.level,
                    n: self.n + o.n,
                    sums,
                    wind_dir: self.wind_dir.add(o.wind_dir),
                }
            }
        }
    }

    pub fn mean(&self) -> HourMean {
        HourMean {
            values: self.sums.map(Sum::mean),
            counts: self.sums.map(|s| s.n),
            wind_dir: self.wind_dir.mean(),
            n: self.n,
        }
    }
}

/// A quantity's mean among the [`SUMMED`] ones, or the wind direction's.
fn mean_of(values: &[Option<f64>; 4], wind_dir: Option<f64>, q: Quantity) -> Option<f64> {
    SUMMED
        .iter()
        .position(|s| *s == q)
        .and_then(|i| values[i])
        .or_else(|| (q == Quantity::WindDir).then_some(wind_dir).flatten())
}

/// An hour's means (by [`SUMMED`] order) and the counts behind them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HourMean {
    pub values: [Option<f64>; 4],
    pub counts: [i64; 4],
    pub wind_dir: Option<f64>,
    /// Readings in the hour.
    pub n: i64,
}

impl HourMean {
    pub fn get(&self, q: Quantity) -> Option<f64> {
        mean_of(&self.values, self.wind_dir, q)
    }
}

/// A natural day's (00:00–24:00 UTC+8) means from its hourly means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayMean {
    /// The day's start, Unix seconds.
    pub start: i64,
    pub values: [Option<f64>; 4],
    pub wind_dir: Option<f64>,
    /// Hourly values behind each mean.
    pub hours: [usize; 4],
    /// Hours with a wind direction.
    pub wind_hours: usize,
    /// Per quantity: whether the mean has the hours [`min_hours_for_day`] asks (wind: true).
    pub valid_by: [bool; 4],
}

impl DayMean {
    /// Hours with any particulate value.
    pub fn n(&self) -> usize {
        self.hours[..3].iter().copied().max().unwrap_or(0)
    }

    /// Valid when there is a particulate mean and every particulate mean has its hours.
    pub fn valid(&self) -> bool {
        let present: Vec<usize> = (0..3).filter(|&i| self.hours[i] > 0).collect();
        !present.is_empty() && present.iter().all(|&i| self.valid_by[i])
    }

    pub fn get(&self, q: Quantity) -> Option<f64> {
        mean_of(&self.values, self.wind_dir, q)
    }
}

/// The start (Unix seconds) of the local day a time falls in.
pub fn day_start(at: i64) -> i64 {
    let off = i64::from(LOCAL_OFFSET_S);
    (at + off).div_euclid(86_400) * 86_400 - off
}

/// 24-hour means from hourly means (`(hour, mean)` with `hour` = Unix seconds / 3600, in any
/// order): the arithmetic mean of the day's hourly means, as GB 3095 defines it, valid with at
/// least [`min_hours_for_day`] of them. Days come out in order.
pub fn day_means(hours: &[(i64, HourMean)]) -> Vec<DayMean> {
    let mut sorted: Vec<&(i64, HourMean)> = hours.iter().collect();
    sorted.sort_by_key(|(h, _)| *h);
    let mut out: Vec<DayMean> = vec![];
    let mut acc: Option<(i64, [f64; 4], [usize; 4], WindSum)> = None;
    let finish = |(start, sums, counts, wind): (i64, [f64; 4], [usize; 4], WindSum)| {
        let mut values = [None; 4];
        let mut valid_by = [true; 4];
        for i in 0..4 {
            values[i] = (counts[i] > 0).then(|| sums[i] / counts[i] as f64);
            if SUMMED[i].is_particulate() {
                valid_by[i] = counts[i] >= min_hours_for_day(SUMMED[i]);
            }
        }
        DayMean {
            start,
            values,
            wind_dir: wind.mean(),
            hours: counts,
            wind_hours: wind.n as usize,
            valid_by,
        }
    };
    for (hour, m) in sorted {
        let start = day_start(hour * 3600);
        if acc.as_ref().is_some_and(|a| a.0 != start)
            && let Some(a) = acc.take()
        {
            out.push(finish(a));
        }
        let a = acc.get_or_insert((start, [0.0; 4], [0; 4], WindSum::default()));
        for i in 0..4 {
            if let Some(v) = m.values[i] {
                a.1[i] += v;
                a.2[i] += 1;
            }
        }
        if let Some(d) = m.wind_dir {
            a.3 = a.3.add(WindSum::of_degrees(d));
        }
    }
    out.extend(acc.map(finish));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(at: i64, level: Level, pm10: f64) -> Reading {
        let mut r = Reading::new(at, level);
        r.set(Quantity::Pm10, Some(pm10));
        r
    }

    #[test]
    fn flagged_and_suspect_values_count_towards_no_mean() {
        let mut r = reading(3600, Level::Minute, 80.0);
        r.set(Quantity::Tsp, Some(500.0));
        r.set_flag(Quantity::Tsp, Some(b'C'));
        r.set(Quantity::Pm25, Some(0.04));
        assert_eq!(r.judge(), 1);
        let s = HourSums::of(&r).expect("hourly");
        let [tsp, pm10, pm25, _] = s.sums;
        assert_eq!((tsp.n, pm10.n, pm25.n), (0, 1, 0));
        assert_eq!(pm10.mean(), Some(80.0));
        // N and T (over range) count; other letters do not.
        for (flag, counts) in [(b'N', true), (b'T', true), (b'M', false), (b'D', false)] {
            r.set_flag(Quantity::Pm10, Some(flag));
            assert_eq!(
                r.valid(Quantity::Pm10).is_some(),
                counts,
                "{}",
                flag as char
            );
        }
    }

    fn hours_with(n: i64, pm10: f64) -> Vec<(i64, HourMean)> {
        hours_of(n, |r| r.set(Quantity::Pm10, Some(pm10)))
    }

    /// `n` hours from local midnight 2025-01-10 (UTC+8, 2025-01-09T16:00:00Z), each one
    /// minute reading filled by `fill`.
    fn hours_of(n: i64, fill: impl Fn(&mut Reading)) -> Vec<(i64, HourMean)> {
        let first = hour_of(1_736_438_400);
        (0..n)
            .map(|i| {
                let mut r = Reading::new((first + i) * 3600, Level::Minute);
                fill(&mut r);
                (first + i, HourSums::of(&r).expect("hourly").mean())
            })
            .collect()
    }

    #[test]
    fn gb_3095_table_4_asks_20_hours_of_pm_and_24_of_tsp() {
        assert_eq!(min_hours_for_day(Quantity::Pm10), 20);
        assert_eq!(min_hours_for_day(Quantity::Pm25), 20);
        assert_eq!(min_hours_for_day(Quantity::Tsp), 24);
        assert_eq!(min_hours_for_day(Quantity::WindSpeed), 0);
        let both = |r: &mut Reading| {
            r.set(Quantity::Tsp, Some(400.0));
            r.set(Quantity::Pm10, Some(160.0));
        };
        // 23 hours: PM10's mean is valid, TSP's is not, so the day is not.
        let short = day_means(&hours_of(23, both));
        let tsp = SUMMED
            .iter()
            .position(|q| *q == Quantity::Tsp)
            .expect("tsp");
        let pm10 = SUMMED
            .iter()
            .position(|q| *q == Quantity::Pm10)
            .expect("pm10");
        assert_eq!(
            (short[0].valid_by[tsp], short[0].valid_by[pm10]),
            (false, true)
        );
        assert!(!short[0].valid());
        assert!(day_means(&hours_of(24, both))[0].valid());
    }

    #[test]
    fn a_24_hour_mean_needs_20_hourly_values() {
        let short = day_means(&hours_with(19, 160.0));
        assert_eq!(short.len(), 1);
        assert_eq!(short[0].hours[1], 19);
        assert!(!short[0].valid());
        assert_eq!(short[0].get(Quantity::Pm10), Some(160.0));
        let enough = day_means(&hours_with(20, 160.0));
        assert!(enough[0].valid());
        assert_eq!(enough[0].n(), 20);
        assert_eq!(enough[0].start, 1_736_438_400);
    }

    #[test]
    fn a_day_is_the_mean_of_its_hourly_means_not_of_its_readings() {
        let first = hour_of(1_736_438_400);
        let busy = (0..60).fold(None::<HourSums>, |acc, i| {
            let s = HourSums::of(&reading(first * 3600 + i * 60, Level::Minute, 100.0));
            match (acc, s) {
                (Some(a), Some(s)) => Some(a.merge(s)),
                (None, s) => s,
                (a, None) => a,
            }
        });
        let quiet = HourSums::of(&reading((first + 1) * 3600, Level::Minute, 200.0));
        let days = day_means(&[
            (first, busy.expect("sums").mean()),
            (first + 1, quiet.expect("sums").mean()),
        ]);
        assert_eq!(days[0].get(Quantity::Pm10), Some(150.0));
    }

    #[test]
    fn readings_in_any_order_give_the_same_hour() {
        let rs: Vec<HourSums> = [80.0, 120.0, 100.0]
            .iter()
            .enumerate()
            .filter_map(|(i, v)| HourSums::of(&reading(i as i64 * 60, Level::RealTime, *v)))
            .collect();
        let forward = rs[0].merge(rs[1]).merge(rs[2]);
        let backward = rs[2].merge(rs[0].merge(rs[1]));
        assert_eq!(forward, backward);
        assert_eq!(forward.mean().get(Quantity::Pm10), Some(100.0));
        assert_eq!(forward.mean().counts[1], 3);
    }

    #[test]
    fn minute_data_wins_over_real_time_values_and_the_devices_own_hourly_figure() {
        let hourly = HourSums::of(&reading(0, Level::Hour, 500.0)).expect("sums");
        let realtime = HourSums::of(&reading(30, Level::RealTime, 300.0)).expect("sums");
        let minute = HourSums::of(&reading(60, Level::Minute, 100.0)).expect("sums");
        assert_eq!(hourly.merge(minute), minute);
        assert_eq!(minute.merge(hourly), minute);
        assert_eq!(hourly.merge(realtime), realtime);
        assert_eq!(realtime.merge(minute).merge(hourly), minute);
        assert!(HourSums::of(&reading(0, Level::Day, 1.0)).is_none());
    }

    #[test]
    fn wind_direction_is_averaged_as_a_vector() {
        let a = WindSum::of_degrees(350.0).add(WindSum::of_degrees(10.0));
        let mean = a.mean().expect("mean");
        assert!(mean < 1e-6 || (360.0 - mean) < 1e-6, "{mean}");
        let calm = WindSum::of_degrees(90.0).add(WindSum::of_degrees(270.0));
        assert_eq!(calm.mean(), None);
    }

    #[test]
    fn days_are_local_natural_days() {
        // 2025-01-10T15:59:59Z is 23:59:59 local on the 10th; a second later is the 11th.
        assert_eq!(day_start(1_736_524_799), 1_736_438_400);
        assert_eq!(day_start(1_736_524_800), 1_736_524_800);
    }
}
