//! Benchmarks for `credwatch daemon` (issue #3). Run with `cargo bench --bench daemon`
//! (about 2.5 minutes: the idle measurement alone takes 60 s).
//!
//! A file change's latency runs against a baseline from the same run: the raw inotify round trip
//! (write a file, receive its event in this process), the floor any watcher pays. A reload runs
//! against the same binary's reload of a one-credential config, and, with
//! `CREDWATCH_BENCH_BASELINE=/path/to/another/credwatch`, against that binary's reloads of the
//! same HOME. Reloads are timed from outside, as users pay them: from the SIGHUP (or the config
//! file's rename) to the new status.json put in place.
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
    if std::env::args().any(|a| a == "scale") {
        scale_and_reloads();
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
        "| baseline: file written and renamed → its inotify event seen in this process | {} | {} |",
        ms(percentile(&mut baseline, 0.5)),
        ms(percentile(&mut baseline, 0.99))
    );
    println!(
        "| credwatch daemon: file written and renamed → status.json shows it (read and parsed here at each event) | {} | {} |",
        ms(percentile(&mut latency, 0.5)),
        ms(percentile(&mut latency, 0.99))
    );
    println!(
        "| credwatch daemon: file written and renamed → prompt line shows it (read here at each event) | {} | {} |",
        ms(percentile(&mut by_prompt, 0.5)),
        ms(percentile(&mut by_prompt, 0.99))
    );
    println!("\ngoal p50 ≤ 5 ms, p99 ≤ 50 ms\n");

    // 2. Idle: nothing changes for 60 s.
    replace_atomically(&creds, claude_login(true).as_bytes());
    watch.wait_for("claude", "ok");
    // Past the post-write re-check (2 s after the last write): from here on nothing is due but
    // the keyring's `Modified` poll (every 30 s by default: this HOME has keyring items).
    std::thread::sleep(Duration::from_secs(3));
    let before = harness::context_switches_by_thread(pid);
    let idle = Duration::from_secs(60);
    std::thread::sleep(idle);
    let after = harness::context_switches_by_thread(pid);
    let wakeups: u64 = after
        .iter()
        .map(|(tid, n)| n - before.get(tid).copied().unwrap_or(0))
        .sum();
    let by_thread: Vec<String> = after
        .iter()
        .map(|(tid, n)| {
            let name =
                std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm")).unwrap_or_default();
            format!(
                "{} {}",
                name.trim(),
                n - before.get(tid).copied().unwrap_or(0)
            )
        })
        .collect();
    println!(
        "| idle daemon, realistic HOME (every preset's login: files, a Kerberos cache, an ssh-agent key, keyring items on a real gnome-keyring, polled every 30 s), {} s | value | goal |",
        idle.as_secs()
    );
    println!("|---|---:|---:|");
    println!(
        "| wake-ups (context switches, all threads) per minute | {:.1} | ≤ 1 |",
        wakeups as f64 * 60.0 / idle.as_secs_f64()
    );
    println!(
        "| of which per thread, in the {} s (thread name, switches) | {} | |",
        idle.as_secs(),
        by_thread.join(", ")
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
        "| peak RSS (VmHWM) since start, after the 2,000 credential writes above | {} KiB | |",
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
    let window = Instant::now();
    std::thread::sleep(until_deadline(Duration::from_millis(100)));
    let between = context_switches(daemon.child.id()) - before;
    let window = window.elapsed();
    let seen = watch.wait_for("short", "expired");
    let at_deadline = context_switches(daemon.child.id()) - before - between;
    let lag = std::time::SystemTime::now()
        .duration_since(deadline_at)
        .unwrap_or_default()
        .saturating_sub(seen.elapsed());
    println!("\n| expiry deadline → published state | value | goal |");
    println!("|---|---:|---:|");
    println!(
        "| lag: deadline → `expired` seen in status.json by this process | {} ms | ≤ 1,000 ms |",
        ms(lag)
    );
    println!("| daemon context switches from 0.2 s after `expiring` was seen to 0.1 s before the deadline ({:.1} s) | {between} | 0 |", window.as_secs_f64());
    println!("| daemon context switches from 0.1 s before the deadline to `expired` seen (timer wake, evaluate, publish) | {at_deadline} | |");
    drop(daemon);

    scale_and_reloads();
}

