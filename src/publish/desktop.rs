//! Desktop notifications: `org.freedesktop.Notifications.Notify` on the session bus, the
//! interface every desktop's notification server (and `notify-send`) speaks.
//!
//! Guarantees: every call is bounded (2 s); a notification for a credential replaces the last one
//! shown for it (its id), rather than stacking; the text is made inert line by line (no control
//! characters; `&`, `<`, `>` escaped for servers that read markup in bodies) and never holds a secret (it is built from verdicts, which never do); no bus, or no server on
//! it, is an error value, never a panic or a hang.

use std::collections::HashMap;
use std::time::Duration;
use zbus::zvariant::Value;

const SERVICE: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// How much a notification matters, as the specification's `urgency` hint says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Low = 0,
    Normal = 1,
    Critical = 2,
}

/// One notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub summary: String,
    pub body: String,
    pub urgency: Urgency,
}

/// The session bus, or why there is none to notify on, in words ("no session bus (…)").
pub async fn connect() -> Result<zbus::Connection, String> {
    crate::store::keyring::connect_session_bus()
        .await
        .map_err(|reach| reach.to_string())
}

/// The D-Bus errors that mean nothing provides the notification service on the bus.
/// (The `Spawn` errors: the bus tried to start one and could not, as on a server with a
/// notification daemon installed but no display.)
const NO_SERVER_ERRORS: [&str; 7] = [
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
    "org.freedesktop.DBus.Error.Spawn.ServiceNotFound",
    "org.freedesktop.DBus.Error.Spawn.ChildExited",
    "org.freedesktop.DBus.Error.Spawn.ChildSignaled",
    "org.freedesktop.DBus.Error.Spawn.ExecFailed",
    "org.freedesktop.DBus.Error.Spawn.Failed",
];

/// Why a `Notify` call failed, in words.
fn refused(error: &zbus::Error) -> String {
    match error {
        zbus::Error::MethodError(name, _, _) if NO_SERVER_ERRORS.contains(&name.as_str()) => {
            "no notification server runs on the session bus (nothing provides org.freedesktop.Notifications), as usual on a server or over SSH".into()
        }
        other => format!("the notification server refused: {other}"),
    }
}

/// Shows `notification`, replacing the one with id `replaces` (0: none); the id it now has.
pub async fn notify(
    connection: &zbus::Connection,
    replaces: u32,
    notification: &Notification,
) -> Result<u32, String> {
    let inert = |text: &str| {
        text.split('\n')
            .map(|line| {
                crate::support::output::inert(line)
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut hints: HashMap<&str, Value<'_>> = HashMap::new();
    hints.insert("urgency", Value::U8(notification.urgency as u8));
    hints.insert("desktop-entry", Value::from("credwatch"));
    let arguments = (
        "credwatch",
        replaces,
        "dialog-password",
        inert(&notification.summary),
        inert(&notification.body),
        Vec::<&str>::new(),
        hints,
        // Critical notifications stay until dismissed, as the specification intends.
        if notification.urgency == Urgency::Critical {
            0i32
        } else {
            -1i32
        },
    );
    let call = connection.call_method(Some(SERVICE), PATH, Some(SERVICE), "Notify", &arguments);
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Err(_) => Err("the notification server did not answer within 2 s".into()),
        Ok(Err(error)) => Err(refused(&error)),
        Ok(Ok(reply)) => reply
            .body()
            .deserialize::<u32>()
            .map_err(|e| format!("the notification server answered oddly: {e}")),
    }
}

/// Whether a notification server runs on the session bus (for `doctor`).
pub async fn server_running(connection: &zbus::Connection) -> Result<bool, String> {
    let call = connection.call_method(
        Some("org.freedesktop.DBus"),
        "/org/freedesktop/DBus",
        Some("org.freedesktop.DBus"),
        "NameHasOwner",
        &(SERVICE,),
    );
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Err(_) => Err("the session bus did not answer within 2 s".into()),
        Ok(Err(error)) => Err(error.to_string()),
        Ok(Ok(reply)) => reply
            .body()
            .deserialize::<bool>()
            .map_err(|e| e.to_string()),
    }
}
