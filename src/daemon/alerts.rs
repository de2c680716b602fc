//! What the daemon says on its own, before a command fails: each settled transition (see
//! `settle`) is journaled, and it and each lead time reached before a login's deadline are told
//! by a desktop notification (`publish::desktop`) and the user's `[[on_change]]` hooks.
//!
//! Guarantees: only settled transitions and lead times alert, each at most once; a flapping
//! store is held to [`BURST`] alerts per [`WINDOW_MS`] per credential (and [`GLOBAL_BURST`] in
//! all), and the same news twice in a row is said once; lead times wake the daemon only at the
//! lead times themselves (they are part of the schedule); a notification replaces the last one
//! for its credential; hooks run off the event loop, in their own process group, with the facts
//! in their environment (never a secret: verdicts hold none) and are killed with their group at
//! their timeout; no bus, no notification server, or a failing hook breaks nothing and is
//! journaled once.

use super::Daemon;
use crate::define::config::{AlertKind, Alerts, Hook};
use crate::define::state::{Group, State};
use crate::engine::journal;
use crate::publish::desktop::{self, Notification, Urgency};
use crate::support::output::inert;
use crate::support::timefmt::{describe_span, Timestamp};
use std::collections::{HashMap, VecDeque};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// At most this many alerts per credential within [`WINDOW_MS`].
pub const BURST: usize = 3;
/// At most this many alerts in all within [`WINDOW_MS`].
pub const GLOBAL_BURST: usize = 20;
pub const WINDOW_MS: i64 = 10 * 60 * 1000;

/// One thing to tell about one credential.
#[derive(Debug, Clone)]
pub(super) struct Alert {
    pub name: String,
    pub tool: String,
    pub kind: AlertKind,
    pub from: Option<State>,
    pub to: State,
    pub reason: String,
    pub fix: Option<String>,
    pub expires_at: Option<Timestamp>,
    /// For a lead-time alert: the lead reached.
    pub lead_ms: Option<i64>,
}

/// What a settled transition from `from` to `to` is worth telling, if anything.
pub(super) fn kind_of(from: Option<State>, to: State) -> Option<AlertKind> {
    let was = from.map(State::group);
    match to.group() {
        Group::Broken => Some(AlertKind::Broken),
        Group::Undetermined => Some(AlertKind::Undetermined),
        Group::Usable if to == State::Expiring => Some(AlertKind::Expiring),
        Group::Usable => match (was, from) {
            (Some(Group::Broken | Group::Undetermined), _) | (_, Some(State::Expiring)) => {
                Some(AlertKind::Recovered)
            }
            _ => None,
        },
    }
}

/// Rate limits and de-duplication.
#[derive(Default)]
pub(super) struct Quiet {
    sent: HashMap<String, VecDeque<Timestamp>>,
    all: VecDeque<Timestamp>,
    last: HashMap<String, (AlertKind, State, Option<i64>)>,
}

impl Quiet {
    /// Whether `alert` may go out at `now` (and, if so, it is counted).
    pub fn allow(&mut self, alert: &Alert, now: Timestamp) -> bool {
        let news = (alert.kind, alert.to, alert.lead_ms);
        if self.last.get(&alert.name) == Some(&news) {
            return false;
        }
        let since = now.saturating_add_millis(-WINDOW_MS);
        let mine = self.sent.entry(alert.name.clone()).or_default();
        mine.retain(|at| *at > since);
        self.all.retain(|at| *at > since);
        if mine.len() >= BURST || self.all.len() >= GLOBAL_BURST {
            return false;
        }
        mine.push_back(now);
        self.all.push_back(now);
        self.last.insert(alert.name.clone(), news);
        true
    }
}

/// The notification for `alert`.
fn notification(alert: &Alert) -> Notification {
    let fix = alert
        .fix
        .as_ref()
        .map(|fix| format!("\nfix: {fix}"))
        .unwrap_or_default();
    let (summary, urgency) = match alert.kind {
        AlertKind::Broken => (
            format!("{}: {}", alert.tool, alert.to.as_str()),
            Urgency::Critical,
        ),
        AlertKind::Expiring => (format!("{}: login expiring", alert.tool), Urgency::Normal),
        AlertKind::Lead => (
            format!(
                "{}: login ends in {}",
                alert.tool,
                describe_span(alert.lead_ms.unwrap_or_default())
            ),
            Urgency::Normal,
        ),
        AlertKind::Recovered => (format!("{}: working again", alert.tool), Urgency::Low),
        AlertKind::Undetermined => (format!("{}: cannot be checked", alert.tool), Urgency::Low),
    };
    let fix = if alert.kind == AlertKind::Recovered {
        String::new()
    } else {
        fix
    };
    Notification {
        summary,
        body: format!("{}{fix}", alert.reason),
        urgency,
    }
}

