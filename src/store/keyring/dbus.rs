//! The Secret Service over D-Bus, on one client stack (zbus): the bus, the provider, collections
//! (`Locked`), the items a definition expects (`SearchItems`), their `Modified` time, and, only
//! when a definition takes its deadline from the secret, the secret itself (`GetSecret` in a
//! `plain` session: the session bus is the user's own, as `unlock` uses it).
//!
//! Guarantees: no call can prompt (nothing calls `Unlock`, and a locked item's secret is never
//! asked for); every call is bounded by [`CALL_TIMEOUT`]; nothing blocks the event loop.

use super::{
    collection_of, secret_deadline, session_bus_address, FoundItem, ItemLookup, KeyringObservation,
    KeyringPlan, Reach, WantedItem, SECRET_SERVICE,
};
use crate::support::timefmt::Timestamp;
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;
use zbus::proxy;
use zbus::zvariant::OwnedObjectPath;

/// The longest any one D-Bus call may take before the result is "timed out".
pub const CALL_TIMEOUT: Duration = Duration::from_secs(2);

#[proxy(
    interface = "org.freedesktop.Secret.Service",
    default_service = "org.freedesktop.secrets",
    default_path = "/org/freedesktop/secrets",
    gen_blocking = false
)]
trait SecretService {
    /// (unlocked, locked) item paths; never prompts.
    fn search_items(
        &self,
        attributes: HashMap<&str, &str>,
    ) -> zbus::Result<(Vec<OwnedObjectPath>, Vec<OwnedObjectPath>)>;
    /// `/` when there is no such alias.
    fn read_alias(&self, name: &str) -> zbus::Result<OwnedObjectPath>;
    /// A session for reading secrets: ("plain", "") gives them unencrypted.
    fn open_session(
        &self,
        algorithm: &str,
        input: &zbus::zvariant::Value<'_>,
    ) -> zbus::Result<(zbus::zvariant::OwnedValue, OwnedObjectPath)>;
}

#[proxy(
    interface = "org.freedesktop.Secret.Collection",
    default_service = "org.freedesktop.secrets",
    gen_blocking = false
)]
trait Collection {
    #[zbus(property)]
    fn locked(&self) -> zbus::Result<bool>;
}

#[proxy(
    interface = "org.freedesktop.Secret.Item",
    default_service = "org.freedesktop.secrets",
    gen_blocking = false
)]
trait Item {
    #[zbus(property)]
    fn modified(&self) -> zbus::Result<u64>;
    #[zbus(property)]
    fn locked(&self) -> zbus::Result<bool>;
    /// (session, parameters, value, content type).
    fn get_secret(
        &self,
        session: &zbus::zvariant::ObjectPath<'_>,
    ) -> zbus::Result<(OwnedObjectPath, Vec<u8>, Vec<u8>, String)>;
}

enum CallError {
    TimedOut,
    Failed(String),
}

async fn bounded<T, E: std::fmt::Display>(
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, CallError> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Err(_) => Err(CallError::TimedOut),
        Ok(Err(error)) => Err(CallError::Failed(error.to_string())),
        Ok(Ok(value)) => Ok(value),
    }
}

fn reach_error(step: &'static str, error: CallError) -> Reach {
    match error {
        CallError::TimedOut => Reach::TimedOut { step },
        CallError::Failed(error) => Reach::Failed { step, error },
    }
}

/// Connects to the session bus, or says why not ([`Reach::NoBus`] without trying when there is
/// no address at all).
pub async fn connect() -> Result<zbus::Connection, Reach> {
    let address = session_bus_address().map_err(|detail| Reach::NoBus { detail })?;
    let failed = |error: String| Reach::BusFailed {
        address: address.clone(),
        error,
    };
    let builder = zbus::connection::Builder::address(address.as_str())
        .map_err(|e| failed(e.to_string()))?
        // Longer than ours, so a hung provider is reported by our timeout, as "timed out".
        .method_timeout(CALL_TIMEOUT * 2);
    match bounded(builder.build()).await {
        Ok(connection) => Ok(connection),
        Err(CallError::TimedOut) => Err(failed("no answer within 2 s".into())),
        Err(CallError::Failed(error)) => Err(failed(error)),
    }
}

/// Where calls to the Secret Service go.
enum Provider {
    /// The running provider's unique bus name (`:1.42`). A call to a unique name can never make
    /// the bus start a service: the daemon only ever calls this.
    Running(zbus::names::OwnedUniqueName),
    /// None runs, but the bus can start one: calls go to the well-known name, which starts it.
    Startable,
}

