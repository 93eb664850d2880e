//! What a form needs to be shown again after a refused submission: what
//! the person typed, and what is wrong with each field.

use std::collections::HashMap;

use benchwork_app::FieldError;

/// A form's values and errors.
#[derive(Debug, Clone, Default)]
pub struct FormState {
    values: HashMap<String, Vec<String>>,
    errors: Vec<FieldError>,
}

impl FormState {
    /// A form filled from submitted fields.
    pub fn from_fields(fields: &[(String, String)]) -> FormState {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        for (key, value) in fields {
            values.entry(key.clone()).or_default().push(value.clone());
        }
        FormState {
            values,
            errors: Vec::new(),
        }
    }

    /// Sets a value (for forms shown with defaults).
    pub fn set(&mut self, field: &str, value: impl Into<String>) {
        self.values.insert(field.to_owned(), vec![value.into()]);
    }

    /// Sets every value of a multi-valued field.
    pub fn set_all(&mut self, field: &str, values: Vec<String>) {
        self.values.insert(field.to_owned(), values);
    }

    /// Records the errors to show.
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> FormState {
        self.errors = errors
            .into_iter()
            .map(|error| FieldError {
                message: sentence(&error.message),
                field: error.field,
            })
            .collect();
        self
    }

    /// The first value typed in `field`, or empty.
    pub fn value(&self, field: &str) -> &str {
        self.values
            .get(field)
            .and_then(|values| values.first())
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Every value of a multi-valued field (checkboxes).
    pub fn values(&self, field: &str) -> Vec<String> {
        self.values.get(field).cloned().unwrap_or_default()
    }

    /// Whether a checkbox or option with `value` was chosen in `field`.
    pub fn has(&self, field: &str, value: &str) -> bool {
        self.values
            .get(field)
            .is_some_and(|values| values.iter().any(|chosen| chosen == value))
    }

    /// The error for `field`, if any.
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|error| error.field == field)
            .map(|error| error.message.as_str())
    }

    /// Every error, for the error summary.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// Whether there is anything to summarise.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// Capitalises the first letter of an error message for display.
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}
