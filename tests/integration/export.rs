//! `credwatch export --prometheus` and the daemon's textfile, checked by the real `promtool`.

use crate::harness::{claude_login, replace_atomically, run_command, TestHome, Times};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

/// promtool (Debian package `prometheus`): `$PROMTOOL`, else where `scripts/test` unpacks it
/// (`target/tools/promtool`), else on PATH.
fn promtool() -> PathBuf {
    match std::env::var_os("PROMTOOL") {
        Some(path) => PathBuf::from(path),
        None => crate::harness::unpacked_tool("promtool"),
    }
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
    assert_eq!(out.code, 4, "an I/O failure, not a usage error");
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

/// The shipped alerting rules (packaging/prometheus) pass `promtool check rules` and their own
/// `promtool test rules` unit tests; and fed the series of a real `credwatch export` (an expired
/// Claude login, a token ending within the day), the alerts fire with the names and labels
/// credwatch exports: the rules cannot drift from the metrics.
#[test]
fn the_alert_rules_pass_promtool_and_fire_on_real_metrics() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("packaging/prometheus");
    for args in [
        vec!["check", "rules", "credwatch.rules.yml"],
        vec!["test", "rules", "credwatch.rules.test.yml"],
    ] {
        let mut command = Command::new(promtool());
        command.args(&args).current_dir(&dir);
        let out = run_command(command);
        assert_eq!(
            out.code, 0,
            "promtool {args:?}: {}{}",
            out.stdout, out.stderr
        );
    }

    let home = TestHome::new();
    home.install_fixture("claude", Times::expired_since(1));
    home.write_config(
        "presets = [\"claude\"]\n[[credential]]\nname = \"short\"\nfile = \"~/short.json\"\nformat = \"json\"\nsecret = \"/t\"\nexpires = \"/e\"\n",
    );
    let ends = crate::harness::now_secs() + 3 * 3600;
    home.write("short.json", format!(r#"{{"t": "x", "e": {ends}}}"#));
    let metrics = home.run(&["export", "--prometheus"]).stdout;
    // The test clock starts at 0: deadlines become "seconds from the start".
    let now = crate::harness::now_secs();
    let mut series = String::new();
    for line in metrics
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (name_labels, value) = line.rsplit_once(' ').unwrap();
        let mut value: f64 = value.parse().unwrap();
        if name_labels.starts_with("credwatch_credential_expiry_timestamp_seconds") {
            value -= now as f64;
        }
        let with_instance = match name_labels.split_once('{') {
            Some((name, labels)) => format!("{name}{{instance=\"h\",{labels}"),
            None => format!("{name_labels}{{instance=\"h\"}}"),
        };
        series.push_str(&format!(
            "      - series: '{}'\n        values: '{}x30'\n",
            with_instance.replace('\'', "''"),
            value
        ));
    }
    let test = format!(
        "rule_files:\n  - {}\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n{series}    alert_rule_test:\n      - eval_time: 20m\n        alertname: CredwatchLoginBroken\n        exp_alerts:\n          - exp_labels: {{severity: warning, instance: h, name: claude, tool: Claude Code, state: expired}}\n            exp_annotations:\n              summary: \"Claude Code login claude is expired on h\"\n              description: \"Run `credwatch status claude` on h for the reason and the fix.\"\n      - eval_time: 20m\n        alertname: CredwatchLoginExpiresSoon\n        exp_alerts:\n          - exp_labels: {{severity: info, instance: h, name: short}}\n            exp_annotations:\n              summary: \"Login short on h ends within a day\"\n              description: \"It ends in 2h 40m 0s; log in again before then (`credwatch status short` names the command).\"\n      - eval_time: 20m\n        alertname: CredwatchDaemonDown\n        exp_alerts:\n          - exp_labels: {{severity: warning, instance: h}}\n            exp_annotations:\n              summary: \"The credwatch daemon does not run on h\"\n              description: \"Nothing watches the logins there: systemctl --user start credwatch (as the user).\"\n",
        dir.join("credwatch.rules.yml").display()
    );
    let file = home.write("real.test.yml", test);
    let mut command = Command::new(promtool());
    command.args(["test", "rules", file.to_str().unwrap()]);
    let out = run_command(command);
    assert_eq!(out.code, 0, "{}{}\n{metrics}", out.stdout, out.stderr);
}
