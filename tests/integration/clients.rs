//! The real clients write their own logins (git, npm, kubectl, the AWS CLI, gh, docker), offline
//! or against a local HTTP server, and credwatch must say what each client would do with them.
//! A client that is missing fails the test: `scripts/test` installs them.

use crate::harness::{now_secs, wait_until, Outcome, TestHome, CANARY, DAY};
use credwatch::support::timefmt::Timestamp;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The absolute path of a client, from this process's PATH (a pyenv shim resolved to the program
/// it runs, since the clients run with a cleared environment).
pub(crate) fn client(name: &str) -> PathBuf {
    let search = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&search)
        .chain(["/usr/local/bin".into(), "/usr/bin".into()])
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed: run scripts/test, which installs it"));
    if found.to_string_lossy().contains("/shims/") {
        let output = Command::new("pyenv").args(["which", name]).output();
        if let Some(output) = output.ok().filter(|o| o.status.success()) {
            return PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        }
    }
    found
}

/// Runs a client in the test's environment with `input` on stdin; fails the test if it hangs.
pub(crate) fn run_client(home: &TestHome, name: &str, args: &[&str], input: &str) -> Outcome {
    run_program(home, &client(name), args, input, None)
}

/// [`run_client`] for a program given by its path, optionally in another working directory.
fn run_program(
    home: &TestHome,
    program: &std::path::Path,
    args: &[&str],
    input: &str,
    dir: Option<&std::path::Path>,
) -> Outcome {
    let name = program.display();
    let mut command = home.program(program.to_str().unwrap(), args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().ok();
            panic!("{name} {args:?} hung for 60 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A client that must succeed.
pub(crate) fn ok(home: &TestHome, name: &str, args: &[&str], input: &str) -> Outcome {
    let outcome = run_client(home, name, args, input);
    assert_eq!(
        outcome.code, 0,
        "{name} {args:?} failed:\n{}\n{}",
        outcome.stdout, outcome.stderr
    );
    outcome
}

fn state(home: &TestHome, name: &str) -> serde_json::Value {
    home.status(&[name]).credential(name)
}

fn reason(credential: &serde_json::Value) -> String {
    credential["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A local server that answers every request 200 with what gh (`GET /`, `GET /user`, GraphQL),
/// docker (`GET /v2/`), an OAuth client (a token endpoint: `access_token`, `expires_in`) and the
/// Hugging Face CLI (`GET /api/whoami-v2`) expect of GitHub, of a registry, of Google and of the
/// Hub, and records the request lines.
struct FakeApi {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeApi {
    fn start() -> FakeApi {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = seen.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut length = 0usize;
                    loop {
                        let mut header = String::new();
                        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                            break;
                        }
                        let lower = header.to_ascii_lowercase();
                        if let Some(value) = lower.strip_prefix("content-length:") {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length.min(1 << 20)];
                    let _ = reader.read_exact(&mut body);
                    seen.lock().unwrap().push(line.trim().to_string());
                    let answer = format!(
                        r#"{{"login":"fakeuser","name":"fakeuser","type":"user","auth":{{"accessToken":{{"displayName":"cw","role":"write"}}}},"data":{{"viewer":{{"login":"fakeuser"}}}},"access_token":"ya29.{CANARY}","expires_in":3599,"token_type":"Bearer"}}"#
                    );
                    let mut stream = stream;
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                         x-oauth-scopes: repo, read:org, gist, workflow\r\n\
                         docker-distribution-api-version: registry/2.0\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{answer}",
                        answer.len()
                    );
                });
            }
        });
        FakeApi { port, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// git's own `credential approve` / `reject` through `credential.helper = store --file=PATH`:
/// credwatch follows the file the helper names, also when the daemon is running and the helper
/// changes to another file.
#[test]
fn git_store_helper_file_is_followed_through_approve_reject_and_a_new_helper() {
    let home = TestHome::new();
    home.write_config("presets = [\"git\"]\n");
    std::fs::create_dir_all(home.path("vault")).unwrap();
    let first = home.path("vault/git-creds");
    ok(
        &home,
        "git",
        &[
            "config",
            "--global",
            "credential.helper",
            &format!("store --file={}", first.display()),
        ],
        "",
    );
    let approve = format!("protocol=https\nhost=example.com\nusername=me\npassword={CANARY}\n\n");
    ok(&home, "git", &["credential", "approve"], &approve);
    let git = state(&home, "git");
    assert_eq!(git["state"], "ok", "{git}");
    assert_eq!(git["stores"][0]["path"], first.to_str().unwrap(), "{git}");

    ok(
        &home,
        "git",
        &["credential", "reject"],
        "protocol=https\nhost=example.com\nusername=me\n\n",
    );
    let git = state(&home, "git");
    assert_eq!(git["state"], "logged-out", "{git}");
    assert!(reason(&git).contains("~/vault/git-creds"), "{git}");

    // The daemon re-reads the helper line when ~/.gitconfig changes.
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("git", "logged-out");
    let second = home.path("vault/other-creds");
    ok(
        &home,
        "git",
        &[
            "config",
            "--global",
            "credential.helper",
            &format!("store --file {}", second.display()),
        ],
        "",
    );
    home.wait_for_state("git", "missing");
    ok(&home, "git", &["credential", "approve"], &approve);
    home.wait_for_state("git", "ok");
    let published = home.published();
    let git = published["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "git")
        .unwrap();
    assert_eq!(git["stores"][0]["path"], second.to_str().unwrap(), "{git}");
}

/// `npm config set //registry/:_authToken '${NPM_TOKEN}'` (real npm): the token is whatever the
/// variable holds where npm runs. Unset, npm sends the text itself; set, the login works, and
/// NPM_TOKEN is no override of the file (npm reads no such variable on its own). The daemon,
/// whose environment is no shell's, cannot tell; `status` re-checks in the caller's shell.
#[test]
fn npm_token_from_a_variable_counts_in_the_shell_that_runs_npm() {
    let mut home = TestHome::new();
    home.write_config("presets = [\"npm\"]\n");
    ok(
        &home,
        "npm",
        &[
            "config",
            "set",
            "//registry.example.test/:_authToken",
            "${NPM_TOKEN}",
        ],
        "",
    );
    let written = std::fs::read_to_string(home.path(".npmrc")).unwrap();
    assert!(written.contains("${NPM_TOKEN}"), "{written}");

    let npm = state(&home, "npm");
    assert_eq!(npm["state"], "missing", "{npm}");
    assert!(reason(&npm).contains("${NPM_TOKEN}"), "{npm}");
    assert!(
        npm["fix"].as_str().unwrap().contains("export NPM_TOKEN"),
        "{npm}"
    );

    let daemon = home.start_daemon(&[]);
    home.wait_for_state("npm", "unknown");
    home.set_env("NPM_TOKEN", CANARY);
    let npm = state(&home, "npm");
    assert_eq!(npm["state"], "ok", "re-checked in this shell: {npm}");
    assert!(!reason(&npm).contains("precedence"), "{npm}");
    assert!(!home.status(&[]).stdout.contains(CANARY));
    drop(daemon);

    // npm reads its variables in any case: a lower-case npm_config_userconfig moves the file.
    let elsewhere = home.path("elsewhere/npmrc");
    home.set_env("npm_config_userconfig", &elsewhere);
    ok(
        &home,
        "npm",
        &["config", "set", "//r.example.test/:_authToken", CANARY],
        "",
    );
    assert!(elsewhere.is_file(), "npm wrote {}", elsewhere.display());
    let npm = state(&home, "npm");
    assert_eq!(npm["state"], "ok", "{npm}");
    assert_eq!(npm["stores"][0]["path"], elsewhere.to_str().unwrap());
}

fn jwt_expiring_at(exp: i64) -> String {
    crate::harness::jwt_with_exp(exp)
}

/// kubectl writes KUBECONFIG=a:b as it merges it: the current context (first file to set one)
/// names a user that may live in the second file; its token (a JWT, with its own expiry; or an
/// opaque one), or client certificate (whose notAfter openssl tells), decides.
#[test]
fn kubectl_the_current_contexts_user_decides_across_a_kubeconfig_list() {
    let mut home = TestHome::new();
    home.write_config("presets = [\"kube\"]\n");
    let a = home.path("kube/a.yaml");
    let b = home.path("kube/b.yaml");
    std::fs::create_dir_all(home.path("kube")).unwrap();
    home.set_env("KUBECONFIG", format!("{}:{}", a.display(), b.display()));
    let kubectl = |args: &[&str]| ok(&home, "kubectl", args, "");
    let in_b = format!("--kubeconfig={}", b.display());
    let token_deadline = now_secs() + 3 * DAY;
    kubectl(&[
        "config",
        "set-cluster",
        "c1",
        "--server=https://127.0.0.1:6443",
    ]);
    kubectl(&[
        "config",
        "set-credentials",
        "alice",
        &format!("--token={}", jwt_expiring_at(token_deadline)),
        &in_b,
    ]);
    kubectl(&[
        "config",
        "set-context",
        "dev",
        "--cluster=c1",
        "--user=alice",
    ]);
    kubectl(&["config", "use-context", "dev"]);
    let kube = state(&home, "kube");
    assert_eq!(kube["state"], "ok", "alice lives in b.yaml: {kube}");
    let expires = Timestamp::parse_datetime(kube["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires.millis() / 1000, token_deadline, "{kube}");
    // An expired user no context in use refers to does not make the login expired; it is named.
    kubectl(&[
        "config",
        "set-credentials",
        "retired",
        &format!("--token={}", jwt_expiring_at(now_secs() - DAY)),
    ]);
    let kube = state(&home, "kube");
    assert_eq!(kube["state"], "ok", "{kube}");
    assert!(reason(&kube).contains("retired"), "{kube}");

    // A client certificate, embedded by kubectl; its notAfter as openssl prints it.
    let cert = home.path("kube/bob.crt");
    let key = home.path("kube/bob.key");
    let openssl = run_client(
        &home,
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=bob",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(openssl.code, 0, "{}", openssl.stderr);
    let not_after = ok(
        &home,
        "openssl",
        &[
            "x509",
            "-noout",
            "-enddate",
            "-dateopt",
            "iso_8601",
            "-in",
            cert.to_str().unwrap(),
        ],
        "",
    )
    .stdout;
    let not_after = not_after.trim().trim_start_matches("notAfter=");
    let not_after = Timestamp::parse_datetime(&not_after.replacen(' ', "T", 1))
        .unwrap_or_else(|| panic!("openssl date {not_after}"));
    kubectl(&[
        "config",
        "set-credentials",
        "bob",
        &format!("--client-certificate={}", cert.display()),
        &format!("--client-key={}", key.display()),
        "--embed-certs",
    ]);
    kubectl(&[
        "config",
        "set-context",
        "prod",
        "--cluster=c1",
        "--user=bob",
    ]);
    kubectl(&["config", "use-context", "prod"]);
    let kube = state(&home, "kube");
    assert_eq!(kube["state"], "ok", "{kube}");
    let expires = Timestamp::parse_datetime(kube["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires.millis() / 1000, not_after.millis() / 1000, "{kube}");
    assert!(
        reason(&kube).contains("alice"),
        "the other user is named: {kube}"
    );

    // An opaque token: logged in, no deadline known.
    kubectl(&["config", "set-credentials", "carol", "--token=opaque-token"]);
    kubectl(&[
        "config",
        "set-context",
        "ci",
        "--cluster=c1",
        "--user=carol",
    ]);
    kubectl(&["config", "use-context", "ci"]);
    let kube = state(&home, "kube");
    assert_eq!(kube["state"], "ok", "{kube}");
    assert!(kube["expires_at"].is_null(), "{kube}");

    // The current context's user removed: kubectl would send no credentials.
    kubectl(&["config", "unset", "users.carol"]);
    let kube = state(&home, "kube");
    assert_eq!(kube["usable"], false, "{kube}");
}

/// `aws configure set` (the real AWS CLI) writes ~/.aws/credentials; the profile AWS_PROFILE
/// names decides, and one that is not there is missing, with the others named.
#[test]
fn aws_configure_set_keys_are_read_for_the_profile_in_use() {
    let mut home = TestHome::new();
    home.write_config("presets = [\"aws-keys\"]\n");
    let aws = |home: &TestHome, args: &[&str]| ok(home, "aws", args, "");
    aws(
        &home,
        &[
            "configure",
            "set",
            "aws_access_key_id",
            "AKIAEXAMPLEDEFAULT",
        ],
    );
    aws(
        &home,
        &["configure", "set", "aws_secret_access_key", CANARY],
    );
    let keys = state(&home, "aws-keys");
    assert_eq!(keys["state"], "ok", "{keys}");

    aws(
        &home,
        &[
            "configure",
            "set",
            "aws_access_key_id",
            "AKIAEXAMPLEWORK",
            "--profile",
            "work",
        ],
    );
    home.set_env("AWS_PROFILE", "work");
    let keys = state(&home, "aws-keys");
    assert_eq!(
        keys["state"], "missing",
        "the work profile has no secret key yet: {keys}"
    );
    assert!(reason(&keys).contains("secret access key"), "{keys}");
    aws(
        &home,
        &["configure", "set", "aws_secret_access_key", CANARY],
    );
    let keys = state(&home, "aws-keys");
    assert_eq!(keys["state"], "ok", "{keys}");
    // The other profile is listed with its own state (it was named in the reason).
    assert_eq!(keys["accounts"][1]["name"], "default", "{keys}");
    assert_eq!(keys["accounts"][1]["state"], "ok", "{keys}");

    home.set_env("AWS_PROFILE", "nowhere");
    let keys = state(&home, "aws-keys");
    assert_eq!(keys["state"], "missing", "{keys}");
    assert!(reason(&keys).contains("AWS_PROFILE"), "{keys}");
    assert!(reason(&keys).contains("work"), "{keys}");
    assert!(!home.status(&[]).stdout.contains(CANARY));
}

/// gh logs in against a local API (through HTTP_PROXY, as gh talks plain HTTP to
/// `github.localhost`) and out again, while the daemon watches: gh rewrites hosts.yml in place,
/// and the journal holds the settled states only (no `invalid` for the half-written file).
#[test]
fn gh_login_and_logout_against_a_local_api_journal_settled_states() {
    let mut home = TestHome::new();
    home.write_config("presets = [\"gh\"]\n");
    let api = FakeApi::start();
    home.set_env("HTTP_PROXY", format!("http://127.0.0.1:{}", api.port));
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("gh", "missing");

    ok(
        &home,
        "gh",
        &[
            "auth",
            "login",
            "--hostname",
            "github.localhost",
            "--with-token",
        ],
        &format!("{CANARY}\n"),
    );
    assert!(
        api.requests()
            .iter()
            .any(|r| r.contains("github.localhost")),
        "gh asked the local API: {:?}",
        api.requests()
    );
    // The daemon publishes what gh wrote a moment later (under a loaded CI the status read
    // right after gh exits could still be the previous one).
    home.wait_for_state("gh", "ok");
    let gh = state(&home, "gh");
    assert_eq!(gh["state"], "ok", "{gh}");
    wait_until("the login to be journaled (once it held 2 s)", || {
        home.journal()
            .iter()
            .any(|e| e["name"] == "gh" && e["event"] == "state" && e["to"] == "ok")
    });

    ok(
        &home,
        "gh",
        &["auth", "logout", "--hostname", "github.localhost"],
        "",
    );
    home.wait_for_state("gh", "logged-out");
    let states: Vec<String> = {
        let mut seen = Vec::new();
        wait_until("the logout to be journaled", || {
            seen = home
                .journal()
                .iter()
                .filter(|e| e["name"] == "gh" && e["event"] == "state")
                .map(|e| e["to"].as_str().unwrap_or_default().to_string())
                .collect();
            seen.last().map(String::as_str) == Some("logged-out")
        });
        seen
    };
    assert_eq!(
        states,
        ["ok", "logged-out"],
        "only settled states are journaled"
    );
    let journal = std::fs::read_to_string(home.state_home.join("credwatch/journal.jsonl")).unwrap();
    assert!(!journal.contains(CANARY));
}

/// `docker login` to a local registry: in plain text in config.json (flagged if others can read
/// it); with `credsStore: secretservice` and no session bus, docker cannot save the login and
/// `credwatch login` says why and how to log in without the keyring; with a real keyring, the
/// login docker's helper saved there is found.
#[test]
fn docker_login_to_a_local_registry_in_the_file_without_a_bus_and_in_the_keyring() {
    let mut home = TestHome::new();
    home.write_config("presets = [\"docker\"]\n");
    let registry = FakeApi::start();
    let server = format!("127.0.0.1:{}", registry.port);
    let login = ["login", server.as_str(), "-u", "me", "--password-stdin"];
    let password = format!("{CANARY}\n");

    // Where no credential helper is on PATH, docker keeps the login in config.json. (Where
    // docker-credential-secretservice is, docker uses it even if config.json names none.)
    let only_docker = home.path("only-docker");
    std::fs::create_dir_all(&only_docker).unwrap();
    std::os::unix::fs::symlink(client("docker"), only_docker.join("docker")).unwrap();
    home.set_env("PATH", &only_docker);
    ok(&home, "docker", &login, &password);
    let config = std::fs::read_to_string(home.path(".docker/config.json")).unwrap();
    assert!(config.contains("\"auth\""), "{config}");
    let docker = state(&home, "docker");
    assert_eq!(docker["state"], "ok", "{docker}");
    ok(&home, "docker", &["logout", &server], "");
    assert_eq!(state(&home, "docker")["state"], "logged-out");
    home.set_env("PATH", "/usr/local/bin:/usr/bin:/bin");

    // credsStore = secretservice, and no session bus (an SSH session).
    home.write(".docker/config.json", r#"{"credsStore":"secretservice"}"#);
    let mut args = vec![
        "login".to_string(),
        "--".to_string(),
        client("docker").to_str().unwrap().to_string(),
    ];
    args.extend(login.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = home.command(&args);
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(password.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert_ne!(output.status.code(), Some(0), "{said}");
    assert!(said.contains("no D-Bus session bus"), "{said}");
    assert!(said.contains("remove \"credsStore\""), "{said}");
    assert!(!said.contains(CANARY));

    // A real keyring: docker-credential-secretservice stores the login there.
    let bus = home.start_keyring();
    ok(&home, "docker", &login, &password);
    let docker = state(&home, "docker");
    assert_eq!(docker["state"], "ok", "{docker}");
    assert!(
        docker["stores"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "keyring"),
        "{docker}"
    );
    let config = std::fs::read_to_string(home.path(".docker/config.json")).unwrap();
    assert!(config.contains("secretservice"), "{config}");
    assert!(
        !config.contains(CANARY),
        "the secret is not in the file: {config}"
    );
    drop(bus);
}

/// A new ed25519 key at `path` (and `path.pub`), made by the real ssh-keygen.
pub(crate) fn ssh_key(home: &TestHome, path: &std::path::Path) {
    let path = path.to_str().unwrap();
    ok(
        home,
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "", "-f", path],
        "",
    );
}

/// `public` signed by the CA key `ca` with the real `ssh-keygen -s` (principal alice), valid
/// for `validity` (`-V`; none: forever): the certificate is written beside it.
pub(crate) fn ssh_sign(
    home: &TestHome,
    ca: &std::path::Path,
    public: &std::path::Path,
    validity: Option<&str>,
) {
    let mut args = vec![
        "-q",
        "-s",
        ca.to_str().unwrap(),
        "-I",
        "alice@laptop",
        "-n",
        "alice",
    ];
    if let Some(validity) = validity {
        args.extend(["-V", validity]);
    }
    args.push(public.to_str().unwrap());
    ok(home, "ssh-keygen", &args, "");
}

/// The validity end `ssh-keygen -L` prints for a certificate ("Valid: from A to B"), as seconds
/// since the epoch (the test runs without TZ: UTC); `None` for "forever".
fn ssh_keygen_valid_to(home: &TestHome, cert: &std::path::Path) -> Option<i64> {
    let listing = ok(
        home,
        "ssh-keygen",
        &["-L", "-f", cert.to_str().unwrap()],
        "",
    );
    let line = listing
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Valid:"))
        .unwrap_or_else(|| panic!("{}", listing.stdout))
        .to_string();
    if line.contains("forever") {
        return None;
    }
    let to = line.rsplit(" to ").next().unwrap().trim();
    Some(
        Timestamp::parse_datetime(&format!("{to}Z"))
            .unwrap_or_else(|| panic!("{line}"))
            .millis()
            / 1000,
    )
}

/// OpenSSH certificates signed by the real `ssh-keygen -s` (OpenSSH 9.2): the deadline is what
/// `ssh-keygen -L` says, a short one is expiring, a past one expired, one signed without -V has
/// none, 0644 is not "insecure", a damaged file is invalid, a removed one missing, and the
/// daemon follows a re-signing.
#[test]
fn ssh_keygen_certificates_valid_expiring_expired_forever_damaged_and_followed() {
    let home = TestHome::new();
    home.write_config("presets = [\"ssh-cert\"]\n");
    let ssh = home.path(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    let ca = home.path("ca");
    ssh_key(&home, &ca);
    ssh_key(&home, &ssh.join("id_ed25519"));
    let cert = ssh.join("id_ed25519-cert.pub");
    let sign = |validity: Option<&str>| {
        ssh_sign(&home, &ca, &ssh.join("id_ed25519.pub"), validity);
        assert!(cert.is_file());
    };

    sign(Some("+30d"));
    let c = state(&home, "ssh-cert");
    assert_eq!(c["state"], "ok", "{c}");
    let deadline = Timestamp::parse_datetime(c["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        Some(deadline.millis() / 1000),
        ssh_keygen_valid_to(&home, &cert),
        "{c}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&cert).unwrap().permissions().mode() & 0o777,
        0o644
    );

    sign(Some("+2m"));
    let c = state(&home, "ssh-cert");
    assert_eq!(c["state"], "expiring", "{c}");
    let deadline = Timestamp::parse_datetime(c["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        Some(deadline.millis() / 1000),
        ssh_keygen_valid_to(&home, &cert)
    );

    sign(Some("-2d:-1d"));
    let c = state(&home, "ssh-cert");
    assert_eq!(c["state"], "expired", "{c}");
    assert!(reason(&c).contains("expired"), "{c}");

    sign(None);
    assert_eq!(ssh_keygen_valid_to(&home, &cert), None);
    let c = state(&home, "ssh-cert");
    assert_eq!(c["state"], "ok", "{c}");
    assert_eq!(c["expires_at"], serde_json::Value::Null, "{c}");

    let whole = std::fs::read_to_string(&cert).unwrap();
    std::fs::write(&cert, &whole[..whole.len() / 2]).unwrap();
    assert_eq!(state(&home, "ssh-cert")["state"], "invalid");

    std::fs::remove_file(&cert).unwrap();
    assert_eq!(state(&home, "ssh-cert")["state"], "missing");

    sign(Some("-2d:-1d"));
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("ssh-cert", "expired");
    sign(Some("+30d"));
    home.wait_for_state("ssh-cert", "ok");
}

/// cargo 1.95 writes its own login (`cargo login` asks crates.io's index, reachable here): `cargo login` (the token on stdin) → ok, 0600;
/// CARGO_REGISTRY_TOKEN in the shell takes precedence; `cargo logout` (an empty [registry]
/// table left) → logged out, followed by the daemon; a damaged file is invalid.
#[test]
fn cargo_login_and_logout_write_the_credentials_file() {
    let mut home = TestHome::new();
    let cargo_home = home.path(".cargo");
    std::fs::create_dir_all(&cargo_home).unwrap();
    home.set_env("CARGO_HOME", &cargo_home);
    home.write_config("presets = [\"cargo\"]\n");
    let work = home.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let in_work = |args: &[&str], input: &str| {
        // The toolchain's own cargo (the one building these tests), not rustup's proxy, which
        // needs the real HOME to find a toolchain.
        let cargo = std::path::Path::new(env!("CARGO"));
        let out = run_program(&home, cargo, args, input, Some(&work));
        assert_eq!(out.code, 0, "cargo {args:?}: {}", out.stderr);
    };
    assert_eq!(state(&home, "cargo")["state"], "missing");
    let _daemon = home.start_daemon(&[]);
    in_work(&["login"], &format!("{CANARY}\n"));
    home.wait_for_state("cargo", "ok");
    let c = state(&home, "cargo");
    assert_eq!(c["state"], "ok", "{c}");
    assert_eq!(c["stores"][0]["mode"], "0600", "{c}");

    let mut with_env = home.command(&["status", "--json", "cargo"]);
    with_env.env("CARGO_REGISTRY_TOKEN", "x");
    let c = crate::harness::run_command(with_env).credential("cargo");
    assert_eq!(
        c["shadowed_by"],
        serde_json::json!(["CARGO_REGISTRY_TOKEN"]),
        "{c}"
    );

    in_work(&["logout"], "");
    assert_eq!(
        std::fs::read_to_string(cargo_home.join("credentials.toml"))
            .unwrap()
            .trim(),
        "[registry]"
    );
    home.wait_for_state("cargo", "logged-out");
    assert_eq!(state(&home, "cargo")["state"], "logged-out");

    std::fs::write(cargo_home.join("credentials.toml"), "[registry\ntoken = \"").unwrap();
    let c = home
        .run(&["status", "--json", "--live", "cargo"])
        .credential("cargo");
    assert_eq!(c["state"], "invalid", "{c}");
}

/// The OpenAI Codex CLI 0.171 (npm @openai/codex, installed by scripts/test under target/tools)
/// writes its own login: `codex login --with-api-key` (the key on stdin) → ok, 0600, agreeing
/// with `codex login status`; OPENAI_API_KEY in the shell takes precedence; `codex logout`
/// deletes auth.json → missing, and `codex login status` fails too; the daemon follows both.
#[test]
fn codex_login_with_an_api_key_and_logout() {
    let codex = crate::pty::tools_dir().join("codex/node_modules/.bin/codex");
    assert!(
        codex.exists(),
        "{} is missing: run scripts/test, which installs it",
        codex.display()
    );
    let mut home = TestHome::new();
    let codex_home = home.path(".codex");
    std::fs::create_dir_all(&codex_home).unwrap();
    home.set_env("CODEX_HOME", &codex_home);
    home.write_config("presets = [\"codex\"]\n");
    let run = |args: &[&str], input: &str| run_program(&home, &codex, args, input, None);
    assert_ne!(run(&["login", "status"], "").code, 0);
    assert_eq!(state(&home, "codex")["state"], "missing");
    // A login gone within the grace after its write did not persist (`unpersisted`): a short
    // grace, so that this logout, a moment later, is a logout.
    let daemon = home.start_daemon(&["--grace", "100ms"]);
    let login = run(&["login", "--with-api-key"], &format!("sk-{CANARY}\n"));
    let written = std::time::Instant::now();
    assert_eq!(login.code, 0, "{}{}", login.stdout, login.stderr);
    home.wait_for_state("codex", "ok");
    assert_eq!(run(&["login", "status"], "").code, 0);
    let c = state(&home, "codex");
    assert_eq!(c["stores"][0]["mode"], "0600", "{c}");
    assert_eq!(
        c["expires_at"],
        serde_json::Value::Null,
        "an API key has no deadline: {c}"
    );

    let mut with_env = home.command(&["status", "--json", "codex"]);
    with_env.env("OPENAI_API_KEY", "x");
    let c = crate::harness::run_command(with_env).credential("codex");
    assert_eq!(
        c["shadowed_by"],
        serde_json::json!(["OPENAI_API_KEY"]),
        "{c}"
    );

    // Past the grace (100 ms) after the login's write, so the logout is not a lost login.
    crate::harness::wait_out(written, Duration::from_millis(100));
    let logout = run(&["logout"], "");
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    assert!(!codex_home.join("auth.json").exists());
    wait_until("the logout to be published", || {
        home.published_state("codex").as_deref() != Some("ok")
    });
    let c = home.published()["credentials"][0].clone();
    assert_eq!(c["state"], "missing", "{c}");
    assert_ne!(run(&["login", "status"], "").code, 0);
    drop(daemon);
    assert!(!home
        .journal()
        .iter()
        .any(|e| e.to_string().contains(CANARY)));
}

/// A private MIT KDC on loopback (krb5 1.20: kdb5_util, kadmin.local, krb5kdc in the
/// foreground), with the principal alice@TEST.REALM; stopped when dropped. Setting it up takes
/// milliseconds, so each test that needs one has its own.
struct Kdc {
    dir: PathBuf,
    server: std::process::Child,
}

impl Kdc {
    fn start(home: &TestHome) -> Kdc {
        let dir = home.path("../kdc");
        std::fs::create_dir_all(&dir).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = dir.display();
        std::fs::write(
            dir.join("kdc.conf"),
            format!("[kdcdefaults]\n kdc_ports = {port}\n kdc_tcp_ports = {port}\n[realms]\n TEST.REALM = {{\n  database_name = {d}/principal\n  key_stash_file = {d}/stash\n  kdc_ports = {port}\n  kdc_tcp_ports = {port}\n  max_life = 10h\n  max_renewable_life = 7d\n }}\n"),
        )
        .unwrap();
        std::fs::write(
            dir.join("krb5.conf"),
            format!("[libdefaults]\n default_realm = TEST.REALM\n dns_lookup_kdc = false\n dns_lookup_realm = false\n[realms]\n TEST.REALM = {{\n  kdc = 127.0.0.1:{port}\n }}\n"),
        )
        .unwrap();
        let admin = |program: &str, args: &[&str]| {
            let mut command = Command::new(program);
            command
                .args(args)
                .env("KRB5_CONFIG", dir.join("krb5.conf"))
                .env("KRB5_KDC_PROFILE", dir.join("kdc.conf"));
            command
        };
        let created = crate::harness::run_command(admin(
            "/usr/sbin/kdb5_util",
            &["create", "-s", "-r", "TEST.REALM", "-P", "master-pw"],
        ));
        assert_eq!(created.code, 0, "kdb5_util: {}", created.stderr);
        let added = crate::harness::run_command(admin(
            "/usr/sbin/kadmin.local",
            &["-r", "TEST.REALM", "-q", "addprinc -pw alice-pw alice"],
        ));
        assert_eq!(added.code, 0, "kadmin.local: {}", added.stderr);
        let server = admin("/usr/sbin/krb5kdc", &["-n", "-r", "TEST.REALM"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("krb5kdc (scripts/test installs krb5-kdc)");
        wait_until("the KDC to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Kdc { dir, server }
    }
}

impl Drop for Kdc {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Kerberos with the real `kinit` against a private KDC: a 10-second ticket is expiring, its
/// deadline is what klist says, it is expired once `klist -s` says so, in a cache in /tmp-like
/// storage (not "unpersisted"); kdestroy → missing; a truncated cache is invalid; a KEYRING:
/// cache is unknown, said so; the daemon follows a new kinit.
#[test]
fn kinit_tickets_from_a_private_kdc_before_and_after_they_end() {
    let mut home = TestHome::new();
    let kdc = Kdc::start(&home);
    let cache = home.path("krb5cc_test");
    home.set_env("KRB5_CONFIG", kdc.dir.join("krb5.conf"));
    home.set_env("KRB5CCNAME", format!("FILE:{}", cache.display()));
    home.write_config("presets = [\"kerberos\"]\n");
    let klist_ok = |home: &TestHome| run_client(home, "klist", &["-s"], "").code == 0;
    assert_eq!(state(&home, "kerberos")["state"], "missing");
    let _daemon = home.start_daemon(&[]);
    let started = now_secs();
    ok(&home, "kinit", &["-l", "10s", "alice"], "alice-pw\n");
    home.wait_for_state("kerberos", "expiring");
    assert!(klist_ok(&home));
    let c = state(&home, "kerberos");
    let deadline = Timestamp::parse_datetime(c["expires_at"].as_str().unwrap()).unwrap();
    let lifetime = deadline.millis() / 1000 - started;
    assert!(
        (9..=11).contains(&lifetime),
        "a 10 s ticket ends in {lifetime} s: {c}"
    );
    let klist = ok(&home, "klist", &[], "");
    assert!(
        klist.stdout.contains("krbtgt/TEST.REALM@TEST.REALM"),
        "{}",
        klist.stdout
    );
    assert!(!reason(&c).contains("volatile"), "{c}");

    wait_until("klist -s to say the ticket ended", || !klist_ok(&home));
    home.wait_for_state("kerberos", "expired");
    let c = home
        .run(&["status", "--json", "--live", "kerberos"])
        .credential("kerberos");
    assert_eq!(c["state"], "expired", "{c}");

    ok(&home, "kdestroy", &[], "");
    home.wait_for_state("kerberos", "missing");

    ok(&home, "kinit", &["alice"], "alice-pw\n");
    home.wait_for_state("kerberos", "ok");
    let whole = std::fs::read(&cache).unwrap();
    let mut keyring = home.command(&["status", "--json", "--live", "kerberos"]);
    keyring.env("KRB5CCNAME", "KEYRING:persistent:1000");
    let c = crate::harness::run_command(keyring).credential("kerberos");
    assert_eq!(c["state"], "unknown", "{c}");
    assert!(reason(&c).contains("KEYRING:"), "{c}");
    std::fs::write(&cache, &whole[..whole.len() / 2]).unwrap();
    let c = home
        .run(&["status", "--json", "--live", "kerberos"])
        .credential("kerberos");
    assert_eq!(c["state"], "invalid", "{c}");
}

/// The installed gcloud, or `None` (a skip): its apt source is not among this machine's
/// registries, so the test runs where an image brings it (it is in `CANNOT_RUN_HERE`).
fn gcloud() -> Option<PathBuf> {
    let found = ["/usr/bin/gcloud", "/usr/lib/google-cloud-sdk/bin/gcloud"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file());
    if found.is_none() {
        crate::harness::skip("gcloud is not installed here (google-cloud-cli)");
    }
    found
}

/// gcloud 528 writes its own login: `gcloud auth activate-service-account --key-file` against a
/// token endpoint on loopback (the key's `token_uri`) fills credentials.db and access_tokens.db
/// → ok with no deadline claimed, the cached token's expiry the one gcloud stored; gcloud keeps
/// working while credwatch reads its databases over and over; `config set account` to an account
/// with no credential → logged out (followed by the daemon); a new configuration without an
/// account → logged out, naming the other accounts; CLOUDSDK_ACTIVE_CONFIG_NAME in the shell
/// decides; `gcloud auth revoke` → logged out; a truncated database → invalid. Neither the
/// access token nor the private key appears anywhere.
#[test]
fn gcloud_service_account_login_configurations_and_revoke() {
    let Some(gcloud) = gcloud() else { return };
    let api = FakeApi::start();
    let mut home = TestHome::new();
    let config = home.path(".config/gcloud");
    home.set_env("CLOUDSDK_CONFIG", &config);
    home.set_env("CLOUDSDK_CORE_DISABLE_PROMPTS", "1");
    home.write_config("presets = [\"gcloud\"]\n");
    let key_pem = home.path("key.pem");
    let openssl = run_client(
        &home,
        "openssl",
        &["genrsa", "-out", key_pem.to_str().unwrap(), "2048"],
        "",
    );
    assert_eq!(openssl.code, 0, "{}", openssl.stderr);
    let private_key = std::fs::read_to_string(&key_pem).unwrap();
    let account = "ci@demo.iam.gserviceaccount.com";
    let key_file = home.path("sa.json");
    let endpoint = format!("http://127.0.0.1:{}", api.port);
    std::fs::write(
        &key_file,
        serde_json::json!({
            "type": "service_account", "project_id": "demo", "private_key_id": "k1",
            "private_key": private_key, "client_email": account, "client_id": "1",
            "auth_uri": format!("{endpoint}/auth"), "token_uri": format!("{endpoint}/token"),
        })
        .to_string(),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = run_program(&home, &gcloud, args, "", None);
        assert_eq!(out.code, 0, "gcloud {args:?}: {}{}", out.stdout, out.stderr);
        out
    };
    assert_eq!(state(&home, "gcloud")["state"], "missing");
    let daemon = home.start_daemon(&[]);
    let before = now_secs();
    run(&[
        "auth",
        "activate-service-account",
        "--key-file",
        key_file.to_str().unwrap(),
    ]);
    assert!(api.requests().iter().any(|r| r.starts_with("POST /token")));
    home.wait_for_state("gcloud", "ok");
    let c = state(&home, "gcloud");
    assert_eq!(
        c["expires_at"],
        serde_json::Value::Null,
        "no deadline is stored: {c}"
    );
    assert!(reason(&c).contains("no login deadline"), "{c}");
    assert_eq!(c["stores"][0]["mode"], "0600", "{c}");
    let cached = Timestamp::parse_datetime(c["access_expires_at"].as_str().unwrap()).unwrap();
    let lifetime = cached.millis() / 1000 - before;
    assert!(
        (3590..=3610).contains(&lifetime),
        "expires_in 3599 s, read {lifetime} s: {c}"
    );

    // gcloud works while its databases are read again and again (nothing locks them).
    let reading = std::sync::atomic::AtomicBool::new(true);
    /// Stops the reader however the writer ends (a failed assertion too).
    struct Stop<'a>(&'a std::sync::atomic::AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(false, std::sync::atomic::Ordering::Relaxed);
        }
    }
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut reads = 0;
            while reading.load(std::sync::atomic::Ordering::Relaxed) {
                let c = home
                    .run(&["status", "--json", "--live", "gcloud"])
                    .credential("gcloud");
                assert_ne!(c["state"], "invalid", "{c}");
                reads += 1;
            }
            reads
        });
        let stop = Stop(&reading);
        for _ in 0..3 {
            let token = run(&["auth", "print-access-token"]);
            assert!(token.stdout.contains(CANARY));
            run(&[
                "auth",
                "activate-service-account",
                "--key-file",
                key_file.to_str().unwrap(),
            ]);
        }
        drop(stop);
        assert!(reader.join().unwrap() > 0);
    });

    run(&["config", "set", "account", "other@example.com"]);
    home.wait_for_state("gcloud", "logged-out");
    assert!(reason(&state(&home, "gcloud")).contains("missing"));
    run(&["config", "set", "account", account]);
    home.wait_for_state("gcloud", "ok");

    run(&["config", "configurations", "create", "work"]);
    home.wait_for_state("gcloud", "logged-out");
    let c = state(&home, "gcloud");
    assert!(
        reason(&c).contains(&format!("other accounts: {account}")),
        "{c}"
    );
    let mut in_default = home.command(&["status", "--json", "gcloud"]);
    in_default.env("CLOUDSDK_ACTIVE_CONFIG_NAME", "default");
    let c = crate::harness::run_command(in_default).credential("gcloud");
    assert_eq!(c["state"], "ok", "the shell's configuration decides: {c}");
    run(&["config", "configurations", "activate", "default"]);
    home.wait_for_state("gcloud", "ok");

    run(&["auth", "revoke", account]);
    home.wait_for_state("gcloud", "logged-out");

    let db = config.join("credentials.db");
    let bytes = std::fs::read(&db).unwrap();
    std::fs::write(&db, &bytes[..bytes.len() / 2]).unwrap();
    home.wait_for_state("gcloud", "invalid");
    drop(daemon);

    let key_line = private_key.lines().nth(5).unwrap();
    let everything = format!(
        "{}{}",
        home.run(&["status", "--json", "--live"]).stdout,
        serde_json::Value::Array(home.journal())
    );
    assert!(!everything.contains(CANARY));
    assert!(!everything.contains(key_line));
}

/// Without KRB5CCNAME, the cache is the one `default_ccache_name` in krb5.conf names (its
/// `%{uid}` expanded), where the real kinit writes it: credwatch follows the same file, and
/// agrees with `klist -s` there; a renewable ticket's renew_till is shown beside its deadline.
#[test]
fn kinit_writes_where_krb5_conf_says_and_credwatch_looks_there() {
    let mut home = TestHome::new();
    let kdc = Kdc::start(&home);
    let conf = kdc.dir.join("krb5.conf");
    let text = std::fs::read_to_string(&conf).unwrap().replace(
        "[libdefaults]\n",
        &format!(
            "[libdefaults]\n default_ccache_name = FILE:{}/cache_%{{uid}}\n",
            home.home.display()
        ),
    );
    std::fs::write(&conf, text).unwrap();
    home.set_env("KRB5_CONFIG", &conf);
    home.remove_env("KRB5CCNAME");
    home.write_config("presets = [\"kerberos\"]\n");
    let expected = home.path(&format!("cache_{}", nix::unistd::geteuid()));
    let c = state(&home, "kerberos");
    assert_eq!(c["state"], "missing", "{c}");
    assert_eq!(c["stores"][0]["path"], expected.to_str().unwrap(), "{c}");
    ok(
        &home,
        "kinit",
        &["-l", "1h", "-r", "1d", "alice"],
        "alice-pw\n",
    );
    assert!(expected.exists(), "kinit wrote elsewhere");
    assert_eq!(run_client(&home, "klist", &["-s"], "").code, 0);
    let c = state(&home, "kerberos");
    assert_eq!(
        c["state"], "expiring",
        "a one-hour ticket, warned 1 h ahead: {c}"
    );
    assert_eq!(c["stores"][0]["path"], expected.to_str().unwrap(), "{c}");
    // Renewable for a day: said, not counted (nothing renews it unless a renewer runs).
    assert!(reason(&c).contains("renewable until"), "{c}");
}

/// cargo's libsecret provider, with the real cargo and a real keyring: with `cargo:libsecret` in
/// config.toml, `cargo login` stores the token in the keyring (nothing in credentials.toml) →
/// ok, the keyring item its store; `cargo logout` removes the item → missing; the plain
/// `cargo` preset is not fooled into reporting a file login.
#[test]
fn cargo_login_with_the_libsecret_provider_keeps_the_token_in_the_keyring() {
    let mut home = TestHome::new();
    let bus = home.start_keyring();
    let cargo_home = home.path(".cargo");
    std::fs::create_dir_all(&cargo_home).unwrap();
    std::fs::write(
        cargo_home.join("config.toml"),
        "[registry]\nglobal-credential-providers = [\"cargo:token\", \"cargo:libsecret\"]\n",
    )
    .unwrap();
    home.set_env("CARGO_HOME", &cargo_home);
    home.write_config("presets = \"auto\"\n");
    let work = home.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let cargo = std::path::Path::new(env!("CARGO"));
    let c = home
        .status(&["cargo-libsecret"])
        .credential("cargo-libsecret");
    assert_eq!(c["state"], "missing", "{c}");
    let login = run_program(
        &home,
        cargo,
        &["login"],
        &format!("{CANARY}\n"),
        Some(&work),
    );
    assert_eq!(login.code, 0, "cargo login: {}", login.stderr);
    assert!(
        !cargo_home.join("credentials.toml").exists(),
        "the token went to a file"
    );
    let c = home
        .status(&["cargo-libsecret"])
        .credential("cargo-libsecret");
    assert_eq!(c["state"], "ok", "{c}");
    assert!(
        c["stores"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "keyring"),
        "{c}"
    );
    let everything = home.run(&["status", "--json"]).stdout;
    assert!(!everything.contains(CANARY));
    let logout = run_program(&home, cargo, &["logout"], "", Some(&work));
    assert_eq!(logout.code, 0, "cargo logout: {}", logout.stderr);
    let c = home
        .status(&["cargo-libsecret"])
        .credential("cargo-libsecret");
    assert_eq!(c["state"], "missing", "{c}");
    drop(bus);
}

/// The Codex CLI with `cli_auth_credentials_store = "keyring"` and a real keyring: `codex login
/// --with-api-key` writes a keyring item and no auth.json → codex-keyring ok (the item its
/// store), agreeing with `codex login status`; `codex logout` removes it → missing.
#[test]
fn codex_login_into_the_keyring() {
    let codex = crate::pty::tools_dir().join("codex/node_modules/.bin/codex");
    assert!(
        codex.exists(),
        "{} is missing: run scripts/test",
        codex.display()
    );
    let mut home = TestHome::new();
    let bus = home.start_keyring();
    let codex_home = home.path(".codex");
    std::fs::create_dir_all(&codex_home).unwrap();
    std::fs::write(
        codex_home.join("config.toml"),
        "cli_auth_credentials_store = \"keyring\"\n",
    )
    .unwrap();
    home.set_env("CODEX_HOME", &codex_home);
    home.write_config("presets = \"auto\"\n");
    let run = |args: &[&str], input: &str| run_program(&home, &codex, args, input, None);
    let c = home.status(&["codex-keyring"]).credential("codex-keyring");
    assert_eq!(c["state"], "missing", "{c}");
    let login = run(&["login", "--with-api-key"], &format!("sk-{CANARY}\n"));
    assert_eq!(login.code, 0, "{}{}", login.stdout, login.stderr);
    assert!(
        !codex_home.join("auth.json").exists(),
        "codex wrote auth.json"
    );
    assert_eq!(run(&["login", "status"], "").code, 0);
    let c = home.status(&["codex-keyring"]).credential("codex-keyring");
    assert_eq!(c["state"], "ok", "{c}");
    assert!(
        c["stores"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "keyring" && s["present"] == true),
        "{c}"
    );
    assert!(!home.run(&["status", "--json"]).stdout.contains(CANARY));
    assert_eq!(run(&["logout"], "").code, 0);
    assert_ne!(run(&["login", "status"], "").code, 0);
    let c = home.status(&["codex-keyring"]).credential("codex-keyring");
    assert_eq!(c["state"], "missing", "{c}");
    drop(bus);
}

/// The interpreter the AWS CLI runs on, which carries botocore.
fn botocore_python() -> PathBuf {
    let aws = client("aws");
    let shebang = std::fs::read_to_string(&aws).unwrap_or_default();
    let line = shebang.lines().next().unwrap_or_default();
    PathBuf::from(line.strip_prefix("#!").map(str::trim).unwrap_or("python3"))
}

/// `aws login`'s cache as botocore (1.43) itself writes it (its LoginTokenLoader over a
/// JSONFileCache, the code `aws login` and every refresh go through): credentials that expire
/// in minutes but carry a refresh token → ok, no deadline claimed; without the refresh token and
/// past expiresAt → expired; the daemon follows botocore's rewrite.
#[test]
fn aws_login_cache_written_by_botocore() {
    let mut home = TestHome::new();
    let cache = home.path(".aws/login/cache");
    home.set_env("AWS_LOGIN_CACHE_DIRECTORY", &cache);
    home.write_config("presets = \"auto\"\n");
    let python = botocore_python();
    let save = |expires_in: i64, refresh: bool| {
        let script = format!(
            r#"
import datetime
from botocore.credentials import JSONFileCache
from botocore.utils import LoginTokenLoader, get_login_token_cache_directory
at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds={expires_in})
token = {{"accessToken": {{"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "{CANARY}",
          "sessionToken": "st-{CANARY}", "accountId": "123456789012",
          "expiresAt": at.strftime("%Y-%m-%dT%H:%M:%SZ")}},
         "clientId": "arn:aws:signin:::devtools/same-device", "dpopKey": "k",
         "idToken": "i"}}
if {refresh}:
    token["refreshToken"] = "rt-{CANARY}"
LoginTokenLoader(cache=JSONFileCache(get_login_token_cache_directory())).save_token("my-session", token)
"#,
            refresh = if refresh { "True" } else { "False" }
        );
        let out = run_program(&home, &python, &["-c", &script], "", None);
        assert_eq!(out.code, 0, "botocore: {}", out.stderr);
    };
    save(600, true);
    let files: Vec<_> = std::fs::read_dir(&cache).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    let c = home.run(&["status", "--json"]).credential("aws-login");
    assert_eq!(c["state"], "ok", "found by auto, renews itself: {c}");
    assert_eq!(c["expires_at"], serde_json::Value::Null, "{c}");
    assert_eq!(c["stores"][0]["mode"], "0600", "{c}");
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("aws-login", "ok");
    save(-60, false);
    home.wait_for_state("aws-login", "expired");
    save(900, true);
    home.wait_for_state("aws-login", "ok");
    assert!(!home.run(&["status", "--json"]).stdout.contains(CANARY));
}

/// `CertificateFile` in ~/.ssh/config names the certificate ssh uses (`ssh -G` agrees): credwatch
/// judges that one (signed by the real ssh-keygen, outside ~/.ssh), not an expired
/// `*-cert.pub` beside the keys; without the line, the glob decides again.
#[test]
fn ssh_config_certificate_file_names_the_certificate_in_use() {
    let home = TestHome::new();
    home.write_config("presets = [\"ssh-cert\"]\n");
    let ssh = home.path(".ssh");
    let keys = home.path("keys");
    std::fs::create_dir_all(&ssh).unwrap();
    std::fs::create_dir_all(&keys).unwrap();
    let ca = home.path("ca");
    ssh_key(&home, &ca);
    ssh_key(&home, &ssh.join("id_ed25519"));
    ssh_key(&home, &keys.join("work"));
    ssh_sign(&home, &ca, &ssh.join("id_ed25519.pub"), Some("-3d:-1d"));
    ssh_sign(&home, &ca, &keys.join("work.pub"), Some("+20d"));
    assert_eq!(state(&home, "ssh-cert")["state"], "expired");
    std::fs::write(
        ssh.join("config"),
        "Host *.corp\n    User alice\n    CertificateFile ~/keys/work-cert.pub\n",
    )
    .unwrap();
    // ssh reads the passwd entry's home, not $HOME: name the file.
    let config = ssh.join("config");
    let resolved = ok(
        &home,
        "ssh",
        &["-F", config.to_str().unwrap(), "-G", "db.corp"],
        "",
    );
    assert!(
        resolved
            .stdout
            .lines()
            .any(|l| l.starts_with("certificatefile ") && l.ends_with("keys/work-cert.pub")),
        "{}",
        resolved.stdout
    );
    let c = state(&home, "ssh-cert");
    assert_eq!(c["state"], "ok", "{c}");
    assert!(
        c["stores"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("keys/work-cert.pub"),
        "{c}"
    );
    std::fs::write(ssh.join("config"), "Host *.corp\n    User alice\n").unwrap();
    assert_eq!(state(&home, "ssh-cert")["state"], "expired");
}

/// Teleport's TLS certificate (`<user>-x509.pem`), here minted by the real openssl: its notAfter
/// is the deadline (what `openssl x509 -enddate` says); two days left is ok (the warning is 1 h
/// ahead); a truncated PEM is invalid; 0644 is normal for a certificate.
#[test]
fn x509_certificates_end_at_their_not_after() {
    let home = TestHome::new();
    home.write_config("presets = [\"tsh-x509\"]\n");
    let dir = home.path(".tsh/keys/teleport.example.com");
    std::fs::create_dir_all(&dir).unwrap();
    let cert = dir.join("alice-x509.pem");
    let key = home.path("tls.key");
    let mint = |days: &str| {
        ok(
            &home,
            "openssl",
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-subj",
                "/CN=alice",
                "-days",
                days,
                "-keyout",
                key.to_str().unwrap(),
                "-out",
                cert.to_str().unwrap(),
            ],
            "",
        );
        std::fs::set_permissions(&cert, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
    };
    assert_eq!(state(&home, "tsh-x509")["state"], "missing");
    mint("2");
    let c = state(&home, "tsh-x509");
    assert_eq!(c["state"], "ok", "{c}");
    let end = ok(
        &home,
        "openssl",
        &[
            "x509",
            "-enddate",
            "-noout",
            "-dateopt",
            "iso_8601",
            "-in",
            cert.to_str().unwrap(),
        ],
        "",
    );
    let said = end
        .stdout
        .trim()
        .trim_start_matches("notAfter=")
        .to_string();
    assert_eq!(
        Timestamp::parse_datetime(c["expires_at"].as_str().unwrap()),
        Timestamp::parse_datetime(&said),
        "{c} vs {said}"
    );
    let bytes = std::fs::read(&cert).unwrap();
    std::fs::write(&cert, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(state(&home, "tsh-x509")["state"], "invalid");
}

/// Several accounts (#27 item 5). AWS profiles written by the real `aws configure set`, beside a
/// profile as saml2aws writes it whose deadline passed; kubeconfig contexts written by the real
/// kubectl, one whose user's token expired. Each is listed with its own state and the one in
/// use marked; a stale one not in use changes neither the state, nor the exit code, nor the
/// prompt; selected (`AWS_PROFILE`, `kubectl config use-context`), it is the state. Before, the
/// profiles and users not in use were only named, never judged.
#[test]
fn aws_profiles_and_kube_contexts_not_in_use_were_named_not_judged() {
    let mut home = TestHome::new();
    home.write_config("presets = [\"aws-keys\", \"kube\"]\n");
    let aws = |args: &[&str]| ok(&home, "aws", args, "");
    aws(&[
        "configure",
        "set",
        "aws_access_key_id",
        "AKIAIOSFODNN7EXAMPLE",
    ]);
    aws(&["configure", "set", "aws_secret_access_key", CANARY]);
    let passed = Timestamp::from_secs(now_secs() - 2 * 3600).rfc3339();
    let credentials = home.path(".aws/credentials");
    let mut text = std::fs::read_to_string(&credentials).unwrap();
    text.push_str(&format!(
        "\n[saml]\naws_access_key_id        = ASIAIOSFODNN7EXAMPLE\naws_secret_access_key    = {CANARY}\naws_session_token        = {CANARY}\naws_security_token       = {CANARY}\nx_principal_arn          = arn:aws:sts::123456789012:assumed-role/dev/alice\nx_security_token_expires = {passed}\n"
    ));
    std::fs::write(&credentials, text).unwrap();

    let kubectl = |args: &[&str]| ok(&home, "kubectl", args, "");
    kubectl(&[
        "config",
        "set-cluster",
        "c1",
        "--server=https://127.0.0.1:6443",
    ]);
    kubectl(&[
        "config",
        "set-credentials",
        "dev-user",
        &format!("--token={}", jwt_expiring_at(now_secs() + 5 * DAY)),
    ]);
    kubectl(&[
        "config",
        "set-credentials",
        "prod-admin",
        &format!("--token={}", jwt_expiring_at(now_secs() - DAY)),
    ]);
    kubectl(&[
        "config",
        "set-context",
        "dev",
        "--cluster=c1",
        "--user=dev-user",
    ]);
    kubectl(&[
        "config",
        "set-context",
        "prod",
        "--cluster=c1",
        "--user=prod-admin",
    ]);
    kubectl(&["config", "use-context", "dev"]);

    let accounts = |c: &serde_json::Value| -> Vec<(String, bool, String)> {
        c["accounts"]
            .as_array()
            .unwrap_or_else(|| panic!("accounts listed: {c:#}"))
            .iter()
            .map(|a| {
                (
                    a["name"].as_str().unwrap().to_string(),
                    a["active"].as_bool().unwrap(),
                    a["state"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let own = |name: &str, active: bool, state: &str| (name.to_string(), active, state.to_string());
    let out = home.status(&[]);
    assert_eq!(
        out.code, 0,
        "a stale account not in use fails nothing: {}",
        out.stdout
    );
    // A credential's state and its accounts (name, in use, state), in order.
    let judged = |out: &Outcome, name: &str, state: &str, listed: &[(&str, bool, &str)]| {
        let c = out.credential(name);
        assert_eq!(c["state"], state, "{c:#}");
        let listed: Vec<_> = listed.iter().map(|(n, a, s)| own(n, *a, s)).collect();
        assert_eq!(accounts(&c), listed);
    };
    judged(
        &out,
        "aws-keys",
        "ok",
        &[("default", true, "ok"), ("saml", false, "expired")],
    );
    judged(
        &out,
        "kube",
        "ok",
        &[("dev", true, "ok"), ("prod", false, "expired")],
    );
    let table = home.run(&["status"]).stdout;
    assert!(table.contains("* dev  ok  (in use)"), "{table}");
    assert!(table.contains("  prod  expired  (not in use) "), "{table}");
    assert!(table.contains("  saml  expired  (not in use) "), "{table}");
    let prompt = home.run(&["prompt"]).stdout;
    assert!(
        !prompt.contains("aws") && !prompt.contains("kube"),
        "no flag: {prompt}"
    );

    // Selected, the stale one is the state.
    kubectl(&["config", "use-context", "prod"]);
    home.set_env("AWS_PROFILE", "saml");
    let out = home.status(&[]);
    assert_ne!(out.code, 0, "{}", out.stdout);
    judged(
        &out,
        "aws-keys",
        "expired",
        &[("saml", true, "expired"), ("default", false, "ok")],
    );
    judged(
        &out,
        "kube",
        "expired",
        &[("prod", true, "expired"), ("dev", false, "ok")],
    );
}

/// MIT krb5 keeps a `KEYRING:` cache in the kernel's keyrings (Fedora and RHEL make
/// `KEYRING:persistent:%{uid}` the default): credwatch said `unknown` ("outside any file"). The
/// real kinit against a private KDC, into a cache of its own in the session keyring's
/// collection and then in the persistent keyring: `ok` with klist's deadline, said to be kept
/// until logout (the session's) or reboot (the persistent one); kdestroy → missing.
#[test]
fn a_kerberos_cache_in_the_kernel_keyring_was_unknown() {
    let mut home = TestHome::new();
    let kdc = Kdc::start(&home);
    home.set_env("KRB5_CONFIG", kdc.dir.join("krb5.conf"));
    home.write_config("presets = [\"kerberos\"]\n");
    let unique = format!("cwtest{}x{}", std::process::id(), now_secs() % 100_000);
    for (name, kept, note) in [
        (
            format!("KEYRING:session:{unique}"),
            "logout",
            "kept only until you log out: it is in the kernel's keyring of your sessions",
        ),
        (
            format!("KEYRING:persistent:{}:{unique}", nix::unistd::geteuid()),
            "reboot",
            "kept only until the next reboot: it is in your persistent kernel keyring",
        ),
    ] {
        home.set_env("KRB5CCNAME", &name);
        assert_eq!(state(&home, "kerberos")["state"], "missing", "{name}");
        ok(&home, "kinit", &["alice"], "alice-pw\n");
        let klist = ok(&home, "klist", &[], "");
        assert!(klist.stdout.contains(&name), "{}", klist.stdout);
        let c = state(&home, "kerberos");
        assert_eq!(c["state"], "ok", "{name}: {c}");
        assert_eq!(c["kept_until"], kept, "{name}: {c}");
        assert!(reason(&c).contains(note), "{name}: {c}");
        let deadline = Timestamp::parse_datetime(c["expires_at"].as_str().unwrap()).unwrap();
        let hours = (deadline.millis() / 1000 - now_secs()) as f64 / 3600.0;
        assert!((9.9..=10.0).contains(&hours), "the KDC's 10 h: {c}");
        ok(&home, "kdestroy", &[], "");
        assert_eq!(state(&home, "kerberos")["state"], "missing", "{name}");
    }
}

/// The Hugging Face CLI (PyPI huggingface_hub 1.28.0, installed by scripts/test under
/// target/tools) writes its own login, against a local Hub (`HF_ENDPOINT`): `hf auth login
/// --token` → ok, 0600, the bare token; HF_TOKEN in the shell takes precedence, named and never
/// valued; `hf auth logout` deletes the token file → missing; the daemon follows both.
#[test]
fn huggingface_login_with_a_token_and_logout() {
    let tools = crate::pty::tools_dir().join("hf");
    let hf = tools.join("bin/hf");
    assert!(
        hf.exists(),
        "{} is missing: run scripts/test, which installs it",
        hf.display()
    );
    let api = FakeApi::start();
    let mut home = TestHome::new();
    home.set_env("PYTHONPATH", &tools);
    home.set_env("HF_ENDPOINT", format!("http://127.0.0.1:{}", api.port));
    home.set_env("HF_HUB_DISABLE_TELEMETRY", "1");
    home.set_env("HF_HUB_DISABLE_UPDATE_CHECK", "1");
    home.write_config("presets = [\"huggingface\"]\n");
    let python = |args: &[&str]| {
        let mut all = vec![hf.to_str().unwrap()];
        all.extend_from_slice(args);
        run_program(
            &home,
            std::path::Path::new("/usr/bin/python3"),
            &all,
            "",
            None,
        )
    };
    assert_eq!(state(&home, "huggingface")["state"], "missing");
    let daemon = home.start_daemon(&["--grace", "100ms"]);
    let login = python(&["auth", "login", "--token", &format!("hf_{CANARY}")]);
    let written = std::time::Instant::now();
    assert_eq!(login.code, 0, "{}{}", login.stdout, login.stderr);
    assert!(
        api.requests().iter().any(|r| r.contains("/api/whoami-v2")),
        "the CLI asked the local Hub: {:?}",
        api.requests()
    );
    home.wait_for_state("huggingface", "ok");
    let c = state(&home, "huggingface");
    assert_eq!(c["stores"][0]["mode"], "0600", "{c}");
    assert!(
        c["stores"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with(".cache/huggingface/token"),
        "{c}"
    );

    let mut with_env = home.command(&["status", "--json", "huggingface"]);
    with_env.env("HF_TOKEN", CANARY);
    let shadowed = crate::harness::run_command(with_env);
    assert!(!shadowed.stdout.contains(CANARY));
    assert_eq!(
        shadowed.credential("huggingface")["shadowed_by"],
        serde_json::json!(["HF_TOKEN"])
    );

    crate::harness::wait_out(written, Duration::from_millis(100));
    let logout = python(&["auth", "logout"]);
    assert_eq!(logout.code, 0, "{}{}", logout.stdout, logout.stderr);
    assert!(!home.path(".cache/huggingface/token").exists());
    wait_until("the logout to be published", || {
        home.published_state("huggingface").as_deref() != Some("ok")
    });
    assert_eq!(home.published()["credentials"][0]["state"], "missing");
    drop(daemon);
    assert!(!home
        .journal()
        .iter()
        .any(|e| e.to_string().contains(CANARY)));
}
