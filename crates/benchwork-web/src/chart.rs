//! The trend chart of the cumulative view: an SVG drawn on the server, no
//! JavaScript. Time runs along x in proportion to real time, with date
//! labels; the value runs up y with the unit. The reference interval is a
//! shaded band that follows the interval that applied to each result (it
//! can change with age); critical limits are dashed lines. Points are
//! marked by flag with a different shape (not only a different colour),
//! and results not yet authorised are drawn hollow. The chart is
//! `role="img"` with a `<title>` and a `<desc>` summarising it; the data
//! table beside it is the text alternative.
//!
//! Colours are presentation attributes, not `style`, so the content
//! security policy (`style-src 'self'`) allows them.

use benchwork_domain::result::display_number;
use benchwork_domain::time::display_london;
use jiff::Timestamp;

/// A (low, high) pair of limits, either of which may be absent.
type Limits = (Option<f64>, Option<f64>);

/// One result on the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    /// When analysed.
    pub at: Timestamp,
    /// The value.
    pub value: f64,
    /// Flag code (`N`, `L`, `H`, `LL`, `HH`), or `None` when unflagged.
    pub flag: Option<String>,
    /// Whether the result is authorised (released).
    pub authorised: bool,
    /// The reference interval that applied to this result.
    pub reference: Limits,
    /// The critical limits that applied to this result.
    pub critical: Limits,
}

/// What the chart shows.
#[derive(Debug, Clone)]
pub struct Trend<'a> {
    /// Investigation name, for the title.
    pub name: &'a str,
    /// Unit.
    pub unit: &'a str,
    /// Decimal places for values.
    pub decimal_places: u8,
    /// The points, in any order.
    pub points: &'a [TrendPoint],
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 340.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 80.0;
const PLOT_W: f64 = WIDTH - LEFT - RIGHT;
const PLOT_H: f64 = HEIGHT - TOP - BOTTOM;

const INK: &str = "#212b32";
const GREY: &str = "#768692";
const BAND: &str = "#c8e6c9";
const LINE: &str = "#005eb8";
const ABNORMAL: &str = "#d5281b";

/// Escapes text for SVG (XML) content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A "nice" step (1, 2 or 5 × 10ⁿ) giving about `target` ticks over
/// `span`.
fn nice_step(span: f64, target: f64) -> f64 {
    let raw = span / target;
    let magnitude = 10_f64.powf(raw.log10().floor());
    let residual = raw / magnitude;
    let nice = if residual <= 1.0 {
        1.0
    } else if residual <= 2.0 {
        2.0
    } else if residual <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// The y axis: a range widened to whole steps, and its ticks.
pub fn nice_axis(low: f64, high: f64) -> (f64, f64, Vec<f64>) {
    let (low, high) = if (high - low).abs() < f64::EPSILON * low.abs().max(1.0) {
        // Equal values: a span of 10 % of the value (or 1 around zero).
        let half = (low.abs() * 0.1).max(0.5);
        (low - half, high + half)
    } else {
        (low, high)
    };
    let step = nice_step(high - low, 5.0);
    let axis_low = (low / step).floor() * step;
    let axis_high = (high / step).ceil() * step;
    let n_steps = ((axis_high - axis_low) / step).round() as i64;
    let ticks = (0..=n_steps)
        .map(|idx| axis_low + step * idx as f64)
        .map(|tick| if tick.abs() < step * 1e-9 { 0.0 } else { tick })
        .collect();
    (axis_low, axis_high, ticks)
}

/// Decimal places that show every tick of a step distinctly.
fn tick_places(ticks: &[f64]) -> u8 {
    let step = match ticks {
        [first, second, ..] => second - first,
        _ => 1.0,
    };
    if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()).clamp(0.0, 6.0) as u8
    }
}

