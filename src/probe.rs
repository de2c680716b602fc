//! Live probes: ask the server whether it still accepts a credential.
//!
//! Guarantees: a probe runs only where a definition configures one (one preset does, gh's, and
//! only on request: `verify` sends a GH_TOKEN of the shell to GitHub's API; the daemon never runs
//! an `on_request` probe); an HTTP probe whose token comes only from variables sends nothing when
//! none is set; the HTTP probe sends the bearer token to exactly the configured URL (no
//! redirect is followed, no proxy is used) and only over HTTPS or to a loopback address; the
//! token is read from the credential file (or, with `bearer_env`, from the variable of the shell
//! that the tool itself would use) for the request and dropped after it; every probe has
//! a timeout; anything but a clear answer (timeouts, 5xx, network errors, unexpected exit codes)
//! is `unknown`, never "rejected" or "logged out". Nothing here logs the token or the response.

use crate::define::config::{Definition, ProbeKind, ProbeSpec};
use crate::support::docpath::DocPath;
use crate::support::fsread::{read_bounded, ReadOutcome};
use crate::support::secret::{Document, Secret};
use crate::support::timefmt::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeResult {
    Accepted,
    Rejected,
    Unknown,
}

/// What a probe found, as `status --json` shows it (`probe` in docs/contract.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeReport {
    pub at: String,
    pub result: ProbeResult,
    pub detail: String,
    /// The token's deadline, as the server's answer gave it (`expires_header`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// The variable whose token was sent (`bearer_env`), when it was not the stored one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_from: Option<String>,
}

impl ProbeReport {
    fn new(result: ProbeResult, detail: String) -> Self {
        ProbeReport {
            at: Timestamp::now().rfc3339(),
            result,
            detail,
            expires_at: None,
            token_from: None,
        }
    }
}

/// Runs the definition's probe now (blocking, at most its timeout plus a little); an HTTP probe
/// takes its bearer token from `file`, the store observation found in use (a glob's match).
pub fn run(
    definition: &Definition,
    spec: &ProbeSpec,
    file: Option<&std::path::Path>,
) -> ProbeReport {
    match &spec.kind {
        ProbeKind::Command {
            argv,
            rejected_exit_codes,
            rejected_output,
        } => run_command(
            argv,
            rejected_exit_codes,
            rejected_output.as_deref(),
            spec.timeout,
        ),
        ProbeKind::Http {
            url,
            bearer,
            bearer_env,
            expires_header,
        } => {
            if let Some((name, token)) = env_token(bearer_env) {
                let mut report =
                    http_get(url, Some(&token), spec.timeout, expires_header.as_deref());
                report.token_from = Some(name);
                return report;
            }
            match bearer_token(definition, file, bearer.as_ref()) {
                Ok(token) => http_get(url, token.as_ref(), spec.timeout, expires_header.as_deref()),
                Err(why) => ProbeReport::new(ProbeResult::Unknown, why),
            }
        }
    }
}

/// The first of `names` set (non-empty) in the environment in force, with its value: the token
/// the tool uses instead of its stored one.
fn env_token(names: &[String]) -> Option<(String, Secret)> {
    names.iter().find_map(|name| {
        let value = crate::support::environ::var_text(name)?;
        let value = value.trim();
        (!value.is_empty()).then(|| (name.clone(), Secret::new(value)))
    })
}

/// Whether the probe has something to send: a command always; an HTTP probe whose token comes
/// only from variables, when one of them is set.
pub fn applies(spec: &ProbeSpec) -> bool {
    match &spec.kind {
        ProbeKind::Http {
            bearer: None,
            bearer_env,
            ..
        } if !bearer_env.is_empty() => env_token(bearer_env).is_some(),
        _ => true,
    }
}

/// A deadline in a response header: RFC 3339, or GitHub's `2026-12-20 14:46:23 UTC`.
fn header_deadline(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    Timestamp::parse_datetime(text).or_else(|| {
        let (date, zone) = text.rsplit_once(' ')?;
        let offset = match zone {
            "UTC" | "GMT" => "Z".to_string(),
            other if other.starts_with(['+', '-']) && other.len() == 5 => {
                format!("{}:{}", &other[..3], &other[3..])
            }
            _ => return None,
        };
        Timestamp::parse_datetime(&format!("{}{offset}", date.replacen(' ', "T", 1)))
    })
}

