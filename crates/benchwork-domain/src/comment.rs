//! Result comments (issue 3 item 5): a department's library of coded
//! comments ("HAEM: Sample haemolysed: potassium may be falsely raised")
//! and the comments added to a result, coded from the library or free text.

use crate::incident::has_control_characters;

id_type!(
    /// A coded comment of a department's library.
    CommentCodeId
);

id_type!(
    /// A comment added to a result.
    ResultCommentId
);

/// The longest comment text accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 500;

/// Why a comment or library entry was refused. Messages are shown next to
/// the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommentError {
    /// The code has the wrong form.
    #[error(
        "enter a code of 1 to 20 capital letters, digits or hyphens, starting with a letter (for example HAEM)"
    )]
    InvalidCode,
    /// Empty text.
    #[error("enter the comment's text")]
    Empty,
    /// Too long.
    #[error("enter at most 500 characters")]
    TooLong,
    /// Control characters (NUL and the like).
    #[error("the comment contains characters that cannot be stored (such as NUL): remove them")]
    ControlCharacters,
}

/// A library comment's code: `HAEM`, `LIPM`, `REPT`.
///
/// Invariant: 1 to 20 ASCII capital letters, digits or hyphens, starting
/// with a letter; typed lower case is raised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommentCode(String);

impl CommentCode {
    /// Validates a code.
    pub fn parse(text: &str) -> Result<CommentCode, CommentError> {
        let code = text.trim().to_ascii_uppercase();
        let valid = (1..=20).contains(&code.len())
            && code.starts_with(|c: char| c.is_ascii_uppercase())
            && code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if valid {
            Ok(CommentCode(code))
        } else {
            Err(CommentError::InvalidCode)
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Validates a comment's text: trimmed, 1 to [`MAX_COMMENT_CHARS`]
/// characters, no control characters except line breaks and tabs.
pub fn comment_text(text: &str) -> Result<String, CommentError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(CommentError::Empty);
    }
    if has_control_characters(text, true) {
        return Err(CommentError::ControlCharacters);
    }
    if text.chars().count() > MAX_COMMENT_CHARS {
        return Err(CommentError::TooLong);
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_code_is_raised_to_capitals() {
        assert_eq!(CommentCode::parse(" haem ").unwrap().as_str(), "HAEM");
    }
    #[test]
    fn a_comment_code_with_spaces_or_a_leading_digit_is_refused() {
        assert_eq!(CommentCode::parse("HA EM"), Err(CommentError::InvalidCode));
        assert_eq!(CommentCode::parse("1HAEM"), Err(CommentError::InvalidCode));
        assert_eq!(CommentCode::parse(""), Err(CommentError::InvalidCode));
    }
    #[test]
    fn comment_text_is_trimmed_and_may_span_lines() {
        assert_eq!(
            comment_text("  Lipaemic\nsample ").unwrap(),
            "Lipaemic\nsample"
        );
    }
    #[test]
    fn empty_long_or_nul_comment_text_is_refused() {
        assert_eq!(comment_text("  "), Err(CommentError::Empty));
        assert_eq!(comment_text(&"x".repeat(501)), Err(CommentError::TooLong));
        assert_eq!(
            comment_text("bad\0text"),
            Err(CommentError::ControlCharacters)
        );
        assert!(comment_text(&"x".repeat(500)).is_ok());
    }
}
