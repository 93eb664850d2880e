//! Writing HL7 v2: a small builder that escapes every text value it is
//! given (so data can never break the structure), and the general
//! acknowledgement (ACK) with MSA and ERR segments (DOMAIN.md §6.1–6.2).

use super::{Delimiters, Header, Hl7Error, Location, escape};

/// Builds a message segment by segment; [`MessageBuilder::build`] joins
/// them with CR.
#[derive(Debug, Clone, Default)]
pub struct MessageBuilder {
    delimiters: Delimiters,
    segments: Vec<String>,
}

/// One segment's fields, indexed by field number.
#[derive(Debug, Clone)]
pub struct SegmentBuilder {
    name: String,
    delimiters: Delimiters,
    /// `fields[n]` is field n; `fields[0]` is unused.
    fields: Vec<String>,
}

impl MessageBuilder {
    /// A message with the usual separators `|^~\&`.
    pub fn new() -> MessageBuilder {
        MessageBuilder::default()
    }

    /// A message with other separators.
    pub fn with_delimiters(delimiters: Delimiters) -> MessageBuilder {
        MessageBuilder {
            delimiters,
            segments: Vec::new(),
        }
    }

    /// A new segment using this message's separators; add it with
    /// [`MessageBuilder::push`].
    pub fn segment(&self, name: &str) -> SegmentBuilder {
        SegmentBuilder {
            name: name.to_owned(),
            delimiters: self.delimiters,
            fields: vec![String::new()],
        }
    }

    /// Appends a segment.
    pub fn push(&mut self, segment: SegmentBuilder) -> &mut MessageBuilder {
        self.segments.push(segment.encode());
        self
    }

    /// The message: segments ended by CR.
    pub fn build(&self) -> String {
        let mut out = String::with_capacity(self.segments.iter().map(|s| s.len() + 1).sum());
        for segment in &self.segments {
            out.push_str(segment);
            out.push('\r');
        }
        out
    }
}

impl SegmentBuilder {
    /// Field `n` as one text value, escaped.
    pub fn text(mut self, n: usize, text: &str) -> SegmentBuilder {
        let value = escape(text, &self.delimiters).into_owned();
        self.set(n, value);
        self
    }

    /// Field `n` as components, each escaped (trailing empty components
    /// are left out).
    pub fn components(mut self, n: usize, components: &[&str]) -> SegmentBuilder {
        let value = self.join_components(components);
        self.set(n, value);
        self
    }

    /// Field `n` as repetitions of components, each escaped.
    pub fn repetitions(mut self, n: usize, repetitions: &[&[&str]]) -> SegmentBuilder {
        let value = repetitions
            .iter()
            .map(|components| self.join_components(components))
            .collect::<Vec<_>>()
            .join(&self.delimiters.repetition.to_string());
        self.set(n, value);
        self
    }

    /// Field `n` exactly as given, for values already encoded (such as
    /// MSH-2 or a field copied from a received message).
    pub fn raw(mut self, n: usize, raw: &str) -> SegmentBuilder {
        self.set(n, raw.to_owned());
        self
    }

    fn join_components(&self, components: &[&str]) -> String {
        let used = components
            .iter()
            .rposition(|component| !component.is_empty())
            .map_or(0, |last| last + 1);
        components[..used]
            .iter()
            .map(|component| escape(component, &self.delimiters))
            .collect::<Vec<_>>()
            .join(&self.delimiters.component.to_string())
    }

    fn set(&mut self, n: usize, value: String) {
        if n == 0 || (self.name == "MSH" && n <= 2) {
            return;
        }
        if self.fields.len() <= n {
            self.fields.resize(n + 1, String::new());
        }
        self.fields[n] = value;
    }

    fn encode(&self) -> String {
        let separator = self.delimiters.field.to_string();
        let mut out = self.name.clone();
        if self.name == "MSH" {
            out.push(self.delimiters.field);
            out.push_str(&self.delimiters.encoding_characters());
            for field in self.fields.iter().skip(3) {
                out.push_str(&separator);
                out.push_str(field);
            }
        } else {
            for field in self.fields.iter().skip(1) {
                out.push_str(&separator);
                out.push_str(field);
            }
        }
        out
    }
}

/// MSA-1: the acknowledgement code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckCode {
    /// Application accept: processed and durably stored.
    Accept,
    /// Application error: could not be processed (kept for staff to see).
    Error,
    /// Application reject: refused (unknown sender, unsupported message).
    Reject,
    /// Commit accept (enhanced mode).
    CommitAccept,
    /// Commit error (enhanced mode).
    CommitError,
    /// Commit reject (enhanced mode).
    CommitReject,
}

