//! The daemon's ear on the Secret Service: one session-bus connection, a match rule for every
//! signal under `/org/freedesktop/secrets` (ItemCreated/Changed/Deleted, collection Locked
//! changes, which arrive as PropertiesChanged) and `NameOwnerChanged` for the provider.
//!
//! Guarantees: reports only that something may have changed (the daemon then looks again), so a
//! missed or unknown signal costs nothing but a lookup; when the bus is absent or goes away it
//! retries with a backoff of 1 s doubling to [`MAX_BACKOFF`] (no busy loop), and with no bus
//! address at all it sleeps until `$XDG_RUNTIME_DIR/bus` appears (inotify: a daemon on a machine
//! without D-Bus never wakes up for it); the match rules live on the bus, so they keep working
//! when the provider restarts.

use super::connect;
use super::SECRET_SERVICE;
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub enum KeyringEvent {
    /// A connection to use for lookups and polls (replaces any earlier one).
    Connected(zbus::Connection),
    /// Something under the Secret Service changed, or its provider came or went.
    Changed(&'static str),
    /// The bus is gone or unreachable; lookups now say why.
    Lost,
}

/// Runs until the receiver is dropped.
pub async fn watch(events: UnboundedSender<KeyringEvent>) {
    let mut backoff = Duration::from_secs(1);
    let mut told_lost = false;
    loop {
        let connection = match connect().await {
            Ok(connection) => connection,
            Err(reach) => {
                if !told_lost {
                    tracing::warn!(%reach, "keyring: no usable session bus; waiting for one");
                    if events.send(KeyringEvent::Lost).is_err() {
                        return;
                    }
                    told_lost = true;
                }
                if matches!(reach, super::Reach::NoBus { .. }) {
                    // No address at all: only `$XDG_RUNTIME_DIR/bus` appearing can change that
                    // (a desktop login starts the user bus). Wait for it without waking up.
                    wait_for_bus_socket().await;
                } else {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                continue;
            }
        };
        let subscribed = subscribe(&connection).await;
        let (mut signals, mut owners) = match subscribed {
            Ok(streams) => streams,
            Err(error) => {
                tracing::warn!(%error, "keyring: cannot subscribe to Secret Service signals");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = Duration::from_secs(1);
        tracing::info!("keyring: watching the Secret Service");
        if events.send(KeyringEvent::Connected(connection)).is_err() {
            return;
        }
        loop {
            let event = tokio::select! {
                message = signals.next() => match message {
                    Some(Ok(_)) => KeyringEvent::Changed("signal"),
                    _ => break,
                },
                owner = owners.next() => match owner {
                    Some(_) => KeyringEvent::Changed("provider"),
                    None => break,
                },
            };
            if events.send(event).is_err() {
                return;
            }
        }
        tracing::info!("keyring: lost the session bus; reconnecting");
        if events.send(KeyringEvent::Lost).is_err() {
            return;
        }
        told_lost = true;
    }
}

type Signals = zbus::MessageStream;
type Owners = zbus::fdo::NameOwnerChangedStream;

async fn subscribe(connection: &zbus::Connection) -> zbus::Result<(Signals, Owners)> {
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .path_namespace("/org/freedesktop/secrets")?
        .build();
    let signals = zbus::MessageStream::for_match_rule(rule, connection, Some(256)).await?;
    let bus = zbus::fdo::DBusProxy::new(connection).await?;
    let owners = bus
        .receive_name_owner_changed_with_args(&[(0, SECRET_SERVICE)])
        .await?;
    Ok((signals, owners))
}

/// Returns once `$XDG_RUNTIME_DIR/bus` exists (inotify on the runtime dir: no polling). Without
/// `XDG_RUNTIME_DIR` nothing can bring a bus to this process: it never returns. When the dir
/// cannot be watched it falls back to checking every [`MAX_BACKOFF`].
async fn wait_for_bus_socket() {
    use crate::support::watch::{Batch, Mask, Watcher};
    let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) else {
        std::future::pending::<()>().await;
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let socket = dir.join("bus");
    let Ok(mut watcher) = Watcher::new() else {
        tokio::time::sleep(MAX_BACKOFF).await;
        return;
    };
    // Only entries that appear: the daemon's own writes in its runtime dir below wake nothing.
    if watcher
        .watch(&dir, Mask::IN_CREATE | Mask::IN_MOVED_TO)
        .is_err()
    {
        tokio::time::sleep(MAX_BACKOFF).await;
        return;
    }
    while !socket.exists() {
        match watcher.next_batch().await {
            Ok(Batch::Changes(_) | Batch::Overflow) => {}
            Err(_) => return,
        }
    }
}