impl Provider {
    fn destination(&self) -> zbus::names::BusName<'static> {
        match self {
            Provider::Running(owner) => {
                zbus::names::BusName::try_from(owner.to_string()).expect("a unique name")
            }
            Provider::Startable => {
                zbus::names::BusName::from_static_str(SECRET_SERVICE).expect("a valid bus name")
            }
        }
    }
}

/// Who answers for the Secret Service on the bus. With `may_start` false (the daemon), a
/// provider the bus could start but that does not run is [`Reach::NotRunning`]: starting one
/// from the daemon raced `gnome-keyring-daemon --replace --unlock` (the bus started a locked
/// keyring daemon, which took the name before the unlocked one).
async fn provider(connection: &zbus::Connection, may_start: bool) -> Result<Provider, Reach> {
    let bus = bounded(zbus::fdo::DBusProxy::new(connection))
        .await
        .map_err(|e| reach_error("asking the bus for the Secret Service", e))?;
    let name = zbus::names::BusName::try_from(SECRET_SERVICE).expect("a valid bus name");
    match tokio::time::timeout(CALL_TIMEOUT, bus.get_name_owner(name)).await {
        Err(_) => {
            return Err(Reach::TimedOut {
                step: "asking the bus for the Secret Service",
            })
        }
        Ok(Ok(owner)) => return Ok(Provider::Running(owner)),
        Ok(Err(zbus::fdo::Error::NameHasNoOwner(_))) => {}
        Ok(Err(error)) => {
            return Err(Reach::Failed {
                step: "asking the bus for the Secret Service",
                error: error.to_string(),
            })
        }
    }
    let activatable = bounded(bus.list_activatable_names())
        .await
        .map_err(|e| reach_error("asking the bus for the Secret Service", e))?;
    match (
        activatable.iter().any(|n| n.as_str() == SECRET_SERVICE),
        may_start,
    ) {
        (true, true) => Ok(Provider::Startable),
        (true, false) => Err(Reach::NotRunning),
        (false, _) => Err(Reach::NoProvider),
    }
}

/// Looks up every item of `plan`, on `connection` when given (the daemon keeps one), else on a
/// new connection. `may_start`: the bus may start a Secret Service that does not run (a
/// command the user runs may; the daemon never does).
pub async fn fetch(
    connection: Option<&zbus::Connection>,
    plan: &KeyringPlan,
    may_start: bool,
) -> KeyringObservation {
    let owned;
    let connection = match connection {
        Some(c) => c,
        None => match connect().await {
            Ok(c) => {
                owned = c;
                &owned
            }
            Err(reach) => return unreachable_with(reach),
        },
    };
    match lookup(connection, plan, may_start).await {
        Ok(items) => items,
        Err(reach) => unreachable_with(reach),
    }
}

fn unreachable_with(reach: Reach) -> KeyringObservation {
    KeyringObservation {
        reach,
        items: Vec::new(),
    }
}

async fn lookup(
    connection: &zbus::Connection,
    plan: &KeyringPlan,
    may_start: bool,
) -> Result<KeyringObservation, Reach> {
    let provider = provider(connection, may_start).await?;
    let destination = provider.destination();
    let service = SecretServiceProxy::builder(connection)
        .destination(destination.clone())
        .map_err(|e| {
            reach_error(
                "opening the Secret Service",
                CallError::Failed(e.to_string()),
            )
        })?;
    let service = bounded(service.build())
        .await
        .map_err(|e| reach_error("opening the Secret Service", e))?;
    let default = bounded(service.read_alias("default"))
        .await
        .map_err(|e| reach_error("reading the default collection", e))?;
    if default.as_str() == "/" {
        return Err(Reach::NoDefaultCollection);
    }
    let default_name = collection_of(default.as_str());
    let builder = CollectionProxy::builder(connection)
        .destination(destination.clone())
        .map_err(|e| {
            reach_error(
                "opening the default collection",
                CallError::Failed(e.to_string()),
            )
        })?
        .path(default.clone())
        .map_err(|e| {
            reach_error(
                "opening the default collection",
                CallError::Failed(e.to_string()),
            )
        })?
        .cache_properties(zbus::proxy::CacheProperties::No);
    let collection = bounded(builder.build())
        .await
        .map_err(|e| reach_error("opening the default collection", e))?;
    if bounded(collection.locked())
        .await
        .map_err(|e| reach_error("reading whether the collection is locked", e))?
    {
        return Err(Reach::Locked {
            collection: default_name,
        });
    }
    let session_alias = bounded(service.read_alias("session"))
        .await
        .ok()
        .filter(|p| p.as_str() != "/");
    let mut items = Vec::new();
    for wanted in &plan.items {
        let found = find_items(
            connection,
            &destination,
            &service,
            wanted,
            plan,
            session_alias.as_ref(),
        )
        .await?;
        items.push(ItemLookup {
            wanted: wanted.clone(),
            found,
        });
    }
    Ok(KeyringObservation {
        reach: Reach::Reachable {
            default_collection: default_name,
        },
        items,
    })
}

