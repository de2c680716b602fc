//! `credwatch export --prometheus` and the daemon's textfile, checked by the real `promtool`.

use crate::harness::{claude_login, replace_atomically, run_command, TestHome, Times};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

/// promtool (Debian package `prometheus`): `$PROMTOOL`, else on PATH, else where `scripts/test`
/// unpacks it (`target/tools/promtool`).
fn promtool() -> PathBuf {
    if let Some(path) = std::env::var_os("PROMTOOL") {
        return PathBuf::from(path);
    }
    let unpacked = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/promtool");
    if unpacked.exists() {
        return unpacked;
    }
    let on_path = run_command({
        let mut c = Command::new("sh");
        c.args(["-c", "command -v promtool"]);
        c
    });
    assert_eq!(
        on_path.code, 0,
        "promtool not found: run ./scripts/test (it unpacks it), or apt-get install prometheus"
    );
    PathBuf::from(on_path.stdout.trim())
}

fn check_metrics(text: &str) {
    use std::io::Write;
    let mut child = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn export_is_valid_prometheus_with_one_sample_per_state() {
    let home = TestHome::new();
    home.install_fixture("claude", Times::expired_since(1));
    home.install_fixture("vault", Times::valid_for(1));
    let out = home.run(&["export", "--prometheus"]);
    assert_eq!(out.code, 1, "exit code as status: one broken");
    check_metrics(&out.stdout);
    let text = &out.stdout;
    assert!(text.contains(
        "credwatch_credential_state{name=\"claude\",tool=\"Claude Code\",state=\"expired\"} 1"
    ));
    assert!(text.contains(
        "credwatch_credential_state{name=\"claude\",tool=\"Claude Code\",state=\"ok\"} 0"
    ));
    assert!(text.contains("credwatch_credential_usable{name=\"claude\"} 0"));
    assert!(text.contains("credwatch_credential_usable{name=\"vault\"} 1"));
    assert!(text.contains("credwatch_credential_expiry_timestamp_seconds{name=\"claude\"} "));
    assert!(text.contains("credwatch_daemon_up 0"), "no daemon here");
    assert!(!text.contains(crate::harness::CANARY));
}

#[test]
fn export_output_file_is_replaced_atomically_and_readable_by_node_exporter() {
    let home = TestHome::new();
    home.install_fixture("vault", Times::valid_for(1));
    let file = home.path("textfile/credwatch.prom");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let out = home.run(&["export", "--prometheus", "--output", file.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&file).unwrap();
    check_metrics(&text);
    assert!(text.contains("credwatch_credential_usable{name=\"vault\"} 1"));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    let leftovers: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temp file left: {leftovers:?}");

    let missing_dir = home.path("nowhere/credwatch.prom");
    let out = home.run(&[
        "export",
        "--prometheus",
        "--output",
        missing_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("nowhere/credwatch.prom"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("fix:"), "{}", out.stderr);
}

#[test]
fn the_daemon_keeps_the_textfile_current_and_says_when_it_stops() {
    let home = TestHome::new();
    let credentials = home.write(".claude/.credentials.json", claude_login(true));
    let file = home.path("textfile/credwatch.prom");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    home.write_config(format!(
        "[export]\nprometheus_textfile = \"{}\"\n",
        file.display()
    ));
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    let read = || std::fs::read_to_string(&file).unwrap_or_default();
    crate::harness::wait_until("the textfile says claude is usable", || {
        read().contains("credwatch_credential_usable{name=\"claude\"} 1")
    });
    assert!(read().contains("credwatch_daemon_up 1"));
    check_metrics(&read());

    replace_atomically(&credentials, claude_login(false).as_bytes());
    crate::harness::wait_until("the textfile says claude is logged out", || {
        read().contains("state=\"logged-out\"} 1")
    });
    assert_eq!(daemon.stop(), Some(0));
    let last = read();
    check_metrics(&last);
    assert!(last.contains("credwatch_daemon_up 0"), "{last}");
    assert!(
        !last.contains("credwatch_credential_usable{"),
        "no stale states once the watchdog stopped: {last}"
    );
}
