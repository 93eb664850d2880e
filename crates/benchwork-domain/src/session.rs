//! Sign-in sessions and sign-in throttling.

use jiff::{SignedDuration, Timestamp};

/// How long a session may live. Both limits are checked on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused for this long ends.
    pub idle_timeout: SignedDuration,
    /// A session ends this long after sign-in however active it is.
    pub absolute_timeout: SignedDuration,
}

impl Default for SessionPolicy {
    /// 30 minutes idle, 12 hours absolute: a shift, with a shared bench PC
    /// locking itself when left.
    fn default() -> Self {
        SessionPolicy {
            idle_timeout: SignedDuration::from_mins(30),
            absolute_timeout: SignedDuration::from_hours(12),
        }
    }
}

/// Why a session is no longer valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionExpiry {
    /// Unused for longer than the idle time-out.
    #[error("you were signed out because the session was not used for a while")]
    Idle,
    /// Older than the absolute time-out.
    #[error("you were signed out because the session reached its maximum length")]
    Absolute,
}

impl SessionPolicy {
    /// Whether a session created at `created_at` and last used at
    /// `last_seen_at` may still be used at `now`.
    pub fn check(
        &self,
        created_at: Timestamp,
        last_seen_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), SessionExpiry> {
        if now.duration_since(created_at) >= self.absolute_timeout {
            return Err(SessionExpiry::Absolute);
        }
        if now.duration_since(last_seen_at) >= self.idle_timeout {
            return Err(SessionExpiry::Idle);
        }
        Ok(())
    }
}

/// Throttling of repeated failed sign-ins, per username and per source
/// address, so that passwords cannot be guessed quickly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed within `window` before sign-in is refused.
    pub max_failures: u32,
    /// The window failures are counted in.
    pub window: SignedDuration,
    /// How long sign-in is refused after the limit is reached, counted from
    /// the last failure.
    pub lockout: SignedDuration,
}

impl Default for ThrottlePolicy {
    /// Five failures within 15 minutes lock sign-in for 15 minutes.
    fn default() -> Self {
        ThrottlePolicy {
            max_failures: 5,
            window: SignedDuration::from_mins(15),
            lockout: SignedDuration::from_mins(15),
        }
    }
}

impl ThrottlePolicy {
    /// The earliest instance from which counting starts.
    pub fn window_start(&self, now: Timestamp) -> Timestamp {
        now.checked_sub(self.window).unwrap_or(now)
    }

    /// Until when sign-in is refused, given the number of failures since
    /// [`ThrottlePolicy::window_start`] and the time of the latest of them.
    pub fn locked_until(
        &self,
        n_recent_failures: u32,
        latest_failure: Option<Timestamp>,
        now: Timestamp,
    ) -> Option<Timestamp> {
        if n_recent_failures < self.max_failures {
            return None;
        }
        let until = latest_failure?.checked_add(self.lockout).ok()?;
        (until > now).then_some(until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_session_used_recently_is_valid() {
        let policy = SessionPolicy::default();
        assert_eq!(
            policy.check(
                at("2026-01-01T08:00:00Z"),
                at("2026-01-01T10:00:00Z"),
                at("2026-01-01T10:29:59Z")
            ),
            Ok(())
        );
    }

    #[test]
    fn a_session_idle_for_thirty_minutes_ends() {
        let policy = SessionPolicy::default();
        assert_eq!(
            policy.check(
                at("2026-01-01T08:00:00Z"),
                at("2026-01-01T10:00:00Z"),
                at("2026-01-01T10:30:00Z")
            ),
            Err(SessionExpiry::Idle)
        );
    }

    #[test]
    fn a_busy_session_ends_after_twelve_hours() {
        let policy = SessionPolicy::default();
        assert_eq!(
            policy.check(
                at("2026-01-01T08:00:00Z"),
                at("2026-01-01T19:59:00Z"),
                at("2026-01-01T20:00:00Z")
            ),
            Err(SessionExpiry::Absolute)
        );
    }

    #[test]
    fn four_failures_do_not_lock() {
        let policy = ThrottlePolicy::default();
        let now = at("2026-01-01T10:00:00Z");
        assert_eq!(policy.locked_until(4, Some(now), now), None);
    }

    #[test]
    fn five_failures_lock_for_fifteen_minutes_from_the_last() {
        let policy = ThrottlePolicy::default();
        let last = at("2026-01-01T10:00:00Z");
        assert_eq!(
            policy.locked_until(5, Some(last), at("2026-01-01T10:05:00Z")),
            Some(at("2026-01-01T10:15:00Z"))
        );
        assert_eq!(
            policy.locked_until(5, Some(last), at("2026-01-01T10:15:00Z")),
            None
        );
    }
}