impl AckCode {
    /// The code as sent in MSA-1.
    pub fn code(self) -> &'static str {
        match self {
            AckCode::Accept => "AA",
            AckCode::Error => "AE",
            AckCode::Reject => "AR",
            AckCode::CommitAccept => "CA",
            AckCode::CommitError => "CE",
            AckCode::CommitReject => "CR",
        }
    }
}

/// One ERR segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckError {
    /// Where (ERR-2), if known.
    pub location: Option<Location>,
    /// HL7 error code, table 0357 (ERR-3.1).
    pub code: &'static str,
    /// Its text (ERR-3.2).
    pub code_text: &'static str,
    /// `E` error, `W` warning, `I` information (ERR-4).
    pub severity: char,
    /// What is wrong, for a person (ERR-8).
    pub message: String,
}

impl AckError {
    /// The ERR segment for a parsing error.
    pub fn from_error(error: &Hl7Error) -> AckError {
        let (code, code_text) = error.code();
        AckError {
            location: error.location().cloned(),
            code,
            code_text,
            severity: 'E',
            message: error.to_string(),
        }
    }

    /// An application error (code 207) with a message.
    pub fn application(message: impl Into<String>) -> AckError {
        AckError {
            location: None,
            code: "207",
            code_text: "Application internal error",
            severity: 'E',
            message: message.into(),
        }
    }
}

/// Who sends an acknowledgement and its own identity for MSH.
#[derive(Debug, Clone, Copy)]
pub struct AckFrom<'s> {
    /// MSH-3 of the ACK (our application).
    pub application: &'s str,
    /// MSH-4 of the ACK (our facility).
    pub facility: &'s str,
    /// MSH-10 of the ACK.
    pub control_id: &'s str,
    /// MSH-7 of the ACK, `YYYYMMDDHHMMSS+ZZZZ`.
    pub date_time: &'s str,
}

/// The general acknowledgement of a message: MSH addressed back to its
/// sender, MSA with the code and the acknowledged MSH-10, and one ERR per
/// error. `original` is `None` when the message's header could not be read
/// (the ACK then acknowledges an empty control id, version 2.5.1).
/// Before v2.5 the ERR segment uses the old single-field layout and MSA-3
/// carries the first error's text.
pub fn ack(
    original: Option<&Header<'_>>,
    code: AckCode,
    errors: &[AckError],
    from: AckFrom<'_>,
) -> String {
    let mut message = MessageBuilder::new();
    let version = original.map_or("2.5.1", |header| header.version);
    let old_err = matches!(version, "2.1" | "2.2" | "2.3" | "2.3.1" | "2.4");
    let trigger = original.map_or("", |header| header.trigger_event);
    let msh = message
        .segment("MSH")
        .text(3, from.application)
        .text(4, from.facility)
        .text(5, original.map_or("", |header| &header.sending_application))
        .text(6, original.map_or("", |header| &header.sending_facility))
        .text(7, from.date_time)
        .components(9, &["ACK", trigger, "ACK"])
        .text(10, from.control_id)
        .text(11, original.map_or("P", |header| header.processing_id))
        .text(12, version);
    message.push(msh);
    let mut msa = message
        .segment("MSA")
        .text(1, code.code())
        .text(2, original.map_or("", |header| &header.control_id));
    if old_err && let Some(first) = errors.first() {
        msa = msa.text(3, &first.message);
    }
    message.push(msa);
    for error in errors {
        let location = error.location.as_ref();
        let segment = location.map_or(String::new(), |l| l.segment.clone());
        let sequence = location.map_or(String::new(), |l| l.sequence.to_string());
        let field = location
            .and_then(|l| l.field)
            .map_or(String::new(), |f| f.to_string());
        let err = if old_err {
            let sub = message.delimiters.subcomponent.to_string();
            let code = format!(
                "{}{sub}{}",
                escape(error.code, &message.delimiters),
                escape(error.code_text, &message.delimiters)
            );
            let components = [
                escape(&segment, &message.delimiters).into_owned(),
                sequence,
                field,
                code,
            ];
            message.segment("ERR").raw(
                1,
                &components.join(&message.delimiters.component.to_string()),
            )
        } else {
            message
                .segment("ERR")
                .components(2, &[&segment, &sequence, &field])
                .components(3, &[error.code, error.code_text, "HL70357"])
                .text(4, &error.severity.to_string())
                .text(8, &error.message)
        };
        message.push(err);
    }
    message.build()
}
