//! Prometheus text exposition (format 0.0.4) of credential states, for node_exporter's textfile
//! collector and fleets.
//!
//! Guarantees: one HELP and one TYPE per family, before its samples; label values escaped; base
//! units (`_seconds`); the file ends with a newline (what `promtool check metrics` demands). Every
//! state is exported for every credential (1 for the current one, 0 for the others), so an alert
//! can match a state without knowing which states exist. Names and tools only: no secret, no
//! path, nothing derived from a secret.

use crate::define::state::State;
use crate::publish::report::{CredentialReport, DaemonInfo};
use crate::support::timefmt::Timestamp;
use std::fmt::Write;

/// The metrics for these credentials, as the daemon (or a direct check) saw them.
pub fn render(credentials: &[&CredentialReport], daemon: &DaemonInfo) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "credwatch_credential_state",
        "Current state of each watched credential: 1 for the state it is in, 0 for the others.",
    );
    for c in credentials {
        for state in State::ALL {
            let _ = writeln!(
                out,
                "credwatch_credential_state{{name=\"{}\",tool=\"{}\",state=\"{}\"}} {}",
                escape(&c.name),
                escape(&c.tool),
                state.as_str(),
                u8::from(c.state == state)
            );
        }
    }
    family(
        &mut out,
        "credwatch_credential_usable",
        "1 when the credential is usable (ok, expiring or insecure), else 0.",
    );
    for c in credentials {
        let _ = writeln!(
            out,
            "credwatch_credential_usable{{name=\"{}\"}} {}",
            escape(&c.name),
            u8::from(c.usable)
        );
    }
    timestamps(
        &mut out,
        "credwatch_credential_expiry_timestamp_seconds",
        "The login's deadline (after it the tool cannot renew it by itself), as a Unix time; absent when none is stored.",
        credentials,
        |c| c.expires_at.as_deref(),
    );
    timestamps(
        &mut out,
        "credwatch_credential_checked_timestamp_seconds",
        "When the credential was last checked, as a Unix time.",
        credentials,
        |c| Some(&c.checked_at),
    );
    family(
        &mut out,
        "credwatch_daemon_up",
        "1 when a credwatch daemon is running and keeping these values fresh.",
    );
    let _ = writeln!(out, "credwatch_daemon_up {}", u8::from(daemon.running));
    family(
        &mut out,
        "credwatch_build_info",
        "The credwatch version that wrote these metrics.",
    );
    let _ = writeln!(
        out,
        "credwatch_build_info{{version=\"{}\"}} 1",
        escape(env!("CARGO_PKG_VERSION"))
    );
    out
}

/// A family of Unix-time gauges, one sample per credential that has the time.
fn timestamps(
    out: &mut String,
    name: &str,
    help: &str,
    credentials: &[&CredentialReport],
    time: impl Fn(&CredentialReport) -> Option<&str>,
) {
    family(out, name, help);
    for c in credentials {
        if let Some(at) = time(c).and_then(Timestamp::parse_datetime) {
            let _ = writeln!(
                out,
                "{name}{{name=\"{}\"}} {}",
                escape(&c.name),
                at.millis() / 1000
            );
        }
    }
}

fn family(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", help.replace('\\', "\\\\"));
    let _ = writeln!(out, "# TYPE {name} gauge");
}

/// A label value: backslash, double quote and line feed escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Replaces `path` with `text` atomically, readable by a node_exporter running as another user
/// (metrics hold no secret).
pub fn write_textfile(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let shown = crate::support::paths::display(path);
    crate::support::runtime::write_atomically_with_mode(path, text.as_bytes(), 0o644).map_err(|e| {
        anyhow::anyhow!(
            "cannot write {shown}: {e}\n  fix: create its directory and make it writable for you (node_exporter's --collector.textfile.directory)"
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(name: &str, state: State, expires: Option<&str>) -> CredentialReport {
        CredentialReport {
            name: name.into(),
            tool: "Tool \"X\"\\".into(),
            state,
            usable: state.is_usable(),
            reason: "r".into(),
            fix: None,
            expires_at: expires.map(String::from),
            access_expires_at: None,
            checked_at: "2026-11-25T08:00:00Z".into(),
            changed_at: None,
            stores: vec![],
            shadowed_by: vec![],
            forgotten: false,
            probe: None,
            depends_on_env: vec![],
            environment: Default::default(),
            accounts: vec![],
            kept_until: None,
        }
    }

    #[test]
    fn one_sample_per_state_with_escaped_labels() {
        let daemon = DaemonInfo {
            running: true,
            pid: Some(1),
            version: None,
            valid_until: None,
            config_error: None,
            unwatched: vec![],
            environment: Default::default(),
        };
        let claude = report("claude", State::Expired, Some("2026-11-24T00:00:00Z"));
        let gh = report("gh", State::Ok, None);
        let text = render(&[&claude, &gh], &daemon);
        assert!(text.contains(
            "credwatch_credential_state{name=\"claude\",tool=\"Tool \\\"X\\\"\\\\\",state=\"expired\"} 1"
        ));
        assert!(text.contains("state=\"ok\"} 0\n"));
        assert_eq!(
            text.matches("credwatch_credential_state{name=\"gh\"")
                .count(),
            State::ALL.len()
        );
        assert!(text.contains("credwatch_credential_usable{name=\"claude\"} 0\n"));
        assert!(text.contains(
            "credwatch_credential_expiry_timestamp_seconds{name=\"claude\"} 1795478400\n"
        ));
        assert!(!text.contains("expiry_timestamp_seconds{name=\"gh\"}"));
        assert!(text.contains("credwatch_daemon_up 1\n"));
        assert!(text.ends_with('\n'));
        assert_eq!(text.matches("# TYPE").count(), 6);
    }
}