async fn find_items(
    connection: &zbus::Connection,
    destination: &zbus::names::BusName<'static>,
    service: &SecretServiceProxy<'_>,
    wanted: &WantedItem,
    plan: &KeyringPlan,
    session_alias: Option<&OwnedObjectPath>,
) -> Result<Vec<FoundItem>, Reach> {
    let attributes: HashMap<&str, &str> = wanted
        .attributes
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (unlocked, locked) = bounded(service.search_items(attributes))
        .await
        .map_err(|e| reach_error("searching the keyring", e))?;
    let mut found = Vec::new();
    for path in &locked {
        found.push(describe_item(connection, destination, path, true, session_alias).await);
    }
    // A locked match is what is reported (its secret cannot be read without a prompt).
    if unlocked.is_empty() || !locked.is_empty() {
        return Ok(found);
    }
    let mut session = None;
    let mut result = Ok(());
    for path in &unlocked {
        let mut item = describe_item(connection, destination, path, false, session_alias).await;
        if let Some(how) = &plan.expires {
            match secret_of(connection, destination, service, path, &mut session).await {
                Ok(secret) => {
                    item.expires = match secret_deadline(secret, how) {
                        Ok(None) => None,
                        Ok(Some(at)) => Some(Ok(at)),
                        Err(why) => Some(Err(why)),
                    }
                }
                Err(SecretError::Unreadable(why)) => item.expires = Some(Err(why)),
                Err(SecretError::Unreachable(reach)) => {
                    result = Err(reach);
                    break;
                }
            }
        }
        found.push(item);
    }
    if let Some(session) = session {
        close_session(connection, destination, session).await;
    }
    result.map(|()| found)
}

enum SecretError {
    /// This item's secret could not be read (said as the deadline's error).
    Unreadable(String),
    /// The provider did not answer: the lookup as a whole is undetermined.
    Unreachable(Reach),
}

/// The secret of the unlocked item at `path`, read in a `plain` session opened on first use.
async fn secret_of(
    connection: &zbus::Connection,
    destination: &zbus::names::BusName<'static>,
    service: &SecretServiceProxy<'_>,
    path: &OwnedObjectPath,
    session: &mut Option<OwnedObjectPath>,
) -> Result<crate::support::secret::Secret, SecretError> {
    let step = "reading the secret";
    let unreadable = |error: CallError| match error {
        CallError::TimedOut => SecretError::Unreachable(Reach::TimedOut { step }),
        CallError::Failed(error) => {
            SecretError::Unreadable(format!("cannot read the secret: {error}"))
        }
    };
    if session.is_none() {
        let (_, opened) = bounded(service.open_session("plain", &zbus::zvariant::Value::from("")))
            .await
            .map_err(unreadable)?;
        *session = Some(opened);
    }
    let session = session.as_ref().expect("opened above");
    let item = ItemProxy::builder(connection)
        .destination(destination.clone())
        .and_then(|b| b.path(path.clone()))
        .map(|b| b.cache_properties(zbus::proxy::CacheProperties::No))
        .map_err(|e| unreadable(CallError::Failed(e.to_string())))?;
    let item = bounded(item.build()).await.map_err(unreadable)?;
    let (_, _, value, _) = bounded(item.get_secret(session))
        .await
        .map_err(unreadable)?;
    let secret = crate::support::secret::Secret::new(String::from_utf8_lossy(&value));
    drop(value);
    Ok(secret)
}

/// Closes a session opened for reading secrets (the provider drops it with the connection
/// anyway: an error is not worth a word).
async fn close_session(
    connection: &zbus::Connection,
    destination: &zbus::names::BusName<'static>,
    session: OwnedObjectPath,
) {
    let _ = bounded(connection.call_method(
        Some(destination.clone()),
        session.as_str(),
        Some("org.freedesktop.Secret.Session"),
        "Close",
        &(),
    ))
    .await;
}

