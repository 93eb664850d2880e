//! HL7 version 2 messages: parsing, reading, escaping, writing and
//! acknowledgements (issue 7 item 1). Our own code, not a crate: see
//! docs/design/2026-12-06-hl7v2-parser.md for why.
//!
//! A [`Message`] borrows the text it was parsed from: segments and fields
//! are slices of it, and a value is only copied when its escape sequences
//! are decoded ([`Value::text`] returns a `Cow`). Delimiters come from MSH
//! (MSH-1 and MSH-2), so a sender using `#!@%*` is read as well as one
//! using `|^~\&`. Segments may end in CR, LF or CRLF; Z-segments are kept
//! like any other.
//!
//! Strict where patient safety needs it: a message that does not start with
//! MSH, a segment whose name is not three letters or digits, a missing
//! MSH-9 or MSH-10, an unknown version ([`Message::header`]), an OBX-5 that
//! does not match its OBX-2 ([`obx::observation_value`]) are refused with a
//! [`Hl7Error`] that names the segment and field, so the acknowledgement can
//! say what is wrong.
//!
//! Numbering follows HL7: fields, repetitions, components and
//! subcomponents count from 1; MSH-1 is the field separator itself.

mod charset;
mod escape;
pub mod mllp;
pub mod obx;
mod write;

use std::borrow::Cow;
use std::fmt;

pub use charset::{Charset, decode_bytes};
pub use escape::{escape, unescape};
pub use write::{AckCode, AckError, AckFrom, MessageBuilder, SegmentBuilder, ack};

/// The five separators a message declares in MSH-1 and MSH-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    /// Between fields (MSH-1), usually `|`.
    pub field: char,
    /// Between components, usually `^`.
    pub component: char,
    /// Between repetitions, usually `~`.
    pub repetition: char,
    /// Starts and ends an escape sequence, usually `\`.
    pub escape: Option<char>,
    /// Between subcomponents, usually `&`.
    pub subcomponent: char,
    /// The truncation character of v2.7 and later (`#`), if declared.
    pub truncation: Option<char>,
}

impl Default for Delimiters {
    fn default() -> Delimiters {
        Delimiters {
            field: '|',
            component: '^',
            repetition: '~',
            escape: Some('\\'),
            subcomponent: '&',
            truncation: None,
        }
    }
}

impl Delimiters {
    /// Whether these are the usual `^~\&` (field separator aside).
    pub fn is_standard(&self) -> bool {
        self.component == '^'
            && self.repetition == '~'
            && self.escape == Some('\\')
            && self.subcomponent == '&'
    }

    /// MSH-2 as written back: component, repetition, escape, subcomponent
    /// and, when declared, truncation.
    pub fn encoding_characters(&self) -> String {
        let mut text = String::new();
        text.push(self.component);
        text.push(self.repetition);
        if let Some(escape) = self.escape {
            text.push(escape);
        }
        text.push(self.subcomponent);
        if let Some(truncation) = self.truncation {
            text.push(truncation);
        }
        text
    }
}

/// Where in a message something was found wrong: segment name, its
/// position among all segments (1-based), and the field if known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The segment's name as written (may be malformed).
    pub segment: String,
    /// 1-based position of the segment in the message.
    pub sequence: usize,
    /// 1-based field number, if the problem is in one field.
    pub field: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "{}-{} (segment {})", self.segment, field, self.sequence),
            None => write!(f, "{} (segment {})", self.segment, self.sequence),
        }
    }
}

