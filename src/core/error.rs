//! The core's one error type. Every message names what was wrong and where, in a fixed shape:
//! `"<subject>: <field> <problem>"`, e.g. `Product Added: price must be a finite, non-negative
//! number` or `init: flushAt must be an integer from 1 to 500`. The bindings pass the message
//! through unchanged as a JavaScript `Error`.

use crate::core::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// What was being processed: an event name, `init`, `identify`, `batch[3]`…
    pub subject: String,
    /// The field at fault (`price`, `products[2].quantity`); empty when the subject itself is.
    pub field: String,
    pub problem: String,
}

impl Error {
    pub fn new(subject: &str, field: &str, problem: &str) -> Error {
        Error {
            subject: subject.into(),
            field: field.into(),
            problem: problem.into(),
        }
    }

    pub fn message(&self) -> String {
        let mut out = String::with_capacity(self.subject.len() + self.field.len() + self.problem.len() + 3);
        out.push_str(&self.subject);
        out.push_str(": ");
        if !self.field.is_empty() {
            out.push_str(&self.field);
            out.push(' ');
        }
        out.push_str(&self.problem);
        out
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_subject_and_field() {
        assert_eq!(
            Error::new("Product Added", "price", "must be a finite, non-negative number").message(),
            "Product Added: price must be a finite, non-negative number"
        );
        assert_eq!(
            Error::new("track", "", "event name is missing").to_string(),
            "track: event name is missing"
        );
    }
}
