//! Benchmarks for `credwatch daemon` (issue #3). Run with `cargo bench --bench daemon`
//! (about 2 minutes: the idle measurement alone takes 60 s).
//!
//! Every latency runs against a baseline from the same run: the raw inotify round trip
//! (write a file, receive its event in this process), the floor any watcher pays.
//! Wake-ups are the daemon's context switches, summed over its threads, from /proc/PID/task.

#[allow(dead_code)]
#[path = "../tests/integration/bus.rs"]
mod bus;
#[allow(dead_code)]
#[path = "../tests/integration/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../tests/integration/logins.rs"]
mod logins;
#[allow(dead_code)]
mod support;

use harness::{claude_login, context_switches, cpu_ticks, replace_atomically, TestHome, Times};
use notify::Watcher;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::{memory_kib, ms, percentile, PublishWatch};

fn bench_home() -> TestHome {
    let mut home = TestHome::new();
    // XDG_RUNTIME_DIR is a tmpfs (/run/user/UID) on a real system; /dev/shm is one here.
    let runtime = tempfile::Builder::new()
        .prefix("cw-bench-")
        .tempdir_in("/dev/shm")
        .unwrap()
        .keep();
    home.set_env("XDG_RUNTIME_DIR", &runtime);
    home.runtime_dir = runtime;
    home
}

fn inotify_round_trip(dir: &Path, rounds: usize) -> Vec<Duration> {
    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(tx).unwrap();
    watcher
        .watch(dir, notify::RecursiveMode::NonRecursive)
        .unwrap();
    let file = dir.join("baseline.json");
    (0..rounds)
        .map(|i| {
            while rx.try_recv().is_ok() {}
            let started = Instant::now();
            replace_atomically(&file, claude_login(i % 2 == 0).as_bytes());
            loop {
                if let Ok(Ok(event)) = rx.recv_timeout(Duration::from_secs(5)) {
                    if event.paths.iter().any(|p| p == &file) {
                        break;
                    }
                }
            }
            started.elapsed()
        })
        .collect()
}

fn change_latency(
    watch: &PublishWatch,
    rounds: usize,
    path: &Path,
    name: &str,
    login: &dyn Fn(bool) -> String,
) -> Vec<Duration> {
    (0..rounds)
        .map(|i| {
            let good = i % 2 == 1;
            let started = Instant::now();
            replace_atomically(path, login(good).as_bytes());
            watch.wait_for(name, if good { "ok" } else { "logged-out" }) - started
        })
        .collect()
}

/// Like [`change_latency`], observing the published prompt line (a few bytes) instead of
/// parsing status.json, whose size grows with the number of credentials.
fn change_latency_by_prompt(
    watch: &PublishWatch,
    rounds: usize,
    path: &Path,
    name: &str,
) -> Vec<Duration> {
    (0..rounds)
        .map(|i| {
            let good = i % 2 == 1;
            let started = Instant::now();
            replace_atomically(path, claude_login(good).as_bytes());
            watch.wait_for_prompt(name, !good) - started
        })
        .collect()
}