/// Why a message could not be read. Each names an HL7 error code (table
/// 0357) for the ERR segment of the acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Hl7Error {
    /// Nothing but white space.
    #[error("the message is empty")]
    Empty,
    /// The first segment is not MSH.
    #[error("the message must start with an MSH segment (it starts with {found:?})")]
    MissingMsh {
        /// The first few characters found.
        found: String,
    },
    /// MSH-1/MSH-2 do not declare usable separators.
    #[error("MSH-1 and MSH-2 must declare the separators: {reason}")]
    BadDelimiters {
        /// What is wrong.
        reason: String,
    },
    /// A segment name is not three capital letters or digits.
    #[error("{location}: a segment name must be three capital letters or digits")]
    BadSegmentName {
        /// Where.
        location: Location,
    },
    /// A required field is empty.
    #[error("{location}: required field is empty ({what})")]
    RequiredFieldMissing {
        /// Where.
        location: Location,
        /// What the field is.
        what: &'static str,
    },
    /// A value does not match its data type.
    #[error("{location}: {reason}")]
    DataType {
        /// Where.
        location: Location,
        /// What is wrong, in words.
        reason: String,
    },
    /// A version outside 2.1 to 2.8.
    #[error("MSH-12: version {version:?} is not supported (2.1 to 2.8 are accepted)")]
    UnsupportedVersion {
        /// The version sent.
        version: String,
    },
    /// MSH-18 names a character set we do not read.
    #[error("MSH-18: character set {charset:?} is not supported (ASCII, 8859/1, UNICODE UTF-8)")]
    UnsupportedCharset {
        /// The value of MSH-18.
        charset: String,
    },
    /// The bytes do not match the character set declared.
    #[error("the message is not valid {charset}: {reason}")]
    BadEncoding {
        /// The character set declared (or assumed).
        charset: &'static str,
        /// What was found.
        reason: String,
    },
}

impl Hl7Error {
    /// The HL7 error code (table 0357) and its text, for ERR-3.
    pub fn code(&self) -> (&'static str, &'static str) {
        match self {
            Hl7Error::Empty
            | Hl7Error::MissingMsh { .. }
            | Hl7Error::BadSegmentName { .. }
            | Hl7Error::BadDelimiters { .. } => ("100", "Segment sequence error"),
            Hl7Error::RequiredFieldMissing { .. } => ("101", "Required field missing"),
            Hl7Error::DataType { .. } | Hl7Error::BadEncoding { .. } => ("102", "Data type error"),
            Hl7Error::UnsupportedVersion { .. } => ("203", "Unsupported version id"),
            Hl7Error::UnsupportedCharset { .. } => ("207", "Application internal error"),
        }
    }

    /// Where the problem is, if it is in one place.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Hl7Error::BadSegmentName { location }
            | Hl7Error::RequiredFieldMissing { location, .. }
            | Hl7Error::DataType { location, .. } => Some(location),
            _ => None,
        }
    }
}

/// A parsed message borrowing its text. Two allocations whatever its
/// size: the fields of every segment in one list, and the segments as
/// ranges of it.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    delimiters: Delimiters,
    /// Every segment's fields, one segment after another; a segment's
    /// first entry is its name (for MSH the next is MSH-2).
    fields: Vec<&'a str>,
    segments: Vec<SegmentSpan<'a>>,
}

#[derive(Debug, Clone, Copy)]
struct SegmentSpan<'a> {
    raw: &'a str,
    /// `fields[first..end]` of the message.
    first: u32,
    end: u32,
}

/// One segment of a [`Message`]: its name and its fields as written. A
/// small copyable view: `'m` is the message, `'a` its text.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'m, 'a> {
    raw: &'a str,
    sequence: usize,
    delimiters: Delimiters,
    /// Whether this is MSH, whose numbering is shifted by MSH-1.
    is_msh: bool,
    /// `fields[0]` is the name; for MSH, `fields[1]` is MSH-2.
    fields: &'m [&'a str],
}

/// A field, a repetition, a component or a subcomponent as written, with
/// the delimiters needed to go further down or to decode it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value<'a> {
    raw: &'a str,
    delimiters: Delimiters,
}

