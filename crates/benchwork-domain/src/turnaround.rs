//! Laboratory turnaround (issue 3 item 8; DOMAIN.md glossary "TAT").
//!
//! Per request line: from the specimen's receipt in the laboratory (its
//! first `received` custody step) or, for a measurement without specimen
//! (ECG, spirometry), from the booking time, to the result's first clinical
//! authorisation (an amendment later does not change it). The target is the
//! booked catalogue version's turnaround target for the request's priority.
//!
//! Percentiles use the nearest-rank method: the P-th percentile of n sorted
//! values is the value at rank ⌈P × n / 100⌉ (from 1), so it is always an
//! observed time. The median is the 50th percentile by the same method:
//! for an even count it is the lower of the two middle values.

use jiff::Timestamp;
use jiff::civil::Date;

/// Count, median, 90th percentile and number within target of a group of
/// turnaround times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurnaroundSummary {
    /// How many lines.
    pub n: usize,
    /// Median, seconds (nearest rank).
    pub median_seconds: i64,
    /// 90th percentile, seconds (nearest rank).
    pub p90_seconds: i64,
    /// How many within target (at most the target).
    pub n_within_target: usize,
}

impl TurnaroundSummary {
    /// Lines within target as a percentage of all lines (0 to 100).
    pub fn percent_within_target(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.n_within_target as f64 * 100.0 / self.n as f64
        }
    }

    /// Whether the 90th percentile is over the target: the group breaches.
    pub fn breaches(&self, target_minutes: i64) -> bool {
        self.p90_seconds > target_minutes * 60
    }
}

/// The P-th percentile (1 to 100) of sorted values by nearest rank, or
/// `None` for no values.
pub fn nearest_rank(sorted: &[i64], percent: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (percent.clamp(1, 100) as usize * n).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// Summarises turnaround times in seconds against a target in minutes;
/// `None` for no times.
pub fn summarise(durations_seconds: &[i64], target_minutes: i64) -> Option<TurnaroundSummary> {
    let mut sorted = durations_seconds.to_vec();
    sorted.sort_unstable();
    Some(TurnaroundSummary {
        n: sorted.len(),
        median_seconds: nearest_rank(&sorted, 50)?,
        p90_seconds: nearest_rank(&sorted, 90)?,
        n_within_target: sorted
            .iter()
            .filter(|seconds| **seconds <= target_minutes * 60)
            .count(),
    })
}

/// The first day of the month, in Europe/London time, that `at` falls in.
pub fn london_month(at: Timestamp) -> Date {
    let zone = jiff::tz::TimeZone::get("Europe/London").unwrap_or(jiff::tz::TimeZone::UTC);
    let date = at.to_zoned(zone).date();
    date.first_of_month()
}

/// A duration for people: `45 min`, `3 h 05 min`, `2 d 4 h 10 min`.
pub fn display_duration(seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    let (days, hours, minutes) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes} min"),
        (0, _) => format!("{hours} h {minutes:02} min"),
        _ => format!("{days} d {hours} h {minutes:02} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(durations_minutes: &[i64], target: i64, expected: (usize, i64, i64, usize)) {
        let seconds: Vec<i64> = durations_minutes.iter().map(|m| m * 60).collect();
        let summary = summarise(&seconds, target).unwrap();
        assert_eq!(
            (
                summary.n,
                summary.median_seconds / 60,
                summary.p90_seconds / 60,
                summary.n_within_target
            ),
            expected,
            "{durations_minutes:?}"
        );
    }

    #[test]
    fn one_value_is_its_own_median_and_90th_percentile() {
        check(&[42], 60, (1, 42, 42, 1));
    }

    #[test]
    fn the_median_of_two_values_is_the_lower_by_nearest_rank() {
        check(&[90, 30], 60, (2, 30, 90, 1));
    }

    #[test]
    fn ten_values_take_the_fifth_and_ninth() {
        check(
            &[10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
            60,
            (10, 50, 90, 6),
        );
    }

    #[test]
    fn eleven_values_take_the_sixth_and_tenth() {
        check(
            &[110, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
            100,
            (11, 60, 100, 10),
        );
    }

    #[test]
    fn ties_are_counted_once_each() {
        check(&[30, 30, 30, 61], 30, (4, 30, 61, 3));
    }

    #[test]
    fn a_time_equal_to_the_target_is_within_it() {
        check(&[60], 60, (1, 60, 60, 1));
        check(&[61], 60, (1, 61, 61, 0));
    }

    #[test]
    fn no_values_have_no_summary() {
        assert_eq!(summarise(&[], 60), None);
        assert_eq!(nearest_rank(&[], 50), None);
    }

    #[test]
    fn percent_within_target_and_breach_follow_the_summary() {
        let summary = summarise(&[600, 1200, 4000], 60).unwrap();
        assert!((summary.percent_within_target() - 66.666).abs() < 0.01);
        assert!(summary.breaches(60));
        assert!(!summary.breaches(67));
    }

    #[test]
    fn months_are_london_months() {
        // 00:30 on 1 July in BST is still 30 June in UTC.
        let at: Timestamp = "2026-06-30T23:30:00Z".parse().unwrap();
        assert_eq!(london_month(at), jiff::civil::date(2026, 7, 1));
        let winter: Timestamp = "2026-12-31T23:30:00Z".parse().unwrap();
        assert_eq!(london_month(winter), jiff::civil::date(2026, 12, 1));
    }

    #[test]
    fn durations_read_as_days_hours_and_minutes() {
        assert_eq!(display_duration(45 * 60 + 59), "45 min");
        assert_eq!(display_duration(185 * 60), "3 h 05 min");
        assert_eq!(display_duration((2 * 1440 + 250) * 60), "2 d 4 h 10 min");
    }
}
