//! Examples built on Strand.