impl<'a> Message<'a> {
    /// Parses one message. Segments may end in CR, LF or CRLF; blank lines
    /// are skipped. Leading white space and a byte-order mark are ignored.
    pub fn parse(text: &'a str) -> Result<Message<'a>, Hl7Error> {
        let text = text.trim_start_matches(['\u{feff}', '\r', '\n', ' ', '\t']);
        if text.trim().is_empty() {
            return Err(Hl7Error::Empty);
        }
        if !text.starts_with("MSH") {
            return Err(Hl7Error::MissingMsh {
                found: text.chars().take(8).collect(),
            });
        }
        let delimiters = read_delimiters(text)?;
        let mut fields = Vec::with_capacity(text.len() / 6);
        let mut segments = Vec::with_capacity(text.len() / 64 + 1);
        let mut start = 0;
        let bytes = text.as_bytes();
        for end in memchr::memchr2_iter(b'\r', b'\n', bytes).chain([bytes.len()]) {
            if end > start {
                let line = &text[start..end];
                let first = fields.len() as u32;
                split_fields(line, delimiters.field, &mut fields);
                check_segment_name(fields[first as usize], segments.len() + 1)?;
                segments.push(SegmentSpan {
                    raw: line,
                    first,
                    end: fields.len() as u32,
                });
            }
            start = end + 1;
        }
        Ok(Message {
            delimiters,
            fields,
            segments,
        })
    }

    fn view(&self, index: usize) -> Segment<'_, 'a> {
        let span = self.segments[index];
        let fields = &self.fields[span.first as usize..span.end as usize];
        Segment {
            raw: span.raw,
            sequence: index + 1,
            delimiters: self.delimiters,
            is_msh: fields[0] == "MSH",
            fields,
        }
    }

    /// The separators declared in MSH.
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    /// Every segment in order.
    pub fn segments(&self) -> impl ExactSizeIterator<Item = Segment<'_, 'a>> {
        (0..self.segments.len()).map(|index| self.view(index))
    }

    /// The MSH segment.
    pub fn msh(&self) -> Segment<'_, 'a> {
        self.view(0)
    }

    /// The segments called `name`, in order.
    pub fn segments_named<'m>(
        &'m self,
        name: &'m str,
    ) -> impl Iterator<Item = Segment<'m, 'a>> + 'm {
        self.segments()
            .filter(move |segment| segment.name() == name)
    }

    /// The first segment called `name`.
    pub fn segment(&self, name: &str) -> Option<Segment<'_, 'a>> {
        self.segments().find(|segment| segment.name() == name)
    }

    /// A value by a terse path, decoded: `PID-5-1`, `OBX(2)-5`,
    /// `PID-3(2)-1` (second repetition), `OBR-4-1-2` (subcomponent). The
    /// segment's occurrence and the repetition count from 1. `None` when
    /// the path is malformed or points past the end or at an empty value.
    pub fn get(&self, path: &str) -> Option<Cow<'a, str>> {
        let path = Path::parse(path)?;
        let segment = self.segments_named(path.segment).nth(path.occurrence - 1)?;
        if segment.name() == "MSH" && path.field? <= 2 {
            // The separators themselves: never split or decoded.
            let raw = segment.field(path.field?).raw();
            return (!raw.is_empty()).then_some(Cow::Borrowed(raw));
        }
        let mut value = segment.field(path.field?).repetition(path.repetition);
        if let Some(component) = path.component {
            value = value.component(component);
        }
        if let Some(subcomponent) = path.subcomponent {
            value = value.subcomponent(subcomponent);
        }
        let text = value.text();
        (!text.is_empty()).then_some(text)
    }

    /// Reads and checks the header (MSH): type, control id, version.
    pub fn header(&self) -> Result<Header<'a>, Hl7Error> {
        let msh = self.msh();
        let required = |field: usize, what: &'static str| -> Result<Value<'a>, Hl7Error> {
            let value = msh.field(field);
            if value.raw().trim().is_empty() {
                Err(Hl7Error::RequiredFieldMissing {
                    location: msh.location(Some(field)),
                    what,
                })
            } else {
                Ok(value)
            }
        };
        let message_type = required(9, "message type")?;
        let control_id = required(10, "message control id")?;
        let version = required(12, "version id")?.component(1).raw().trim();
        if !supported_version(version) {
            return Err(Hl7Error::UnsupportedVersion {
                version: version.to_owned(),
            });
        }
        if message_type.component(1).raw().trim().is_empty() {
            return Err(Hl7Error::RequiredFieldMissing {
                location: msh.location(Some(9)),
                what: "message type",
            });
        }
        Ok(Header {
            sending_application: msh.field(3).component(1).text(),
            sending_facility: msh.field(4).component(1).text(),
            receiving_application: msh.field(5).component(1).text(),
            receiving_facility: msh.field(6).component(1).text(),
            date_time: msh.field(7).component(1).raw(),
            message_code: message_type.component(1).raw().trim(),
            trigger_event: message_type.component(2).raw().trim(),
            structure: message_type.component(3).raw().trim(),
            control_id: control_id.text(),
            processing_id: msh.field(11).component(1).raw().trim(),
            version,
            accept_ack_type: msh.field(15).raw().trim(),
            application_ack_type: msh.field(16).raw().trim(),
            charset: msh.field(18).repetition(1).raw().trim(),
        })
    }
}

