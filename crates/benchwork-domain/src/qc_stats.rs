//! QC statistics (issue 4 item 6): for the values of one level and lot, n,
//! mean, sample SD, CV %, bias % against the target mean and the sigma
//! metric for an allowable total error; grouped by month (Europe/London)
//! and lot, or by instrument and lot for a comparison.
//!
//! Moments are accumulated with Welford's method ([`Moments`]), so the SD of
//! values that are large and close together (a glucose of 5000.01 ±0.01) is
//! not lost to cancellation as with the sum of squares. An SD needs at least
//! two values: [`Moments::sd`] refuses fewer with [`StatsError::TooFew`].

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;

use crate::turnaround::london_month;
use crate::westgard::sigma_metric;

/// Why a statistic could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// Fewer values than the statistic needs.
    #[error("an SD needs at least 2 values, there {}", if *n == 1 { "is 1".to_owned() } else { format!("are {n}") })]
    TooFew {
        /// How many values there were.
        n: usize,
    },
    /// A value that is not a finite number.
    #[error("a QC value is not a finite number")]
    NotFinite,
    /// All values identical: an SD of zero cannot be a target.
    #[error("the values are all the same: an SD of zero cannot be a target")]
    ZeroSd,
}

/// Running count, mean and sum of squared deviations (Welford).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    n: usize,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// Adds one value; a value that is not finite is refused and not added.
    pub fn push(&mut self, value: f64) -> Result<(), StatsError> {
        if !value.is_finite() {
            return Err(StatsError::NotFinite);
        }
        self.n += 1;
        let delta = value - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (value - self.mean);
        Ok(())
    }

    /// How many values.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The mean; `None` with no values.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }

    /// The sample SD (n − 1); refused below two values.
    pub fn sd(&self) -> Result<f64, StatsError> {
        if self.n < 2 {
            return Err(StatsError::TooFew { n: self.n });
        }
        Ok((self.m2 / (self.n - 1) as f64).max(0.0).sqrt())
    }
}

/// Default number of values a target is established from (issue 4 item 1).
pub const ESTABLISH_N_DEFAULT: i64 = 20;
/// Fewest and most values a target may be established from.
pub const ESTABLISH_N_RANGE: std::ops::RangeInclusive<i64> = 10..=100;

/// The target (mean, sample SD with n − 1) established from the first values
/// of a lot. Refused when a value is not finite, with fewer than two values,
/// or when the SD is zero (identical values cannot give a target: the lab
/// must set it by hand).
pub fn establish_target(values: &[f64]) -> Result<(f64, f64), StatsError> {
    let mut moments = Moments::default();
    for value in values {
        moments.push(*value)?;
    }
    let sd = moments.sd()?;
    let mean = moments.mean().ok_or(StatsError::TooFew { n: 0 })?;
    if sd <= 0.0 || !sd.is_finite() {
        return Err(StatsError::ZeroSd);
    }
    Ok((mean, sd))
}

/// The statistics of one group of QC values.
#[derive(Debug, Clone, PartialEq)]
pub struct QcStats {
    /// How many values.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Sample SD; refused below two values.
    pub sd: Result<f64, StatsError>,
    /// SD / mean × 100; `None` without an SD or with a mean of zero.
    pub cv_percent: Option<f64>,
    /// (mean − target mean) / target mean × 100, against the mean of the
    /// targets in force for the values; `None` when no value had a target
    /// or the target mean is zero.
    pub bias_percent: Option<f64>,
    /// The target mean the bias is against.
    pub target_mean: Option<f64>,
    /// (TEa − |bias|) / CV, when an allowable total error was given and
    /// bias and CV are known.
    pub sigma: Option<f64>,
}

/// Summarises values (each with the target mean in force for it, if any)
/// for an allowable total error in percent; `None` for no values.
pub fn summarise(
    values: &[(f64, Option<f64>)],
    tea_percent: Option<f64>,
) -> Result<Option<QcStats>, StatsError> {
    let mut moments = Moments::default();
    let mut targets = Moments::default();
    for (value, target) in values {
        moments.push(*value)?;
        if let Some(target) = target {
            targets.push(*target)?;
        }
    }
    let Some(mean) = moments.mean() else {
        return Ok(None);
    };
    let sd = moments.sd();
    let cv_percent = sd
        .as_ref()
        .ok()
        .filter(|_| mean != 0.0)
        .map(|sd| sd / mean.abs() * 100.0);
    let target_mean = targets.mean();
    let bias_percent = target_mean
        .filter(|target| *target != 0.0)
        .map(|target| (mean - target) / target.abs() * 100.0);
    let sigma = match (tea_percent, bias_percent, cv_percent) {
        (Some(tea), Some(bias), Some(cv)) => sigma_metric(tea, bias, cv).ok(),
        _ => None,
    };
    Ok(Some(QcStats {
        n: moments.n(),
        mean,
        sd,
        cv_percent,
        bias_percent,
        target_mean,
        sigma,
    }))
}

