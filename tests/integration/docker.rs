//! docker's implicit credential helper (issue #25): with `docker-credential-secretservice` on
//! PATH and no `credsStore` in `~/.docker/config.json`, the real docker client sends a login to
//! that helper, which needs a D-Bus session bus. Without one (an SSH session) credwatch must say
//! so, naming the helper and the bus, with a fix that works there, instead of a bare
//! `docker login`. The real docker client and helper, a local registry, a real keyring.

use crate::harness::{TestHome, CANARY};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const HELPER: &str = "/usr/bin/docker-credential-secretservice";

/// The real docker client and secretservice helper, or the test fails naming scripts/test.
fn clients() -> PathBuf {
    assert!(
        Path::new(HELPER).is_file(),
        "{HELPER} is not installed (golang-docker-credential-helpers): run scripts/test, which installs it"
    );
    ["/usr/local/bin/docker", "/usr/bin/docker"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("docker (the client) is not installed: run scripts/test, which installs it")
}

/// A registry that accepts any login (`GET /v2/` answers 200).
pub(crate) fn registry() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length.min(1 << 16)];
                let _ = reader.read_exact(&mut body);
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                     docker-distribution-api-version: registry/2.0\r\n\
                     content-length: 2\r\nconnection: close\r\n\r\n{{}}"
                );
            });
        }
    });
    format!("127.0.0.1:{port}")
}

