//! A login for every preset, made as its tool leaves one: the list of presets comes from the
//! code (`harness::all_presets`), and a preset the suite cannot give a login fails
//! [`every_preset_in_the_code_has_a_login_maker`], naming it. Files under
//! `tests/fixtures/NAME/`, a Kerberos credential cache where `KRB5CCNAME` points, a real
//! `ssh-agent` holding a real key, and items in a real gnome-keyring on a private session bus.

use crate::bus::SessionBus;
use crate::harness::{all_presets, kerberos_ccache, run_command, TestHome, Times, CANARY};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

/// How a preset's login is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Maker {
    /// The files of `tests/fixtures/NAME/`, rendered (the store is one of them).
    Fixture,
    /// A credential cache written where `KRB5CCNAME` points (outside HOME, as /tmp/krb5cc_UID).
    Ccache,
    /// A real ssh-agent holding a key, its socket in `SSH_AUTH_SOCK`.
    Agent,
    /// The files of `tests/fixtures/FIXTURE/` (the tool's config that selects the keyring, or
    /// lists the login kept there) and this item in the keyring (attributes as the tool writes
    /// them; the secret holds the canary).
    Keyring {
        fixture: &'static str,
        item: &'static [&'static str],
    },
}

const GIT_ITEM: &[&str] = &[
    "xdg:schema",
    "org.git.Password",
    "server",
    "git.example",
    "protocol",
    "https",
    "user",
    "alice",
];
const CARGO_ITEM: &[&str] = &[
    "xdg:schema",
    "org.rust-lang.cargo.registry",
    "url",
    "https://github.com/rust-lang/crates.io-index",
];
const GH_ITEM: &[&str] = &["service", "gh:github.com", "username", "octocat"];
const CODEX_ITEM: &[&str] = &["service", "Codex Auth", "username", "cli|5d1e3c0f9a2b7c44"];

/// The maker of a preset's login, or `None`: the suite cannot give it one.
pub fn maker(preset: &str) -> Option<Maker> {
    match preset {
        "kerberos" => Some(Maker::Ccache),
        "ssh-agent" => Some(Maker::Agent),
        // gh keeps its token in the keyring whenever one works (a plain-text token beside a
        // working keyring is flagged insecure: keyring.rs tests that).
        "gh" => Some(Maker::Keyring {
            fixture: "gh-keyring",
            item: GH_ITEM,
        }),
        "git-libsecret" => Some(Maker::Keyring {
            fixture: preset_fixture("git-libsecret"),
            item: GIT_ITEM,
        }),
        "cargo-libsecret" => Some(Maker::Keyring {
            fixture: preset_fixture("cargo-libsecret"),
            item: CARGO_ITEM,
        }),
        "codex-keyring" => Some(Maker::Keyring {
            fixture: preset_fixture("codex-keyring"),
            item: CODEX_ITEM,
        }),
        _ => fixtures_dir()
            .join(preset)
            .is_dir()
            .then_some(Maker::Fixture),
    }
}