/// One QC value as the statistics see it.
#[derive(Debug, Clone, PartialEq)]
pub struct StatPoint {
    /// When its run was.
    pub at: Timestamp,
    /// The instrument's name.
    pub instrument: String,
    /// Level, 1 to 3.
    pub level: u8,
    /// Lot number.
    pub lot: String,
    /// The value.
    pub value: f64,
    /// The target mean in force for it, if established.
    pub target_mean: Option<f64>,
}

/// A group of the monthly statistics: first day of the month, level, lot.
pub type MonthLot = (Date, u8, String);

/// A group of the comparison: instrument name, level, lot.
pub type InstrumentLot = (String, u8, String);

/// Statistics by month (Europe/London), level and lot number, oldest month
/// first.
pub fn by_month_and_lot(
    points: &[StatPoint],
    tea_percent: Option<f64>,
) -> Result<Vec<(MonthLot, QcStats)>, StatsError> {
    grouped(points, tea_percent, |point| {
        (london_month(point.at), point.level, point.lot.clone())
    })
}

/// Statistics by instrument, level and lot number over the whole range: the
/// comparison across lots and instruments.
pub fn by_instrument_and_lot(
    points: &[StatPoint],
    tea_percent: Option<f64>,
) -> Result<Vec<(InstrumentLot, QcStats)>, StatsError> {
    grouped(points, tea_percent, |point| {
        (point.instrument.clone(), point.level, point.lot.clone())
    })
}