/// Date ticks: London midnights (or hours for a short span), at most
/// about seven, with their labels.
fn time_ticks(first: Timestamp, last: Timestamp) -> Vec<(Timestamp, String)> {
    const HOUR: i64 = 3_600;
    const DAY: i64 = 24 * HOUR;
    let span = last.as_second() - first.as_second();
    let zone = jiff::tz::TimeZone::get("Europe/London").unwrap_or(jiff::tz::TimeZone::UTC);
    let steps: [(jiff::Span, i64); 14] = [
        (jiff::Span::new().hours(1), HOUR),
        (jiff::Span::new().hours(3), 3 * HOUR),
        (jiff::Span::new().hours(6), 6 * HOUR),
        (jiff::Span::new().hours(12), 12 * HOUR),
        (jiff::Span::new().days(1), DAY),
        (jiff::Span::new().days(2), 2 * DAY),
        (jiff::Span::new().days(7), 7 * DAY),
        (jiff::Span::new().days(14), 14 * DAY),
        (jiff::Span::new().months(1), 30 * DAY),
        (jiff::Span::new().months(2), 61 * DAY),
        (jiff::Span::new().months(3), 91 * DAY),
        (jiff::Span::new().months(6), 182 * DAY),
        (jiff::Span::new().years(1), 365 * DAY),
        (jiff::Span::new().years(5), 5 * 365 * DAY),
    ];
    let (step, step_seconds) = steps
        .iter()
        .copied()
        .find(|(_, seconds)| span / seconds <= 6)
        .unwrap_or((jiff::Span::new().years(10), 3_650 * DAY));
    let by_hours = step_seconds < DAY;
    let start = first.to_zoned(zone.clone());
    let mut tick = if by_hours {
        match start.round(
            jiff::ZonedRound::new()
                .smallest(jiff::Unit::Hour)
                .mode(jiff::RoundMode::Floor),
        ) {
            Ok(tick) => tick,
            Err(_) => return Vec::new(),
        }
    } else {
        let day = match start.start_of_day() {
            Ok(day) => day,
            Err(_) => return Vec::new(),
        };
        if step_seconds >= 28 * DAY {
            // Months and years begin on the first of the month.
            day.first_of_month()
                .and_then(|month| month.start_of_day())
                .unwrap_or(day)
        } else {
            day
        }
    };
    let mut ticks = Vec::new();
    while tick.timestamp() <= last && ticks.len() < 40 {
        if tick.timestamp() >= first {
            let label = if by_hours {
                tick.strftime("%H:%M %-d %b").to_string()
            } else {
                tick.strftime("%-d %b %Y").to_string()
            };
            ticks.push((tick.timestamp(), label));
        }
        tick = match tick.checked_add(step) {
            Ok(next) => next,
            Err(_) => break,
        };
    }
    ticks
}

fn shape(x: f64, y: f64, size: f64, flag: Option<&str>, fill: &str, colour: &str) -> String {
    let s = size;
    let triangle = |up: bool, s: f64| {
        let (tip, base) = if up {
            (y - s, y + s * 0.8)
        } else {
            (y + s, y - s * 0.8)
        };
        format!(
            "<polygon points=\"{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\" fill=\"{fill}\" stroke=\"{colour}\" stroke-width=\"1.5\"/>",
            x,
            tip,
            x - s,
            base,
            x + s,
            base
        )
    };
    match flag {
        Some("H") => triangle(true, s),
        Some("L") => triangle(false, s),
        // Critical: a larger triangle with a bar across its tip.
        Some("HH") => format!(
            "{}<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/>",
            triangle(true, s * 1.3),
            x - s * 1.3,
            y - s * 1.3 - 2.0,
            x + s * 1.3,
            y - s * 1.3 - 2.0
        ),
        Some("LL") => format!(
            "{}<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/>",
            triangle(false, s * 1.3),
            x - s * 1.3,
            y + s * 1.3 + 2.0,
            x + s * 1.3,
            y + s * 1.3 + 2.0
        ),
        Some("N") => format!(
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{:.1}\" fill=\"{fill}\" stroke=\"{colour}\" stroke-width=\"1.5\"/>",
            s * 0.8
        ),
        // Unflagged (no interval applied): a square.
        _ => format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\" stroke=\"{colour}\" stroke-width=\"1.5\"/>",
            x - s * 0.7,
            y - s * 0.7,
            s * 1.4,
            s * 1.4
        ),
    }
}

