//! The shipped alerting rules run by a real Prometheus (Debian's `prometheus`), scraping a real
//! node_exporter (`prometheus-node-exporter`) whose textfile collector reads the daemon's file:
//! what a fleet's Prometheus says when a login breaks, when the daemon stops, and when its file
//! goes stale. `scripts/test` unpacks both servers into target/tools/ (never installed).

use crate::harness::{claude_login, replace_atomically, unpacked_tool, TestHome};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The evaluation and scrape interval of the test's Prometheus.
const INTERVAL: Duration = Duration::from_secs(1);

/// A server of the test's, killed when the test ends.
struct Server {
    child: Child,
    name: &'static str,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail = &log[log.len().saturating_sub(4096)..];
            eprintln!("--- {}'s log (end) ---\n{tail}\n--- end ---", self.name);
        }
    }
}

/// A port free on 127.0.0.1 when asked.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The body of an HTTP/1.0 GET on 127.0.0.1 (HTTP/1.0: no chunked answer), or None when nothing
/// answers yet.
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    // (Not ready yet: Prometheus answers 503 while it starts.)
    head.contains(" 200 ").then(|| body.to_string())
}

fn start(name: &'static str, program: &Path, args: &[String], dir: &Path) -> Server {
    let log = dir.join(format!("{name}.log"));
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
    Server { child, name, log }
}