/// A fixture named as its preset.
const fn preset_fixture(name: &'static str) -> &'static str {
    name
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// What keeps the logins alive that are not files: the agent and the keyring. Dropped with
/// the test.
pub struct Logins {
    pub bus: SessionBus,
    agent: Option<Child>,
    pub agent_socket: PathBuf,
    agent_key: PathBuf,
}

impl Drop for Logins {
    fn drop(&mut self) {
        if let Some(mut agent) = self.agent.take() {
            let _ = agent.kill();
            let _ = agent.wait();
        }
    }
}

/// The secret of a keyring item: the canary, with a deadline where the tool keeps one in it
/// (git's OAuth logins: `password_expiry_utc`).
fn item_secret(attributes: &[&str], times: Times) -> String {
    if attributes == GIT_ITEM {
        format!("{CANARY}\npassword_expiry_utc={}\n", times.expires)
    } else {
        CANARY.to_string()
    }
}

impl TestHome {
    /// Gives every preset in the code a login that ends as `times` says (a preset without a
    /// maker fails the test, named). The session bus, the keyring and the agent run until the
    /// returned [`Logins`] is dropped; this home's environment points at them.
    pub fn install_every_login(&mut self, times: Times) -> Logins {
        let bus = self.start_keyring();
        let mut logins = Logins {
            bus,
            agent: None,
            agent_socket: self.path(".test-agent/agent.sock"),
            agent_key: self.path(".test-agent/id_ed25519"),
        };
        self.set_env("SSH_AUTH_SOCK", &logins.agent_socket);
        for preset in all_presets() {
            self.install_login(&mut logins, preset, times);
        }
        logins
    }

    /// Makes (or makes again) `preset`'s login.
    pub fn install_login(&self, logins: &mut Logins, preset: &str, times: Times) {
        match maker(preset).unwrap_or_else(|| panic!("no login maker for preset {preset}")) {
            Maker::Fixture => self.install_fixture(preset, times),
            Maker::Ccache => {
                let cache = PathBuf::from(self.env_value("KRB5CCNAME").expect("KRB5CCNAME"));
                std::fs::write(&cache, kerberos_ccache(times.expires)).unwrap();
                std::fs::set_permissions(
                    &cache,
                    std::os::unix::fs::PermissionsExt::from_mode(0o600),
                )
                .unwrap();
            }
            Maker::Agent => self.start_agent(logins),
            Maker::Keyring { fixture, item } => {
                self.install_fixture(fixture, times);
                logins.bus.store_item(item, &item_secret(item, times));
            }
        }
    }

    /// A real ssh-agent holding a real key, put at the login's socket in one step (started on
    /// a socket beside it, the key added, then renamed into place): whoever watches the socket's
    /// directory sees an agent that already holds its key.
    pub fn start_agent(&self, logins: &mut Logins) {
        if let Some(mut old) = logins.agent.take() {
            let _ = old.kill();
            let _ = old.wait();
        }
        let dir = logins.agent_socket.parent().unwrap().to_path_buf();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        if !logins.agent_key.exists() {
            let made = run_command(self.program(
                "ssh-keygen",
                &[
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    CANARY,
                    "-f",
                    logins.agent_key.to_str().unwrap(),
                ],
            ));
            assert_eq!(made.code, 0, "ssh-keygen: {}", made.stderr);
        }
        let starting = dir.join("starting.sock");
        let _ = std::fs::remove_file(&starting);
        let agent = self
            .program("ssh-agent", &["-D", "-a", starting.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ssh-agent (package openssh-client)");
        logins.agent = Some(agent);
        // The socket exists from bind(), before the agent listens: a connection tells it is
        // ready (ssh-add failed now and then with "Connection refused" when the file sufficed).
        crate::harness::wait_until("the ssh-agent to listen", || {
            std::os::unix::net::UnixStream::connect(&starting).is_ok()
        });
        let mut add = self.program("ssh-add", &[logins.agent_key.to_str().unwrap()]);
        add.env("SSH_AUTH_SOCK", &starting);
        let added = run_command(add);
        assert_eq!(added.code, 0, "ssh-add: {}", added.stderr);
        std::fs::rename(&starting, &logins.agent_socket).unwrap();
    }

    /// Stops the agent: it removes its socket and exits, as `ssh-agent -k` does.
    pub fn stop_agent(&self, logins: &mut Logins) {
        if let Some(mut agent) = logins.agent.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(agent.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let _ = agent.wait();
        }
        // It removes the socket it made, which was renamed: remove the one in place.
        let _ = std::fs::remove_file(&logins.agent_socket);
    }
}

/// Every preset the code ships has a way for the suite to give it a login, so the tests that
/// claim "every preset" (the canary, auto-detection, the daemon's follow test, the status
/// bench) see it; a preset added without one fails here, named.
#[test]
fn every_preset_in_the_code_has_a_login_maker() {
    let presets = all_presets();
    assert!(presets.len() >= 33, "{presets:?}");
    let missing: Vec<&str> = presets
        .iter()
        .copied()
        .filter(|p| maker(p).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "presets without a login maker (tests/integration/logins.rs) or fixture \
         (tests/fixtures/NAME/): {missing:?}"
    );
    for preset in presets {
        if let Some(Maker::Keyring { fixture, .. }) = maker(preset) {
            assert!(
                fixtures_dir().join(fixture).is_dir(),
                "{preset}: a keyring login needs its tool's config in tests/fixtures/{fixture}/"
            );
        }
    }
}
