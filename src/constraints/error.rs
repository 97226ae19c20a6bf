// SPDX-License-Identifier: MPL-2.0

//! The errors of getUserMedia and applyConstraints (docs/errors.md).

use serde_json::json;
use std::fmt;

/// The DOMException / TypeError names the plugin reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorName {
    TypeError,
    NotFoundError,
    OverconstrainedError,
    NotReadableError,
    /// applyConstraints on a track that is not started or has ended.
    InvalidStateError,
    /// getUserMedia failed for a reason none of the others name: the
    /// GStreamer plumbing (adding or linking the track's elements).
    AbortError,
    /// MediaRecorder: a type it cannot record.
    NotSupportedError,
    /// MediaRecorder: the track set changed while recording.
    InvalidModificationError,
    /// MediaRecorder: the recording failed (an element of it, the file).
    UnknownError,
}

impl ErrorName {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorName::TypeError => "TypeError",
            ErrorName::NotFoundError => "NotFoundError",
            ErrorName::OverconstrainedError => "OverconstrainedError",
            ErrorName::NotReadableError => "NotReadableError",
            ErrorName::InvalidStateError => "InvalidStateError",
            ErrorName::AbortError => "AbortError",
            ErrorName::NotSupportedError => "NotSupportedError",
            ErrorName::InvalidModificationError => "InvalidModificationError",
            ErrorName::UnknownError => "UnknownError",
        }
    }
}

/// An error with the W3C name, the failing constraint (OverconstrainedError
/// only) and a message that names what failed and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintError {
    name: ErrorName,
    constraint: Option<String>,
    message: String,
    /// The GStreamer element a track needs and that is not installed.
    missing_element: Option<String>,
    /// Writing a file failed (the recorder's `location`).
    write_failed: bool,
}

impl ConstraintError {
    pub fn type_error(message: impl Into<String>) -> Self {
        ConstraintError {
            name: ErrorName::TypeError,
            constraint: None,
            message: message.into(),
            missing_element: None,
            write_failed: false,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ConstraintError {
            name: ErrorName::NotFoundError,
            constraint: None,
            message: message.into(),
            missing_element: None,
            write_failed: false,
        }
    }

    pub fn invalid_state(message: impl Into<String>) -> Self {
        ConstraintError {
            name: ErrorName::InvalidStateError,
            constraint: None,
            message: message.into(),
            missing_element: None,
            write_failed: false,
        }
    }

    pub fn not_readable(message: impl Into<String>) -> Self {
        ConstraintError {
            name: ErrorName::NotReadableError,
            constraint: None,
            message: message.into(),
            missing_element: None,
            write_failed: false,
        }
    }

    /// The track's elements could not be put together: not the device's
    /// fault nor the constraints' (GStreamer's `CORE_ERROR_FAILED`).
    pub fn abort(message: impl Into<String>) -> Self {
        ConstraintError {
            name: ErrorName::AbortError,
            constraint: None,
            message: message.into(),
            missing_element: None,
            write_failed: false,
        }
    }

    /// The crate's W3C errors are this one type (constraints, tracks and
    /// the recorder): an error of `name`.
    fn named(name: ErrorName, message: impl Into<String>) -> Self {
        ConstraintError {
            name,
            constraint: None,
            message: message.into(),
            missing_element: None,
            write_failed: false,
        }
    }

    pub fn not_supported(message: impl Into<String>) -> Self {
        Self::named(ErrorName::NotSupportedError, message)
    }

    pub fn invalid_modification(message: impl Into<String>) -> Self {
        Self::named(ErrorName::InvalidModificationError, message)
    }

    pub fn unknown(message: impl Into<String>) -> Self {
        Self::named(ErrorName::UnknownError, message)
    }

    /// Writing a file failed: UnknownError for the W3C side,
    /// `RESOURCE_ERROR_WRITE` for GStreamer's.
    pub fn write_failed(message: impl Into<String>) -> Self {
        ConstraintError {
            write_failed: true,
            ..Self::unknown(message)
        }
    }

    /// `self`, also naming the element (or alternatives) not installed
    /// that caused it.
    pub fn missing_element_too(mut self, factory: Option<String>) -> Self {
        self.missing_element = factory;
        self
    }

    /// A [`ConstraintError::write_failed`].
    pub fn is_write_failure(&self) -> bool {
        self.write_failed
    }

    /// `message` is the explanation after the constraint name.
    pub fn overconstrained(constraint: &str, message: impl AsRef<str>) -> Self {
        ConstraintError {
            name: ErrorName::OverconstrainedError,
            constraint: Some(constraint.to_owned()),
            message: format!("{constraint}: {}", message.as_ref()),
            missing_element: None,
            write_failed: false,
        }
    }

    /// A track cannot start because the GStreamer element `factory` is not
    /// installed: a NotReadableError for the W3C side, a missing plugin for
    /// GStreamer's (`CORE_ERROR_MISSING_PLUGIN`).
    pub fn missing_element(factory: &str) -> Self {
        ConstraintError {
            missing_element: Some(factory.to_owned()),
            ..ConstraintError::not_readable(format!(
                "the element '{factory}' is missing: install the GStreamer plugin that provides it"
            ))
        }
    }

    /// The element a [`ConstraintError::missing_element`] names.
    pub fn missing(&self) -> Option<&str> {
        self.missing_element.as_deref()
    }

    pub fn error_name(&self) -> ErrorName {
        self.name
    }

    pub fn name(&self) -> &'static str {
        self.name.as_str()
    }

    pub fn constraint(&self) -> Option<&str> {
        self.constraint.as_deref()
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// `{"name": .., "constraint": .., "message": ..}`; `constraint` only for
    /// OverconstrainedError.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = json!({ "name": self.name() });
        if let Some(c) = &self.constraint {
            v["constraint"] = json!(c);
        }
        v["message"] = json!(self.message);
        v
    }
}

impl fmt::Display for ConstraintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name(), self.message)
    }
}

impl std::error::Error for ConstraintError {}
