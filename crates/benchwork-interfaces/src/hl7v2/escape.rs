//! HL7 v2 escape sequences (v2.5.1 chapter 2.7): `\F\ \S\ \T\ \R\ \E\`
//! (the separators and the escape character), `\P\` (truncation, v2.7),
//! `\Xhh…\` (hexadecimal data), the formatting commands `\.br\` and
//! `\.sp n\` (line breaks) and the highlighting `\H\ \N\` (dropped from
//! plain text). Anything else between escape characters (`\Zxx\` local
//! escapes, `\C…\`/`\M…\` character-set switches) is kept as written, and
//! an escape character without its closing partner is kept literally: the
//! reader sees what was sent rather than a guess.

use std::borrow::Cow;

use super::Delimiters;

/// Decodes the escape sequences of one value (a component or
/// subcomponent). Borrows when there is nothing to decode.
pub fn unescape<'a>(raw: &'a str, delimiters: &Delimiters) -> Cow<'a, str> {
    let Some(escape) = delimiters.escape else {
        return Cow::Borrowed(raw);
    };
    if !raw.contains(escape) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find(escape) {
        out.push_str(&rest[..start]);
        let after = &rest[start + escape.len_utf8()..];
        let Some(end) = after.find(escape) else {
            // No closing escape character: keep the rest as written.
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let sequence = &after[..end];
        if !decode_sequence(sequence, delimiters, &mut out) {
            out.push(escape);
            out.push_str(sequence);
            out.push(escape);
        }
        rest = &after[end + escape.len_utf8()..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Appends what `sequence` (between the escape characters) stands for;
/// `false` when it is not one we decode.
fn decode_sequence(sequence: &str, delimiters: &Delimiters, out: &mut String) -> bool {
    match sequence {
        "F" => out.push(delimiters.field),
        "S" => out.push(delimiters.component),
        "T" => out.push(delimiters.subcomponent),
        "R" => out.push(delimiters.repetition),
        "E" => match delimiters.escape {
            Some(escape) => out.push(escape),
            None => return false,
        },
        "P" => match delimiters.truncation {
            Some(truncation) => out.push(truncation),
            None => out.push('#'),
        },
        ".br" => out.push('\n'),
        "H" | "N" => {}
        _ if sequence.starts_with(".sp") => {
            let count = sequence[3..].trim();
            let count: usize = if count.is_empty() {
                1
            } else {
                match count.parse() {
                    Ok(count) if count <= 100 => count,
                    _ => return false,
                }
            };
            out.extend(std::iter::repeat_n('\n', count));
        }
        _ if sequence.starts_with('X') => return decode_hex(&sequence[1..], out),
        _ => return false,
    }
    true
}

/// `\Xhhhh\`: bytes in hexadecimal, read as UTF-8 when they are valid
/// UTF-8 and as ISO 8859-1 otherwise.
fn decode_hex(hex: &str, out: &mut String) -> bool {
    if hex.is_empty() || !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return false;
    }
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).unwrap_or(0))
        .collect();
    match std::str::from_utf8(&bytes) {
        Ok(text) => out.push_str(text),
        Err(_) => out.extend(bytes.iter().map(|&b| char::from(b))),
    }
    true
}

/// Escapes text for one value: the separators, the escape character and
/// the truncation character become escape sequences, and line breaks
/// (`\n`, `\r\n`, `\r`) become `\.br\`, so the text cannot break the
/// message's structure. Borrows when nothing needs escaping.
pub fn escape<'a>(text: &'a str, delimiters: &Delimiters) -> Cow<'a, str> {
    let special = |c: char| {
        c == delimiters.field
            || c == delimiters.component
            || c == delimiters.repetition
            || c == delimiters.subcomponent
            || Some(c) == delimiters.escape
            || Some(c) == delimiters.truncation
            || c == '\r'
            || c == '\n'
    };
    if !text.contains(special) {
        return Cow::Borrowed(text);
    }
    let Some(escape) = delimiters.escape else {
        // Without an escape character nothing can be escaped: drop the
        // separators rather than break the structure.
        return Cow::Owned(text.chars().filter(|&c| !special(c)).collect());
    };
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let code = if c == delimiters.field {
            "F"
        } else if c == delimiters.component {
            "S"
        } else if c == delimiters.subcomponent {
            "T"
        } else if c == delimiters.repetition {
            "R"
        } else if Some(c) == delimiters.escape {
            "E"
        } else if Some(c) == delimiters.truncation {
            "P"
        } else if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            ".br"
        } else if c == '\n' {
            ".br"
        } else {
            out.push(c);
            continue;
        };
        out.push(escape);
        out.push_str(code);
        out.push(escape);
    }
    Cow::Owned(out)
}
