//! The Levey–Jennings chart (issue 4 item 4): an SVG drawn on the server, no
//! JavaScript. Runs go along x in time order, one slot each, with date
//! labels; y is the distance from the target in SDs, from −4 to +4, so that
//! the lines stay straight when the target changes. Each stretch of one lot
//! and one target has its own mean and ±1/2/3 SD lines, labelled with their
//! values on the left (first stretch) or at the stretch's start, and with
//! their z on the right. A lot or target change, a rejected run and a
//! corrective action are vertical lines with a label. Points of rejected runs
//! are squares with a cross, of warning runs triangles, of accepted runs
//! circles, and each point a rule fired on carries the rule code as text, so
//! that nothing is told by colour alone. A value beyond ±4 SD is clipped to
//! the edge with an arrow and its z in text. Values without an established
//! target are not plotted (they are in the table).
//!
//! The chart is `role="img"` with a `<title>` and a `<desc>` summarising it
//! (n, date range, rejected runs, warnings, rules fired, lot changes); the
//! data table beside it is the text alternative. Colours are presentation
//! attributes, not `style`, as the content security policy asks.

use std::collections::BTreeMap;
use std::fmt::Write;

use benchwork_app::qc_charts::QcChart;
use benchwork_domain::result::display_number;
use benchwork_domain::time::display_london;

use crate::chart::escape;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 400.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 60.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 80.0;
const PLOT_W: f64 = WIDTH - LEFT - RIGHT;
const PLOT_H: f64 = HEIGHT - TOP - BOTTOM;
/// The y axis spans ±this many SDs; beyond it points are clipped.
const Z_LIMIT: f64 = 4.0;
/// At most this many date labels along x.
const MAX_DATE_LABELS: usize = 8;

const INK: &str = "#212b32";
const GREY: &str = "#768692";
const BLUE: &str = "#005eb8";
const RED: &str = "#d5281b";
const AMBER: &str = "#ffb81c";
const GREEN: &str = "#007f3b";

fn y_of(z: f64) -> f64 {
    TOP + (Z_LIMIT - z.clamp(-Z_LIMIT, Z_LIMIT)) / (2.0 * Z_LIMIT) * PLOT_H
}

fn slot(n: usize) -> f64 {
    PLOT_W / n.max(1) as f64
}

fn x_of(index: usize, n: usize) -> f64 {
    LEFT + (index as f64 + 0.5) * slot(n)
}

fn number(value: f64) -> String {
    // Three significant decimals are enough for QC targets; trailing
    // zeros are kept so the lines read alike.
    display_number(value, 3)
}

fn signed(z: f64) -> String {
    if z > 0.0 {
        format!("+{z:.1}")
    } else if z < 0.0 {
        format!("−{:.1}", -z)
    } else {
        "0.0".into()
    }
}

/// What the chart shows, for the `<desc>` and the page: one sentence.
pub fn summary(chart: &QcChart) -> String {
    let n = chart.points.len();
    let plotted = chart
        .points
        .iter()
        .filter(|point| point.z.is_some())
        .count();
    let rejected = chart
        .points
        .iter()
        .filter(|point| point.decision == "rejected")
        .count();
    let warnings = chart
        .points
        .iter()
        .filter(|point| point.decision == "warning")
        .count();
    let mut fired: BTreeMap<&str, usize> = BTreeMap::new();
    for point in &chart.points {
        for rule in &point.rules {
            *fired.entry(rule.as_str()).or_default() += 1;
        }
    }
    let lot_changes = chart
        .segments
        .windows(2)
        .filter(|pair| pair[0].lot != pair[1].lot)
        .count();
    let range = match (chart.points.first(), chart.points.last()) {
        (Some(first), Some(last)) => format!(
            " from {} to {}",
            display_london(first.at),
            display_london(last.at)
        ),
        _ => String::new(),
    };
    let mut text = format!(
        "Levey–Jennings chart of {} ({}), level {}, on {}: {} value{}{range}",
        chart.investigation_name,
        chart.investigation_code,
        chart.level,
        chart.instrument.name,
        n,
        if n == 1 { "" } else { "s" },
    );
    if plotted < n {
        let _ = write!(
            text,
            " ({} without an established target, not plotted)",
            n - plotted
        );
    }
    let _ = write!(
        text,
        "; {rejected} rejected run{}, {warnings} warning{}",
        if rejected == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" }
    );
    if fired.is_empty() {
        text.push_str("; no rule fired on this level");
    } else {
        let rules: Vec<String> = fired
            .iter()
            .map(|(rule, count)| {
                format!(
                    "{rule} on {count} value{}",
                    if *count == 1 { "" } else { "s" }
                )
            })
            .collect();
        let _ = write!(text, "; rules fired: {}", rules.join(", "));
    }
    let _ = write!(
        text,
        "; {lot_changes} lot change{}.",
        if lot_changes == 1 { "" } else { "s" }
    );
    text
}