/// Runs a program in the test's environment with `input` on stdin: (exit code, stdout, stderr).
pub(crate) fn run(
    home: &TestHome,
    program: &Path,
    args: &[&str],
    input: &str,
) -> (i32, String, String) {
    let mut child = home
        .program(program.to_str().unwrap(), args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
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
            panic!("{} {args:?} hung for 60 s", program.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn docker_state(home: &TestHome) -> serde_json::Value {
    home.status(&["docker"]).credential("docker")
}

/// Issue #25: no `credsStore`, the helper on PATH, no session bus. docker itself uses the helper
/// and fails; credwatch said `missing` with the fix `docker login` (which fails the same way),
/// and `credwatch login -- docker login` named neither the helper nor the bus. Now: the cause,
/// and a fix that works over SSH, followed here to a working login.
#[test]
fn docker_implicit_secretservice_helper_without_a_bus_is_unavailable_not_a_bare_docker_login() {
    let docker = clients();
    let home = TestHome::new();
    home.write_config("presets = [\"docker\"]\n");
    let server = registry();
    let login = ["login", server.as_str(), "-u", "me", "--password-stdin"];
    let password = format!("{CANARY}\n");

    // The real client: it picks the helper by itself, which cannot work without a bus.
    let (code, out, err) = run(&home, &docker, &login, &password);
    assert_ne!(
        code, 0,
        "docker login saved a login without a bus?\n{out}\n{err}"
    );
    assert!(
        err.contains("credentials") || err.contains("D-Bus") || err.contains("secretservice"),
        "docker's own failure: {err}"
    );
    assert!(
        !home.path(".docker/config.json").exists() || {
            let config = std::fs::read_to_string(home.path(".docker/config.json")).unwrap();
            !config.contains("\"auth\"")
        }
    );

    let c = docker_state(&home);
    let reason = c["reason"].as_str().unwrap_or_default();
    let fix = c["fix"].as_str().unwrap_or_default();
    assert_eq!(c["state"], "unavailable", "{c}");
    for words in [
        "docker-credential-secretservice",
        "no credsStore set",
        "D-Bus session bus",
    ] {
        assert!(reason.contains(words), "{words:?} not in: {reason}");
    }
    assert_ne!(fix.trim(), "docker login", "{c}");
    assert!(fix.contains("auths"), "{fix}");

    // `credwatch login -- docker login …` says the same after docker fails.
    let mut args = vec!["login", "docker", "--", docker.to_str().unwrap()];
    args.extend(login);
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
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_ne!(output.status.code(), Some(0), "{said}");
    assert!(
        said.contains("docker-credential-secretservice") && said.contains("D-Bus"),
        "credwatch login names neither the helper nor the bus:\n{said}"
    );
    assert!(!said.contains(CANARY), "{said}");

    // The fix, as said (for this registry): the login stays in the file, and docker login works.
    let _ = std::fs::remove_file(home.path(".docker/config.json"));
    home.write(
        ".docker/config.json",
        format!("{{\"auths\": {{\"{server}\": {{}}}}}}\n"),
    );
    let (code, out, err) = run(&home, &docker, &login, &password);
    assert_eq!(code, 0, "the fix did not work:\n{out}\n{err}");
    let c = docker_state(&home);
    assert_eq!(c["state"], "ok", "{c}");
}

/// The same machine with a session bus and an unlocked keyring: the helper works, so nothing is
/// unavailable: before a login it is `missing` (docker login works here), after it `ok`.
#[test]
fn docker_implicit_secretservice_helper_with_a_bus_is_not_unavailable() {
    let docker = clients();
    let mut home = TestHome::new();
    home.write_config("presets = [\"docker\"]\n");
    let _bus = home.start_keyring();
    let c = docker_state(&home);
    assert_eq!(c["state"], "missing", "{c}");
    let server = registry();
    let password = format!("{CANARY}\n");
    let (code, out, err) = run(
        &home,
        &docker,
        &["login", server.as_str(), "-u", "me", "--password-stdin"],
        &password,
    );
    assert_eq!(code, 0, "docker login through the keyring:\n{out}\n{err}");
    let config = std::fs::read_to_string(home.path(".docker/config.json")).unwrap();
    assert!(
        config.contains("secretservice"),
        "docker names the helper it used: {config}"
    );
    let c = docker_state(&home);
    assert_eq!(c["state"], "ok", "{c}");
}

/// A PATH holding only the docker client (no credential helper: docker keeps logins in its
/// file); the client's path there.
fn docker_alone_on_path(home: &mut TestHome, docker: &Path) -> PathBuf {
    let only_docker = home.path("only-docker");
    std::fs::create_dir_all(&only_docker).unwrap();
    std::os::unix::fs::symlink(docker, only_docker.join("docker")).unwrap();
    home.set_env("PATH", &only_docker);
    only_docker.join("docker")
}

/// Without the helper on PATH docker keeps the login in the file: `missing`, fix `docker login`.
#[test]
fn docker_without_its_helper_on_path_keeps_the_login_in_the_file() {
    let docker = clients();
    let mut home = TestHome::new();
    home.write_config("presets = [\"docker\"]\n");
    let docker = docker_alone_on_path(&mut home, &docker);
    let c = docker_state(&home);
    assert_eq!(c["state"], "missing", "{c}");
    assert!(
        !c["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("credential-"),
        "{c}"
    );
    let server = registry();
    let (code, out, err) = run(
        &home,
        &docker,
        &["login", server.as_str(), "-u", "me", "--password-stdin"],
        &format!("{CANARY}\n"),
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(docker_state(&home)["state"], "ok");
}

/// An Amazon ECR login (`aws ecr get-login-password | docker login --username AWS
/// --password-stdin ACCOUNT.dkr.ecr.REGION.amazonaws.com`) keeps a token that ends 12 h after
/// issue, readable in docker's `auth`. The real docker client logs in with a token shaped as ECR
/// issues it (base64 of JSON with `expiration`) beside a plain password login to another
/// registry: credwatch said "no login deadline is stored locally" and `ok` long after every
/// pull from that registry failed. Now the token's deadline is docker's, the registry named.
#[test]
fn an_ecr_token_in_docker_auths_was_ok_after_its_12_hours() {
    use base64::Engine;
    let docker = clients();
    let mut home = TestHome::new();
    home.write_config("presets = [\"docker\"]\n");
    let docker = docker_alone_on_path(&mut home, &docker);
    let (hub, ecr) = (registry(), registry());
    let login = |server: &str, user: &str, password: &str| {
        let (code, out, err) = run(
            &home,
            &docker,
            &["login", server, "-u", user, "--password-stdin"],
            &format!("{password}\n"),
        );
        assert_eq!(code, 0, "{out}\n{err}");
    };
    let ecr_token = |expiration: i64| {
        base64::engine::general_purpose::STANDARD.encode(format!(
            r#"{{"payload":"{CANARY}","datakey":"{CANARY}","version":"2","type":"DATA_KEY","expiration":{expiration}}}"#
        ))
    };
    login(&hub, "me", CANARY);
    let c = docker_state(&home);
    assert_eq!(c["state"], "ok", "{c}");
    assert!(c["expires_at"].is_null(), "a password has no deadline: {c}");

    let issued = crate::harness::now_secs();
    login(&ecr, "AWS", &ecr_token(issued + 12 * 3600));
    let c = docker_state(&home);
    assert_eq!(c["state"], "ok", "{c}");
    assert_eq!(
        c["expires_at"],
        credwatch::support::timefmt::Timestamp::from_secs(issued + 12 * 3600).rfc3339()
    );
    assert!(
        c["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("the login for {ecr} valid until")),
        "{c}"
    );

    // Logged in 13 h ago: its token ended an hour ago.
    login(&ecr, "AWS", &ecr_token(issued - 3600));
    let out = home.status(&["docker"]);
    let c = out.credential("docker");
    assert_eq!(c["state"], "expired", "{c}");
    let reason = c["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(&format!("the login for {ecr} expired 60 min ago")),
        "{reason}"
    );
    assert_ne!(out.code, 0);
    assert!(!out.stdout.contains(CANARY));
}