/// The `elapsed_ms` of every "full rescan" line the daemon logged.
fn logged_rescans(log: &str) -> Vec<Duration> {
    log.lines()
        .filter(|l| l.contains("full rescan"))
        .filter_map(|l| {
            l.split("elapsed_ms=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse::<f64>()
                .ok()
        })
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .collect()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("## daemon benchmarks\n");
    if std::env::args().any(|a| a == "reads") {
        reads_beside_stores();
        return;
    }

    // 1. File change → published state, realistic HOME (every preset).
    let mut home = bench_home();
    // Every preset in the code, each with its login: files, a Kerberos cache, an ssh-agent
    // holding a key, keyring items (a real gnome-keyring on a private bus), as the tests do.
    let _logins = home.install_every_login(Times::valid_for(30));
    home.write(".claude/.credentials.json", claude_login(true));
    // Lead times configured (#17): they must add no wake-up while nothing is due.
    home.write_config("[notify]\nlead_times = [\"7d\", \"1d\", \"1h\"]\n");
    let daemon = home.start_daemon(&[]);
    let pid = daemon.child.id();
    let watch = PublishWatch::new(&home.credwatch_runtime());
    watch.wait_for("claude", "ok");
    let mut baseline = inotify_round_trip(&home.path(".claude"), 1000);
    let creds = home.path(".claude/.credentials.json");
    let mut latency = change_latency(&watch, 1000, &creds, "claude", &claude_login);
    let mut by_prompt = change_latency_by_prompt(&watch, 1000, &creds, "claude");
    println!("| file change → published state (1,000 changes, realistic HOME) | p50 ms | p99 ms |");
    println!("|---|---:|---:|");
    println!(
        "| baseline: inotify round trip in one process | {} | {} |",
        ms(percentile(&mut baseline, 0.5)),
        ms(percentile(&mut baseline, 0.99))
    );
    println!(
        "| credwatch daemon: write → status.json updated (read and parsed) | {} | {} |",
        ms(percentile(&mut latency, 0.5)),
        ms(percentile(&mut latency, 0.99))
    );
    println!(
        "| credwatch daemon: write → prompt line updated | {} | {} |",
        ms(percentile(&mut by_prompt, 0.5)),
        ms(percentile(&mut by_prompt, 0.99))
    );
    println!("\ngoal p50 ≤ 5 ms, p99 ≤ 50 ms\n");

    // 2. Idle: nothing changes for 60 s.
    replace_atomically(&creds, claude_login(true).as_bytes());
    watch.wait_for("claude", "ok");
    // Past the post-write re-check (2 s after the last write): from here on nothing is due.
    std::thread::sleep(Duration::from_secs(3));
    let before = context_switches(pid);
    let idle = Duration::from_secs(60);
    std::thread::sleep(idle);
    let wakeups = context_switches(pid) - before;
    println!(
        "| idle daemon, realistic HOME, {} s | value | goal |",
        idle.as_secs()
    );
    println!("|---|---:|---:|");
    println!(
        "| wake-ups (context switches, all threads) per minute | {:.1} | ≤ 1 |",
        wakeups as f64 * 60.0 / idle.as_secs_f64()
    );
    println!(
        "| RSS (VmRSS) | {} KiB | ≤ 10 MiB |",
        memory_kib(pid, "VmRSS:")
    );
    println!(
        "| of which private (RssAnon) / file-backed code and data (RssFile) | {} / {} KiB | |",
        memory_kib(pid, "RssAnon:"),
        memory_kib(pid, "RssFile:")
    );
    println!(
        "| peak RSS (VmHWM), after the 1,000 changes above | {} KiB | |",
        memory_kib(pid, "VmHWM:")
    );
    drop(daemon);

    // 3. Deadline → published state, with no wake-ups between.
    let home = bench_home();
    let deadline = harness::now_secs() + 4;
    home.write_config(
        "presets = \"none\"\n[[credential]]\nname = \"short\"\nfile = \"~/short.json\"\nformat = \"json\"\nsecret = \"/t\"\nexpires = \"/e\"\nwarn_before = \"2s\"\n",
    );
    home.write("short.json", format!(r#"{{"t": "x", "e": {deadline}}}"#));
    let daemon = home.start_daemon(&[]);
    let watch = PublishWatch::new(&home.credwatch_runtime());
    watch.wait_for("short", "expiring");
    std::thread::sleep(Duration::from_millis(200));
    let deadline_at = std::time::UNIX_EPOCH + Duration::from_secs(deadline as u64);
    let until_deadline = |margin: Duration| {
        deadline_at
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default()
            .saturating_sub(margin)
    };
    let before = context_switches(daemon.child.id());
    std::thread::sleep(until_deadline(Duration::from_millis(100)));
    let between = context_switches(daemon.child.id()) - before;
    let seen = watch.wait_for("short", "expired");
    let at_deadline = context_switches(daemon.child.id()) - before - between;
    let lag = std::time::SystemTime::now()
        .duration_since(deadline_at)
        .unwrap_or_default()
        .saturating_sub(seen.elapsed());
    println!("\n| expiry deadline → published state | value | goal |");
    println!("|---|---:|---:|");
    println!("| lag after the deadline | {} ms | ≤ 1,000 ms |", ms(lag));
    println!("| daemon context switches between `expiring` published and 0.1 s before the deadline (~1.7 s) | {between} | 0 |");
    println!("| daemon context switches at the deadline (timer wake, evaluate, publish) | {at_deadline} | |");
    drop(daemon);

    // 4. Scale: 1,000 configured credentials in 50 directories.
    let mut home = bench_home();
    home.set_env("CREDWATCH_LOG", "info");
    let mut config = String::from("presets = \"none\"\n");
    for i in 0..1000 {
        config.push_str(&format!(
            "[[credential]]\nname = \"c{i}\"\nfile = \"~/scale/d{:02}/c{i}.json\"\nformat = \"json\"\nsecret = \"/claudeAiOauth/accessToken\"\nblank = \"logged-out\"\nexpires = \"/claudeAiOauth/refreshTokenExpiresAt\"\n",
            i % 50
        ));
        home.write(
            &format!("scale/d{:02}/c{i}.json", i % 50),
            claude_login(true),
        );
    }
    home.write_config(&config);
    let started = Instant::now();
    let daemon = home.start_daemon(&[]);
    let startup = started.elapsed();
    let pid = daemon.child.id();
    let watch = PublishWatch::new(&home.credwatch_runtime());
    watch.wait_for("c999", "ok");
    for _ in 0..10 {
        daemon.signal(nix::sys::signal::Signal::SIGHUP);
        std::thread::sleep(Duration::from_millis(300));
    }
    let mut rescans = logged_rescans(&daemon.log());
    assert!(rescans.len() >= 10, "rescans logged: {}", rescans.len());
    let target = home.path("scale/d07/c7.json");
    let mut scale_latency = change_latency_by_prompt(&watch, 200, &target, "c7");
    let mut scale_parsed = change_latency(&watch, 50, &target, "c7", &claude_login);
    println!("\n| 1,000 configured credentials (50 dirs) | value | goal |");
    println!("|---|---:|---:|");
    println!(
        "| RSS (VmRSS) | {} KiB | ≤ 30 MiB |",
        memory_kib(pid, "VmRSS:")
    );
    println!(
        "| of which private (RssAnon) / file-backed (RssFile) | {} / {} KiB | |",
        memory_kib(pid, "RssAnon:"),
        memory_kib(pid, "RssFile:")
    );
    println!(
        "| start → first state published (incl. process start) | {} ms | |",
        ms(startup)
    );
    println!("| full rescan (SIGHUP: reload, re-watch, evaluate 1,000, publish), median of 11 | {} ms | ≤ 100 ms |", ms(percentile(&mut rescans, 0.5)));
    println!("| file change → prompt line updated, p50 / p99 (200 changes) | {} / {} ms | ≤ 5 / ≤ 50 ms |", ms(percentile(&mut scale_latency, 0.5)), ms(percentile(&mut scale_latency, 0.99)));
    println!("| file change → status.json updated, read and parsed by the bench, p50 / p99 (50 changes) | {} / {} ms | |", ms(percentile(&mut scale_parsed, 0.5)), ms(percentile(&mut scale_parsed, 0.99)));
}

/// The daemon's wake-ups (context switches, summed over its threads) and CPU ticks while a user
/// reads a file beside the stores 1,000 times (`~/.gitconfig`, which the git preset reads for its
/// helper) and appends to `~/.bash_history` 1,000 times, spaced as commands are; for this binary
/// and, with `CREDWATCH_BENCH_BASELINE=/path/to/old/credwatch`, for that one in the same run.
/// Run alone with `cargo bench --bench daemon -- reads`.
fn reads_beside_stores() {
    let mut binaries = vec![("this build", env!("CARGO_BIN_EXE_credwatch").to_string())];
    if let Ok(baseline) = std::env::var("CREDWATCH_BENCH_BASELINE") {
        binaries.push(("baseline", baseline));
    }
    println!("| 1,000 rounds beside the stores | binary | reads of ~/.gitconfig: switches / CPU ticks | appends to ~/.bash_history: switches / CPU ticks |");
    println!("|---|---|---:|---:|");
    for (label, binary) in binaries {
        let home = bench_home();
        home.write(".claude/.credentials.json", claude_login(true));
        home.write_config("presets = [\"claude\", \"git\", \"vault\"]\n");
        let gitconfig = home.write(".gitconfig", "[user]\n\tname = someone\n");
        home.write(".vault-token", "hvs.CAESIJ");
        let history = home.write(".bash_history", "");
        let mut child = home
            .program(&binary, &["daemon"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        harness::wait_until("the daemon to publish", || {
            home.credwatch_runtime().join("status.json").exists()
        });
        let watch = PublishWatch::new(&home.credwatch_runtime());
        watch.wait_for("claude", "ok");
        std::thread::sleep(Duration::from_millis(500));
        let pid = child.id();
        let measure = |round: &dyn Fn(usize)| {
            let switches = context_switches(pid);
            let cpu = cpu_ticks(pid);
            for i in 0..1000 {
                round(i);
                std::thread::sleep(Duration::from_micros(500));
            }
            std::thread::sleep(Duration::from_millis(300));
            (context_switches(pid) - switches, cpu_ticks(pid) - cpu)
        };
        let reads = measure(&|_| {
            std::fs::read(&gitconfig).unwrap();
        });
        let appends = measure(&|i| {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&history)
                .unwrap();
            writeln!(file, "ls {i}").unwrap();
        });
        println!(
            "| | {label} | {} / {} | {} / {} |",
            reads.0, reads.1, appends.0, appends.1
        );
        let _ = child.kill();
        let _ = child.wait();
    }
    println!(
        "\ngoal: no wake-up for what cannot change a credential (reads, appends to other files)\n"
    );
}