/// Whether MSH-12 names a version we accept: 2.1 to 2.8 (with or without
/// a third part, as in 2.5.1 or 2.8.2).
pub fn supported_version(version: &str) -> bool {
    let mut parts = version.split('.');
    let major = parts.next();
    let minor = parts.next().and_then(|minor| minor.parse::<u32>().ok());
    let rest_ok = parts.all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    major == Some("2") && matches!(minor, Some(1..=8)) && rest_ok
}

/// What MSH says about a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    /// MSH-3.1.
    pub sending_application: Cow<'a, str>,
    /// MSH-4.1.
    pub sending_facility: Cow<'a, str>,
    /// MSH-5.1.
    pub receiving_application: Cow<'a, str>,
    /// MSH-6.1.
    pub receiving_facility: Cow<'a, str>,
    /// MSH-7 as written.
    pub date_time: &'a str,
    /// MSH-9.1, e.g. `ORU`.
    pub message_code: &'a str,
    /// MSH-9.2, e.g. `R01`.
    pub trigger_event: &'a str,
    /// MSH-9.3, e.g. `ORU_R01` (often empty before 2.4).
    pub structure: &'a str,
    /// MSH-10.
    pub control_id: Cow<'a, str>,
    /// MSH-11.1: `P`, `T` or `D`.
    pub processing_id: &'a str,
    /// MSH-12.1.
    pub version: &'a str,
    /// MSH-15: empty in original mode.
    pub accept_ack_type: &'a str,
    /// MSH-16: empty in original mode.
    pub application_ack_type: &'a str,
    /// MSH-18 (first repetition).
    pub charset: &'a str,
}

/// Appends the pieces of `line` between field separators.
fn split_fields<'a>(line: &'a str, separator: char, fields: &mut Vec<&'a str>) {
    if separator.is_ascii() {
        let mut start = 0;
        for at in memchr::memchr_iter(separator as u8, line.as_bytes()) {
            fields.push(&line[start..at]);
            start = at + 1;
        }
        fields.push(&line[start..]);
    } else {
        fields.extend(line.split(separator));
    }
}

/// A segment name is three capital letters or digits.
fn check_segment_name(name: &str, sequence: usize) -> Result<(), Hl7Error> {
    if name.len() == 3
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(Hl7Error::BadSegmentName {
            location: Location {
                segment: name.chars().take(10).collect(),
                sequence,
                field: None,
            },
        })
    }
}

impl<'m, 'a> Segment<'m, 'a> {
    /// The segment's name (`PID`, `ZPD` …).
    pub fn name(&self) -> &'a str {
        self.fields[0]
    }

    /// The segment as written, without its terminator.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The segment's 1-based position in the message.
    pub fn sequence(&self) -> usize {
        self.sequence
    }

    /// The number of the last field present (trailing empty fields count).
    pub fn field_count(&self) -> usize {
        if self.is_msh {
            self.fields.len()
        } else {
            self.fields.len() - 1
        }
    }

    /// Field `n` (from 1); empty when absent. MSH-1 is the field separator
    /// and MSH-2 the encoding characters, both as written.
    #[inline]
    pub fn field(&self, n: usize) -> Value<'a> {
        let raw = if self.is_msh {
            match n {
                0 => "",
                1 => {
                    let at = self.raw.char_indices().nth(3).map_or(3, |(at, _)| at);
                    &self.raw[at..at + self.delimiters.field.len_utf8()]
                }
                n => self.fields.get(n - 1).copied().unwrap_or(""),
            }
        } else if n == 0 {
            ""
        } else {
            self.fields.get(n).copied().unwrap_or("")
        };
        Value {
            raw,
            delimiters: self.delimiters,
        }
    }

    /// A [`Location`] in this segment, for errors.
    pub fn location(&self, field: Option<usize>) -> Location {
        Location {
            segment: self.name().to_owned(),
            sequence: self.sequence,
            field,
        }
    }
}

impl<'a> Value<'a> {
    /// The value as written, escape sequences and all.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Whether nothing was sent.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The HL7 null `""`: the sender asks for the value to be deleted.
    pub fn is_null(&self) -> bool {
        self.raw == "\"\""
    }

