//! What the benchmarks share: percentiles, /proc readings, and watching the daemon publish.

use notify::Watcher;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub fn percentile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * q).round() as usize]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

pub fn memory_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap()
}

/// Watches the runtime dir from this process, to see publications as they land.
pub struct PublishWatch {
    _watcher: notify::RecommendedWatcher,
    events: mpsc::Receiver<notify::Result<notify::Event>>,
    status: PathBuf,
}

impl PublishWatch {
    pub fn new(runtime: &Path) -> Self {
        let (tx, events) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(tx).unwrap();
        watcher
            .watch(runtime, notify::RecursiveMode::NonRecursive)
            .unwrap();
        PublishWatch {
            _watcher: watcher,
            events,
            status: runtime.join("status.json"),
        }
    }

    pub fn state(&self, name: &str) -> Option<String> {
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&self.status).ok()?).ok()?;
        doc["credentials"]
            .as_array()?
            .iter()
            .find(|c| c["name"] == name)?["state"]
            .as_str()
            .map(String::from)
    }

    /// Whether the published prompt line names `name` as broken.
    pub fn prompt_names(&self, name: &str) -> Option<bool> {
        let line = std::fs::read_to_string(self.status.with_file_name("prompt")).ok()?;
        let message = line.splitn(4, ' ').nth(3)?.trim_end();
        Some(message.split([',', ' ']).any(|n| n == name))
    }

    /// Blocks until the prompt line names `name` as broken (or not); returns when that was seen.
    pub fn wait_for_prompt(&self, name: &str, broken: bool) -> Instant {
        self.wait_until(&format!("{name} broken={broken}"), || {
            self.prompt_names(name) == Some(broken)
        })
    }

    /// Blocks until `name` is published in `state`; returns when that was seen.
    pub fn wait_for(&self, name: &str, state: &str) -> Instant {
        self.wait_until(&format!("{name} {state}"), || {
            self.state(name).as_deref() == Some(state)
        })
    }

    /// Runs `act`, then waits (10 s at most) for status.json to be put in place again (the
    /// rename of the daemon's atomic write, seen in this process); returns the time from just
    /// before `act` to that event.
    pub fn time_to_next_publication(&self, act: impl FnOnce()) -> Duration {
        use notify::event::{EventKind, ModifyKind, RenameMode};
        while self.events.try_recv().is_ok() {}
        let started = Instant::now();
        act();
        let deadline = started + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "status.json was not published again within 10 s"
            );
            let Ok(Ok(event)) = self.events.recv_timeout(left) else {
                continue;
            };
            // One event per publication: the rename's destination. (The temp file is closed
            // after the rename, so its close is reported under the name status.json too: not a
            // second publication.)
            let put_in_place = matches!(
                event.kind,
                EventKind::Modify(ModifyKind::Name(RenameMode::To))
            );
            if put_in_place && event.paths.iter().any(|p| p == &self.status) {
                return started.elapsed();
            }
        }
    }

    /// Checks `published` at each event in the runtime dir (10 s at most).
    pub fn wait_until(&self, what: &str, published: impl Fn() -> bool) -> Instant {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if published() {
                return Instant::now();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "never published: {what}");
            let _ = self
                .events
                .recv_timeout(left.min(Duration::from_millis(50)));
            while self.events.try_recv().is_ok() {}
        }
    }
}
