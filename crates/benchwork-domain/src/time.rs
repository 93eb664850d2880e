//! Instants as Benchwork stores them.
//!
//! Every instant is UTC with microsecond precision: PostgreSQL keeps
//! microseconds and SQLite keeps whatever it is given, so values are truncated
//! to microseconds before they are stored, hashed or compared (hazard H14).

use jiff::Timestamp;

/// Truncates an instant to whole microseconds.
pub fn truncate_to_micros(at: Timestamp) -> Timestamp {
    let micros = at.as_microsecond();
    Timestamp::from_microsecond(micros).unwrap_or(at)
}

/// The instant `micros` microseconds after the Unix epoch, or `None` when it is
/// outside the range jiff can represent.
pub fn from_micros(micros: i64) -> Option<Timestamp> {
    Timestamp::from_microsecond(micros).ok()
}

/// Formats an instant for people in the United Kingdom: `25 Nov 2026 13:05`
/// in Europe/London time (GMT or BST as applies on that date).
pub fn display_london(at: Timestamp) -> String {
    match jiff::tz::TimeZone::get("Europe/London") {
        Ok(zone) => at.to_zoned(zone).strftime("%-d %b %Y %H:%M").to_string(),
        Err(_) => at.strftime("%-d %b %Y %H:%M UTC").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn london_display_follows_british_summer_time() {
        let winter: Timestamp = "2026-01-15T12:00:00Z".parse().unwrap();
        let summer: Timestamp = "2026-07-15T12:00:00Z".parse().unwrap();
        assert_eq!(display_london(winter), "15 Jan 2026 12:00");
        assert_eq!(display_london(summer), "15 Jul 2026 13:00");
    }

    #[test]
    fn truncation_drops_nanoseconds() {
        let at: Timestamp = "2026-01-15T12:00:00.123456789Z".parse().unwrap();
        assert_eq!(truncate_to_micros(at).subsec_nanosecond(), 123_456_000);
    }
}
