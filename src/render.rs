//! Renders diagnostics with ariadne (the only file that imports it).
