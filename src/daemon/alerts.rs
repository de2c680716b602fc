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
//! their timeout or when the daemon stops; no bus, no notification server, or a failing hook breaks nothing and is
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

/// What a settled transition from `from` to `to` is worth telling, if anything. Coming back
/// from an undetermined state is a recovery only where undetermined states are told.
pub(super) fn kind_of(
    from: Option<State>,
    to: State,
    undetermined_told: bool,
) -> Option<AlertKind> {
    let was = from.map(State::group);
    match to.group() {
        Group::Broken => Some(AlertKind::Broken),
        Group::Undetermined => Some(AlertKind::Undetermined),
        Group::Usable if to == State::Expiring => Some(AlertKind::Expiring),
        Group::Usable => match (was, from) {
            (Some(Group::Broken), _) | (_, Some(State::Expiring)) => Some(AlertKind::Recovered),
            (Some(Group::Undetermined), _) if undetermined_told => Some(AlertKind::Recovered),
            _ => None,
        },
    }
}

/// Rate limits and de-duplication.
#[derive(Default)]
pub(super) struct Quiet {
    sent: HashMap<String, VecDeque<Timestamp>>,
    all: VecDeque<Timestamp>,
    last: HashMap<String, News>,
    /// The newest alert per credential that a limit held back: told when the limit allows, so
    /// the last word on a flapping credential is where it ended up.
    held: HashMap<String, Alert>,
}

/// What an alert says, to tell the same news from new news.
type News = (AlertKind, State, Option<i64>, Option<Timestamp>);

impl Quiet {
    /// Whether `alert` may go out at `now` (and, if so, it is counted); one held back by a limit
    /// waits (see [`Quiet::release`]), replacing any older one held for its credential.
    pub fn allow(&mut self, alert: &Alert, now: Timestamp) -> bool {
        let news = (alert.kind, alert.to, alert.lead_ms, alert.expires_at);
        if self.last.get(&alert.name) == Some(&news) {
            self.held.remove(&alert.name);
            return false;
        }
        let since = now.saturating_add_millis(-WINDOW_MS);
        let mine = self.sent.entry(alert.name.clone()).or_default();
        mine.retain(|at| *at > since);
        self.all.retain(|at| *at > since);
        if mine.len() >= BURST || self.all.len() >= GLOBAL_BURST {
            self.held.insert(alert.name.clone(), alert.clone());
            return false;
        }
        mine.push_back(now);
        self.all.push_back(now);
        self.last.insert(alert.name.clone(), news);
        self.held.remove(&alert.name);
        true
    }

    /// The alerts held back that may go out at `now`.
    pub fn release(&mut self, now: Timestamp) -> Vec<Alert> {
        let held: Vec<Alert> = self.held.values().cloned().collect();
        held.into_iter()
            .filter(|alert| self.allow(alert, now))
            .collect()
    }

    /// When a held-back alert may go out: when its credential's oldest alert in the window
    /// leaves it (or the oldest of all, for the global limit).
    pub fn next_release(&self) -> Option<Timestamp> {
        if self.held.is_empty() {
            return None;
        }
        self.held
            .keys()
            .filter_map(|name| self.sent.get(name)?.front())
            .chain(self.all.front())
            .max()
            .map(|oldest| oldest.saturating_add_millis(WINDOW_MS))
    }
}

/// The notification for `alert` at `now`.
fn notification(alert: &Alert, now: Timestamp) -> Notification {
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
                describe_span(
                    alert
                        .expires_at
                        .map_or(0, |at| at.millis() - now.millis())
                        .max(0)
                )
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

/// What telling `alert` takes: a run of each hook that wants it, and a notification where the
/// desktop is told (none: nothing wants it).
fn jobs_for(settings: &Alerts, alert: &Alert, now: Timestamp) -> Vec<Job> {
    let desktop =
        settings.desktop && (alert.kind != AlertKind::Undetermined || settings.undetermined);
    settings
        .hooks
        .iter()
        .filter(|hook| hook_wants(hook, alert))
        .map(|hook| Job::Run {
            name: alert.name.clone(),
            argv: hook.argv.clone(),
            env: hook_env(alert),
            timeout_ms: hook.timeout_ms,
        })
        .chain(desktop.then(|| Job::Notify {
            name: alert.name.clone(),
            notification: notification(alert, now),
        }))
        .collect()
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

/// What a `notify-failed` entry says besides why: what to do about it.
const NOTIFY_FIX: &str = "desktop notifications are not shown (the journal, hooks and the prompt still tell); to stop trying, set notify.desktop = false in the config";

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
    /// The process groups of hooks still running, killed when the daemon stops.
    running: Running,
}

type Running = std::sync::Arc<std::sync::Mutex<std::collections::HashSet<i32>>>;

impl AlertLink {
    pub fn new() -> Self {
        let (failures, receiver) = unbounded_channel();
        AlertLink {
            jobs: None,
            failures,
            receiver: Some(receiver),
            running: Running::default(),
        }
    }

    /// Kills the process group of every hook still running (the daemon stops).
    pub fn stop_hooks(&self) {
        let groups: Vec<i32> = self
            .running
            .lock()
            .map(|g| g.iter().copied().collect())
            .unwrap_or_default();
        for group in groups {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(group),
                nix::sys::signal::Signal::SIGKILL,
            );
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
            tokio::spawn(deliver(
                receiver,
                self.failures.clone(),
                self.running.clone(),
            ));
            sender
        })
    }
}

