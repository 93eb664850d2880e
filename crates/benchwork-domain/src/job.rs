//! Background jobs: their states and how failures are retried.

use jiff::{SignedDuration, Timestamp};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting for its run time.
    Queued,
    /// Claimed by a runner that holds its lease.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Failed too many times; needs a person to look.
    Failed,
}

impl JobStatus {
    /// The stable code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<JobStatus> {
        Some(match code {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "succeeded" => JobStatus::Succeeded,
            "failed" => JobStatus::Failed,
            _ => return None,
        })
    }
}

/// How a failed job is retried: exponential back-off from `base_delay`,
/// capped at `max_delay`, until `max_attempts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts before the job is marked failed.
    pub max_attempts: u32,
    /// Delay before the second attempt.
    pub base_delay: SignedDuration,
    /// The longest delay between attempts.
    pub max_delay: SignedDuration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: SignedDuration::from_secs(10),
            max_delay: SignedDuration::from_mins(30),
        }
    }
}

impl RetryPolicy {
    /// When to try again after attempt number `attempts` (counting from 1)
    /// failed at `now`, or `None` when no attempts are left.
    pub fn next_attempt_at(&self, attempts: u32, now: Timestamp) -> Option<Timestamp> {
        if attempts >= self.max_attempts {
            return None;
        }
        let factor = 2_i32.saturating_pow(attempts.saturating_sub(1));
        let delay = self
            .base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        now.checked_add(delay).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_and_are_capped() {
        let policy = RetryPolicy::default();
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let delay = |n| {
            policy
                .next_attempt_at(n, now)
                .map(|t| t.duration_since(now).as_secs())
        };
        assert_eq!(delay(1), Some(10));
        assert_eq!(delay(2), Some(20));
        assert_eq!(delay(4), Some(80));
        assert_eq!(delay(5), None);
        let long = RetryPolicy {
            max_attempts: 100,
            ..policy
        };
        assert_eq!(
            long.next_attempt_at(40, now)
                .map(|t| t.duration_since(now).as_secs()),
            Some(1800)
        );
    }
}