async fn describe_item(
    connection: &zbus::Connection,
    destination: &zbus::names::BusName<'static>,
    path: &OwnedObjectPath,
    locked: bool,
    session_alias: Option<&OwnedObjectPath>,
) -> FoundItem {
    let collection = collection_of(path.as_str());
    let in_session = collection == "session"
        || session_alias
            .is_some_and(|alias| path.as_str().starts_with(&format!("{}/", alias.as_str())));
    let modified = match ItemProxy::builder(connection)
        .destination(destination.clone())
        .and_then(|b| b.path(path.clone()))
        .map(|b| b.cache_properties(zbus::proxy::CacheProperties::No))
    {
        Ok(builder) => match bounded(builder.build()).await {
            Ok(item) => bounded(item.modified()).await.ok().and_then(|s| {
                Timestamp::from_epoch_number(s as f64, crate::support::timefmt::EpochUnit::Seconds)
            }),
            Err(_) => None,
        },
        Err(_) => None,
    };
    FoundItem {
        path: path.to_string(),
        collection,
        persistent: !in_session,
        locked,
        modified,
        expires: None,
    }
}

/// For callers without a runtime (`status`, `prompt`, `verify`, `login`, `doctor`): one small
/// runtime for one lookup. It never makes the bus start a Secret Service (only `unlock` may): a
/// server with gnome-keyring installed but not running stays that way.
pub fn fetch_blocking(plan: &KeyringPlan) -> KeyringObservation {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => {
            let seen = runtime.block_on(fetch(None, plan, false));
            // A blocking lookup that timed out may still be stuck in the provider: do not wait
            // for it (dropping the runtime would).
            runtime.shutdown_background();
            seen
        }
        Err(error) => unreachable_with(Reach::Failed {
            step: "starting the D-Bus client",
            error: error.to_string(),
        }),
    }
}

/// The cheap poll: whether any found item's `Modified` time differs from what was seen (or can no
/// longer be read), without searching or touching secrets.
pub async fn modified_changed(connection: &zbus::Connection, seen: &KeyringObservation) -> bool {
    // Only a running provider is asked (never one the bus would start): none running is a change.
    let Ok(provider @ Provider::Running(_)) = provider(connection, false).await else {
        return true;
    };
    let destination = provider.destination();
    for item in seen.items.iter().flat_map(|l| &l.found) {
        let Ok(path) = OwnedObjectPath::try_from(item.path.as_str()) else {
            return true;
        };
        let Ok(builder) = ItemProxy::builder(connection)
            .destination(destination.clone())
            .and_then(|b| b.path(path))
            .map(|b| b.cache_properties(zbus::proxy::CacheProperties::No))
        else {
            return true;
        };
        let now = match bounded(builder.build()).await {
            Ok(proxy) => bounded(proxy.modified()).await.ok(),
            Err(_) => None,
        };
        let now = now.and_then(|s| {
            Timestamp::from_epoch_number(s as f64, crate::support::timefmt::EpochUnit::Seconds)
        });
        if now.is_none() || now != item.modified {
            return true;
        }
    }
    false
}

/// Why [`unlock`] did not unlock the keyring.
#[derive(Debug, thiserror::Error)]
pub enum UnlockError {
    #[error("{}", reach_words(.0))]
    Unreachable(Reach),
    #[error("the password was not accepted: the keyring stays locked")]
    Denied,
    #[error("this Secret Service cannot be unlocked with a password from here (it is not gnome-keyring): unlock it in its own application (KeePassXC: unlock the database)")]
    NotGnomeKeyring,
    #[error("the keyring did not unlock: {0}")]
    Failed(String),
}

fn reach_words(reach: &Reach) -> String {
    match reach {
        Reach::NoBus { detail } => format!("there is no D-Bus session bus ({detail})"),
        Reach::BusFailed { address, error } => format!("cannot connect to {address}: {error}"),
        Reach::NoProvider => "the session bus has no Secret Service".into(),
        Reach::NotRunning => "no Secret Service runs".into(),
        Reach::NoDefaultCollection => "the Secret Service has no default keyring".into(),
        Reach::TimedOut { step } => format!("the keyring did not answer within 2 s ({step})"),
        Reach::Failed { step, error } => format!("{step}: {error}"),
        Reach::Locked { collection }
        | Reach::Reachable {
            default_collection: collection,
        } => {
            format!("the keyring \"{collection}\"")
        }
    }
}

