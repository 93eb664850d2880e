//! MSH-18 character sets. The bytes received are turned into text before
//! parsing, by the character set the message declares: empty or `ASCII`
//! (7-bit; UTF-8 accepted as a superset, since many senders leave MSH-18
//! empty and send UTF-8; bytes that are not UTF-8 are read as 8859/1 and
//! reported as [`Charset::Latin1Assumed`] so the acknowledgement can warn),
//! `8859/1` (Latin-1, every byte one character) and `UNICODE UTF-8` (bytes
//! that are not UTF-8 are refused). Other sets are refused with a clear
//! error rather than guessed.

use std::borrow::Cow;

use super::Hl7Error;

/// A character set we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// MSH-18 empty or `ASCII`.
    Ascii,
    /// `8859/1`.
    Latin1,
    /// `UNICODE UTF-8`.
    Utf8,
    /// MSH-18 empty or `ASCII`, but the bytes are not UTF-8: read as
    /// 8859/1, the one set where every byte is a character. The caller
    /// should say so (a warning in the acknowledgement).
    Latin1Assumed,
}

impl Charset {
    /// Reads an MSH-18 value.
    pub fn from_msh18(value: &str) -> Result<Charset, Hl7Error> {
        match value.trim() {
            "" | "ASCII" => Ok(Charset::Ascii),
            "8859/1" => Ok(Charset::Latin1),
            "UNICODE UTF-8" => Ok(Charset::Utf8),
            other => Err(Hl7Error::UnsupportedCharset {
                charset: other.to_owned(),
            }),
        }
    }

    /// How MSH-18 says it.
    pub fn msh18(self) -> &'static str {
        match self {
            Charset::Ascii => "ASCII",
            Charset::Latin1 | Charset::Latin1Assumed => "8859/1",
            Charset::Utf8 => "UNICODE UTF-8",
        }
    }
}

/// Turns received bytes into text by the character set in their MSH-18.
/// Returns the text and the set used.
pub fn decode_bytes(bytes: &[u8]) -> Result<(Cow<'_, str>, Charset), Hl7Error> {
    let charset = Charset::from_msh18(&msh18(bytes))?;
    let (text, charset) = match (charset, std::str::from_utf8(bytes)) {
        (Charset::Ascii | Charset::Utf8, Ok(text)) => (Cow::Borrowed(text), charset),
        (Charset::Latin1, Ok(text)) if bytes.is_ascii() => (Cow::Borrowed(text), charset),
        (Charset::Latin1 | Charset::Latin1Assumed, _) => (latin1(bytes), charset),
        (Charset::Ascii, Err(_)) => (latin1(bytes), Charset::Latin1Assumed),
        (Charset::Utf8, Err(error)) => {
            return Err(Hl7Error::BadEncoding {
                charset: "UTF-8",
                reason: format!(
                    "byte {:#04x} at offset {} (MSH-18 says UNICODE UTF-8)",
                    bytes[error.valid_up_to()],
                    error.valid_up_to()
                ),
            });
        }
    };
    Ok((text, charset))
}

fn latin1(bytes: &[u8]) -> Cow<'_, str> {
    Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect())
}

/// MSH-18's first repetition, read from the bytes of the first segment
/// (the separators are ASCII in every set we read). Empty when absent.
fn msh18(bytes: &[u8]) -> String {
    let start = bytes
        .windows(3)
        .position(|window| window == b"MSH")
        .unwrap_or(0);
    let segment = &bytes[start..];
    let end = segment
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(segment.len());
    let segment = &segment[..end];
    let (Some(&field), Some(&repetition)) = (segment.get(3), segment.get(5)) else {
        return String::new();
    };
    // Split index n holds MSH-(n+1).
    let value = segment.split(|&b| b == field).nth(17).unwrap_or_default();
    let first = value.split(|&b| b == repetition).next().unwrap_or_default();
    String::from_utf8_lossy(first).into_owned()
}