/// The environment a hook gets: the facts, as text made inert.
fn hook_env(alert: &Alert) -> Vec<(&'static str, String)> {
    let text = |s: &str| inert(s).into_owned();
    vec![
        ("CREDWATCH_NAME", text(&alert.name)),
        ("CREDWATCH_TOOL", text(&alert.tool)),
        ("CREDWATCH_EVENT", alert.kind.as_str().to_string()),
        (
            "CREDWATCH_FROM",
            alert
                .from
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        ),
        ("CREDWATCH_TO", alert.to.as_str().to_string()),
        ("CREDWATCH_REASON", text(&alert.reason)),
        (
            "CREDWATCH_FIX",
            alert.fix.as_deref().map(text).unwrap_or_default(),
        ),
        (
            "CREDWATCH_EXPIRES_AT",
            alert.expires_at.map(Timestamp::rfc3339).unwrap_or_default(),
        ),
        (
            "CREDWATCH_LEAD",
            alert
                .lead_ms
                .map(|ms| (ms / 1000).to_string())
                .unwrap_or_default(),
        ),
    ]
}

fn hook_wants(hook: &Hook, alert: &Alert) -> bool {
    hook.on.contains(&alert.kind)
        && hook
            .credentials
            .as_ref()
            .is_none_or(|names| names.contains(&alert.name))
}

enum Job {
    Notify {
        name: String,
        notification: Notification,
    },
    Run {
        name: String,
        argv: Vec<String>,
        env: Vec<(&'static str, String)>,
        timeout_ms: i64,
    },
}

/// What went wrong delivering an alert, for the journal.
pub(super) struct Failure {
    pub name: String,
    pub event: &'static str,
    pub detail: String,
}

/// The task that notifies and runs hooks, and the channel its failures come back on.
pub(super) struct AlertLink {
    jobs: Option<UnboundedSender<Job>>,
    failures: UnboundedSender<Failure>,
    receiver: Option<UnboundedReceiver<Failure>>,
}

impl AlertLink {
    pub fn new() -> Self {
        let (failures, receiver) = unbounded_channel();
        AlertLink {
            jobs: None,
            failures,
            receiver: Some(receiver),
        }
    }

    pub fn take_receiver(&mut self) -> UnboundedReceiver<Failure> {
        self.receiver.take().expect("the receiver is taken once")
    }

