//! Chains the pipeline stages.
