//! TODO stage stub
