//! Gaps in a monitor's minute and hourly data, without I/O: when a packet arrives well after
//! the one before it, the period between is what the listener asks the device for (HJ 212
//! CN 2051/2061 with BeginTime/EndTime), so data a device kept through a lost link is filled in.

use crate::domain::dust::reading::Level;

/// How far back a request reaches at most: a day of minute data, a week of hourly data (what
/// data loggers keep and can resend in one go; older gaps stay gaps).
pub fn max_back(level: Level) -> i64 {
    match level {
        Level::Hour => 7 * 86_400,
        _ => 86_400,
    }
}

/// What is known of one device's data of one kind on a connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Track {
    /// The newest data time seen (stored before, or sent on this connection).
    pub last: Option<i64>,
    /// Seconds between two of its packets: an hour for hourly data; for minute data learnt
    /// from two in a row (devices send every 1 to 15 minutes).
    pub interval: Option<i64>,
    /// The end of the last period asked for: it is not asked for again.
    pub asked_to: i64,
}

impl Track {
    /// From the times of the device's newest stored data of `level` before the first packet on
    /// a connection, newest first.
    pub fn from_stored(level: Level, newest: &[i64]) -> Track {
        let interval = match (level, newest) {
            (Level::Hour, _) => Some(3600),
            (_, [a, b, ..]) => Some(a - b).filter(|d| (1..=3600).contains(d)),
            _ => None,
        };
        Track {
            last: newest.first().copied(),
            interval,
            asked_to: i64::MIN,
        }
    }

    /// Takes a packet of `level` stamped `t`; returns the period (first and last data time,
    /// inclusive) to ask the device for, if data is missing before `t`.
    pub fn next(&mut self, level: Level, t: i64) -> Option<(i64, i64)> {
        let Some(last) = self.last else {
            self.last = Some(t);
            return None;
        };
        if t <= last {
            // Data sent again or late (a history reply): nothing is missing after it.
            return None;
        }
        self.last = Some(t);
        let Some(iv) = self.interval else {
            self.interval = Some(t - last).filter(|d| *d <= 3600);
            return None;
        };
        if t - last < 2 * iv {
            return None;
        }
        let begin = (last + iv).max(t - max_back(level)).max(self.asked_to + 1);
        let end = t - iv;
        if begin > end {
            return None;
        }
        self.asked_to = end;
        Some((begin, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_gap_is_asked_for_once_between_the_readings_around_it() {
        // Every 5 minutes until 10:00, then nothing until 10:30.
        let mut t = Track::from_stored(Level::Minute, &[36_000, 35_700]);
        assert_eq!(t.interval, Some(300));
        assert_eq!(t.next(Level::Minute, 36_300), None);
        assert_eq!(t.next(Level::Minute, 38_100), Some((36_600, 37_800)));
        // What the device sends back (older) and the next fresh one ask for nothing more.
        assert_eq!(t.next(Level::Minute, 36_600), None);
        assert_eq!(t.next(Level::Minute, 38_400), None);
    }

    #[test]
    fn hourly_gaps_are_hours_and_a_long_one_is_asked_for_its_last_week() {
        let mut t = Track::from_stored(Level::Hour, &[3_600_000]);
        assert_eq!(t.next(Level::Hour, 3_603_600), None);
        let later = 3_603_600 + 30 * 86_400;
        assert_eq!(
            t.next(Level::Hour, later),
            Some((later - 7 * 86_400, later - 3600))
        );
    }

    #[test]
    fn without_a_known_interval_the_first_two_packets_teach_it() {
        let mut t = Track::from_stored(Level::Minute, &[]);
        assert_eq!(t.next(Level::Minute, 600), None);
        assert_eq!(t.next(Level::Minute, 660), None);
        assert_eq!(t.interval, Some(60));
        assert_eq!(t.next(Level::Minute, 840), Some((720, 780)));
        // Over an hour apart is no interval: no guess.
        let mut t = Track::from_stored(Level::Minute, &[0, -7200]);
        assert_eq!(t.interval, None);
        assert_eq!(t.next(Level::Minute, 86_400), None);
    }
}