/// Delivers jobs in order: notifications on one connection (made when first needed, and again
/// after it fails), each hook in a task of its own.
async fn deliver(
    mut jobs: UnboundedReceiver<Job>,
    failures: UnboundedSender<Failure>,
    running: Running,
) {
    let mut connection: Option<zbus::Connection> = None;
    let mut shown: HashMap<String, u32> = HashMap::new();
    let mut said_unreachable = false;
    while let Some(job) = jobs.recv().await {
        match job {
            Job::Notify { name, notification } => {
                if connection.is_none() {
                    match desktop::connect().await {
                        Ok(c) => connection = Some(c),
                        Err(why) => {
                            if !std::mem::replace(&mut said_unreachable, true) {
                                let _ = failures.send(Failure {
                                    name,
                                    event: "notify-failed",
                                    detail: format!("{why}: {NOTIFY_FIX}"),
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
                    Err(why) => {
                        connection = None;
                        if !std::mem::replace(&mut said_unreachable, true) {
                            let _ = failures.send(Failure {
                                name,
                                event: "notify-failed",
                                detail: format!("{why}: {NOTIFY_FIX}"),
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
                let running = running.clone();
                tokio::spawn(async move {
                    if let Err((event, detail)) = run_hook(&argv, &env, timeout_ms, &running).await
                    {
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
    running: &Running,
) -> Result<(), (&'static str, String)> {
    use crate::support::child::{run_bounded, Bounded, Ended};
    let shown = inert(&argv.join(" ")).into_owned();
    // Forgotten when this hook ends, however it ends.
    struct Registered<'a>(&'a Running, i32);
    impl Drop for Registered<'_> {
        fn drop(&mut self) {
            if let Ok(mut groups) = self.0.lock() {
                groups.remove(&self.1);
            }
        }
    }
    // Its first KiB of stderr is kept for the journal; its stdout is not read.
    let spec = Bounded {
        argv,
        env,
        keep_stdout: 0,
        keep_stderr: 1024,
        timeout: std::time::Duration::from_millis(timeout_ms.max(1) as u64),
    };
    let ended = run_bounded(&spec, |group| {
        if let Ok(mut groups) = running.lock() {
            groups.insert(group);
        }
        Registered(running, group)
    })
    .await;
    match ended {
        Ended::TimedOut => Err((
            "hook-timed-out",
            format!(
                "{shown}: still running after {}: killed with its process group",
                describe_span(timeout_ms)
            ),
        )),
        Ended::Failed(e) => Err(("hook-failed", format!("{shown}: cannot start: {e}"))),
        Ended::Exited { status, .. } if status.success() => Ok(()),
        Ended::Exited {
            status,
            stderr: said,
            ..
        } => {
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

/// The journal's entry for a recorded transition of `name`.
fn state_line(name: &str, settled: &super::settle::Settled, detail: String) -> journal::Record {
    let mut line = journal::Record::new(settled.at, name, "state");
    line.from = settled.from.map(|s| s.as_str().to_string());
    line.to = Some(settled.to.as_str().to_string());
    line.detail = Some(detail);
    line
}

impl Daemon {
    /// Records the transitions that have held until `now` (see `settle`).
    pub(super) fn record_settled(&mut self, now: Timestamp) {
        let settings = &self.config.alerts;
        let undetermined_told = settings.undetermined
            || settings
                .hooks
                .iter()
                .any(|h| h.on.contains(&AlertKind::Undetermined));
        let mut alerts = Vec::new();
        for entry in &mut self.entries {
            if let Some(settled) = entry.settling.settle(now) {
                let definition = &entry.candidate.definition;
                let line = state_line(&definition.name, &settled, settled.reason.clone());
                self.journal.add(line);
                // Under systemd, the journal's entry names the login (CREDWATCH_CREDENTIAL).
                tracing::info!(
                    credential = %definition.name,
                    from = settled.from.map_or("none", |s| s.as_str()),
                    to = settled.to.as_str(),
                    "login state changed"
                );
                if let Some(kind) = kind_of(settled.from, settled.to, undetermined_told) {
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

    /// The daemon stops: each transition still settling is recorded as it stands (no alert),
    /// so the journal keeps every state the daemon published; its detail says it had not held.
    pub(super) fn record_unsettled_at_stop(&mut self, now: Timestamp) {
        for entry in &mut self.entries {
            if let Some(settled) = entry.settling.settle_at_stop() {
                let held = now.millis().saturating_sub(settled.at.millis()).max(0);
                let detail = format!(
                    "{} (held {held} ms when the daemon stopped)",
                    settled.reason
                );
                let line = state_line(&entry.candidate.definition.name, &settled, detail);
                self.journal.add(line);
            }
        }
    }

    /// Tells `alert`: a notification and the hooks that want it, unless quieted.
    pub(super) fn alert(&mut self, alert: Alert, now: Timestamp) {
        let jobs = jobs_for(&self.config.alerts, &alert, now);
        if !jobs.is_empty() && self.quiet.allow(&alert, now) {
            self.send(jobs);
        }
    }

    /// Tells the alerts a limit held back, once it allows (called from the timer).
    pub(super) fn release_held(&mut self, now: Timestamp) {
        for alert in self.quiet.release(now) {
            let jobs = jobs_for(&self.config.alerts, &alert, now);
            self.send(jobs);
        }
    }

    fn send(&mut self, jobs: Vec<Job>) {
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
        self.journal.write(&[line]);
    }

    /// The lead times reached by `now` (see `leads`): one alert per credential, for a usable
    /// login.
    pub(super) fn fire_leads(&mut self, now: Timestamp) {
        let leads = self.config.alerts.lead_times_ms.clone();
        let mut reached = Vec::new();
        for entry in &mut self.entries {
            let Some((deadline, lead)) = entry.leads.reach(now, &leads) else {
                continue;
            };
            let Some(checked) = entry
                .checked
                .as_ref()
                .filter(|c| c.verdict.state.is_usable())
            else {
                continue;
            };
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
        assert_eq!(kind_of(None, State::Ok, false), None);
        assert_eq!(
            kind_of(None, State::Expired, false),
            Some(AlertKind::Broken)
        );
        assert_eq!(
            kind_of(Some(State::Ok), State::Expiring, false),
            Some(AlertKind::Expiring)
        );
        assert_eq!(
            kind_of(Some(State::Expired), State::Ok, false),
            Some(AlertKind::Recovered)
        );
        assert_eq!(
            kind_of(Some(State::Expiring), State::Ok, false),
            Some(AlertKind::Recovered)
        );
        assert_eq!(
            kind_of(Some(State::Ok), State::Unknown, false),
            Some(AlertKind::Undetermined)
        );
        assert_eq!(
            kind_of(Some(State::Unknown), State::Ok, false),
            None,
            "a blip nobody was told of"
        );
        assert_eq!(
            kind_of(Some(State::Unknown), State::Ok, true),
            Some(AlertKind::Recovered)
        );
        assert_eq!(kind_of(Some(State::Ok), State::Insecure, false), None);
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
        for i in 0..101 {
            let (kind, to) = if i % 2 == 0 {
                (AlertKind::Recovered, State::Ok)
            } else {
                (AlertKind::Broken, State::Expired)
            };
            allowed += usize::from(quiet.allow(&alert(kind, to), t.saturating_add_millis(i * 100)));
        }
        assert_eq!(allowed, BURST);
        // The last word (working again, at the last flap; the last told was broken) is held, and
        // told once the window allows.
        let release = quiet.next_release().expect("one is held");
        assert!(release > t && release <= t.saturating_add_millis(WINDOW_MS + 10_000));
        assert!(quiet.release(release.saturating_add_millis(-1)).is_empty());
        let told = quiet.release(release);
        assert_eq!(told.len(), 1);
        assert_eq!(
            (told[0].kind, told[0].to),
            (AlertKind::Recovered, State::Ok)
        );
        assert_eq!(quiet.next_release(), None);
        let later = t.saturating_add_millis(2 * WINDOW_MS + 20_000);
        assert!(quiet.allow(&alert(AlertKind::Broken, State::Expired), later));
    }
}