    /// The repetitions of a field (one, empty, when nothing was sent).
    pub fn repetitions(&self) -> impl Iterator<Item = Value<'a>> + use<'a> {
        let delimiters = self.delimiters;
        self.raw
            .split(delimiters.repetition)
            .map(move |raw| Value { raw, delimiters })
    }

    /// Repetition `n` (from 1); empty when absent.
    pub fn repetition(&self, n: usize) -> Value<'a> {
        self.part(self.delimiters.repetition, n)
    }

    /// Component `n` (from 1) of the first repetition; empty when absent.
    pub fn component(&self, n: usize) -> Value<'a> {
        self.repetition(1).part(self.delimiters.component, n)
    }

    /// Subcomponent `n` (from 1) of the first component of the first
    /// repetition, or of this component when called on one.
    pub fn subcomponent(&self, n: usize) -> Value<'a> {
        let first = self.repetition(1);
        let component = if first.raw.contains(self.delimiters.component) {
            first.part(self.delimiters.component, 1)
        } else {
            first
        };
        component.part(self.delimiters.subcomponent, n)
    }

    /// The value with its escape sequences decoded (borrowed when it has
    /// none). Meant for a component or subcomponent: separators inside it
    /// are left as they are.
    pub fn text(&self) -> Cow<'a, str> {
        unescape(self.raw, &self.delimiters)
    }

    /// Every subcomponent of the value in one pass over its bytes, decoded:
    /// `visit(repetition, component, subcomponent, text)`, each counted
    /// from 1. An empty value gives one empty subcomponent (1, 1, 1).
    #[inline]
    pub fn visit(&self, mut visit: impl FnMut(usize, usize, usize, Cow<'a, str>)) {
        let d = self.delimiters;
        let (rep, comp, sub) = (d.repetition, d.component, d.subcomponent);
        let escape = d.escape.unwrap_or('\u{0}');
        let (mut r, mut c, mut s) = (1, 1, 1);
        let mut start = 0;
        let mut escaped = false;
        let raw = self.raw;
        let mut emit = |from: usize, to: usize, escaped: bool, r, c, s| {
            let piece = &raw[from..to];
            let text = if escaped {
                unescape(piece, &d)
            } else {
                Cow::Borrowed(piece)
            };
            visit(r, c, s, text);
        };
        if d.is_standard() {
            // `|^~\&`: one table lookup per byte.
            for (at, &b) in raw.as_bytes().iter().enumerate() {
                match STANDARD_CLASS[b as usize] {
                    0 => continue,
                    ESCAPE => escaped = true,
                    class => {
                        emit(start, at, escaped, r, c, s);
                        escaped = false;
                        start = at + 1;
                        match class {
                            REPETITION => (r, c, s) = (r + 1, 1, 1),
                            COMPONENT => (c, s) = (c + 1, 1),
                            _ => s += 1,
                        }
                    }
                }
            }
        } else {
            // Other separators (rare): compare each character.
            for (at, ch) in raw.char_indices() {
                if ch == rep || ch == comp || ch == sub {
                    emit(start, at, escaped, r, c, s);
                    escaped = false;
                    start = at + ch.len_utf8();
                    if ch == rep {
                        (r, c, s) = (r + 1, 1, 1);
                    } else if ch == comp {
                        (c, s) = (c + 1, 1);
                    } else {
                        s += 1;
                    }
                } else if ch == escape {
                    escaped = true;
                }
            }
        }
        emit(start, raw.len(), escaped, r, c, s);
    }

    fn part(&self, separator: char, n: usize) -> Value<'a> {
        let raw = if n == 0 {
            ""
        } else {
            self.raw.split(separator).nth(n - 1).unwrap_or("")
        };
        Value {
            raw,
            delimiters: self.delimiters,
        }
    }
}

const REPETITION: u8 = 1;
const COMPONENT: u8 = 2;
const SUBCOMPONENT: u8 = 3;
const ESCAPE: u8 = 4;

/// What each byte is under the standard separators `|^~\&`.
static STANDARD_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    table[b'~' as usize] = REPETITION;
    table[b'^' as usize] = COMPONENT;
    table[b'&' as usize] = SUBCOMPONENT;
    table[b'\\' as usize] = ESCAPE;
    table
};

