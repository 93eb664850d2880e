//! The A4 PDF of a report. Layout is done here, in two passes: the first
//! places every block on pages (a table row never splits across pages), the
//! second draws the pages with a footer that knows the page count ("Page x
//! of y"). Text is drawn as text with an embedded, subset font, so it can be
//! searched, copied and read by a screen reader or a test.

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use skrifa::MetadataProvider;
use skrifa::instance::{LocationRef, Size};

use crate::{ReportDocument, ReportLine};

static REGULAR: &[u8] = include_bytes!("../fonts/LiberationSans-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/LiberationSans-Bold.ttf");

/// A4 in points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 42.0;
/// Where the body stops and the footer starts.
const BODY_BOTTOM: f32 = PAGE_HEIGHT - 64.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The embedded font could not be read (a broken build).
    #[error("the embedded font {0} cannot be read")]
    Font(&'static str),
    /// The PDF writer refused the document.
    #[error("writing the PDF failed: {0}")]
    Write(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Weight {
    Regular,
    Bold,
}

/// Glyph advances of one embedded font, for line breaking.
struct Metrics {
    font: skrifa::FontRef<'static>,
    units_per_em: f32,
}

impl Metrics {
    fn new(data: &'static [u8], name: &'static str) -> Result<Metrics, PdfError> {
        let font = skrifa::FontRef::new(data).map_err(|_| PdfError::Font(name))?;
        let units_per_em = f32::from(
            font.metrics(Size::unscaled(), LocationRef::default())
                .units_per_em,
        );
        if units_per_em <= 0.0 {
            return Err(PdfError::Font(name));
        }
        Ok(Metrics { font, units_per_em })
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        let charmap = self.font.charmap();
        let glyphs = self
            .font
            .glyph_metrics(Size::unscaled(), LocationRef::default());
        let units: f32 = text
            .chars()
            .map(|c| {
                glyphs
                    .advance_width(charmap.map(c).unwrap_or_default())
                    .unwrap_or(0.0)
            })
            .sum();
        units * size / self.units_per_em
    }
}

struct Fonts {
    regular: Metrics,
    bold: Metrics,
}

impl Fonts {
    fn metrics(&self, weight: Weight) -> &Metrics {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    /// Breaks `text` into lines no wider than `width`: at spaces, and
    /// inside a word only when the word alone is wider than the line.
    fn wrap(&self, text: &str, weight: Weight, size: f32, width: f32) -> Vec<String> {
        let metrics = self.metrics(weight);
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if metrics.width(&candidate, size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // The word alone: split it if it does not fit.
                for c in word.chars() {
                    let mut next = line.clone();
                    next.push(c);
                    if !line.is_empty() && metrics.width(&next, size) > width {
                        lines.push(std::mem::take(&mut line));
                        line.push(c);
                    } else {
                        line = next;
                    }
                }
            }
            lines.push(line);
        }
        lines
    }
}

/// Something to draw at a position on a page (y is the baseline for text,
/// measured down from the top).
#[derive(Debug, Clone)]
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        weight: Weight,
        red: bool,
        text: String,
    },
    Rule {
        y: f32,
        width: f32,
    },
}

/// The first pass: blocks placed on pages.
struct Layout<'a> {
    fonts: &'a Fonts,
    pages: Vec<Vec<Op>>,
    y: f32,
    continuation: String,
}

