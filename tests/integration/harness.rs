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

/// Every built-in preset, in the order `credwatch presets` lists them: read from
/// presets/compiled.jsonl, which the library's own test keeps equal to its preset list
/// (`define::presets::PRESETS`), so a preset added to the code is here too.
pub fn all_presets() -> Vec<&'static str> {
    const COMPILED: &str = include_str!("../../presets/compiled.jsonl");
    COMPILED
        .lines()
        .map(|line| {
            // Each line is one definition, its name first (a plain word: no escapes).
            let rest = line
                .strip_prefix("{\"name\":\"")
                .expect("a compiled preset starts with its name");
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

/// Tests this kind of machine (CI's: Debian with its package registry, as root) cannot always
/// run, each with the reason. Only these may skip under `CREDWATCH_TEST_STRICT=1` (what
/// `scripts/test` sets), and each skip is counted in its closing line; any other skip there
/// fails its test. Names are as libtest names the test (`module::function`).
pub const CANNOT_RUN_HERE: &[(&str, &str)] = &[(
    "clients::gcloud_service_account_login_configurations_and_revoke",
    "google-cloud-cli comes from Google's own apt source, which is not a registry this kind of \
     machine reaches: scripts/test cannot install it; the test runs wherever the image carries \
     gcloud (CI's does)",
)];

/// What a skip becomes.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A developer's `cargo test`: said on stderr, the test passes.
    Skip,
    /// Strict, and the test is in [`CANNOT_RUN_HERE`]: said, and counted as skipped.
    SkipCounted,
    /// Strict, and not listed: the test fails.
    Fail,
}

pub fn skip_verdict(strict: bool, listed: bool) -> Verdict {
    match (strict, listed) {
        (false, _) => Verdict::Skip,
        (true, true) => Verdict::SkipCounted,
        (true, false) => Verdict::Fail,
    }
}

/// How skips are judged: strict or not, and the file counted skips are appended to.
pub struct SkipMode {
    pub strict: bool,
    pub record: Option<PathBuf>,
}

impl SkipMode {
    /// From `CREDWATCH_TEST_STRICT` (`1`: strict) and `CREDWATCH_TEST_SKIPS` (the record).
    pub fn from_env() -> SkipMode {
        SkipMode {
            strict: std::env::var_os("CREDWATCH_TEST_STRICT").is_some_and(|v| v == "1"),
            record: std::env::var_os("CREDWATCH_TEST_SKIPS").map(PathBuf::from),
        }
    }
}

/// The running test cannot run here, for `reason`: the one way a test skips. The caller
/// returns (or moves on) after it. The test is named by its thread, as libtest names it.
pub fn skip(reason: &str) {
    skip_in(&SkipMode::from_env(), reason)
}

pub fn skip_in(mode: &SkipMode, reason: &str) {
    let current = std::thread::current();
    let test = current.name().unwrap_or("an unnamed thread");
    let listed = CANNOT_RUN_HERE.iter().find(|(name, _)| *name == test);
    match skip_verdict(mode.strict, listed.is_some()) {
        Verdict::Skip => eprintln!("skipped: {test}: {reason}"),
        Verdict::SkipCounted => {
            eprintln!("skipped: {test}: {reason} ({})", listed.unwrap().1);
            if let Some(record) = &mode.record {
                use std::io::Write;
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(record)
                    .unwrap_or_else(|e| panic!("{}: {e}", record.display()));
                writeln!(file, "{test}\t{reason}").unwrap();
            }
        }
        Verdict::Fail => panic!(
            "{test} would be skipped ({reason}), and it is not in harness::CANNOT_RUN_HERE: \
             scripts/test installs what the tests need, so this test must run"
        ),
    }
}

/// Whether `tool` (a command on the tests' PATH, or an absolute path) is installed; if not, the
/// test [`skip`]s, saying `why` it needs it. `if !require("tmux", "…") { return; }`
pub fn require(tool: &str, why: &str) -> bool {
    require_in(&SkipMode::from_env(), tool, why)
}

pub fn require_in(mode: &SkipMode, tool: &str, why: &str) -> bool {
    let found = if tool.starts_with('/') {
        Path::new(tool).exists()
    } else {
        ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
            .iter()
            .any(|dir| {
                std::fs::metadata(Path::new(dir).join(tool))
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
    };
    if !found {
        skip_in(
            mode,
            &format!("{tool} is not installed ({why}; scripts/test installs it)"),
        );
    }
    found
}

/// Whether this test runs as root; if not, it [`skip`]s, saying what it needs root for.
pub fn require_root(why: &str) -> bool {
    let root = is_root();
    if !root {
        skip(&format!("needs root to {why} (CI runs as root)"));
    }
    root
}

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

/// DER: a tag, its length, its content.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

/// An X.509 certificate (PEM) whose notAfter is `not_after`, its subject's common name the
/// canary, as `tsh login` leaves `<user>-x509.pem` (its key and signature are filler: credwatch
/// reads the validity, never checks a signature).
pub fn x509_certificate(not_after: i64) -> String {
    let time = |secs: i64| {
        let text: String = Timestamp::from_secs(secs)
            .rfc3339()
            .chars()
            .filter(|c| c.is_ascii_digit())
            .collect();
        der(0x18, format!("{text}Z").as_bytes())
    };
    let algorithm = der(
        0x30,
        &der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]),
    );
    let name = |cn: &str| {
        let attribute = [der(0x06, &[0x55, 0x04, 0x03]), der(0x0c, cn.as_bytes())].concat();
        der(0x30, &der(0x31, &der(0x30, &attribute)))
    };
    let tbs = der(
        0x30,
        &[
            der(0xa0, &der(0x02, &[2])),
            der(0x02, &[1]),
            algorithm.clone(),
            name("teleport.example.com"),
            der(0x30, &[time(now_secs() - 60), time(not_after)].concat()),
            name(CANARY),
            der(0x30, &[algorithm.clone(), der(0x03, &[0; 66])].concat()),
        ]
        .concat(),
    );
    let certificate = der(0x30, &[tbs, algorithm, der(0x03, &[0; 72])].concat());
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(certificate);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// A Kerberos credential cache (version 4, as MIT kinit writes it) for alice@EXAMPLE.COM holding
/// a config entry and a ticket-granting ticket that ends at `end` (renewable for a day more); the
/// session key and the ticket are the canary.
pub fn kerberos_ccache(end: i64) -> Vec<u8> {
    fn data(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    fn principal(out: &mut Vec<u8>, realm: &str, components: &[&str]) {
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(&(components.len() as u32).to_be_bytes());
        data(out, realm.as_bytes());
        for c in components {
            data(out, c.as_bytes());
        }
    }
    let realm = "EXAMPLE.COM";
    let mut out = vec![5, 4, 0, 12, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0];
    principal(&mut out, realm, &["alice"]);
    let start = (now_secs() - 60) as u32;
    for (server, server_realm) in [
        (&["krb5_ccache_conf_data", "pa_type"][..], "X-CACHECONF:"),
        (&["krbtgt", realm][..], realm),
    ] {
        principal(&mut out, realm, &["alice"]);
        principal(&mut out, server_realm, server);
        out.extend_from_slice(&18u16.to_be_bytes());
        data(&mut out, format!("{CANARY}{CANARY}").as_bytes());
        for t in [start, start, end as u32, (end + DAY) as u32] {
            out.extend_from_slice(&t.to_be_bytes());
        }
        out.push(0);
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        data(&mut out, CANARY.as_bytes());
        data(&mut out, b"");
    }
    out
}

fn render(template: &str, times: Times) -> String {
    let iso = |secs: i64| Timestamp::from_secs(secs).rfc3339();
    let now = now_secs();
    template
        .replace("{{SECRET_B64}}", &canary_base64())
        .replace("{{SECRET}}", CANARY)
        .replace("{{JWT}}", &jwt_with_exp(times.expires))
        .replace("{{SSH_CERT}}", &ssh_certificate(times.expires))
        .replace("{{X509_PEM}}", &x509_certificate(times.expires))
        .replace("{{EXP_MS}}", &(times.expires * 1000).to_string())
        .replace("{{EXP_S}}", &times.expires.to_string())
        .replace("{{EXP_AWS}}", &iso(times.expires))
        .replace("{{EXP_AWS_UTC}}", &iso(times.expires).replace('Z', "UTC"))
        .replace(
            "{{ACCESS_EXP_MS}}",
            &(times.access_expires * 1000).to_string(),
        )
        .replace("{{ACCESS_EXP_S}}", &times.access_expires.to_string())
        // JavaScript's toISOString(): milliseconds and Z (wrangler).
        .replace(
            "{{ACCESS_EXP_JS}}",
            &iso(times.access_expires).replace('Z', ".000Z"),
        )
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

    /// The value this test runs with for `name`, if set.
    pub fn env_value(&self, name: &str) -> Option<&std::ffi::OsStr> {
        self.env.get(name).map(|v| v.as_os_str())
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
            // `@runtime/`: the file goes into the runtime directory, where the tool keeps it
            // (podman's auth.json); everything else under HOME.
            let target = match relative.strip_prefix("@runtime") {
                Ok(inside) => self.runtime_dir.join(inside),
                Err(_) => self.home.join(relative),
            };
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

/// Spawns `command`. A binary a test has just copied can be "busy" for a moment: another test
/// thread that forked meanwhile holds the copy's write descriptor until its own exec (ETXTBSY,
/// seen in CI for `silent_when_the_binary_is_gone`). Tried again for up to 2 s.
fn spawn_when_not_busy(command: &mut Command) -> std::process::Child {
    let started = Instant::now();
    loop {
        match command.spawn() {
            Err(e)
                if e.kind() == std::io::ErrorKind::ExecutableFileBusy
                    && started.elapsed() < Duration::from_secs(2) =>
            {
                std::thread::sleep(Duration::from_millis(20))
            }
            spawned => return spawned.expect("spawn credwatch"),
        }
    }
}

/// Runs a command, failing the test if it hangs (20 s) or panics.
pub fn run_command(mut command: Command) -> Outcome {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn_when_not_busy(&mut command);
    // Drained while it runs: a child that writes more than a pipe holds (64 KiB) would
    // otherwise wait for a reader for ever, and be called hung.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut out);
            }
            out
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().ok();
            panic!("credwatch hung for 20 s: {command:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let outcome = Outcome {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout.join().expect("stdout")).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.join().expect("stderr")).into_owned(),
    };
    assert!(
        !outcome.stderr.contains("panicked"),
        "credwatch panicked:\n{}",
        outcome.stderr
    );
    assert!(
        [0, 1, 2, 3, 4].contains(&outcome.code),
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
        let mut command = self.command(&args);
        // The log level of the test run's own environment, to see a failure's events.
        if let Some(level) =
            std::env::var_os("CREDWATCH_LOG").filter(|_| !self.env.contains_key("CREDWATCH_LOG"))
        {
            command.env("CREDWATCH_LOG", level);
        }
        let child = command
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
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if self.published_state(name).as_deref() == Some(state) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // What the daemon published and what a direct look sees, to tell a missed event from a
        // wrong judgement.
        let published = self.published();
        let entry = published["credentials"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["name"] == name).cloned());
        let live = self.run(&["status", "--json", "--live", name]).stdout;
        panic!(
            "timed out after 10 s waiting for {name} to become {state}\npublished: {}\nlive: {live}",
            entry.unwrap_or_default()
        );
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
        if std::thread::panicking() {
            // A failed test shows what the daemon logged (its last 8 KiB).
            let log = self.log();
            let mut start = log.len().saturating_sub(8192);
            while !log.is_char_boundary(start) {
                start += 1;
            }
            let tail = &log[start..];
            eprintln!("--- the daemon's log (end) ---\n{tail}--- end of the daemon's log ---");
        }
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

/// A binary `scripts/test` unpacked into target/tools/, else one on PATH.
pub fn unpacked_tool(name: &str) -> PathBuf {
    let unpacked = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/tools")
        .join(name);
    if unpacked.exists() {
        return unpacked;
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.exists())
        .unwrap_or_else(|| {
            panic!("{name} not found: run ./scripts/test (it unpacks the Debian packages the tests need into target/tools/)")
        })
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

/// The daemon's default `--grace`: a store written is looked at again this long after the write.
pub const DAEMON_GRACE: Duration = Duration::from_secs(2);
/// The daemon's SETTLE_MS: a new state is recorded (journal, notifications, hooks) once it has
/// held this long.
pub const DAEMON_SETTLE: Duration = Duration::from_secs(2);

/// For an assertion that something did NOT happen: waits until `at_least` has passed since
/// `since` (with half a second more for a loaded machine), `at_least` being the longest the
/// daemon could take to do what the assertion rules out.
pub fn wait_out(since: Instant, at_least: Duration) {
    let until = since + at_least + Duration::from_millis(500);
    let now = Instant::now();
    if until > now {
        std::thread::sleep(until - now);
    }
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

/// Regression: `run_command` waited for the child before reading its output, so a child that
/// wrote more than a pipe holds (64 KiB) blocked on it for ever and was reported as hung.
#[test]
fn run_command_reads_more_output_than_a_pipe_holds() {
    let mut command = Command::new("sh");
    command.args([
        "-c",
        "head -c 300000 /dev/zero | tr '\\0' x; head -c 100000 /dev/zero >&2",
    ]);
    let outcome = run_command(command);
    assert_eq!(outcome.code, 0);
    assert_eq!(outcome.stdout.len(), 300_000);
    assert_eq!(outcome.stderr.len(), 100_000);
}

/// The skip mechanism itself: in strict mode (CI) an unlisted skip fails its test, a listed one
/// is counted, and a developer's run only says it.
#[cfg(test)]
mod skips {
    use super::*;

    fn in_thread(name: &str, mode: SkipMode, tool: &'static str) -> std::thread::Result<bool> {
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || require_in(&mode, tool, "a tool no machine has"))
            .unwrap()
            .join()
    }

    #[test]
    fn the_verdict_of_a_skip() {
        assert_eq!(skip_verdict(false, false), Verdict::Skip);
        assert_eq!(skip_verdict(false, true), Verdict::Skip);
        assert_eq!(skip_verdict(true, true), Verdict::SkipCounted);
        assert_eq!(skip_verdict(true, false), Verdict::Fail);
    }

    #[test]
    fn in_strict_mode_an_unlisted_skip_fails_and_a_listed_one_is_counted() {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let record = dir.path().join("skips");
        let strict = || SkipMode {
            strict: true,
            record: Some(record.clone()),
        };
        let missing = "credwatch-test-no-such-tool";
        let unlisted = in_thread("presets::an_unlisted_test", strict(), missing);
        let message = unlisted.expect_err("an unlisted skip in strict mode panics");
        let message = message
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(
            message.contains("not in harness::CANNOT_RUN_HERE") && message.contains(missing),
            "{message}"
        );
        assert!(!record.exists(), "a failed test is not counted as skipped");

        let (listed, _) = CANNOT_RUN_HERE[0];
        assert_eq!(in_thread(listed, strict(), missing).ok(), Some(false));
        let lines = std::fs::read_to_string(&record).unwrap();
        assert_eq!(lines.lines().count(), 1, "{lines}");
        assert!(lines.starts_with(&format!("{listed}\t{missing} is not installed")));

        // A developer's run: said, not failed, not counted.
        let relaxed = SkipMode {
            strict: false,
            record: Some(record.clone()),
        };
        assert_eq!(
            in_thread("presets::an_unlisted_test", relaxed, missing).ok(),
            Some(false)
        );
        assert_eq!(std::fs::read_to_string(&record).unwrap(), lines);

        // A tool that is there is no skip, strict or not.
        assert_eq!(
            in_thread("presets::an_unlisted_test", strict(), "sh").ok(),
            Some(true)
        );
    }

    /// Each test on the list exists under that name (a renamed test would silently lose its
    /// exception, and fail in CI: better said here).
    #[test]
    fn every_test_that_may_skip_is_named_as_it_is() {
        for (name, reason) in CANNOT_RUN_HERE {
            assert!(!reason.is_empty());
            let (module, function) = name.split_once("::").unwrap();
            let source = std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/integration")
                    .join(format!("{module}.rs")),
            )
            .unwrap_or_default();
            assert!(
                source.contains(&format!("#[test]\nfn {function}()")),
                "CANNOT_RUN_HERE names {name}, which is not a test"
            );
        }
    }
}
