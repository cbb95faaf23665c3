//! Transport: placeholder.
