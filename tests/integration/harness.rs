//! An isolated user for each test: its own HOME, XDG dirs and runtime dir under the target dir
//! (a persistent file system, so "on tmpfs" is only ever what a test sets up on purpose), and the
//! real `credwatch` binary run with a cleared environment.

use credwatch::support::timefmt::Timestamp;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A token planted in fixtures and env vars; it must never appear in any output.
pub const CANARY: &str = "cwcanary-9f2e71d4b3a8";

pub const DAY: i64 = 86_400;

/// Every built-in preset, in the order `presets` lists them.
pub const ALL_PRESETS: [&str; 27] = [
    "claude",
    "gh",
    "aws-sso",
    "aws-cli-cache",
    "aws-keys",
    "aws-login",
    "azure",
    "kube",
    "docker",
    "npm",
    "git",
    "vault",
    "cargo",
    "codex",
    "ssh-cert",
    "gemini",
    "pypi",
    "terraform",
    "helm",
    "glab",
    "copilot",
    "heroku",
    "kubelogin",
    "tsh",
    "yarn",
    "gcloud",
    "gcloud-adc",
];

pub struct TestHome {
    _root: tempfile::TempDir,
    pub home: PathBuf,
    pub config_home: PathBuf,
    pub state_home: PathBuf,
    pub runtime_dir: PathBuf,
    env: BTreeMap<String, std::ffi::OsString>,
}

pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The one credential in a `status NAME --json` answer.
    pub fn credential(&self, name: &str) -> serde_json::Value {
        let doc = self.json();
        doc["credentials"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no credential {name} in:\n{}", self.stdout))
    }
}

/// Expiry times a fixture is rendered with, in seconds since the epoch.
#[derive(Clone, Copy)]
pub struct Times {
    /// The login deadline (or the only expiry, for tools without refresh).
    pub expires: i64,
    /// A short-lived access token's expiry.
    pub access_expires: i64,
}

impl Times {
    pub fn valid_for(days: i64) -> Self {
        let now = now_secs();
        Times {
            expires: now + days * DAY,
            access_expires: now - 3600,
        }
    }

    pub fn expired_since(days: i64) -> Self {
        let now = now_secs();
        Times {
            expires: now - days * DAY,
            access_expires: now - days * DAY,
        }
    }
}

pub fn now_secs() -> i64 {
    Timestamp::now().millis() / 1000
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn jwt_with_exp(exp: i64) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{}",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(&format!(
            r#"{{"iss":"https://issuer.example.com","sub":"{CANARY}","exp":{exp}}}"#
        )),
        b64(CANARY)
    )
}

pub fn canary_base64() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("octocat:{CANARY}"))
}

/// An OpenSSH user certificate (ed25519; its key and signature are filler) valid until
/// `valid_before`, as the `*-cert.pub` line `ssh-keygen -s` writes (PROTOCOL.certkeys).
pub fn ssh_certificate(valid_before: i64) -> String {
    let mut blob = Vec::new();
    let string = |blob: &mut Vec<u8>, bytes: &[u8]| {
        blob.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        blob.extend_from_slice(bytes);
    };
    string(&mut blob, b"ssh-ed25519-cert-v01@openssh.com");
    string(&mut blob, &[7; 32]);
    string(&mut blob, &[1; 32]);
    blob.extend_from_slice(&1u64.to_be_bytes());
    blob.extend_from_slice(&1u32.to_be_bytes());
    string(&mut blob, b"alice@laptop");
    let mut principals = Vec::new();
    string(&mut principals, b"alice");
    string(&mut blob, &principals);
    blob.extend_from_slice(&(now_secs() - 60).to_be_bytes());
    blob.extend_from_slice(&valid_before.to_be_bytes());
    for field in [&b""[..], b"", b"", &[9; 51], &[8; 83]] {
        string(&mut blob, field);
    }
    use base64::Engine;
    format!(
        "ssh-ed25519-cert-v01@openssh.com {} alice@laptop\n",
        base64::engine::general_purpose::STANDARD.encode(&blob)
    )
}

