//! The Strand participant (in progress).