impl<'a> Layout<'a> {
    fn new(fonts: &'a Fonts, continuation: String) -> Layout<'a> {
        Layout {
            fonts,
            pages: vec![Vec::new()],
            y: MARGIN,
            continuation,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
        let text = self.continuation.clone();
        self.line(MARGIN, 9.0, Weight::Bold, false, &text);
        self.y += 4.0;
        self.rule(0.5);
        self.y += 6.0;
    }

    /// Starts a new page unless `height` more points fit on this one.
    fn ensure(&mut self, height: f32) {
        if self.y + height > BODY_BOTTOM && self.y > MARGIN + 40.0 {
            self.new_page();
        }
    }

    /// One line of text at `x`, moving down by its leading.
    fn line(&mut self, x: f32, size: f32, weight: Weight, red: bool, text: &str) {
        let leading = size * 1.3;
        self.y += size;
        let y = self.y;
        self.ops().push(Op::Text {
            x,
            y,
            size,
            weight,
            red,
            text: text.to_owned(),
        });
        self.y += leading - size;
    }

    /// A paragraph wrapped to `width`, kept on one page when it fits.
    fn paragraph(&mut self, x: f32, width: f32, size: f32, weight: Weight, red: bool, text: &str) {
        let lines = self.fonts.wrap(text, weight, size, width);
        for line in lines {
            self.ensure(size * 1.3);
            self.line(x, size, weight, red, &line);
        }
    }

    fn rule(&mut self, width: f32) {
        let y = self.y;
        self.ops().push(Op::Rule { y, width });
    }

    fn heading(&mut self, text: &str) {
        self.ensure(40.0);
        self.y += 8.0;
        self.line(MARGIN, 11.0, Weight::Bold, false, text);
        self.y += 1.0;
        self.rule(0.75);
        self.y += 3.0;
    }

    /// Label-value pairs in a column starting at `x`; returns the height
    /// used, leaving `y` where it started.
    fn pairs(&mut self, x: f32, width: f32, pairs: &[(&str, String)]) -> f32 {
        let start = self.y;
        let label_width = 82.0;
        for (label, value) in pairs {
            let lines = self
                .fonts
                .wrap(value, Weight::Regular, 9.0, width - label_width);
            let row_top = self.y;
            self.line(x, 9.0, Weight::Bold, false, label);
            self.y = row_top;
            for line in &lines {
                self.line(x + label_width, 9.0, Weight::Regular, false, line);
            }
        }
        let height = self.y - start;
        self.y = start;
        height
    }
}

/// Result table columns: (heading, width).
const COLUMNS: [(&str, f32); 6] = [
    ("Investigation", 142.0),
    ("Result", 62.0),
    ("Unit", 62.0),
    ("Flag", 30.0),
    ("Reference interval", 118.0),
    ("Status", 97.0),
];

fn column_x(index: usize) -> f32 {
    MARGIN + COLUMNS[..index].iter().map(|column| column.1).sum::<f32>()
}

fn table_header(layout: &mut Layout<'_>) {
    let top = layout.y;
    for (index, (heading, _)) in COLUMNS.iter().enumerate() {
        layout.y = top;
        layout.line(column_x(index), 9.0, Weight::Bold, false, heading);
    }
    layout.y += 1.0;
    layout.rule(0.5);
    layout.y += 2.0;
}

fn table_row(layout: &mut Layout<'_>, line: &ReportLine) {
    let size = 9.0;
    let cells: [(String, Weight); 6] = [
        (
            format!("{} ({})", line.investigation, line.code),
            Weight::Regular,
        ),
        (
            line.value
                .clone()
                .or_else(|| line.note.clone())
                .unwrap_or_default(),
            if line.value.is_some() {
                Weight::Bold
            } else {
                Weight::Regular
            },
        ),
        (line.unit.clone().unwrap_or_default(), Weight::Regular),
        (line.flag.clone().unwrap_or_default(), Weight::Bold),
        (
            line.reference_interval.clone().unwrap_or_default(),
            Weight::Regular,
        ),
        (line.status.clone(), Weight::Regular),
    ];
    // A line without a value says why across the result, unit, flag and
    // interval columns, so that "specimen rejected: reason" reads as one.
    let spans_note = line.value.is_none();
    let wrapped: Vec<Vec<String>> = cells
        .iter()
        .enumerate()
        .map(|(index, (text, weight))| {
            let width = match index {
                1 if spans_note => COLUMNS[1..5].iter().map(|column| column.1).sum(),
                2..=4 if spans_note => return Vec::new(),
                _ => COLUMNS[index].1,
            };
            layout.fonts.wrap(text, *weight, size, width - 6.0)
        })
        .collect();
    let n_lines = wrapped.iter().map(Vec::len).max().unwrap_or(1);
    let mut notes: Vec<String> = line.comments.clone();
    let mut sign_off = Vec::new();
    if let Some(verified) = &line.verified {
        sign_off.push(format!("Verified by {}, {}", verified.by, verified.at));
    }
    if let Some(authorised) = &line.authorised {
        sign_off.push(format!(
            "Authorised by {}, {}",
            authorised.by, authorised.at
        ));
    }
    if let Some(amended) = &line.amended {
        sign_off.push(format!("Amended by {}, {}", amended.by, amended.at));
    }
    if !sign_off.is_empty() {
        notes.push(sign_off.join("; "));
    }
    let note_lines: Vec<String> = notes
        .iter()
        .flat_map(|note| {
            layout
                .fonts
                .wrap(note, Weight::Regular, 8.0, CONTENT_WIDTH - 12.0)
        })
        .collect();
    let height = n_lines as f32 * size * 1.3 + note_lines.len() as f32 * 8.0 * 1.3 + 4.0;
    if layout.y + height > BODY_BOTTOM {
        layout.new_page();
        table_header(layout);
    }
    let top = layout.y;
    let mut bottom = top;
    for (index, lines) in wrapped.iter().enumerate() {
        layout.y = top;
        let weight = cells[index].1;
        let red = index == 3 && !lines.iter().all(String::is_empty);
        for text in lines {
            layout.line(column_x(index), size, weight, red, text);
        }
        bottom = bottom.max(layout.y);
    }
    layout.y = bottom;
    for text in &note_lines {
        layout.line(MARGIN + 12.0, 8.0, Weight::Regular, false, text);
    }
    layout.y += 2.0;
    layout.rule(0.25);
    layout.y += 2.0;
}

fn lay_out(document: &ReportDocument, fonts: &Fonts) -> Vec<Vec<Op>> {
    let amended = document.status == "amended";
    let mut layout = Layout::new(
        fonts,
        format!(
            "{}: {} for {} ({}), continued",
            document.laboratory,
            document.status_label,
            document.patient.name,
            document.request.accession
        ),
    );
    layout.paragraph(
        MARGIN,
        CONTENT_WIDTH,
        15.0,
        Weight::Bold,
        false,
        &document.laboratory,
    );
    layout.line(
        MARGIN,
        12.0,
        Weight::Bold,
        amended,
        &format!(
            "{}: request {}",
            document.status_label, document.request.accession
        ),
    );
    if amended {
        layout.paragraph(
            MARGIN,
            CONTENT_WIDTH,
            9.0,
            Weight::Bold,
            true,
            "AMENDED: results on this report were changed after they were released. The earlier values and the reasons are listed under Amendments.",
        );
    }
    layout.y += 4.0;
    layout.rule(1.0);
    layout.y += 4.0;

    let column = (CONTENT_WIDTH - 12.0) / 2.0;
    let patient = &document.patient;
    let hospital_numbers = if patient.hospital_numbers.is_empty() {
        "None recorded".to_owned()
    } else {
        patient.hospital_numbers.join(", ")
    };
    let left = layout.pairs(
        MARGIN,
        column,
        &[
            ("Patient", patient.name.clone()),
            ("NHS number", patient.nhs_number.clone()),
            ("Hospital number", hospital_numbers),
            ("Date of birth", patient.date_of_birth.clone()),
            ("Sex", patient.sex.clone()),
        ],
    );
    let request = &document.request;
    let right = layout.pairs(
        MARGIN + column + 12.0,
        column,
        &[
            ("Accession", request.accession.clone()),
            ("Requester", request.requester.clone()),
            ("Location", request.location.clone()),
            ("Priority", request.priority.clone()),
            ("Booked", request.booked_at.clone()),
            (
                "Received",
                request
                    .received_at
                    .clone()
                    .unwrap_or_else(|| "Not yet received".into()),
            ),
        ],
    );
    layout.y += left.max(right) + 2.0;
    let top = layout.y;
    layout.line(MARGIN, 9.0, Weight::Bold, false, "Clinical details");
    layout.y = top;
    layout.paragraph(
        MARGIN + 82.0,
        CONTENT_WIDTH - 82.0,
        9.0,
        Weight::Regular,
        false,
        &request.clinical_details,
    );

    layout.heading("Specimens");
    if document.specimens.is_empty() {
        layout.paragraph(
            MARGIN,
            CONTENT_WIDTH,
            9.0,
            Weight::Regular,
            false,
            "No specimen: every investigation is a measurement made on the patient.",
        );
    }
    for specimen in &document.specimens {
        let mut text = format!("{}: {}", specimen.id, specimen.description);
        if let Some(at) = &specimen.collected_at {
            text.push_str(&format!("; collected {at}"));
        }
        if let Some(at) = &specimen.received_at {
            text.push_str(&format!("; received {at}"));
        }
        layout.paragraph(MARGIN, CONTENT_WIDTH, 9.0, Weight::Regular, false, &text);
        if let Some(rejection) = &specimen.rejection {
            layout.paragraph(
                MARGIN + 12.0,
                CONTENT_WIDTH - 12.0,
                9.0,
                Weight::Bold,
                true,
                &format!("Specimen rejected: {rejection}"),
            );
        }
    }

    layout.heading("Results");
    layout.ensure(40.0);
    table_header(&mut layout);
    for line in &document.lines {
        table_row(&mut layout, line);
    }
    layout.paragraph(
        MARGIN,
        CONTENT_WIDTH,
        8.0,
        Weight::Regular,
        false,
        "Only authorised results are reported; other investigations say \"to follow\". Flags: L low, H high, LL critically low, HH critically high, against the reference interval shown, which is the one that applied when the result was produced.",
    );

    if !document.amendments.is_empty() {
        layout.heading("Amendments");
        for amendment in &document.amendments {
            layout.ensure(30.0);
            layout.paragraph(
                MARGIN,
                CONTENT_WIDTH,
                9.0,
                Weight::Bold,
                false,
                &format!(
                    "{} ({}), version {}: previously {}",
                    amendment.investigation,
                    amendment.code,
                    amendment.version,
                    amendment.previous_value
                ),
            );
            layout.paragraph(
                MARGIN + 12.0,
                CONTENT_WIDTH - 12.0,
                9.0,
                Weight::Regular,
                false,
                &format!(
                    "Amended by {}, {}. Reason: {}",
                    amendment.by, amendment.at, amendment.reason
                ),
            );
        }
    }
    layout.y += 6.0;
    layout.paragraph(
        MARGIN,
        CONTENT_WIDTH,
        9.0,
        Weight::Bold,
        false,
        "End of report",
    );
    layout.pages
}

fn footer(document: &ReportDocument, fonts: &Fonts, page: usize, n_pages: usize) -> Vec<Op> {
    let top = PAGE_HEIGHT - 50.0;
    let size = 8.0;
    let mut ops = vec![Op::Rule { y: top, width: 0.5 }];
    let identity = format!(
        "{}   NHS number {}   Accession {}",
        document.patient.name, document.patient.nhs_number, document.request.accession
    );
    let identity = fonts
        .wrap(&identity, Weight::Bold, size, CONTENT_WIDTH - 80.0)
        .into_iter()
        .next()
        .unwrap_or_default();
    ops.push(Op::Text {
        x: MARGIN,
        y: top + 12.0,
        size,
        weight: Weight::Bold,
        red: false,
        text: identity,
    });
    let page_text = format!("Page {page} of {n_pages}");
    ops.push(Op::Text {
        x: PAGE_WIDTH - MARGIN - fonts.regular.width(&page_text, size),
        y: top + 12.0,
        size,
        weight: Weight::Regular,
        red: false,
        text: page_text,
    });
    ops.push(Op::Text {
        x: MARGIN,
        y: top + 23.0,
        size,
        weight: Weight::Regular,
        red: false,
        text: format!(
            "{}, issued {} by {}",
            document.status_label, document.issued_at, document.laboratory
        ),
    });
    ops
}

fn draw(surface: &mut krilla::surface::Surface<'_>, ops: &[Op], regular: &Font, bold: &Font) {
    for op in ops {
        match op {
            Op::Text {
                x,
                y,
                size,
                weight,
                red,
                text,
            } => {
                if text.is_empty() {
                    continue;
                }
                let colour = if *red {
                    rgb::Color::new(0xd5, 0x28, 0x1b)
                } else {
                    rgb::Color::new(0x21, 0x2b, 0x32)
                };
                surface.set_fill(Some(Fill {
                    paint: colour.into(),
                    ..Fill::default()
                }));
                let font = match weight {
                    Weight::Regular => regular.clone(),
                    Weight::Bold => bold.clone(),
                };
                surface.draw_text(
                    Point::from_xy(*x, *y),
                    font,
                    *size,
                    text,
                    false,
                    TextDirection::Auto,
                );
            }
            Op::Rule { y, width } => {
                let mut path = PathBuilder::new();
                path.move_to(MARGIN, *y);
                path.line_to(PAGE_WIDTH - MARGIN, *y);
                if let Some(path) = path.finish() {
                    surface.set_fill(None);
                    surface.set_stroke(Some(Stroke {
                        paint: rgb::Color::new(0x76, 0x86, 0x92).into(),
                        width: *width,
                        ..Stroke::default()
                    }));
                    surface.draw_path(&path);
                    surface.set_stroke(None);
                }
            }
        }
    }
}

/// The report as an A4 PDF.
pub fn render_pdf(document: &ReportDocument) -> Result<Vec<u8>, PdfError> {
    let fonts = Fonts {
        regular: Metrics::new(REGULAR, "Liberation Sans")?,
        bold: Metrics::new(BOLD, "Liberation Sans Bold")?,
    };
    let regular = Font::new(REGULAR.into(), 0).ok_or(PdfError::Font("Liberation Sans"))?;
    let bold = Font::new(BOLD.into(), 0).ok_or(PdfError::Font("Liberation Sans Bold"))?;
    let pages = lay_out(document, &fonts);
    let n_pages = pages.len();
    let mut pdf = Document::new();
    pdf.set_metadata(
        Metadata::new()
            .title(format!(
                "{} {} {}",
                document.laboratory, document.status_label, document.request.accession
            ))
            .creator("Benchwork".into())
            .language("en-GB".into()),
    );
    for (index, ops) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
            .ok_or_else(|| PdfError::Write("the A4 page size was refused".into()))?;
        let mut page = pdf.start_page_with(settings);
        let mut surface = page.surface();
        draw(&mut surface, ops, &regular, &bold);
        draw(
            &mut surface,
            &footer(document, &fonts, index + 1, n_pages),
            &regular,
            &bold,
        );
        surface.finish();
        page.finish();
    }
    pdf.finish()
        .map_err(|error| PdfError::Write(format!("{error:?}")))
}

#[cfg(test)]
mod tests;