/// 1,000 configured credentials in 50 directories: memory, start, reloads, change latency.
/// Run alone with `cargo bench --bench daemon -- scale`.
fn scale_and_reloads() {
    // The floor of a reload, measured first in the same run: the same binary, one credential.
    let small = bench_home();
    small.write_config(
        "presets = \"none\"\n[[credential]]\nname = \"solo\"\nfile = \"~/solo.json\"\nformat = \"json\"\nsecret = \"/claudeAiOauth/accessToken\"\nblank = \"logged-out\"\nexpires = \"/claudeAiOauth/refreshTokenExpiresAt\"\n",
    );
    small.write("solo.json", claude_login(true));
    let daemon = small.start_daemon(&[]);
    let watch = PublishWatch::new(&small.credwatch_runtime());
    watch.wait_for("solo", "ok");
    let mut floor = sighup_reloads(&watch, daemon.child.id(), RELOADS);
    drop(daemon);

    let mut home = bench_home();
    home.set_env("CREDWATCH_LOG", "info");
    // Two layouts of the same 1,000 credentials: scale/dNN/ and scale-b/dNN/. Switching the
    // config from one to the other moves every credential's file, so the reload must drop every
    // watch and set every one again.
    let layout = |root: &str| {
        let mut config = String::from("presets = \"none\"\n");
        for i in 0..1000 {
            config.push_str(&format!(
                "[[credential]]\nname = \"c{i}\"\nfile = \"~/{root}/d{:02}/c{i}.json\"\nformat = \"json\"\nsecret = \"/claudeAiOauth/accessToken\"\nblank = \"logged-out\"\nexpires = \"/claudeAiOauth/refreshTokenExpiresAt\"\n",
                i % 50
            ));
            home.write(
                &format!("{root}/d{:02}/c{i}.json", i % 50),
                claude_login(true),
            );
        }
        config
    };
    let configs = [layout("scale"), layout("scale-b")];
    let config_path = home.write_config(&configs[0]);
    let started = Instant::now();
    let daemon = start_daemon_polled(&home);
    let startup = started.elapsed();
    let pid = daemon.child.id();
    let watch = PublishWatch::new(&home.credwatch_runtime());
    watch.wait_for("c999", "ok");

    // What `systemctl --user reload` (ExecReload sends SIGHUP) costs with the config unchanged.
    let mut sighup = sighup_reloads(&watch, pid, RELOADS);
    // The rescan's line is logged once it has published: the last one may follow the rename.
    harness::wait_until("the last reload's full rescan in the log", || {
        logged_rescans(&daemon.log()).len() > RELOADS
    });
    let log = daemon.log();
    assert_eq!(
        log.matches("config reloaded").count(),
        RELOADS,
        "a reload per SIGHUP"
    );
    // The first full rescan is the start's; each later one is one reload's (they pair in order).
    let mut rescans = logged_rescans(&log);
    assert_eq!(rescans.len(), RELOADS + 1, "full rescans logged");
    rescans.remove(0);
    let mut before_rescan: Vec<Duration> = sighup
        .iter()
        .zip(&rescans)
        .map(|(total, rescan)| total.saturating_sub(*rescan))
        .collect();

    let target = home.path("scale/d07/c7.json");
    let mut scale_latency = change_latency_by_prompt(&watch, 200, &target, "c7");
    let mut scale_parsed = change_latency(&watch, 50, &target, "c7", &claude_login);
    let memory = (
        memory_kib(pid, "VmRSS:"),
        memory_kib(pid, "RssAnon:"),
        memory_kib(pid, "RssFile:"),
    );

    // Editing the config: the daemon reloads on its own when the file is replaced (the same
    // reload as SIGHUP's). Each edit here moves every credential to the other layout. First the
    // post-write re-check of the writes above is let pass, so that no other publication is due.
    harness::wait_out(Instant::now(), harness::DAEMON_GRACE);
    let mut switched = Vec::new();
    let mut replaced = Vec::new();
    for i in 1..=RELOADS {
        let next = home.write("config.next", &configs[i % 2]);
        let before = watched_inodes(pid);
        // The config file's own watch moves to the new file too: not counted.
        let config = {
            use std::os::unix::fs::MetadataExt;
            format!("ino:{:x} ", std::fs::metadata(&config_path).unwrap().ino())
        };
        switched.push(watch.time_to_next_publication(|| {
            std::fs::rename(&next, &config_path).unwrap();
        }));
        let after = watched_inodes(pid);
        let dropped = before.difference(&after);
        replaced.push(dropped.filter(|w| !w.starts_with(&config)).count());
    }
    assert!(
        replaced.iter().all(|&n| n > 1000),
        "each switch re-watches every credential: {replaced:?}"
    );
    assert_eq!(
        daemon.log().matches("config reloaded").count(),
        2 * RELOADS,
        "a reload per config replaced"
    );
    assert_eq!(watch.state("c7").as_deref(), Some("ok"));

    println!("\n| 1,000 configured credentials (50 dirs) | value | goal |");
    println!("|---|---:|---:|");
    println!(
        "| RSS (VmRSS), after the {RELOADS} SIGHUP reloads and 250 file changes | {} KiB | ≤ 30 MiB |",
        memory.0
    );
    println!(
        "| of which private (RssAnon) / file-backed (RssFile) | {} / {} KiB | |",
        memory.1, memory.2
    );
    println!(
        "| spawn → status.json and prompt file exist (polled every 1 ms) | {} ms | |",
        ms(startup)
    );
    println!(
        "| baseline: SIGHUP → reload published, 1 credential, same binary, median / p90 of {RELOADS} | {} / {} ms | |",
        ms(percentile(&mut floor, 0.5)),
        ms(percentile(&mut floor, 0.9))
    );
    println!(
        "| SIGHUP → reload published (status.json renamed into place, seen here), config unchanged: config load (parse and validate 1,000 definitions; `presets = \"none\"`), 1,000 entries rebuilt, re-watch (every path checked, all still watched), 1,000 re-observed and evaluated, publication; median / p90 of {RELOADS} | {} / {} ms | ≤ 100 ms |",
        ms(percentile(&mut sighup, 0.5)),
        ms(percentile(&mut sighup, 0.9))
    );
    println!(
        "| of which the daemon's `full rescan` (re-observe and evaluate 1,000, journal, publish: its logged elapsed_ms), median | {} ms | |",
        ms(percentile(&mut rescans, 0.5))
    );
    println!(
        "| of which the rest (signal delivery, config load, entries rebuilt, re-watch, this process seeing the rename), median of per-reload differences | {} ms | |",
        ms(percentile(&mut before_rescan, 0.5))
    );
    println!(
        "| config file replaced, every credential's file now in another directory → reload published: the same steps, the re-watch removing and setting {} inotify watches (median per reload, from /proc/PID/fdinfo); median / p90 of {RELOADS} | {} / {} ms | ≤ 100 ms |",
        percentile_count(&mut replaced),
        ms(percentile(&mut switched, 0.5)),
        ms(percentile(&mut switched, 0.9))
    );
    println!("| file change → prompt line updated, p50 / p99 (200 changes) | {} / {} ms | ≤ 5 / ≤ 50 ms |", ms(percentile(&mut scale_latency, 0.5)), ms(percentile(&mut scale_latency, 0.99)));
    println!("| file change → status.json updated, read and parsed by the bench, p50 / p99 (50 changes) | {} / {} ms | |", ms(percentile(&mut scale_parsed, 0.5)), ms(percentile(&mut scale_parsed, 0.99)));
    assert!(daemon.stop().is_some(), "the daemon stops on SIGTERM");

    // The same reloads by another build, in the same run, on the same HOME.
    if let Ok(other) = std::env::var("CREDWATCH_BENCH_BASELINE") {
        let mut child = home
            .program(&other, &["daemon"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        harness::wait_until("the other binary to publish", || {
            home.credwatch_runtime().join("status.json").exists()
        });
        let watch = PublishWatch::new(&home.credwatch_runtime());
        watch.wait_for("c999", "ok");
        let mut sighup = sighup_reloads(&watch, child.id(), RELOADS);
        let mut switched = Vec::new();
        for i in 1..=RELOADS {
            let next = home.write("config.next", &configs[i % 2]);
            switched.push(watch.time_to_next_publication(|| {
                std::fs::rename(&next, &config_path).unwrap();
            }));
        }
        println!(
            "| other binary ({other}): SIGHUP → reload published, config unchanged, median / p90 of {RELOADS} | {} / {} ms | |",
            ms(percentile(&mut sighup, 0.5)),
            ms(percentile(&mut sighup, 0.9))
        );
        println!(
            "| other binary: config file replaced, every file moved → reload published, median / p90 of {RELOADS} | {} / {} ms | |",
            ms(percentile(&mut switched, 0.5)),
            ms(percentile(&mut switched, 0.9))
        );
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Reloads timed per figure in the scale section.
const RELOADS: usize = 20;

/// Sends SIGHUP `rounds` times, one reload at a time; each time, how long until the reload's
/// state is published (status.json renamed into place, seen in this process).
fn sighup_reloads(watch: &PublishWatch, pid: u32, rounds: usize) -> Vec<Duration> {
    let pid = nix::unistd::Pid::from_raw(pid as i32);
    (0..rounds)
        .map(|_| {
            watch.time_to_next_publication(|| {
                nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
            })
        })
        .collect()
}

/// Starts the daemon (as `TestHome::start_daemon`), checking every 1 ms for its first state.
fn start_daemon_polled(home: &TestHome) -> harness::Daemon {
    let status = home.credwatch_runtime().join("status.json");
    let prompt = home.credwatch_runtime().join("prompt");
    let stderr_path = home.path("daemon.log");
    let child = home
        .command(&["daemon"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let daemon = harness::Daemon { child, stderr_path };
    let started = Instant::now();
    while !(status.exists() && prompt.exists()) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no first state"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    daemon
}

/// The inodes the process's inotify instances watch (`ino:` and `sdev:` of each `inotify wd:`
/// line in /proc/PID/fdinfo).
fn watched_inodes(pid: u32) -> std::collections::BTreeSet<String> {
    let mut watched = std::collections::BTreeSet::new();
    for fd in std::fs::read_dir(format!("/proc/{pid}/fdinfo"))
        .unwrap()
        .flatten()
    {
        let info = std::fs::read_to_string(fd.path()).unwrap_or_default();
        for line in info.lines().filter(|l| l.starts_with("inotify wd:")) {
            let field = |name: &str| {
                line.split_whitespace()
                    .find(|f| f.starts_with(name))
                    .unwrap_or_default()
                    .to_string()
            };
            watched.insert(format!("{} {}", field("ino:"), field("sdev:")));
        }
    }
    watched
}

fn percentile_count(counts: &mut [usize]) -> usize {
    counts.sort_unstable();
    counts[counts.len() / 2]
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