fn flag_words(flag: Option<&str>) -> &'static str {
    match flag {
        Some("N") => "within the reference interval",
        Some("L") => "low (L)",
        Some("H") => "high (H)",
        Some("LL") => "critically low (LL)",
        Some("HH") => "critically high (HH)",
        _ => "not flagged",
    }
}

/// The SVG trend chart of `trend`, or `None` when it has no points.
pub fn trend_svg(trend: &Trend<'_>) -> Option<String> {
    let mut points: Vec<&TrendPoint> = trend
        .points
        .iter()
        .filter(|point| point.value.is_finite())
        .collect();
    points.sort_by_key(|point| point.at);
    let (first, last) = (points.first()?, points.last()?);
    let shown = |value: f64| display_number(value, trend.decimal_places);
    let unit = escape(trend.unit);

    // The y range: every value and every band limit; critical limits only
    // when they are near the data (otherwise they would flatten it), and
    // the description says so.
    let mut low = f64::INFINITY;
    let mut high = f64::NEG_INFINITY;
    for point in &points {
        for value in [Some(point.value), point.reference.0, point.reference.1]
            .into_iter()
            .flatten()
        {
            low = low.min(value);
            high = high.max(value);
        }
    }
    let span = (high - low).max(low.abs() * 0.1).max(f64::EPSILON);
    let mut critical_off_chart = Vec::new();
    for point in &points {
        for value in [point.critical.0, point.critical.1].into_iter().flatten() {
            if value >= low - span && value <= high + span {
                low = low.min(value);
                high = high.max(value);
            } else if !critical_off_chart.contains(&shown(value)) {
                critical_off_chart.push(shown(value));
            }
        }
    }
    let (axis_low, axis_high, y_ticks) = nice_axis(low, high);
    let y_of = |value: f64| TOP + PLOT_H * (1.0 - (value - axis_low) / (axis_high - axis_low));

    // The x range: real time, padded by a day when there is one point (or
    // all at one instant).
    let (t_first, t_last) = if last.at == first.at {
        let day = jiff::SignedDuration::from_hours(24);
        (
            first.at.checked_sub(day).unwrap_or(first.at),
            last.at.checked_add(day).unwrap_or(last.at),
        )
    } else {
        (first.at, last.at)
    };
    let t0 = t_first.as_microsecond() as f64;
    let t_span = (t_last.as_microsecond() as f64 - t0).max(1.0);
    let pad = if points.len() == 1 || last.at == first.at {
        0.0
    } else {
        PLOT_W * 0.03
    };
    let x_of = |at: Timestamp| {
        LEFT + pad + (PLOT_W - 2.0 * pad) * ((at.as_microsecond() as f64 - t0) / t_span)
    };

    let latest = last;
    let min = points.iter().map(|p| p.value).fold(f64::INFINITY, f64::min);
    let max = points
        .iter()
        .map(|p| p.value)
        .fold(f64::NEG_INFINITY, f64::max);
    let n_abnormal = points
        .iter()
        .filter(|p| matches!(p.flag.as_deref(), Some("L" | "H" | "LL" | "HH")))
        .count();
    let n_unauthorised = points.iter().filter(|p| !p.authorised).count();
    let title = format!("{} trend", trend.name);
    let mut desc = format!(
        "{} result{} from {} to {}, ranging from {} to {} {}; {} outside the reference interval; latest {} {} on {}, {}{}.",
        points.len(),
        if points.len() == 1 { "" } else { "s" },
        display_london(first.at),
        display_london(last.at),
        shown(min),
        shown(max),
        trend.unit,
        n_abnormal,
        shown(latest.value),
        trend.unit,
        display_london(latest.at),
        flag_words(latest.flag.as_deref()),
        if latest.authorised {
            ", authorised"
        } else {
            ", not yet authorised"
        },
    );
    if n_unauthorised > 0 {
        desc.push_str(&format!(
            " {n_unauthorised} not yet authorised, drawn hollow."
        ));
    }
    if !critical_off_chart.is_empty() {
        desc.push_str(&format!(
            " Critical limit {} {} is beyond the chart's range.",
            critical_off_chart.join(" and "),
            trend.unit
        ));
    }
    desc.push_str(" The table below lists every result.");

    let mut svg = String::with_capacity(4_096 + points.len() * 400);
    svg.push_str(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"bw-trend\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"100%\" role=\"img\" aria-labelledby=\"trend-title trend-desc\" font-family=\"Arial, sans-serif\" font-size=\"12\">\
         <title id=\"trend-title\">{}</title><desc id=\"trend-desc\">{}</desc>",
        escape(&title),
        escape(&desc)
    ));

    // The reference band: each result's interval shaded from halfway to
    // the previous result to halfway to the next; runs of the same
    // interval are one rectangle.
    let mut segments: Vec<(f64, f64, Limits)> = Vec::new();
    for (idx, point) in points.iter().enumerate() {
        let x = x_of(point.at);
        let from = if idx == 0 {
            LEFT
        } else {
            (x_of(points[idx - 1].at) + x) / 2.0
        };
        let to = match points.get(idx + 1) {
            Some(next) => (x + x_of(next.at)) / 2.0,
            None => LEFT + PLOT_W,
        };
        match segments.last_mut() {
            Some(segment) if segment.2 == point.reference => segment.1 = to,
            _ => segments.push((from, to, point.reference)),
        }
    }
    for (from, to, (band_low, band_high)) in &segments {
        if band_low.is_none() && band_high.is_none() {
            continue;
        }
        let y_top = band_high.map_or(TOP, y_of).clamp(TOP, TOP + PLOT_H);
        let y_bottom = band_low.map_or(TOP + PLOT_H, y_of).clamp(TOP, TOP + PLOT_H);
        svg.push_str(&format!(
            "<rect class=\"reference-band\" x=\"{from:.1}\" y=\"{y_top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{BAND}\" fill-opacity=\"0.7\"><title>Reference interval {} to {} {}</title></rect>",
            (to - from).max(0.5),
            (y_bottom - y_top).max(0.0),
            band_low.map(shown).unwrap_or_else(|| "no lower limit".into()),
            band_high.map(shown).unwrap_or_else(|| "no upper limit".into()),
            unit
        ));
    }

    // Axes, grid and labels.
    for tick in &y_ticks {
        let y = y_of(*tick);
        svg.push_str(&format!(
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{GREY}\" stroke-opacity=\"0.3\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{INK}\">{}</text>",
            LEFT + PLOT_W,
            LEFT - 6.0,
            y + 4.0,
            display_number(*tick, tick_places(&y_ticks))
        ));
    }
    svg.push_str(&format!(
        "<text x=\"14\" y=\"{:.1}\" transform=\"rotate(-90 14 {:.1})\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>",
        TOP + PLOT_H / 2.0,
        TOP + PLOT_H / 2.0,
        if unit.is_empty() { "Value".to_owned() } else { unit.clone() }
    ));
    for (at, label) in time_ticks(t_first, t_last) {
        let x = x_of(at);
        svg.push_str(&format!(
            "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"{GREY}\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>",
            TOP + PLOT_H,
            TOP + PLOT_H + 5.0,
            TOP + PLOT_H + 18.0,
            escape(&label)
        ));
    }
    svg.push_str(&format!(
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{PLOT_W}\" height=\"{PLOT_H}\" fill=\"none\" stroke=\"{GREY}\"/>"
    ));

    // Critical limits: dashed, following each result's limits like the band.
    for (pick, words) in [(0, "Critical low limit"), (1, "Critical high limit")] {
        let mut runs: Vec<(f64, f64, f64)> = Vec::new();
        for (idx, point) in points.iter().enumerate() {
            let limit = if pick == 0 {
                point.critical.0
            } else {
                point.critical.1
            };
            let Some(limit) = limit.filter(|limit| *limit >= axis_low && *limit <= axis_high)
            else {
                continue;
            };
            let x = x_of(point.at);
            let from = if idx == 0 {
                LEFT
            } else {
                (x_of(points[idx - 1].at) + x) / 2.0
            };
            let to = match points.get(idx + 1) {
                Some(next) => (x + x_of(next.at)) / 2.0,
                None => LEFT + PLOT_W,
            };
            match runs.last_mut() {
                Some(run) if run.2 == limit && (run.1 - from).abs() < 0.01 => run.1 = to,
                _ => runs.push((from, to, limit)),
            }
        }
        for (from, to, limit) in runs {
            let y = y_of(limit);
            svg.push_str(&format!(
                "<line class=\"critical-limit\" x1=\"{from:.1}\" y1=\"{y:.1}\" x2=\"{to:.1}\" y2=\"{y:.1}\" stroke=\"{ABNORMAL}\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"><title>{words} {} {unit}</title></line>",
                shown(limit)
            ));
        }
    }

    // The line through the results, then the points.
    let path: Vec<String> = points
        .iter()
        .map(|point| format!("{:.1},{:.1}", x_of(point.at), y_of(point.value)))
        .collect();
    if points.len() > 1 {
        svg.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{LINE}\" stroke-width=\"1.5\"/>",
            path.join(" ")
        ));
    }
    let size = if points.len() > 100 { 3.5 } else { 5.5 };
    for point in &points {
        let flag = point.flag.as_deref();
        let colour = if matches!(flag, Some("L" | "H" | "LL" | "HH")) {
            ABNORMAL
        } else {
            LINE
        };
        let fill = if point.authorised { colour } else { "#ffffff" };
        svg.push_str(&format!(
            "<g class=\"point\" data-flag=\"{}\"><title>{}: {} {} {}, {}</title>{}</g>",
            flag.unwrap_or(""),
            display_london(point.at),
            shown(point.value),
            unit,
            flag_words(flag),
            if point.authorised {
                "authorised"
            } else {
                "not yet authorised"
            },
            shape(x_of(point.at), y_of(point.value), size, flag, fill, colour)
        ));
    }

    // The legend, below the date labels.
    let legend_y = HEIGHT - 22.0;
    let items: [(Option<&str>, &str); 6] = [
        (Some("N"), "Normal"),
        (Some("L"), "Low"),
        (Some("H"), "High"),
        (Some("LL"), "Critically low"),
        (Some("HH"), "Critically high"),
        (None, "Not flagged"),
    ];
    svg.push_str("<g class=\"legend\">");
    let mut x = LEFT;
    for (flag, label) in items {
        let colour = if flag.is_some_and(|flag| flag != "N") {
            ABNORMAL
        } else {
            LINE
        };
        svg.push_str(&shape(x + 6.0, legend_y - 4.0, 5.0, flag, colour, colour));
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{legend_y:.1}\" fill=\"{INK}\">{label}</text>",
            x + 16.0
        ));
        x += 22.0 + 7.0 * label.len() as f64;
    }
    svg.push_str(&format!(
        "<rect x=\"{LEFT}\" y=\"{:.1}\" width=\"14\" height=\"10\" fill=\"{BAND}\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"{INK}\">Reference interval applied</text>\
         <circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4.4\" fill=\"#ffffff\" stroke=\"{LINE}\" stroke-width=\"1.5\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"{INK}\">Hollow: not yet authorised</text>\
         <line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{ABNORMAL}\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"{INK}\">Critical limit</text>",
        legend_y + 6.0,
        LEFT + 20.0,
        legend_y + 15.0,
        LEFT + 226.0,
        legend_y + 11.0,
        LEFT + 236.0,
        legend_y + 15.0,
        LEFT + 420.0,
        legend_y + 11.0,
        LEFT + 450.0,
        legend_y + 11.0,
        LEFT + 456.0,
        legend_y + 15.0
    ));
    svg.push_str("</g></svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(day: i64, value: f64, flag: &str, authorised: bool) -> TrendPoint {
        let at: Timestamp = "2026-01-01T09:00:00Z".parse().unwrap();
        TrendPoint {
            at: at
                .checked_add(jiff::SignedDuration::from_hours(24 * day))
                .unwrap(),
            value,
            flag: if flag.is_empty() {
                None
            } else {
                Some(flag.into())
            },
            authorised,
            reference: (Some(3.5), Some(5.3)),
            critical: (Some(2.5), Some(6.5)),
        }
    }

    fn chart(points: &[TrendPoint]) -> String {
        trend_svg(&Trend {
            name: "Potassium",
            unit: "mmol/L",
            decimal_places: 1,
            points,
        })
        .unwrap()
    }

    fn count(svg: &str, needle: &str) -> usize {
        svg.matches(needle).count()
    }

    #[test]
    fn nice_axis_ticks_are_round_numbers_covering_the_range() {
        let (low, high, ticks) = nice_axis(3.2, 5.9);
        assert_eq!((low, high), (3.0, 6.0));
        assert_eq!(ticks, vec![3.0, 4.0, 5.0, 6.0]);
        let (_, _, ticks) = nice_axis(3.4, 4.6);
        let expected = [3.0, 3.5, 4.0, 4.5, 5.0];
        assert_eq!(ticks.len(), expected.len());
        for (tick, expected) in ticks.iter().zip(expected) {
            assert!((tick - expected).abs() < 1e-9, "{tick} {expected}");
        }
        let (low, high, ticks) = nice_axis(12.0, 387.0);
        assert_eq!((low, high), (0.0, 400.0));
        assert_eq!(ticks.len(), 5);
    }

    #[test]
    fn equal_values_get_a_range_around_them() {
        let (low, high, ticks) = nice_axis(4.0, 4.0);
        assert!(low < 4.0 && high > 4.0, "{low} {high}");
        assert!(ticks.len() >= 2);
        let svg = chart(&[point(0, 4.0, "N", true), point(3, 4.0, "N", true)]);
        assert_eq!(count(&svg, "class=\"point\""), 2);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn no_points_means_no_chart() {
        assert!(
            trend_svg(&Trend {
                name: "Potassium",
                unit: "mmol/L",
                decimal_places: 1,
                points: &[]
            })
            .is_none()
        );
    }

    #[test]
    fn one_point_is_drawn_with_its_band_and_an_accessible_summary() {
        let svg = chart(&[point(0, 4.1, "N", true)]);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<title id=\"trend-title\">Potassium trend</title>"));
        assert!(svg.contains("1 result from 1 Jan 2026 09:00 to 1 Jan 2026 09:00"));
        assert!(svg.contains("latest 4.1 mmol/L"));
        assert_eq!(count(&svg, "class=\"point\""), 1);
        assert_eq!(count(&svg, "class=\"reference-band\""), 1);
        assert!(!svg.contains("<polyline"), "no line for a single point");
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn flags_are_shown_by_shape_not_only_colour() {
        let svg = chart(&[
            point(0, 4.1, "N", true),
            point(1, 3.1, "L", true),
            point(2, 5.8, "H", true),
            point(3, 2.2, "LL", true),
            point(4, 7.1, "HH", true),
        ]);
        let marks: Vec<&str> = svg
            .split("<g class=\"point\"")
            .skip(1)
            .map(|part| part.split("</g>").next().unwrap())
            .collect();
        assert_eq!(marks.len(), 5);
        assert!(marks[0].contains("<circle"));
        assert!(marks[1].contains("<polygon") && !marks[1].contains("<line"));
        assert!(marks[2].contains("<polygon") && !marks[2].contains("<line"));
        assert!(marks[3].contains("<polygon") && marks[3].contains("<line"));
        assert!(marks[4].contains("<polygon") && marks[4].contains("<line"));
        // A low triangle points down, a high one up: different vertices.
        assert_ne!(
            marks[1].split("points=").nth(1),
            marks[2].split("points=").nth(1)
        );
        assert!(svg.contains("4 outside the reference interval"));
    }

    #[test]
    fn values_outside_the_band_widen_the_axis_and_critical_limits_are_dashed() {
        let svg = chart(&[point(0, 7.4, "HH", true), point(10, 1.9, "LL", true)]);
        assert_eq!(count(&svg, "class=\"critical-limit\""), 2);
        assert!(svg.contains("stroke-dasharray"));
        // Both points inside the plot area.
        for mark in svg.split("<g class=\"point\"").skip(1) {
            let y: f64 = mark
                .split("points=\"")
                .nth(1)
                .unwrap()
                .split([',', ' '])
                .nth(1)
                .unwrap()
                .parse()
                .unwrap();
            assert!((TOP - 10.0..=TOP + PLOT_H + 10.0).contains(&y), "{y}");
        }
    }

    #[test]
    fn the_band_follows_the_interval_that_applied_to_each_result() {
        let mut child = point(0, 4.0, "N", true);
        child.reference = (Some(3.4), Some(4.7));
        let adult = point(400, 4.0, "N", true);
        let svg = chart(&[child, adult.clone(), point(500, 4.2, "N", true)]);
        assert_eq!(
            count(&svg, "class=\"reference-band\""),
            2,
            "two intervals, two runs"
        );
        assert!(svg.contains("Reference interval 3.4 to 4.7 mmol/L"));
        assert!(svg.contains("Reference interval 3.5 to 5.3 mmol/L"));
    }

    #[test]
    fn unauthorised_results_are_hollow_and_said_so() {
        let svg = chart(&[point(0, 4.1, "N", true), point(1, 4.3, "N", false)]);
        let marks: Vec<&str> = svg.split("<g class=\"point\"").skip(1).collect();
        assert!(!marks[0].contains("fill=\"#ffffff\""));
        assert!(marks[1].contains("fill=\"#ffffff\""));
        assert!(svg.contains("1 not yet authorised, drawn hollow"));
        assert!(svg.contains("not yet authorised</title>"));
    }

    #[test]
    fn time_is_proportional_to_real_time() {
        let svg = chart(&[
            point(0, 4.0, "N", true),
            point(1, 4.1, "N", true),
            point(10, 4.2, "N", true),
        ]);
        let xs: Vec<f64> = svg
            .split("<g class=\"point\"")
            .skip(1)
            .map(|mark| {
                mark.split("cx=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        let first_gap = xs[1] - xs[0];
        let second_gap = xs[2] - xs[1];
        assert!(
            (second_gap / first_gap - 9.0).abs() < 0.1,
            "{first_gap} {second_gap}"
        );
        assert!(svg.contains("Jan 2026"), "date labels");
    }

    #[test]
    fn hundreds_of_points_stay_small_and_valid() {
        let points: Vec<TrendPoint> = (0..600)
            .map(|idx| point(idx, 3.0 + (idx % 30) as f64 / 10.0, "N", idx % 2 == 0))
            .collect();
        let svg = chart(&points);
        assert_eq!(count(&svg, "class=\"point\""), 600);
        assert_eq!(count(&svg, "class=\"reference-band\""), 1, "one run");
        assert!(svg.len() < 600 * 400, "{} bytes", svg.len());
        assert!(
            count(&svg, "text-anchor=\"middle\" fill") <= 9,
            "few date labels"
        );
    }

    #[test]
    fn text_is_escaped() {
        let svg = trend_svg(&Trend {
            name: "A<b>&\"c\"",
            unit: "10*9/L",
            decimal_places: 0,
            points: &[point(0, 4.0, "", true)],
        })
        .unwrap();
        assert!(svg.contains("A&lt;b&gt;&amp;&quot;c&quot; trend"));
        assert!(!svg.contains("<b>"));
    }
}