/// Polls `condition` every 100 ms for up to `limit`; returns how long it took.
fn wait_for(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while started.elapsed() < limit {
        if condition() {
            return started.elapsed();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out after {limit:?} waiting for {what}");
}

/// The alerts Prometheus holds now (pending and firing), from its API.
fn alerts(port: u16) -> Vec<serde_json::Value> {
    let body = http_get(port, "/api/v1/alerts").unwrap_or_default();
    let parsed: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    parsed["data"]["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The alert named `name` in state `state` (pending, firing) whose labels hold `labels`.
fn find_alert(
    port: u16,
    name: &str,
    state: &str,
    labels: &[(&str, &str)],
) -> Option<serde_json::Value> {
    alerts(port).into_iter().find(|alert| {
        alert["labels"]["alertname"] == name
            && alert["state"] == state
            && labels.iter().all(|(k, v)| alert["labels"][*k] == *v)
    })
}

/// The shipped rules, and a copy whose alerts fire at once (`for: 0s`, group `credwatch-now`):
/// the shipped ones hold an alert pending for minutes, as `promtool test rules` checks; the copy
/// shows the same expressions, labels and annotations firing.
fn rule_files(dir: &Path) -> (PathBuf, PathBuf) {
    let shipped =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("packaging/prometheus/credwatch.rules.yml");
    let text = std::fs::read_to_string(&shipped).unwrap();
    let at_once: String = text
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("for: ") {
                format!("{}for: 0s", &line[..line.len() - trimmed.len()])
            } else if trimmed == "- name: credwatch" {
                line.replace("credwatch", "credwatch-now")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(text, at_once, "the shipped rules have no `for:` any more");
    let copy = dir.join("credwatch-now.rules.yml");
    std::fs::write(&copy, at_once).unwrap();
    (shipped, copy)
}

/// A login breaks → `CredwatchLoginBroken` (pending under the shipped rules, firing under the
/// same rules without `for`) within two evaluation intervals of the scrape that saw it; the
/// daemon stops → `CredwatchDaemonDown`; its file left years behind (kill -9, the machine gone)
/// → `CredwatchMetricsStale`. The alert names the tool, the login and the state.
#[test]
fn prometheus_alerts_on_a_broken_login_a_stopped_daemon_and_stale_metrics() {
    let prometheus = unpacked_tool("prometheus");
    let node_exporter = unpacked_tool("prometheus-node-exporter");
    let home = TestHome::new();
    home.write(".claude/.credentials.json", claude_login(true));
    let servers = home.home.join("servers");
    let textfiles = servers.join("textfile");
    std::fs::create_dir_all(&textfiles).unwrap();
    let textfile = textfiles.join("credwatch-user.prom");
    let daemon = home.start_daemon(&["--prometheus-textfile", textfile.to_str().unwrap()]);
    home.wait_for_state("claude", "ok");
    wait_for("the daemon's textfile", Duration::from_secs(10), || {
        std::fs::read_to_string(&textfile).is_ok_and(|t| t.contains("credwatch_daemon_up 1"))
    });

    let exporter_port = free_port();
    let _exporter = start(
        "node_exporter",
        &node_exporter,
        &[
            format!("--web.listen-address=127.0.0.1:{exporter_port}"),
            "--collector.disable-defaults".into(),
            "--collector.textfile".into(),
            format!("--collector.textfile.directory={}", textfiles.display()),
        ],
        &servers,
    );
    wait_for(
        "node_exporter serving credwatch's metrics",
        Duration::from_secs(20),
        || {
            http_get(exporter_port, "/metrics")
                .is_some_and(|m| m.contains("credwatch_credential_state{name=\"claude\""))
        },
    );

    let (shipped, at_once) = rule_files(&servers);
    let config = servers.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: {s}s\n  evaluation_interval: {s}s\nrule_files:\n  - {}\n  - {}\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['127.0.0.1:{exporter_port}']\n",
            shipped.display(),
            at_once.display(),
            s = INTERVAL.as_secs()
        ),
    )
    .unwrap();
    let prometheus_port = free_port();
    let _prometheus = start(
        "prometheus",
        &prometheus,
        &[
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", servers.join("data").display()),
            format!("--web.listen-address=127.0.0.1:{prometheus_port}"),
        ],
        &servers,
    );
    wait_for(
        "Prometheus scraping the daemon's metrics",
        Duration::from_secs(60),
        || {
            http_get(prometheus_port, "/api/v1/query?query=credwatch_daemon_up")
                .is_some_and(|b| b.contains("\"1\"]"))
        },
    );
    // Every login usable: no alert at all about logins.
    std::thread::sleep(2 * INTERVAL);
    assert!(
        find_alert(prometheus_port, "CredwatchLoginBroken", "firing", &[]).is_none()
            && find_alert(prometheus_port, "CredwatchLoginBroken", "pending", &[]).is_none(),
        "an alert while every login is usable: {:?}",
        alerts(prometheus_port)
    );

    // The login breaks: seen at the next scrape, alerted at the evaluation after it.
    replace_atomically(
        &home.path(".claude/.credentials.json"),
        claude_login(false).as_bytes(),
    );
    home.wait_for_state("claude", "logged-out");
    wait_for(
        "the textfile saying logged-out",
        Duration::from_secs(10),
        || {
            std::fs::read_to_string(&textfile).is_ok_and(|t| {
                t.lines().any(|l| {
                    l.starts_with("credwatch_credential_state{name=\"claude\",")
                        && l.ends_with("state=\"logged-out\"} 1")
                })
            })
        },
    );
    let broken = [("name", "claude"), ("state", "logged-out")];
    let took = wait_for("CredwatchLoginBroken", Duration::from_secs(30), || {
        find_alert(prometheus_port, "CredwatchLoginBroken", "firing", &broken).is_some()
    });
    // One scrape and two evaluations at most, with a second for a loaded machine.
    assert!(
        took <= 3 * INTERVAL + Duration::from_secs(1),
        "CredwatchLoginBroken took {took:?} after the textfile changed"
    );
    let firing = find_alert(prometheus_port, "CredwatchLoginBroken", "firing", &broken).unwrap();
    let summary = firing["annotations"]["summary"]
        .as_str()
        .unwrap_or_default();
    assert!(
        summary.contains("Claude Code login claude is logged-out"),
        "the alert does not say what broke: {firing}"
    );
    // The shipped group is evaluated at its own offset within the interval: within one more.
    let pending = wait_for(
        "CredwatchLoginBroken pending under the shipped rules",
        Duration::from_secs(30),
        || find_alert(prometheus_port, "CredwatchLoginBroken", "pending", &broken).is_some(),
    );
    assert!(
        took + pending <= 4 * INTERVAL + Duration::from_secs(1),
        "the shipped rule took {:?} to hold the alert pending",
        took + pending
    );

    // The daemon stops: its last textfile says so.
    daemon.stop();
    assert!(std::fs::read_to_string(&textfile)
        .unwrap()
        .contains("credwatch_daemon_up 0"));
    wait_for("CredwatchDaemonDown", Duration::from_secs(30), || {
        find_alert(prometheus_port, "CredwatchDaemonDown", "firing", &[]).is_some()
    });

    // A daemon gone without a word leaves its file as it was: once it is old, it is stale.
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .append(true)
        .open(&textfile)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
    let stale = wait_for("CredwatchMetricsStale", Duration::from_secs(30), || {
        find_alert(prometheus_port, "CredwatchMetricsStale", "firing", &[]).is_some()
    });
    let alert = find_alert(prometheus_port, "CredwatchMetricsStale", "firing", &[]).unwrap();
    assert!(
        alert["labels"]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("credwatch-user.prom")),
        "the stale alert does not name the file: {alert} (after {stale:?})"
    );
}
