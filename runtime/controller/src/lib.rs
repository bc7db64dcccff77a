//! The Strand controller (in progress).