/// The chart as SVG text.
pub fn levey_jennings_svg(chart: &QcChart) -> String {
    let n = chart.points.len();
    let mut svg = String::new();
    let title = format!(
        "Levey–Jennings chart: {} ({}), level {}, {}",
        chart.investigation_name, chart.investigation_code, chart.level, chart.instrument.name
    );
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" id="lj-chart" role="img" aria-labelledby="lj-title lj-desc" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" font-family="Arial, sans-serif" font-size="11"><title id="lj-title">{}</title><desc id="lj-desc">{}</desc>"#,
        escape(&title),
        escape(&summary(chart))
    );
    let _ = write!(
        svg,
        r#"<rect x="{LEFT}" y="{TOP}" width="{PLOT_W}" height="{PLOT_H}" fill="white" stroke="{GREY}"/>"#
    );
    // Right-hand z labels, the same for every stretch.
    for z in [-3_i32, -2, -1, 0, 1, 2, 3] {
        let label = match z {
            0 => "mean".to_owned(),
            z if z > 0 => format!("+{z} SD"),
            z => format!("−{} SD", -z),
        };
        let _ = write!(
            svg,
            r#"<text class="lj-z-label" x="{:.1}" y="{:.1}" fill="{INK}">{label}</text>"#,
            LEFT + PLOT_W + 6.0,
            y_of(f64::from(z)) + 4.0
        );
    }
    if n == 0 {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="{INK}">No QC values in this range</text></svg>"#,
            LEFT + PLOT_W / 2.0,
            TOP + PLOT_H / 2.0
        );
        return svg;
    }
    let half = slot(n) / 2.0;
    // Target lines per stretch of one lot and target.
    for (index, segment) in chart.segments.iter().enumerate() {
        let x1 = x_of(segment.first, n) - half;
        let x2 = x_of(segment.last, n) + half;
        let Some((mean, sd)) = segment.target else {
            continue;
        };
        let _ = write!(
            svg,
            r#"<g class="lj-target" data-lot="{}">"#,
            escape(&segment.lot)
        );
        for k in [-3_i32, -2, -1, 0, 1, 2, 3] {
            let y = y_of(f64::from(k));
            let (colour, dash) = match k.abs() {
                0 => (GREEN, ""),
                1 => (GREY, r#" stroke-dasharray="2 3""#),
                2 => (AMBER, r#" stroke-dasharray="6 3""#),
                _ => (RED, ""),
            };
            let value = mean + f64::from(k) * sd;
            let _ = write!(
                svg,
                r#"<line class="lj-sd-line" data-sd="{k}" x1="{x1:.1}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="{colour}"{dash}><title>{} {}</title></line>"#,
                match k {
                    0 => "mean".to_owned(),
                    k if k > 0 => format!("+{k} SD"),
                    k => format!("−{} SD", -k),
                },
                number(value)
            );
            if index == 0 {
                let _ = write!(
                    svg,
                    r#"<text class="lj-value-label" x="{:.1}" y="{:.1}" text-anchor="end" fill="{INK}">{}</text>"#,
                    LEFT - 6.0,
                    y + 4.0,
                    number(value)
                );
            }
        }
        svg.push_str("</g>");
        if let Some(n) = segment.establishing {
            let _ = write!(
                svg,
                r#"<text class="lj-annotation lj-establishing" x="{:.1}" y="{:.1}" fill="{BLUE}">Lot {}: target being established (running mean {}, SD {} of {n} values so far)</text>"#,
                x1 + 3.0,
                TOP + PLOT_H - 6.0,
                escape(&segment.lot),
                number(mean),
                number(sd)
            );
        }
        if index > 0 {
            let previous = &chart.segments[index - 1];
            let what = if previous.lot != segment.lot {
                format!("Lot {}", segment.lot)
            } else {
                "Target changed".to_owned()
            };
            let _ = write!(
                svg,
                r#"<g class="lj-annotation lj-lot-change"><line x1="{x1:.1}" y1="{TOP}" x2="{x1:.1}" y2="{:.1}" stroke="{BLUE}" stroke-dasharray="4 2"/><text x="{:.1}" y="{:.1}" fill="{BLUE}">{}: mean {}, SD {}</text></g>"#,
                TOP + PLOT_H,
                x1 + 3.0,
                TOP - 6.0 - 12.0 * (index % 2) as f64,
                escape(&what),
                number(mean),
                number(sd)
            );
        }
    }
    // Rejected runs and corrective actions.
    for (index, point) in chart.points.iter().enumerate() {
        if point.decision == "rejected" {
            let x = x_of(index, n);
            let _ = write!(
                svg,
                r#"<g class="lj-annotation lj-rejected"><line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="{RED}" stroke-width="0.5" stroke-dasharray="1 2"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="{RED}">rejected</text></g>"#,
                TOP + PLOT_H,
                x - 3.0,
                TOP + PLOT_H - 4.0
            );
        }
    }
    for action in &chart.corrective {
        // Between the last run before the action and the first after it.
        let after = chart
            .points
            .iter()
            .position(|point| point.at >= action.at)
            .unwrap_or(n);
        let x = LEFT + after as f64 * slot(n);
        let _ = write!(
            svg,
            r#"<g class="lj-annotation lj-corrective"><line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="{INK}" stroke-dasharray="3 3"/><text x="{:.1}" y="{:.1}" fill="{INK}">Corrective action: {}</text><title>{} {}</title></g>"#,
            TOP + PLOT_H,
            x + 3.0,
            TOP + 14.0,
            escape(&action.kind),
            display_london(action.at),
            escape(&action.action)
        );
    }
    // Date labels: at most MAX_DATE_LABELS, evenly spread.
    let step = n.div_ceil(MAX_DATE_LABELS).max(1);
    for index in (0..n).step_by(step) {
        let x = x_of(index, n);
        let y = TOP + PLOT_H + 14.0;
        let date = chart.points[index]
            .at
            .to_zoned(jiff::tz::TimeZone::get("Europe/London").unwrap_or(jiff::tz::TimeZone::UTC))
            .strftime("%-d %b %Y")
            .to_string();
        let _ = write!(
            svg,
            r#"<text class="lj-date" x="{x:.1}" y="{y:.1}" text-anchor="end" transform="rotate(-40 {x:.1} {y:.1})" fill="{INK}">{date}</text>"#
        );
    }
    // Points, with a line through the plotted ones.
    let path: Vec<String> = chart
        .points
        .iter()
        .enumerate()
        .filter_map(|(index, point)| {
            point
                .z
                .map(|z| format!("{:.1},{:.1}", x_of(index, n), y_of(z)))
        })
        .collect();
    if path.len() > 1 {
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{GREY}" stroke-width="0.75"/>"#,
            path.join(" ")
        );
    }
    let radius = (slot(n) / 3.0).clamp(1.5, 4.0);
    for (index, point) in chart.points.iter().enumerate() {
        let Some(z) = point.z else {
            continue;
        };
        let x = x_of(index, n);
        let y = y_of(z);
        let clipped = z.abs() > Z_LIMIT;
        let mut label = format!(
            "{}: {} (z {}), lot {}, run {}",
            display_london(point.at),
            number(point.value),
            signed(z),
            point.lot,
            point.decision
        );
        if !point.rules.is_empty() {
            let _ = write!(label, ", rules: {}", point.rules.join(", "));
        }
        let _ = write!(
            svg,
            r#"<g class="lj-point lj-{}" data-run="{}"><title>{}</title>"#,
            escape(&point.decision),
            point.run_id,
            escape(&label)
        );
        match point.decision.as_str() {
            "rejected" => {
                let r = radius + 1.0;
                let _ = write!(
                    svg,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="white" stroke="{RED}" stroke-width="1.5"/><path d="M{:.1},{:.1}L{:.1},{:.1}M{:.1},{:.1}L{:.1},{:.1}" stroke="{RED}" stroke-width="1.5"/>"#,
                    x - r,
                    y - r,
                    2.0 * r,
                    2.0 * r,
                    x - r,
                    y - r,
                    x + r,
                    y + r,
                    x - r,
                    y + r,
                    x + r,
                    y - r
                );
            }
            "warning" => {
                let r = radius + 1.0;
                let _ = write!(
                    svg,
                    r#"<path d="M{x:.1},{:.1}L{:.1},{:.1}L{:.1},{:.1}Z" fill="{AMBER}" stroke="{INK}"/>"#,
                    y - r,
                    x + r,
                    y + r,
                    x - r,
                    y + r
                );
            }
            _ => {
                let _ = write!(
                    svg,
                    r#"<circle cx="{x:.1}" cy="{y:.1}" r="{radius:.1}" fill="{BLUE}"/>"#
                );
            }
        }
        if clipped {
            let (tip, base, text_y) = if z > 0.0 {
                (TOP + 1.0, TOP + 9.0, TOP + 20.0)
            } else {
                (TOP + PLOT_H - 1.0, TOP + PLOT_H - 9.0, TOP + PLOT_H - 12.0)
            };
            let _ = write!(
                svg,
                r#"<path class="lj-clipped" d="M{x:.1},{tip:.1}L{:.1},{base:.1}L{:.1},{base:.1}Z" fill="{RED}"/><text x="{:.1}" y="{text_y:.1}" fill="{RED}">z {}</text>"#,
                x + 5.0,
                x - 5.0,
                x + 6.0,
                signed(z)
            );
        }
        if !point.rules.is_empty() {
            // Above a high value, below a low one; above a value near the
            // bottom edge, clear of the "rejected" label and the clip marker.
            let above = if z < -Z_LIMIT {
                -radius - 16.0
            } else if !(-3.0..0.0).contains(&z) {
                -radius - 5.0
            } else {
                radius + 13.0
            };
            let text_y = (y + above).clamp(TOP + 10.0, TOP + PLOT_H - 2.0);
            let _ = write!(
                svg,
                r#"<text class="lj-rule" x="{x:.1}" y="{text_y:.1}" text-anchor="middle" font-weight="bold" fill="{INK}">{}</text>"#,
                escape(&point.rules.join(" "))
            );
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use benchwork_app::qc_charts::{ChartPoint, Segment};
    use benchwork_domain::ids::DepartmentId;
    use benchwork_domain::result::InstrumentId;
    use benchwork_store::{InstrumentRecord, QcCorrectiveRecord};
    use jiff::Timestamp;
    use uuid::Uuid;

    fn point(day: i64, lot: &str, z: f64, decision: &str, rules: &[&str]) -> ChartPoint {
        ChartPoint {
            run_id: Uuid::now_v7(),
            at: Timestamp::from_second(1_790_000_000 + day * 86_400).unwrap(),
            decision: decision.into(),
            lot: lot.into(),
            lot_id: Uuid::nil(),
            value: 4.0 + z * 0.1,
            z: Some(z),
            target: Some((4.0, 0.1)),
            rules: rules.iter().map(|rule| (*rule).to_owned()).collect(),
        }
    }

    fn chart_of(points: Vec<ChartPoint>) -> QcChart {
        let mut segments: Vec<Segment> = Vec::new();
        for (index, point) in points.iter().enumerate() {
            match segments.last_mut() {
                Some(segment) if segment.lot == point.lot => segment.last = index,
                _ => segments.push(Segment {
                    first: index,
                    last: index,
                    lot: point.lot.clone(),
                    target: point.target,
                    establishing: None,
                }),
            }
        }
        QcChart {
            instrument: InstrumentRecord {
                id: InstrumentId(Uuid::now_v7()),
                department_id: DepartmentId(Uuid::now_v7()),
                name: "Cobas <A>".into(),
                discipline: "blood-sciences".into(),
                location: "Lab".into(),
            },
            investigation_code: "K".into(),
            investigation_name: "Potassium".into(),
            level: 1,
            from: jiff::civil::date(2026, 9, 1),
            to: jiff::civil::date(2026, 11, 25),
            lot: None,
            points,
            parallel: Vec::new(),
            segments,
            violations: Vec::new(),
            corrective: Vec::new(),
        }
    }

    fn count(svg: &str, needle: &str) -> usize {
        svg.matches(needle).count()
    }

    #[test]
    fn one_point_draws_its_target_lines_title_and_summary() {
        let svg = levey_jennings_svg(&chart_of(vec![point(0, "L1", 0.5, "accepted", &[])]));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("<title id=\"lj-title\">Levey–Jennings chart: Potassium (K), level 1, Cobas &lt;A&gt;</title>"));
        assert!(svg.contains("1 value from"));
        assert_eq!(count(&svg, "class=\"lj-point "), 1);
        assert_eq!(count(&svg, "class=\"lj-sd-line\""), 7);
        assert!(svg.contains(">4.300<"), "the +3 SD value is labelled");
        assert!(
            svg.contains(">+2 SD<") && svg.contains(">−3 SD<"),
            "z labels on the right"
        );
        assert!(!svg.contains("<polyline"), "no line through a single point");
    }

    #[test]
    fn rejected_and_warning_runs_are_shapes_and_text_with_their_rule_codes() {
        let svg = levey_jennings_svg(&chart_of(vec![
            point(0, "L1", 0.2, "accepted", &[]),
            point(1, "L1", 2.4, "warning", &["1-2s"]),
            point(2, "L1", 3.4, "rejected", &["1-2s", "1-3s"]),
        ]));
        assert_eq!(count(&svg, "class=\"lj-point lj-rejected\""), 1);
        assert_eq!(count(&svg, "class=\"lj-point lj-warning\""), 1);
        assert!(svg.contains(">1-2s 1-3s</text>"));
        assert!(
            svg.contains(">rejected</text>"),
            "the rejected run is annotated"
        );
        assert!(
            svg.contains(
                "1 rejected run, 1 warning; rules fired: 1-2s on 2 values, 1-3s on 1 value"
            )
        );
    }

    #[test]
    fn a_lot_change_starts_new_target_lines_with_an_annotation() {
        let mut points = vec![
            point(0, "L1", 0.1, "accepted", &[]),
            point(1, "L1", -0.3, "accepted", &[]),
        ];
        let mut next = point(2, "L2", 0.4, "accepted", &[]);
        next.target = Some((4.2, 0.12));
        points.push(next);
        let mut chart = chart_of(points);
        chart.segments[1].target = Some((4.2, 0.12));
        chart.corrective.push(QcCorrectiveRecord {
            at: chart.points[1].at,
            kind: "recalibration".into(),
            action: "recalibrated".into(),
        });
        let svg = levey_jennings_svg(&chart);
        assert_eq!(
            count(&svg, "class=\"lj-sd-line\""),
            14,
            "seven lines per lot"
        );
        assert!(svg.contains("Lot L2: mean 4.200, SD 0.120"));
        assert!(svg.contains("Corrective action: recalibration"));
        assert!(svg.contains("1 lot change."));
    }

    #[test]
    fn a_value_beyond_four_sd_is_clipped_with_a_marker() {
        let svg = levey_jennings_svg(&chart_of(vec![
            point(0, "L1", 0.0, "accepted", &[]),
            point(1, "L1", -6.2, "rejected", &["1-3s"]),
        ]));
        assert_eq!(count(&svg, "class=\"lj-clipped\""), 1);
        assert!(svg.contains(">z −6.2</text>"));
        // The rejected square sits on the bottom edge, not below the plot.
        let r = (slot(2) / 3.0).clamp(1.5, 4.0) + 1.0;
        assert!(svg.contains(&format!("y=\"{:.1}\"", TOP + PLOT_H - r)));
    }

    #[test]
    fn hundreds_of_points_keep_at_most_eight_date_labels() {
        let points = (0..500)
            .map(|day| point(day, "L1", ((day % 7) as f64 - 3.0) / 2.0, "accepted", &[]))
            .collect();
        let svg = levey_jennings_svg(&chart_of(points));
        assert_eq!(count(&svg, "class=\"lj-point "), 500);
        assert!(count(&svg, "class=\"lj-date\"") <= 8);
        assert!(svg.contains("500 values from"));
    }

    #[test]
    fn no_values_say_so() {
        let svg = levey_jennings_svg(&chart_of(Vec::new()));
        assert!(svg.contains("No QC values in this range"));
        assert!(svg.contains("0 values;"));
    }
}