fn render(template: &str, times: Times) -> String {
    let iso = |secs: i64| Timestamp::from_secs(secs).rfc3339();
    let now = now_secs();
    template
        .replace("{{SECRET_B64}}", &canary_base64())
        .replace("{{SECRET}}", CANARY)
        .replace("{{JWT}}", &jwt_with_exp(times.expires))
        .replace("{{SSH_CERT}}", &ssh_certificate(times.expires))
        .replace("{{EXP_MS}}", &(times.expires * 1000).to_string())
        .replace("{{EXP_S}}", &times.expires.to_string())
        .replace("{{EXP_AWS}}", &iso(times.expires))
        .replace("{{EXP_AWS_UTC}}", &iso(times.expires).replace('Z', "UTC"))
        .replace(
            "{{ACCESS_EXP_MS}}",
            &(times.access_expires * 1000).to_string(),
        )
        .replace("{{ACCESS_EXP_S}}", &times.access_expires.to_string())
        .replace(
            "{{ACCESS_EXP_NAIVE}}",
            &iso(times.access_expires)
                .replace('T', " ")
                .replace('Z', ".250000"),
        )
        .replace("{{REG_EXP_AWS}}", &iso(now + 80 * DAY))
        .replace("{{OLD_RFC3339}}", &iso(now - 300 * DAY))
        .replace("{{NOW_S}}", &now.to_string())
}

