//! Benchmarks for keyring watching (issue #5). Run with `cargo bench --bench keyring` (about
//! 80 s: 60 s of it idle). A real gnome-keyring on a private session bus, as in the tests.
//!
//! Latency is measured from the moment `secret-tool` (the writer) exits to the moment the new
//! state is published, and against a baseline from the same run: one `secret-tool lookup`, what a
//! checker that asks the keyring each time pays per check. Idle cost compares, over the same
//! 60 s, a daemon watching 10 keyring items (default 30 s `Modified` poll) with one watching a
//! file only.

#[allow(dead_code)]
#[path = "../tests/integration/harness.rs"]
mod harness;

#[allow(dead_code)]
#[path = "../tests/integration/bus.rs"]
mod bus;
#[allow(dead_code)]
mod support;

use harness::{claude_login, context_switches_by_thread, TestHome};
use std::time::{Duration, Instant};
use support::{memory_kib, ms, percentile, PublishWatch};

const ITEMS: usize = 10;
const ROUNDS: usize = 30;

/// CPU ms of a process so far (utime + stime, all threads, exited ones included).
fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    // After the command name: utime and stime are fields 14 and 15 of proc(5).
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 * 10.0
}

/// Context switches between two samples: growth of threads seen twice, plus all of new threads
/// (threads that ended in between are not counted: a lower bound when threads come and go).
fn switches_between(
    before: &std::collections::BTreeMap<String, u64>,
    after: &std::collections::BTreeMap<String, u64>,
) -> u64 {
    after
        .iter()
        .map(|(task, n)| n - before.get(task).copied().unwrap_or(0).min(*n))
        .sum()
}

/// "VmRSS (anonymous + file-backed)" from /proc/PID/status, in KiB.
fn rss_kib(pid: u32) -> String {
    format!(
        "{} ({} + {})",
        memory_kib(pid, "VmRSS:"),
        memory_kib(pid, "RssAnon:"),
        memory_kib(pid, "RssFile:")
    )
}

fn main() {
    let mut home = TestHome::new();
    let bus = home.start_keyring();
    let mut config = String::new();
    for i in 0..ITEMS {
        config.push_str(&format!(
            "[[credential]]\nname = \"api{i}\"\nkeyring = {{ service = \"cw-bench-{i}\", account = \"me\" }}\n\n"
        ));
    }
    home.write_config(&config);
    for i in 1..ITEMS {
        bus.store_item(
            &["service", &format!("cw-bench-{i}"), "username", "me"],
            "not-a-real-token",
        );
    }
    let runtime = home.credwatch_runtime();
    let daemon = home.start_daemon(&[]);
    let watch = PublishWatch::new(&runtime);
    watch.wait_for("api1", "ok");
    watch.wait_for("api0", "missing");

    let mut baseline = Vec::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let code = bus.secret_tool(&["lookup", "service", "cw-bench-1", "username", "me"], None);
        assert_eq!(code, 0);
        baseline.push(started.elapsed());
    }
    let attributes = ["service", "cw-bench-0", "username", "me"];
    let (mut created, mut deleted) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        bus.store_item(&attributes, "not-a-real-token");
        let written = Instant::now();
        created.push(watch.wait_for("api0", "ok") - written);
        bus.clear_item(&attributes);
        let cleared = Instant::now();
        deleted.push(watch.wait_for("api0", "missing") - cleared);
    }
    println!("| keyring item change → published state ({ROUNDS} each, {ITEMS} items watched) | p50 ms | p95 ms |");
    println!("|---|---:|---:|");
    println!(
        "| baseline: one `secret-tool lookup` (a checker that asks each time) | {} | {} |",
        ms(percentile(&mut baseline, 0.5)),
        ms(percentile(&mut baseline, 0.95))
    );
    println!(
        "| item created (secret-tool store exits) → `ok` published | {} | {} |",
        ms(percentile(&mut created, 0.5)),
        ms(percentile(&mut created, 0.95))
    );
    println!(
        "| item deleted (secret-tool clear exits) → `missing` published | {} | {} |",
        ms(percentile(&mut deleted, 0.5)),
        ms(percentile(&mut deleted, 0.95))
    );
    println!();

    // Idle: this daemon (10 keyring items, 30 s poll) against a file-only one, same 60 s.
    bus.store_item(&attributes, "not-a-real-token");
    watch.wait_for("api0", "ok");
    let files_only = TestHome::new();
    files_only.write(".claude/.credentials.json", claude_login(true));
    let file_daemon = files_only.start_daemon(&[]);
    std::thread::sleep(Duration::from_secs(2));
    let pid = daemon.child.id();
    let file_pid = file_daemon.child.id();
    let (cpu0, sw0, threads0) = (
        cpu_ms(pid),
        context_switches_by_thread(pid),
        context_switches_by_thread(pid).len(),
    );
    let (fcpu0, fsw0) = (cpu_ms(file_pid), context_switches_by_thread(file_pid));
    std::thread::sleep(Duration::from_secs(60));
    let (cpu1, sw1) = (cpu_ms(pid), context_switches_by_thread(pid));
    let (fcpu1, fsw1) = (cpu_ms(file_pid), context_switches_by_thread(file_pid));
    println!("| idle 60 s | CPU ms | wake-ups (context switches) | threads | RSS KiB (anonymous + file-backed) |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| baseline: daemon watching one file | {:.0} | {} | {} | {} |",
        fcpu1 - fcpu0,
        switches_between(&fsw0, &fsw1),
        fsw1.len(),
        rss_kib(file_pid)
    );
    println!(
        "| daemon watching {ITEMS} keyring items, `Modified` poll every 30 s | {:.0} | {} | {threads0} → {} | {} |",
        cpu1 - cpu0,
        switches_between(&sw0, &sw1),
        sw1.len(),
        rss_kib(pid)
    );
}
