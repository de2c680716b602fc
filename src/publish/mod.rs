//! What credwatch publishes for others to read: the `status --json` document, the prompt file
//! the shell hooks read, and Prometheus metrics; and the read path of the commands that show it
//! (`current`).

pub mod current;
pub mod desktop;
pub mod metrics;
pub mod prompt;
pub mod report;