/// A daemon started behind the test's back (the shell hook's autostart) dies with its home.
impl Drop for TestHome {
    fn drop(&mut self) {
        let lock = self.runtime_dir.join("credwatch").join("daemon.lock");
        // Only a regular file: a test may leave a FIFO there, which a plain read would block on.
        let regular = std::fs::symlink_metadata(&lock).is_ok_and(|m| m.is_file());
        let Some(pid) = regular
            .then(|| std::fs::read_to_string(&lock).ok())
            .flatten()
            .and_then(|text| text.split_whitespace().next()?.parse::<i32>().ok())
        else {
            return;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "credwatch" {
            let pid = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

impl TestHome {
    pub fn new() -> Self {
        let root = tempfile::Builder::new()
            .prefix("home-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("temp dir under the target dir");
        // Traversable, so a test can run the binary as another user.
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let home = root.path().join("home");
        let config_home = home.join(".config");
        let state_home = home.join(".local/state");
        let runtime_dir = root.path().join("run");
        for dir in [&home, &config_home, &state_home, &runtime_dir] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&runtime_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let mut env = BTreeMap::new();
        env.insert("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into());
        env.insert("HOME".into(), home.clone().into());
        env.insert("XDG_CONFIG_HOME".into(), config_home.clone().into());
        env.insert("XDG_STATE_HOME".into(), state_home.clone().into());
        env.insert("XDG_RUNTIME_DIR".into(), runtime_dir.clone().into());
        env.insert("LANG".into(), "C.UTF-8".into());
        // The kerberos preset's default cache is /tmp/krb5cc_<uid>, outside the test's home.
        env.insert("KRB5CCNAME".into(), root.path().join("krb5cc").into());
        TestHome {
            _root: root,
            home,
            config_home,
            state_home,
            runtime_dir,
            env,
        }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.home.join(relative)
    }

    /// The environment every command of this test runs with.
    pub fn env_pairs(&self) -> Vec<(String, std::ffi::OsString)> {
        self.env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn remove_env(&mut self, name: &str) -> &mut Self {
        self.env.remove(name);
        self
    }

    pub fn set_env(&mut self, name: &str, value: impl Into<std::ffi::OsString>) -> &mut Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Writes a file under HOME (parents created), mode 0600 as tools write credentials.
    pub fn write(&self, relative: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(relative);
        write_file(&path, content.as_ref());
        path
    }

    pub fn write_config(&self, text: impl AsRef<[u8]>) -> PathBuf {
        self.write(".config/credwatch/config.toml", text)
    }

    /// Copies `tests/fixtures/NAME/` into HOME, rendering placeholders with `times`.
    pub fn install_fixture(&self, name: &str, times: Times) {
        let source = fixtures_dir().join(name);
        assert!(source.is_dir(), "no fixture {name}");
        for entry in walk(&source) {
            let relative = entry.strip_prefix(&source).unwrap();
            let template = std::fs::read_to_string(&entry).unwrap();
            let target = self.home.join(relative);
            match target.to_str().and_then(|t| t.strip_suffix(".sql")) {
                // A database, made by the real sqlite3 from the statements the tool runs.
                Some(database) => {
                    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                    let mut sqlite3 = Command::new("sqlite3")
                        .arg(database)
                        .stdin(Stdio::piped())
                        .spawn()
                        .expect("sqlite3 is not installed: run scripts/test, which installs it");
                    let mut statements = sqlite3.stdin.take().unwrap();
                    std::io::Write::write_all(&mut statements, render(&template, times).as_bytes())
                        .unwrap();
                    drop(statements);
                    assert!(sqlite3.wait().unwrap().success(), "sqlite3 {database}");
                    std::fs::set_permissions(database, std::fs::Permissions::from_mode(0o600))
                        .unwrap();
                }
                None => write_file(&target, render(&template, times).as_bytes()),
            }
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        self.command_as(None, args)
    }

    /// The binary, optionally as another user (`setpriv`, for tests that need one without root powers).
    pub fn command_as(&self, uid: Option<u32>, args: &[&str]) -> Command {
        let binary = env!("CARGO_BIN_EXE_credwatch");
        let mut command = match uid {
            Some(uid) => {
                let mut c = Command::new("setpriv");
                c.args([
                    &format!("--reuid={uid}"),
                    &format!("--regid={uid}"),
                    "--clear-groups",
                    binary,
                ]);
                c
            }
            None => Command::new(binary),
        };
        command.args(args).env_clear().envs(&self.env);
        command
    }

    /// Any program, in this test's isolated environment.
    pub fn program(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command.args(args).env_clear().envs(&self.env);
        command
    }

    pub fn run(&self, args: &[&str]) -> Outcome {
        run_command(self.command(args))
    }

    pub fn status(&self, names: &[&str]) -> Outcome {
        let mut args = vec!["status", "--json"];
        args.extend_from_slice(names);
        self.run(&args)
    }
}

/// Runs a command, failing the test if it hangs (20 s) or panics.
pub fn run_command(mut command: Command) -> Outcome {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn credwatch");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().ok();
            panic!("credwatch hung for 20 s: {command:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let output = child.wait_with_output().expect("output");
    let outcome = Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !outcome.stderr.contains("panicked"),
        "credwatch panicked:\n{}",
        outcome.stderr
    );
    assert!(
        [0, 1, 2, 3].contains(&outcome.code),
        "exit code {} is not in the contract:\n{}",
        outcome.code,
        outcome.stderr
    );
    outcome
}

/// Runs a command and returns its outcome with the peak RSS (KiB) of exactly that process,
/// read with `wait4` (RUSAGE_CHILDREN would mix in the forked test process itself).
#[allow(unsafe_code, clippy::zombie_processes)] // reaped by wait4 below
pub fn run_measuring_rss(mut command: Command) -> (Outcome, i64) {
    use std::io::Read;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn credwatch");
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 reaps our own child by pid.
    let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as nix::libc::pid_t;
    let reaped = unsafe { nix::libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4");
    let code = if nix::libc::WIFEXITED(status) {
        nix::libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (
        Outcome {
            code,
            stdout,
            stderr,
        },
        usage.ru_maxrss,
    )
}

fn write_file(path: &Path, content: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A `credwatch daemon` running in a test home; stopped (SIGTERM, then SIGKILL) when dropped.
pub struct Daemon {
    pub child: std::process::Child,
    pub stderr_path: PathBuf,
}

impl TestHome {
    pub fn credwatch_runtime(&self) -> PathBuf {
        self.runtime_dir.join("credwatch")
    }

    /// Starts the daemon (log level from `CREDWATCH_LOG`, stderr kept in a file) and waits for
    /// its first published state.
    pub fn start_daemon(&self, extra: &[&str]) -> Daemon {
        let stderr_path = self
            ._root
            .path()
            .join(format!("daemon-{}.log", now_millis()));
        let mut args = vec!["daemon"];
        args.extend_from_slice(extra);
        let child = self
            .command(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .expect("spawn daemon");
        let daemon = Daemon { child, stderr_path };
        let status = self.credwatch_runtime().join("status.json");
        let prompt = self.credwatch_runtime().join("prompt");
        wait_until("the daemon publishes its first state", || {
            status.exists() && prompt.exists()
        });
        daemon
    }

    /// The daemon's published status.json.
    pub fn published(&self) -> serde_json::Value {
        let path = self.credwatch_runtime().join("status.json");
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
    }

    pub fn published_state(&self, name: &str) -> Option<String> {
        let path = self.credwatch_runtime().join("status.json");
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        doc["credentials"]
            .as_array()?
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["state"].as_str())
            .map(str::to_string)
    }

    /// Waits (10 s at most) until the daemon publishes `state` for `name`.
    pub fn wait_for_state(&self, name: &str, state: &str) {
        wait_until(&format!("{name} to become {state}"), || {
            self.published_state(name).as_deref() == Some(state)
        });
    }

    pub fn journal(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.state_home.join("credwatch/journal.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Daemon {
    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.id() as i32)
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(self.pid(), signal).unwrap();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// SIGTERM and wait; returns the exit code.
    pub fn stop(mut self) -> Option<i32> {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        let code = wait_for_exit(&mut self.child);
        std::mem::forget(self);
        code
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(self.pid(), nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// Context switches (voluntary and not) of each live thread of a process, by thread id.
pub fn context_switches_by_thread(pid: u32) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        let total = status
            .lines()
            .filter(|l| {
                l.starts_with("voluntary_ctxt_switches")
                    || l.starts_with("nonvoluntary_ctxt_switches")
            })
            .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
            .sum();
        out.insert(task.file_name().to_string_lossy().into_owned(), total);
    }
    out
}

/// CPU time a process used so far (user + system), in clock ticks (`/proc/PID/stat` fields 14
/// and 15).
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map(|(_, rest)| rest.split(' ').collect())
        .unwrap_or_default();
    fields
        .get(11)
        .and_then(|f| f.parse::<u64>().ok())
        .unwrap_or(0)
        + fields
            .get(12)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
}

/// A uid no one on this machine uses, distinct per test process (another local user).
pub fn spare_uid(offset: u32) -> u32 {
    40_000 + (std::process::id() % 10_000) * 4 + offset
}

/// Context switches of a process so far, summed over its live threads.
pub fn context_switches(pid: u32) -> u64 {
    context_switches_by_thread(pid).values().sum()
}

pub fn wait_for_exit(child: &mut std::process::Child) -> Option<i32> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the daemon did not exit within 10 s");
}

/// Polls `condition` every 10 ms for up to 10 s; fails the test with `what` otherwise.
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if condition() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out after 10 s waiting for {what}");
}

fn now_millis() -> i64 {
    Timestamp::now().millis()
}

/// Replaces a file the way tools do: write a temp file beside it, then rename over it.
pub fn replace_atomically(path: &Path, content: &[u8]) {
    let temp = path.with_extension(format!("tmp{}", now_millis()));
    write_file(&temp, content);
    std::fs::rename(&temp, path).unwrap();
}

/// Claude credentials JSON as Claude Code writes it after a token refresh: a live login whose
/// deadline is `days` from now.
pub fn claude_login_for_days(days: i64) -> String {
    let deadline = (now_secs() + days * DAY) * 1000;
    format!(
        r#"{{"claudeAiOauth":{{"accessToken":"{CANARY}","refreshToken":"r-{CANARY}","expiresAt":1,"refreshTokenExpiresAt":{deadline}}}}}"#
    )
}

/// Claude credentials JSON: a live login (deadline in 20 days) or a blanked one.
pub fn claude_login(valid: bool) -> String {
    if valid {
        let deadline = (now_secs() + 20 * DAY) * 1000;
        format!(
            r#"{{"claudeAiOauth":{{"accessToken":"{CANARY}","refreshToken":"r-{CANARY}","expiresAt":1,"refreshTokenExpiresAt":{deadline}}}}}"#
        )
    } else {
        r#"{"claudeAiOauth":{"accessToken":"","refreshToken":"","expiresAt":0}}"#.to_string()
    }
}
