//! Benchmark: `credwatch status` evaluating every preset on a realistic HOME.
//!
//! Run with `cargo bench --bench status` (release build). It prints a Markdown table for
//! BENCHMARKS.md: wall time per run, with baselines measured in the same run so that a loaded or
//! slower machine shows in the baselines too (`/bin/true` = the cost of starting any process,
//! `credwatch --version` = starting this binary and doing nothing).
//! Goal (issue #2): `status` median ≤ 5 ms.
//!
//! `CREDWATCH_BENCH_BASELINE=/path/to/another/credwatch` adds the same rows for that binary (an
//! earlier build), timed in the same run, to compare two versions on one machine state. The
//! binary `cargo bench` builds carries the dev-dependencies' features (its size is printed): to
//! time the shipped build, `cargo build --release`, copy target/release/credwatch aside, and
//! name the copy as the baseline.
//! A last table times `status NAME` for each preset alone on the realistic HOME, slowest first:
//! where the realistic HOME's time goes.

#[allow(dead_code)]
#[path = "../tests/integration/bus.rs"]
mod bus;
#[allow(dead_code)]
#[path = "../tests/integration/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../tests/integration/logins.rs"]
mod logins;

use harness::{TestHome, Times};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WARMUP: usize = 20;
const RUNS: usize = 300;

struct Summary {
    median: Duration,
    p90: Duration,
    p99: Duration,
}

fn summarize(mut samples: Vec<Duration>) -> Summary {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Summary {
        median: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
    }
}

fn time_command(make: &dyn Fn() -> Command) -> Summary {
    let run = || {
        let started = Instant::now();
        let status = make()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run");
        assert!(status.code().is_some_and(|c| c <= 3), "{status}");
        started.elapsed()
    };
    for _ in 0..WARMUP {
        run();
    }
    summarize((0..RUNS).map(|_| run()).collect())
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for the list of tests: there are none.
    }
    let mut realistic = TestHome::new();
    // Every preset in the code, each with its login: files, a Kerberos cache, an ssh-agent
    // holding a key, keyring items (a real gnome-keyring on a private bus), as the tests do.
    let _logins = realistic.install_every_login(Times::valid_for(30));
    // A realistic AWS SSO cache has old sessions and registrations beside the live one.
    for i in 0..20 {
        realistic.write(
            &format!(".aws/sso/cache/old-{i:02}.json"),
            format!(r#"{{"startUrl":"https://old{i}.awsapps.com/start","accessToken":"x","expiresAt":"2025-01-0{}T00:00:00Z"}}"#, i % 9 + 1),
        );
    }
    let empty = TestHome::new();

    // Each row: its label, its figures, and which row is the same binary's `--version`.
    let rows: Vec<(&str, Summary, usize)> = vec![
        (
            "baseline: /bin/true",
            time_command(&|| Command::new("/bin/true")),
            1,
        ),
        (
            "baseline: credwatch --version",
            time_command(&|| realistic.command(&["--version"])),
            1,
        ),
        (
            "status, empty HOME",
            time_command(&|| empty.command(&["status"])),
            1,
        ),
        (
            "status, every preset's login (realistic HOME)",
            time_command(&|| realistic.command(&["status"])),
            1,
        ),
        (
            "status --json, every preset's login",
            time_command(&|| realistic.command(&["status", "--json"])),
            1,
        ),
    ];
    let mut rows = rows;
    if let Some(baseline) = std::env::var_os("CREDWATCH_BENCH_BASELINE") {
        let other = |args: &[&str], home: &TestHome| {
            let mut command = Command::new(&baseline);
            command.args(args).env_clear().envs(home.env_pairs());
            command
        };
        let version = rows.len();
        rows.push((
            "other binary: --version",
            time_command(&|| other(&["--version"], &realistic)),
            version,
        ));
        rows.push((
            "other binary: status, empty HOME",
            time_command(&|| other(&["status"], &empty)),
            version,
        ));
        rows.push((
            "other binary: status, the same HOME",
            time_command(&|| other(&["status"], &realistic)),
            version,
        ));
        rows.push((
            "this binary again: status, every preset's login",
            time_command(&|| realistic.command(&["status"])),
            1,
        ));
    }
    // What "this binary" is: the one `cargo bench` built, whose dependencies carry the features
    // the dev-dependencies ask for (bigger, and slower to start, than `cargo build --release`'s).
    // To time the shipped build, copy it aside and name it: CREDWATCH_BENCH_BASELINE=COPY.
    let this = env!("CARGO_BIN_EXE_credwatch");
    let size = |path: &std::ffi::OsStr| std::fs::metadata(path).map_or(0, |m| m.len());
    println!(
        "this binary: {this} ({} bytes, built by `cargo bench`: dev-dependency features in it)",
        size(this.as_ref())
    );
    if let Some(baseline) = std::env::var_os("CREDWATCH_BENCH_BASELINE") {
        println!(
            "other binary: {} ({} bytes)",
            std::path::Path::new(&baseline).display(),
            size(&baseline)
        );
    }
    println!("| command ({RUNS} runs after {WARMUP} warm-up; spawn to exit) | median ms | p90 ms | p99 ms | median − the same binary's `--version` median, ms |");
    println!("|---|---:|---:|---:|---:|");
    for (name, s, version) in &rows {
        let over = s.median.saturating_sub(rows[*version].1.median);
        println!(
            "| {name} | {} | {} | {} | {} |",
            ms(s.median),
            ms(s.p90),
            ms(s.p99),
            ms(over)
        );
    }
    let goal = rows[3].1.median <= Duration::from_millis(5);
    println!(
        "\ngoal `status` median ≤ 5 ms on a realistic HOME: {}",
        if goal { "met" } else { "NOT met" }
    );

    // Where the realistic HOME's time goes: `status NAME` for each preset alone, slowest first.
    const EACH: usize = 30;
    let mut each: Vec<(&str, Duration)> = harness::all_presets()
        .into_iter()
        .map(|name| {
            let run = || {
                let started = Instant::now();
                let _ = realistic
                    .command(&["status", name])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                started.elapsed()
            };
            run();
            (name, summarize((0..EACH).map(|_| run()).collect()).median)
        })
        .collect();
    each.sort_by_key(|e| std::cmp::Reverse(e.1));
    println!("\n| `status NAME`, one preset alone, realistic HOME ({EACH} runs each; spawn to exit) | median ms |");
    println!("|---|---:|");
    for (name, median) in each {
        println!("| {name} | {} |", ms(median));
    }
}