fn grouped<K: Ord>(
    points: &[StatPoint],
    tea_percent: Option<f64>,
    key: impl Fn(&StatPoint) -> K,
) -> Result<Vec<(K, QcStats)>, StatsError> {
    let mut groups: BTreeMap<K, Vec<(f64, Option<f64>)>> = BTreeMap::new();
    for point in points {
        groups
            .entry(key(point))
            .or_default()
            .push((point.value, point.target_mean));
    }
    let mut out = Vec::with_capacity(groups.len());
    for (key, values) in groups {
        if let Some(stats) = summarise(&values, tea_percent)? {
            out.push((key, stats));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not {expected} ± {tolerance}"
        );
    }

    #[test]
    fn establish_target_is_the_mean_and_sample_sd() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 40 / 8 = 5; squared deviations
        // 9+1+1+1+0+0+4+16 = 32; sample variance 32 / 7; SD 2.138089935.
        let (mean, sd) = establish_target(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        close(mean, 5.0, 1e-12);
        close(sd, (32.0f64 / 7.0).sqrt(), 1e-12);
        close(sd, 2.138_089_935, 1e-9);
        // 1..=20: mean 10.5, sample variance n(n+1)/12 = 35.
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        let (mean, sd) = establish_target(&values).unwrap();
        close(mean, 10.5, 1e-12);
        close(sd, 35.0f64.sqrt(), 1e-12);
    }

    #[test]
    fn establish_target_refuses_zero_sd_too_few_and_non_finite() {
        assert_eq!(establish_target(&[4.1; 20]), Err(StatsError::ZeroSd));
        assert_eq!(establish_target(&[4.1]), Err(StatsError::TooFew { n: 1 }));
        assert_eq!(establish_target(&[]), Err(StatsError::TooFew { n: 0 }));
        assert_eq!(
            establish_target(&[4.1, f64::NAN, 4.2]),
            Err(StatsError::NotFinite)
        );
        assert_eq!(ESTABLISH_N_DEFAULT, 20);
        assert!(ESTABLISH_N_RANGE.contains(&10) && ESTABLISH_N_RANGE.contains(&100));
        assert!(!ESTABLISH_N_RANGE.contains(&9) && !ESTABLISH_N_RANGE.contains(&101));
    }

    /// Ten potassium level-1 values, target mean 4.00 mmol/L.
    const TEN: [f64; 10] = [4.0, 4.2, 3.9, 4.1, 4.3, 3.8, 4.0, 4.1, 4.2, 3.9];

    #[test]
    fn ten_values_give_the_hand_worked_mean_sd_cv_bias_and_sigma() {
        // Sum 40.5, mean 4.05. Deviations ±0.05 (×4), ±0.15 (×4), ±0.25
        // (×2): squares 0.01 + 0.09 + 0.125 = 0.225; variance 0.225 / 9 =
        // 0.025; SD 0.158114. CV 0.158114 / 4.05 = 3.9040 %. Bias
        // (4.05 − 4.00) / 4.00 = 1.25 %. Sigma at TEa 10 %: 8.75 / 3.9040 =
        // 2.2413.
        let values: Vec<(f64, Option<f64>)> = TEN.iter().map(|v| (*v, Some(4.0))).collect();
        let stats = summarise(&values, Some(10.0)).unwrap().unwrap();
        assert_eq!(stats.n, 10);
        close(stats.mean, 4.05, 1e-12);
        close(*stats.sd.as_ref().unwrap(), 0.025_f64.sqrt(), 1e-12);
        close(stats.cv_percent.unwrap(), 3.904_046, 1e-5);
        close(stats.bias_percent.unwrap(), 1.25, 1e-9);
        close(stats.sigma.unwrap(), 2.241_264, 1e-5);
    }

    #[test]
    fn one_value_has_a_mean_but_its_sd_is_refused_clearly() {
        let stats = summarise(&[(4.0, Some(4.0))], Some(10.0)).unwrap().unwrap();
        assert_eq!(stats.n, 1);
        assert_eq!(stats.sd, Err(StatsError::TooFew { n: 1 }));
        assert_eq!(
            stats.sd.unwrap_err().to_string(),
            "an SD needs at least 2 values, there is 1"
        );
        assert_eq!(stats.cv_percent, None);
        assert_eq!(stats.sigma, None);
        assert_eq!(
            Moments::default().sd().unwrap_err().to_string(),
            "an SD needs at least 2 values, there are 0"
        );
    }

    #[test]
    fn no_values_give_no_statistics_and_a_non_finite_value_is_refused() {
        assert_eq!(summarise(&[], None), Ok(None));
        assert_eq!(
            summarise(&[(f64::NAN, None)], None),
            Err(StatsError::NotFinite)
        );
    }

    #[test]
    fn welford_keeps_the_sd_of_large_close_values() {
        // 1e9 + {4, 7, 13, 16}: mean 1e9 + 10, deviations ±3, ±6,
        // variance (9 + 36 + 9 + 36) / 3 = 30. The naive sum of squares
        // loses this entirely in f64.
        let mut moments = Moments::default();
        for v in [4.0, 7.0, 13.0, 16.0] {
            moments.push(1e9 + v).unwrap();
        }
        close(moments.sd().unwrap(), 30_f64.sqrt(), 1e-6);
    }

    #[test]
    fn without_a_target_there_is_no_bias_nor_sigma() {
        let values: Vec<(f64, Option<f64>)> = TEN.iter().map(|v| (*v, None)).collect();
        let stats = summarise(&values, Some(10.0)).unwrap().unwrap();
        assert_eq!(stats.bias_percent, None);
        assert_eq!(stats.sigma, None);
        assert!(stats.cv_percent.is_some());
    }

    fn point(at: &str, instrument: &str, lot: &str, value: f64) -> StatPoint {
        StatPoint {
            at: at.parse().unwrap(),
            instrument: instrument.into(),
            level: 1,
            lot: lot.into(),
            value,
            target_mean: Some(4.0),
        }
    }

    #[test]
    fn groups_are_london_months_and_lots() {
        let points = vec![
            // 23:30 UTC on 31 March is 00:30 BST on 1 April.
            point("2026-03-31T23:30:00Z", "A", "L1", 4.0),
            point("2026-04-02T09:00:00Z", "A", "L1", 4.2),
            point("2026-04-03T09:00:00Z", "A", "L2", 3.0),
            point("2026-03-02T09:00:00Z", "A", "L1", 5.0),
            point("2026-03-03T09:00:00Z", "B", "L1", 7.0),
        ];
        let groups = by_month_and_lot(&points, None).unwrap();
        let keys: Vec<(String, String, usize)> = groups
            .iter()
            .map(|((month, _, lot), stats)| (month.to_string(), lot.clone(), stats.n))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("2026-03-01".into(), "L1".into(), 2),
                ("2026-04-01".into(), "L1".into(), 2),
                ("2026-04-01".into(), "L2".into(), 1),
            ]
        );
        close(groups[1].1.mean, 4.1, 1e-12);
        let compared = by_instrument_and_lot(&points, None).unwrap();
        let keys: Vec<(String, String, usize)> = compared
            .iter()
            .map(|((instrument, _, lot), stats)| (instrument.clone(), lot.clone(), stats.n))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("A".into(), "L1".into(), 3),
                ("A".into(), "L2".into(), 1),
                ("B".into(), "L1".into(), 1),
            ]
        );
    }
}