    /// The job queue, its task started at the first alert (a daemon that never alerts never
    /// connects to the bus for it).
    fn jobs(&mut self) -> &UnboundedSender<Job> {
        self.jobs.get_or_insert_with(|| {
            let (sender, receiver) = unbounded_channel();
            tokio::spawn(deliver(receiver, self.failures.clone()));
            sender
        })
    }
}

/// Delivers jobs in order: notifications on one connection (made when first needed, and again
/// after it fails), each hook in a task of its own.
async fn deliver(mut jobs: UnboundedReceiver<Job>, failures: UnboundedSender<Failure>) {
    let mut connection: Option<zbus::Connection> = None;
    let mut shown: HashMap<String, u32> = HashMap::new();
    let mut said_unreachable = false;
    while let Some(job) = jobs.recv().await {
        match job {
            Job::Notify { name, notification } => {
                if connection.is_none() {
                    match desktop::connect().await {
                        Ok(c) => connection = Some(c),
                        Err(detail) => {
                            if !std::mem::replace(&mut said_unreachable, true) {
                                let _ = failures.send(Failure {
                                    name,
                                    event: "notify-failed",
                                    detail,
                                });
                            }
                            continue;
                        }
                    }
                }
                let Some(bus) = connection.as_ref() else {
                    continue;
                };
                let replaces = shown.get(&name).copied().unwrap_or(0);
                match desktop::notify(bus, replaces, &notification).await {
                    Ok(id) => {
                        said_unreachable = false;
                        shown.insert(name, id);
                    }
                    Err(detail) => {
                        connection = None;
                        if !std::mem::replace(&mut said_unreachable, true) {
                            let _ = failures.send(Failure {
                                name,
                                event: "notify-failed",
                                detail,
                            });
                        }
                    }
                }
            }
            Job::Run {
                name,
                argv,
                env,
                timeout_ms,
            } => {
                let failures = failures.clone();
                tokio::spawn(async move {
                    if let Err((event, detail)) = run_hook(&argv, &env, timeout_ms).await {
                        let _ = failures.send(Failure {
                            name,
                            event,
                            detail,
                        });
                    }
                });
            }
        }
    }
}

/// Runs one hook: no shell, stdin closed, in its own process group, killed with that group at
/// its timeout.
async fn run_hook(
    argv: &[String],
    env: &[(&'static str, String)],
    timeout_ms: i64,
) -> Result<(), (&'static str, String)> {
    use tokio::io::AsyncReadExt;
    let shown = inert(&argv.join(" ")).into_owned();
    let mut command = tokio::process::Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|e| ("hook-failed", format!("{shown}: cannot start: {e}")))?;
    let group = child.id().map(|pid| nix::unistd::Pid::from_raw(pid as i32));
    let mut stderr = child.stderr.take();
    let limit = std::time::Duration::from_millis(timeout_ms.max(1) as u64);
    let waited = tokio::time::timeout(limit, async {
        let mut said = Vec::new();
        if let Some(stderr) = stderr.as_mut() {
            let _ = stderr.take(1024).read_to_end(&mut said).await;
        }
        (child.wait().await, said)
    })
    .await;
    match waited {
        Err(_) => {
            if let Some(group) = group {
                let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            }
            let _ = child.wait().await;
            Err((
                "hook-timed-out",
                format!(
                    "{shown}: still running after {}: killed with its process group",
                    describe_span(timeout_ms)
                ),
            ))
        }
        Ok((Err(e), _)) => Err(("hook-failed", format!("{shown}: {e}"))),
        Ok((Ok(status), _)) if status.success() => Ok(()),
        Ok((Ok(status), said)) => {
            let said = String::from_utf8_lossy(&said);
            let first = said.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            Err((
                "hook-failed",
                format!(
                    "{shown}: {status}{}",
                    if first.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", inert(first))
                    }
                ),
            ))
        }
    }
}

impl Daemon {
    /// Records the transitions that have held until `now` (see `settle`).
    pub(super) fn record_settled(&mut self, now: Timestamp) {
        let mut alerts = Vec::new();
        for entry in &mut self.entries {
            if let Some(settled) = entry.settling.settle(now) {
                let definition = &entry.candidate.definition;
                let mut line = journal::Record::new(settled.at, &definition.name, "state");
                line.from = settled.from.map(|s| s.as_str().to_string());
                line.to = Some(settled.to.as_str().to_string());
                line.detail = Some(settled.reason.clone());
                self.pending_journal.push(line);
                if let Some(kind) = kind_of(settled.from, settled.to) {
                    let verdict = entry.checked.as_ref().map(|c| &c.verdict);
                    alerts.push(Alert {
                        name: definition.name.clone(),
                        tool: definition.tool.clone(),
                        kind,
                        from: settled.from,
                        to: settled.to,
                        reason: settled.reason,
                        fix: verdict.and_then(|v| v.fix.clone()),
                        expires_at: verdict.and_then(|v| v.expires_at),
                        lead_ms: None,
                    });
                }
            }
        }
        for alert in alerts {
            self.alert(alert, now);
        }
    }

    /// Tells `alert`: a notification and the hooks that want it, unless quieted.
    pub(super) fn alert(&mut self, alert: Alert, now: Timestamp) {
        let settings: &Alerts = &self.config.alerts;
        let hooks: Vec<&Hook> = settings
            .hooks
            .iter()
            .filter(|h| hook_wants(h, &alert))
            .collect();
        let desktop =
            settings.desktop && (alert.kind != AlertKind::Undetermined || settings.undetermined);
        if (!desktop && hooks.is_empty()) || !self.quiet.allow(&alert, now) {
            return;
        }
        let jobs: Vec<Job> = hooks
            .into_iter()
            .map(|hook| Job::Run {
                name: alert.name.clone(),
                argv: hook.argv.clone(),
                env: hook_env(&alert),
                timeout_ms: hook.timeout_ms,
            })
            .chain(desktop.then(|| Job::Notify {
                name: alert.name.clone(),
                notification: notification(&alert),
            }))
            .collect();
        let queue = self.alerts.jobs();
        for job in jobs {
            let _ = queue.send(job);
        }
    }

