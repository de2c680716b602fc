//! What credwatch publishes for others to read: the `status --json` document, the prompt file
//! the shell hooks read, and Prometheus metrics.

pub mod desktop;
pub mod metrics;
pub mod prompt;
pub mod report;
