//! A private D-Bus session bus per test, with a real gnome-keyring-daemon as Secret Service
//! (../shared/docs/keyring-recipe.md): no service activation (but for the bus that tests it), so
//! a test decides when a provider runs, and nothing reaches the machine's own session.

use crate::harness::{run_command, wait_until, TestHome};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

pub const KEYRING_PASSWORD: &str = "test-keyring-pw";

pub struct SessionBus {
    bus: Child,
    keyring: Option<Child>,
    pub address: String,
    env: Vec<(String, std::ffi::OsString)>,
}

impl TestHome {
    /// Starts a session bus for this home and points `DBUS_SESSION_BUS_ADDRESS` at it.
    pub fn start_session_bus(&mut self) -> SessionBus {
        let socket = self.path(".test-bus/bus");
        self.start_session_bus_at(socket)
    }

    /// A session bus listening at `socket` (e.g. `$XDG_RUNTIME_DIR/bus`, where a desktop login
    /// puts it).
    pub fn start_session_bus_at(&mut self, socket: std::path::PathBuf) -> SessionBus {
        self.start_bus(socket, "")
    }

    /// A session bus that, like a desktop's, starts gnome-keyring-daemon when a client asks for
    /// `org.freedesktop.secrets` (the package's own activation file).
    pub fn start_activating_session_bus(&mut self) -> SessionBus {
        let services = std::path::Path::new("/usr/share/dbus-1/services");
        assert!(
            services.join("org.freedesktop.secrets.service").is_file(),
            "gnome-keyring's D-Bus activation file is missing"
        );
        let socket = self.path(".test-bus/bus");
        self.start_bus(
            socket,
            &format!("  <servicedir>{}</servicedir>\n", services.display()),
        )
    }

    /// A session bus that starts the services whose activation files are in `services`.
    pub fn start_session_bus_with_services(&mut self, services: &std::path::Path) -> SessionBus {
        let socket = self.path(".test-bus/bus");
        self.start_bus(
            socket,
            &format!("  <servicedir>{}</servicedir>\n", services.display()),
        )
    }

    fn start_bus(&mut self, socket: std::path::PathBuf, extra: &str) -> SessionBus {
        let dir = self.path(".test-bus");
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("session.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
{}  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket.display(),
                extra
            ),
        )
        .unwrap();
        let mut bus = self
            .program(
                "dbus-daemon",
                &[
                    &format!("--config-file={}", config.display()),
                    "--nofork",
                    "--print-address=1",
                ],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (package dbus)");
        let mut line = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_string();
        assert!(address.starts_with("unix:"), "dbus-daemon said {line:?}");
        self.set_env("DBUS_SESSION_BUS_ADDRESS", &address);
        SessionBus {
            bus,
            keyring: None,
            address,
            env: self.env_pairs(),
        }
    }

    /// A bus with an unlocked gnome-keyring (its `login` collection is the default).
    pub fn start_keyring(&mut self) -> SessionBus {
        let mut bus = self.start_session_bus();
        bus.start_provider(self, true);
        bus
    }

    /// The same, with the bus at `$XDG_RUNTIME_DIR/bus`.
    pub fn start_keyring_in_runtime_dir(&mut self) -> SessionBus {
        let socket = self.runtime_dir.join("bus");
        let mut bus = self.start_session_bus_at(socket);
        bus.start_provider(self, true);
        bus
    }
}