/// The token for the `Authorization` header, read from the credential's file now.
fn bearer_token(
    definition: &Definition,
    file: Option<&std::path::Path>,
    bearer: Option<&DocPath>,
) -> Result<Option<Secret>, String> {
    let Some(path) = bearer else {
        return Ok(None);
    };
    let file = file.ok_or("no credential file to take the bearer token from")?;
    let bytes = match read_bounded(file, crate::store::file::FILE_SIZE_LIMIT) {
        ReadOutcome::Read { bytes, .. } => bytes,
        _ => {
            return Err(format!(
                "cannot read {}",
                crate::support::paths::display(file)
            ))
        }
    };
    let document: Document = crate::tools::parse(definition.format, &bytes)
        .map_err(|e| format!("cannot parse the credential file: {e}"))?;
    drop(bytes);
    let token = path
        .resolve(document.root())
        .into_iter()
        .find_map(|v| v.as_str().filter(|s| !s.trim().is_empty()))
        .map(|s| Secret::new(s.trim()))
        .ok_or_else(|| format!("no token at {path} for the probe"))?;
    Ok(Some(token))
}

fn http_get(
    url: &str,
    token: Option<&Secret>,
    timeout: Duration,
    expires_header: Option<&str>,
) -> ProbeReport {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .proxy(None)
        .user_agent(concat!("credwatch/", env!("CARGO_PKG_VERSION")))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let mut request = agent.get(url);
    if let Some(token) = token {
        // The config check refused such a URL already; a token never goes out without this.
        if let Err(why) = crate::support::destination::may_carry_a_token(url) {
            return ProbeReport::new(ProbeResult::Unknown, format!("not sent: the URL {why}"));
        }
        request = request.header("Authorization", &format!("Bearer {}", token.expose()));
    }
    match request.call() {
        Ok(response) => {
            let status = response.status().as_u16();
            let result = match status {
                200..=299 => ProbeResult::Accepted,
                401 | 403 => ProbeResult::Rejected,
                _ => ProbeResult::Unknown,
            };
            let mut report = ProbeReport::new(result, format!("HTTP {status}"));
            report.expires_at = expires_header
                .and_then(|name| response.headers().get(name))
                .and_then(|value| value.to_str().ok())
                .and_then(header_deadline)
                .map(Timestamp::rfc3339);
            report
        }
        Err(ureq::Error::Timeout(_)) => ProbeReport::new(
            ProbeResult::Unknown,
            format!(
                "no answer within {}",
                crate::support::timefmt::describe_span(timeout.as_millis() as i64)
            ),
        ),
        Err(error) => ProbeReport::new(
            ProbeResult::Unknown,
            format!("request failed: {}", describe_error(&error)),
        ),
    }
}

/// The error without anything that could echo the request (ureq's messages do not hold
/// headers, but keep it to the kind of failure).
fn describe_error(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Io(io) => io.kind().to_string(),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        other => other.to_string(),
    }
}

fn run_command(
    argv: &[String],
    rejected_exit_codes: &[i32],
    rejected_output: Option<&str>,
    timeout: Duration,
) -> ProbeReport {
    use crate::support::child::{run_bounded_blocking, Bounded, Ended};
    let ended = run_bounded_blocking(&Bounded {
        argv,
        env: &[],
        keep_stdout: 1 << 20,
        keep_stderr: 1 << 20,
        timeout,
    });
    let (status, output) = match ended {
        Ended::Exited {
            status,
            mut stdout,
            stderr,
        } => {
            stdout.extend(stderr);
            (status, stdout)
        }
        Ended::Failed(error) => {
            return ProbeReport::new(
                ProbeResult::Unknown,
                format!("cannot run {}: {error}", argv[0]),
            )
        }
        Ended::TimedOut => {
            return ProbeReport::new(
                ProbeResult::Unknown,
                format!(
                    "{} did not finish within {}",
                    argv[0],
                    crate::support::timefmt::describe_span(timeout.as_millis() as i64)
                ),
            )
        }
    };
    let code = status.code();
    let text = String::from_utf8_lossy(&output);
    if code == Some(0) {
        return ProbeReport::new(ProbeResult::Accepted, format!("{} exited 0", argv[0]));
    }
    let shown = code.map_or_else(
        || "was killed by a signal".to_string(),
        |c| format!("exited {c}"),
    );
    if code.is_some_and(|c| rejected_exit_codes.contains(&c))
        || rejected_output.is_some_and(|pattern| text.contains(pattern))
    {
        return ProbeReport::new(ProbeResult::Rejected, format!("{} {shown}", argv[0]));
    }
    ProbeReport::new(ProbeResult::Unknown, format!("{} {shown}", argv[0]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn githubs_expiration_header_is_read_as_a_deadline() {
        let read = |text: &str| super::header_deadline(text).map(|t| t.rfc3339());
        assert_eq!(
            read("2026-12-20 14:46:23 UTC").as_deref(),
            Some("2026-12-20T14:46:23Z")
        );
        assert_eq!(
            read("2026-12-20 14:46:23 +0100").as_deref(),
            Some("2026-12-20T13:46:23Z")
        );
        assert_eq!(
            read("2026-12-20T14:46:23Z").as_deref(),
            Some("2026-12-20T14:46:23Z")
        );
        assert_eq!(read("soon"), None);
    }
}
