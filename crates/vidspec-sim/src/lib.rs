//! Simulator: placeholder.