/// Unlocks the default collection with its password, in place: on one connection, a plain
/// session and gnome-keyring's `UnlockWithMasterPassword` (what its unlock dialog does). Nothing
/// is restarted, no prompt or display is needed, and no bus name changes hands (restarting the
/// keyring daemon with `--replace --unlock` leaves a moment with no owner, in which any client
/// can make the bus start a locked one). Returns the collection's name. The bus may start the
/// Secret Service for this (the user asked for it).
pub fn unlock(password: crate::support::secret::Secret) -> Result<String, UnlockError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| UnlockError::Failed(e.to_string()))?;
    let result = runtime.block_on(unlock_async(password));
    runtime.shutdown_background();
    result
}

async fn unlock_async(password: crate::support::secret::Secret) -> Result<String, UnlockError> {
    use zbus::zvariant::{OwnedValue, Value};
    let connection = connect().await.map_err(UnlockError::Unreachable)?;
    let provider = provider(&connection, true)
        .await
        .map_err(UnlockError::Unreachable)?;
    let destination = provider.destination();
    let service = SecretServiceProxy::builder(&connection)
        .destination(destination.clone())
        .map_err(|e| UnlockError::Failed(e.to_string()))?;
    let service = bounded(service.build())
        .await
        .map_err(|e| UnlockError::Unreachable(reach_error("opening the Secret Service", e)))?;
    let default = bounded(service.read_alias("default"))
        .await
        .map_err(|e| UnlockError::Unreachable(reach_error("reading the default collection", e)))?;
    if default.as_str() == "/" {
        return Err(UnlockError::Unreachable(Reach::NoDefaultCollection));
    }
    let name = collection_of(default.as_str());
    let locked = || async {
        let collection = CollectionProxy::builder(&connection)
            .destination(destination.clone())
            .and_then(|b| b.path(default.clone()))
            .map(|b| b.cache_properties(zbus::proxy::CacheProperties::No))
            .map_err(|e| UnlockError::Failed(e.to_string()))?;
        let collection = bounded(collection.build())
            .await
            .map_err(|e| UnlockError::Unreachable(reach_error("opening the collection", e)))?;
        bounded(collection.locked())
            .await
            .map_err(|e| UnlockError::Unreachable(reach_error("reading whether it is locked", e)))
    };
    if !locked().await? {
        return Ok(name);
    }
    let call = |interface: &'static str, method: &'static str| {
        (
            destination.clone(),
            "/org/freedesktop/secrets",
            interface,
            method,
        )
    };
    let (dest, path, interface, method) = call("org.freedesktop.Secret.Service", "OpenSession");
    let reply = bounded(connection.call_method(
        Some(dest),
        path,
        Some(interface),
        method,
        &("plain", Value::from("")),
    ))
    .await
    .map_err(|e| UnlockError::Unreachable(reach_error("opening a session", e)))?;
    let (_, session): (OwnedValue, OwnedObjectPath) = reply
        .body()
        .deserialize()
        .map_err(|e| UnlockError::Failed(e.to_string()))?;
    let secret = (
        session,
        Vec::<u8>::new(),
        password.expose().as_bytes().to_vec(),
        "text/plain",
    );
    drop(password);
    let (dest, path, interface, method) = call(
        "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
        "UnlockWithMasterPassword",
    );
    let answer = tokio::time::timeout(
        CALL_TIMEOUT * 5,
        connection.call_method(
            Some(dest),
            path,
            Some(interface),
            method,
            &(&default, secret),
        ),
    )
    .await;
    match answer {
        Err(_) => {
            return Err(UnlockError::Unreachable(Reach::TimedOut {
                step: "unlocking",
            }))
        }
        Ok(Err(zbus::Error::MethodError(name, _, _)))
            if name.as_str() == "org.gnome.keyring.Error.Denied" =>
        {
            return Err(UnlockError::Denied)
        }
        Ok(Err(zbus::Error::MethodError(name, _, _)))
            if name
                .as_str()
                .starts_with("org.freedesktop.DBus.Error.Unknown") =>
        {
            return Err(UnlockError::NotGnomeKeyring)
        }
        Ok(Err(error)) => return Err(UnlockError::Failed(error.to_string())),
        Ok(Ok(_)) => {}
    }
    if locked().await? {
        return Err(UnlockError::Failed("it still says it is locked".into()));
    }
    Ok(name)
}