    /// A notification or hook failed: journaled (a notification failure once until one works).
    pub(super) fn on_alert_failure(&mut self, failure: Failure) {
        tracing::warn!(name = %failure.name, event = failure.event, detail = %failure.detail, "alert not delivered");
        let mut line = journal::Record::new(Timestamp::now(), &failure.name, failure.event);
        line.detail = Some(failure.detail);
        self.write_journal(&[line]);
    }

    /// The lead times reached by `now`: one alert per credential for the most urgent one
    /// reached (and the longer ones count as said).
    pub(super) fn fire_leads(&mut self, now: Timestamp) {
        let leads = self.config.alerts.lead_times_ms.clone();
        let mut reached = Vec::new();
        for entry in &mut self.entries {
            let Some(checked) = entry.checked.as_ref() else {
                continue;
            };
            let Some(deadline) = checked.verdict.expires_at.filter(|d| *d > now) else {
                continue;
            };
            let said_below = match entry.lead_said {
                Some((d, lead)) if d == deadline => lead,
                _ => i64::MAX,
            };
            let Some(lead) = leads
                .iter()
                .copied()
                .filter(|l| *l < said_below && deadline.saturating_add_millis(-l) <= now)
                .min()
            else {
                continue;
            };
            entry.lead_said = Some((deadline, lead));
            if !checked.verdict.state.is_usable() {
                continue;
            }
            reached.push(Alert {
                name: checked.definition.name.clone(),
                tool: checked.definition.tool.clone(),
                kind: AlertKind::Lead,
                from: Some(checked.verdict.state),
                to: checked.verdict.state,
                reason: checked.verdict.reason.clone(),
                fix: checked
                    .verdict
                    .fix
                    .clone()
                    .or(Some(checked.definition.fix.clone())),
                expires_at: Some(deadline),
                lead_ms: Some(lead),
            });
        }
        for alert in reached {
            self.alert(alert, now);
        }
    }
}

impl super::tracked::Tracked {
    /// When the next lead time before its deadline is reached, if one is still to come.
    pub(super) fn lead_due(&self, leads: &[i64]) -> Option<Timestamp> {
        let deadline = self
            .checked
            .as_ref()?
            .verdict
            .expires_at
            .filter(|d| *d > Timestamp::now())?;
        let said_below = match self.lead_said {
            Some((d, lead)) if d == deadline => lead,
            _ => i64::MAX,
        };
        leads
            .iter()
            .copied()
            .filter(|l| *l < said_below)
            .max()
            .map(|lead| deadline.saturating_add_millis(-lead))
            .filter(|at| *at < deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(kind: AlertKind, to: State) -> Alert {
        Alert {
            name: "gh".into(),
            tool: "GitHub CLI".into(),
            kind,
            from: None,
            to,
            reason: "r".into(),
            fix: Some("gh auth login".into()),
            expires_at: None,
            lead_ms: None,
        }
    }

    #[test]
    fn transitions_worth_telling() {
        assert_eq!(kind_of(None, State::Ok), None);
        assert_eq!(kind_of(None, State::Expired), Some(AlertKind::Broken));
        assert_eq!(
            kind_of(Some(State::Ok), State::Expiring),
            Some(AlertKind::Expiring)
        );
        assert_eq!(
            kind_of(Some(State::Expired), State::Ok),
            Some(AlertKind::Recovered)
        );
        assert_eq!(
            kind_of(Some(State::Expiring), State::Ok),
            Some(AlertKind::Recovered)
        );
        assert_eq!(
            kind_of(Some(State::Ok), State::Unknown),
            Some(AlertKind::Undetermined)
        );
        assert_eq!(kind_of(Some(State::Ok), State::Insecure), None);
    }

    #[test]
    fn a_flapping_credential_is_held_to_a_burst_and_the_same_news_is_said_once() {
        let mut quiet = Quiet::default();
        let t = Timestamp::from_millis(1_000_000);
        assert!(quiet.allow(&alert(AlertKind::Broken, State::Expired), t));
        assert!(
            !quiet.allow(&alert(AlertKind::Broken, State::Expired), t),
            "the same news"
        );
        let mut allowed = 1;
        for i in 0..100 {
            let (kind, to) = if i % 2 == 0 {
                (AlertKind::Recovered, State::Ok)
            } else {
                (AlertKind::Broken, State::Expired)
            };
            allowed += usize::from(quiet.allow(&alert(kind, to), t.saturating_add_millis(i * 100)));
        }
        assert_eq!(allowed, BURST);
        let later = t.saturating_add_millis(WINDOW_MS + 20_000);
        assert!(quiet.allow(&alert(AlertKind::Recovered, State::Ok), later));
    }
}