impl SessionBus {
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Starts (or replaces) gnome-keyring-daemon, unlocking with the password when `unlock`.
    pub fn start_provider(&mut self, home: &TestHome, unlock: bool) {
        let _ = home;
        let mut args = vec!["--foreground", "--components=secrets", "--replace"];
        if unlock {
            args.push("--unlock");
        }
        let mut child = self
            .command("gnome-keyring-daemon", &args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (package gnome-keyring)");
        let mut stdin = child.stdin.take().unwrap();
        if unlock {
            stdin.write_all(KEYRING_PASSWORD.as_bytes()).unwrap();
        }
        drop(stdin);
        if let Some(mut old) = self.keyring.replace(child) {
            let _ = old.wait();
        }
        let waited = run_command(self.command(
            "gdbus",
            &[
                "wait",
                "--session",
                "--timeout",
                "10",
                "org.freedesktop.secrets",
            ],
        ));
        assert_eq!(waited.code, 0, "the Secret Service did not appear");
    }

    /// Kills the provider and waits until the bus no longer lists it.
    pub fn kill_provider(&mut self) {
        if let Some(mut child) = self.keyring.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        wait_until("the Secret Service to leave the bus", || {
            let out = run_command(
                self.command("busctl", &["--user", "status", "org.freedesktop.secrets"]),
            );
            out.code != 0
        });
    }

    /// Stops (SIGSTOP) or resumes (SIGCONT) the provider: a hung keyring daemon.
    pub fn freeze_provider(&self, frozen: bool) {
        let child = self.keyring.as_ref().expect("a provider runs");
        let signal = if frozen {
            nix::sys::signal::Signal::SIGSTOP
        } else {
            nix::sys::signal::Signal::SIGCONT
        };
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
    }

    pub fn secret_tool(&self, args: &[&str], stdin: Option<&str>) -> i32 {
        let mut child = self
            .command("secret-tool", args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("secret-tool (package libsecret-tools)");
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        child.wait().unwrap().code().unwrap_or(-1)
    }

    /// `secret-tool store` of one item with these attributes (pairs).
    pub fn store_item(&self, attributes: &[&str], secret: &str) {
        let mut args = vec!["store", "--label=test item"];
        args.extend_from_slice(attributes);
        assert_eq!(
            self.secret_tool(&args, Some(secret)),
            0,
            "secret-tool store"
        );
    }

    pub fn clear_item(&self, attributes: &[&str]) {
        let mut args = vec!["clear"];
        args.extend_from_slice(attributes);
        assert_eq!(self.secret_tool(&args, None), 0, "secret-tool clear");
    }

    pub fn busctl(&self, args: &[&str]) -> String {
        let mut full = vec!["--user"];
        full.extend_from_slice(args);
        let out = run_command(self.command("busctl", &full));
        assert_eq!(out.code, 0, "busctl {args:?}: {}", out.stderr);
        out.stdout
    }

    /// Locks the `login` collection (as a screen lock or `Lock` call does).
    pub fn lock_login(&self) {
        self.busctl(&[
            "call",
            "org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service",
            "Lock",
            "ao",
            "1",
            "/org/freedesktop/secrets/collection/login",
        ]);
    }

    /// Unlocks the `login` collection with its password, as the desktop's unlock dialog does
    /// (gnome-keyring's internal `UnlockWithMasterPassword`: no prompt, no restart).
    pub fn unlock_login(&self) {
        use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue, Value};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let connection = zbus::connection::Builder::address(self.address.as_str())
                .unwrap()
                .build()
                .await
                .unwrap();
            let reply = connection
                .call_method(
                    Some("org.freedesktop.secrets"),
                    "/org/freedesktop/secrets",
                    Some("org.freedesktop.Secret.Service"),
                    "OpenSession",
                    &("plain", Value::from("")),
                )
                .await
                .unwrap();
            let (_, session): (OwnedValue, OwnedObjectPath) = reply.body().deserialize().unwrap();
            let secret = (
                session,
                Vec::<u8>::new(),
                KEYRING_PASSWORD.as_bytes().to_vec(),
                "text/plain",
            );
            connection
                .call_method(
                    Some("org.freedesktop.secrets"),
                    "/org/freedesktop/secrets",
                    Some("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"),
                    "UnlockWithMasterPassword",
                    &(
                        ObjectPath::try_from("/org/freedesktop/secrets/collection/login").unwrap(),
                        secret,
                    ),
                )
                .await
                .expect("unlock the login collection");
        });
    }

    /// Writes `service`/`account` = `secret` with the `keyring` crate (keyring-core's Secret
    /// Service store), in a child process so the store finds this bus in its environment: a
    /// new item the first time, `Item.SetSecret` on the existing one after that.
    pub fn keyring_crate_write(&self, service: &str, account: &str, secret: &str) {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "--exact",
                "keyring::keyring_crate_writer",
                "--ignored",
                "--nocapture",
            ])
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env(
                "CW_TEST_KEYRING_WRITE",
                format!("{service}\n{account}\n{secret}"),
            );
        let out = run_command(command);
        assert_eq!(
            out.code, 0,
            "keyring crate writer: {}{}",
            out.stdout, out.stderr
        );
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        if let Some(mut child) = self.keyring.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}