/// Reads MSH-1 and MSH-2. Repeated characters in MSH-2 (`^~\\&`, seen from
/// some senders) are read once.
fn read_delimiters(text: &str) -> Result<Delimiters, Hl7Error> {
    let mut chars = text.chars().skip(3);
    let field = chars.next().ok_or_else(|| Hl7Error::BadDelimiters {
        reason: "MSH has no field separator".into(),
    })?;
    let mut encoding: Vec<char> = Vec::new();
    for c in chars {
        if c == field || c == '\r' || c == '\n' {
            break;
        }
        if !encoding.contains(&c) {
            encoding.push(c);
        }
    }
    let bad = |reason: &str| Hl7Error::BadDelimiters {
        reason: reason.into(),
    };
    if field.is_alphanumeric() || field.is_whitespace() {
        return Err(bad(
            "the field separator must not be a letter, digit or space",
        ));
    }
    if encoding.len() < 2 {
        return Err(bad(
            "MSH-2 needs at least the component and repetition characters",
        ));
    }
    if encoding.len() > 5 {
        return Err(bad("MSH-2 has more than five encoding characters"));
    }
    if encoding
        .iter()
        .any(|c| c.is_alphanumeric() || c.is_whitespace())
    {
        return Err(bad(
            "encoding characters must not be letters, digits or spaces",
        ));
    }
    let at = |i: usize| encoding.get(i).copied();
    Ok(Delimiters {
        field,
        component: encoding[0],
        repetition: encoding[1],
        escape: at(2),
        // A message of 2.1 style without a subcomponent character: use one
        // that cannot occur, so no value is split.
        subcomponent: at(3).unwrap_or('\u{0}'),
        truncation: at(4),
    })
}

/// A parsed [`Message::get`] path.
struct Path<'p> {
    segment: &'p str,
    occurrence: usize,
    field: Option<usize>,
    repetition: usize,
    component: Option<usize>,
    subcomponent: Option<usize>,
}

impl<'p> Path<'p> {
    fn parse(path: &'p str) -> Option<Path<'p>> {
        let mut parts = path.split('-');
        let (segment, occurrence) = with_index(parts.next()?)?;
        let (field, repetition) = match parts.next() {
            Some(part) => {
                let (field, repetition) = with_index(part)?;
                (Some(field.parse().ok()?), repetition)
            }
            None => (None, 1),
        };
        let component = parts.next().map(str::parse).transpose().ok()?;
        let subcomponent = parts.next().map(str::parse).transpose().ok()?;
        if parts.next().is_some() || segment.len() != 3 {
            return None;
        }
        Some(Path {
            segment,
            occurrence,
            field,
            repetition,
            component,
            subcomponent,
        })
    }
}

/// `OBX(2)` → ("OBX", 2); `OBX` → ("OBX", 1).
fn with_index(part: &str) -> Option<(&str, usize)> {
    match part.split_once('(') {
        Some((name, index)) => {
            let index: usize = index.strip_suffix(')')?.parse().ok()?;
            (index >= 1).then_some((name, index))
        }
        None => Some((part, 1)),
    }
}

/// Splits a batch (several messages back to back, with or without
/// FHS/BHS/BTS/FTS envelopes) into the text of each message. Envelope
/// segments are dropped; anything before the first MSH is returned as an
/// error so that it is not silently ignored.
pub fn split_batch(text: &str) -> Result<Vec<&str>, Hl7Error> {
    let text = text.trim_start_matches('\u{feff}');
    let mut messages = Vec::new();
    let mut start: Option<usize> = None;
    let mut offset = 0;
    for line in text.split_inclusive(['\r', '\n']) {
        let name = line.get(..3).unwrap_or(line.trim_end());
        match name {
            "MSH" => {
                if let Some(begin) = start.take() {
                    messages.push(&text[begin..offset]);
                }
                start = Some(offset);
            }
            "FHS" | "BHS" | "BTS" | "FTS" => {
                if let Some(begin) = start.take() {
                    messages.push(&text[begin..offset]);
                }
            }
            _ if start.is_none() && !line.trim().is_empty() => {
                return Err(Hl7Error::MissingMsh {
                    found: line.chars().take(8).collect(),
                });
            }
            _ => {}
        }
        offset += line.len();
    }
    if let Some(begin) = start {
        messages.push(&text[begin..]);
    }
    Ok(messages)
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod oracle;
#[cfg(test)]
mod tests;
