//! Reading a deadline from a value a tool wrote: epoch seconds or milliseconds (as numbers or
//! text), dates in the forms tools write, a JWT's `exp` claim (decoded, never verified: only
//! the date is read), or a certificate's `notAfter`. Used by every kind of store.
//!
//! Guarantees: an error names the field, never its value; a token is dropped after its date is
//! read.

use crate::define::config::{ExpirySpec, Reading};
use crate::support::secret::{Document, Secret};
use crate::support::timefmt::{EpochUnit, Timestamp};
use serde_json::Value;

pub(crate) struct Expiries {
    /// The earliest readable value, or the first problem when none is readable.
    pub(crate) earliest: Option<Result<Timestamp, String>>,
    /// Where the earliest was found, when its path has wildcards: the keys they matched (the
    /// registry of docker's `/auths/*/auth`), joined with `/`.
    pub(crate) earliest_in: Option<String>,
}

/// The expiries among all fields the specs reach. Unreadable values count only when nothing
/// readable is found (then the error names the field, never its value).
pub(crate) fn read_expiries(
    document: &Document,
    specs: &[ExpirySpec],
    unit: EpochUnit,
) -> Expiries {
    let mut found: Option<(Timestamp, Vec<String>)> = None;
    let mut problem: Option<String> = None;
    for spec in specs {
        for (keys, value) in spec.path.resolve_with_keys(document.root()) {
            match read_expiry(value, spec.reading, unit) {
                Ok(Some(at)) => {
                    if found.as_ref().is_none_or(|(earliest, _)| at < *earliest) {
                        found = Some((at, keys));
                    }
                }
                Ok(None) => {}
                Err(why) => {
                    problem.get_or_insert(format!("{} {why}", spec.path));
                }
            }
        }
    }
    match (found, problem) {
        (Some((at, keys)), _) => Expiries {
            earliest: Some(Ok(at)),
            earliest_in: (!keys.is_empty()).then(|| keys.join("/")),
        },
        (None, Some(why)) => Expiries {
            earliest: Some(Err(why)),
            earliest_in: None,
        },
        (None, None) => Expiries {
            earliest: None,
            earliest_in: None,
        },
    }
}

/// The expiration of an Amazon ECR authorization token kept as docker's `auth`: base64 of
/// `AWS:TOKEN`, TOKEN base64 of JSON whose `expiration` is epoch seconds. `None` for any other
/// login (a user's password, a token of another registry).
fn ecr_expiry(auth: &Secret) -> Option<Timestamp> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let pair = Secret::new(String::from_utf8(engine.decode(auth.expose().as_bytes()).ok()?).ok()?);
    let token = pair.expose().strip_prefix("AWS:")?;
    // The token is padded base64 of a small JSON document (about 2 KiB); larger is not one.
    if token.len() > 16 << 10 {
        return None;
    }
    let json = engine.decode(token.trim().as_bytes()).ok()?;
    let claims: Value = serde_json::from_slice(&json).ok()?;
    let expiration = claims.get("expiration")?.as_f64()?;
    Timestamp::from_epoch_number(expiration, EpochUnit::Seconds)
}

pub(crate) fn read_expiry(
    value: &Value,
    reading: Reading,
    unit: EpochUnit,
) -> Result<Option<Timestamp>, String> {
    let text = value.as_str().map(str::trim).filter(|s| !s.is_empty());
    match reading {
        Reading::Jwt => {
            return match (value, text) {
                (Value::Null, _) | (Value::String(_), None) => Ok(None),
                (Value::String(_), Some(token)) => jwt_expiry(&Secret::new(token)).map(Some),
                _ => Err("is not a JWT".into()),
            }
        }
        // Not a JWT at all: an opaque token, with no expiry to read.
        Reading::MaybeJwt => {
            return match text.filter(|t| t.starts_with("eyJ") && t.matches('.').count() == 2) {
                Some(token) => jwt_expiry(&Secret::new(token)).map(Some),
                None => Ok(None),
            }
        }
        Reading::X509 => {
            return match text {
                None => Ok(None),
                Some(data) => certificate_expiry(data).map(Some),
            }
        }
        Reading::MaybeEcr => return Ok(text.and_then(|auth| ecr_expiry(&Secret::new(auth)))),
        Reading::Date => {}
    }
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_f64()
            .and_then(|n| Timestamp::from_epoch_number(n, unit))
            .map(Some)
            .ok_or_else(|| "is not a usable epoch number".into()),
        Value::String(s) => {
            let text = s.trim();
            if text.is_empty() {
                Ok(None)
            } else if let Ok(number) = text.parse::<f64>() {
                Timestamp::from_epoch_number(number, unit)
                    .map(Some)
                    .ok_or_else(|| "is not a usable epoch number".into())
            } else {
                Timestamp::parse_datetime(text)
                    .map(Some)
                    .ok_or_else(|| "is not a date and time this tool knows".into())
            }
        }
        _ => Err("is not a timestamp".into()),
    }
}

/// `notAfter` of a certificate given as PEM text, or as base64 of PEM or DER
/// (kubeconfig's `client-certificate-data`).
fn certificate_expiry(data: &str) -> Result<Timestamp, String> {
    use base64::Engine;
    let why = |w: String| format!("is not a certificate this tool can read ({w})");
    if data.starts_with("-----BEGIN") {
        return crate::tools::x509::not_after(data.as_bytes()).map_err(why);
    }
    let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| "is not a certificate (not PEM, not base64)".to_string())?;
    crate::tools::x509::not_after(&bytes).map_err(why)
}

/// The `exp` claim of a JWT (payload decoded without verifying the signature: only the date is read).
pub(crate) fn jwt_expiry(token: &Secret) -> Result<Timestamp, String> {
    use base64::Engine;
    let payload = token
        .expose()
        .split('.')
        .nth(1)
        .ok_or("is not a JWT (no payload)")?;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| "is not a JWT (payload is not base64url)")?;
    let claims: Value =
        serde_json::from_slice(&decoded).map_err(|_| "is not a JWT (payload is not JSON)")?;
    claims
        .get("exp")
        .and_then(Value::as_f64)
        .and_then(|exp| Timestamp::from_epoch_number(exp, EpochUnit::Seconds))
        .ok_or_else(|| "is a JWT without an exp claim".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_ecr_token_in_a_docker_auth_has_a_deadline() {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let read = |auth: &str| {
            read_expiry(
                &Value::String(auth.into()),
                Reading::MaybeEcr,
                EpochUnit::Auto,
            )
        };
        let token =
            b64(r#"{"payload":"p","version":"2","type":"DATA_KEY","expiration":1700000000}"#);
        assert_eq!(
            read(&b64(&format!("AWS:{token}"))),
            Ok(Some(Timestamp::from_secs(1_700_000_000)))
        );
        // A password, another user, no expiration, garbage, a huge token: no deadline, no error.
        for auth in [
            b64("me:hunter2"),
            b64(&format!("bob:{token}")),
            b64(&format!("AWS:{}", b64(r#"{"payload":"p"}"#))),
            "%%%not base64".to_string(),
            b64(&format!("AWS:{}", "A".repeat(20_000))),
            String::new(),
        ] {
            assert_eq!(read(&auth), Ok(None), "{auth:.40}");
        }
        assert_eq!(
            read_expiry(&Value::Null, Reading::MaybeEcr, EpochUnit::Auto),
            Ok(None)
        );
    }

    fn jwt(claims: &str) -> Secret {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        Secret::new(format!("{}.{}.sig", b64("{\"alg\":\"none\"}"), b64(claims)))
    }

    #[test]
    fn jwt_exp_is_read() {
        assert_eq!(
            jwt_expiry(&jwt("{\"exp\":1764057600}")).unwrap().rfc3339(),
            "2025-11-25T08:00:00Z"
        );
        assert!(jwt_expiry(&jwt("{\"sub\":\"x\"}"))
            .unwrap_err()
            .contains("without an exp"));
        assert!(jwt_expiry(&Secret::new("opaque-token"))
            .unwrap_err()
            .contains("not a JWT"));
        assert!(jwt_expiry(&Secret::new("a.%%%.c"))
            .unwrap_err()
            .contains("base64url"));
    }

    #[test]
    fn expiry_values_in_every_form() {
        let read =
            |v: Value| read_expiry(&v, crate::define::config::Reading::Date, EpochUnit::Auto);
        let at = Some(Timestamp::from_secs(1_764_057_600));
        assert_eq!(read(serde_json::json!(1_764_057_600)), Ok(at));
        assert_eq!(read(serde_json::json!(1_764_057_600_000i64)), Ok(at));
        assert_eq!(read(serde_json::json!("1764057600")), Ok(at));
        assert_eq!(read(serde_json::json!("2025-11-25T08:00:00UTC")), Ok(at));
        assert_eq!(read(serde_json::json!(null)), Ok(None));
        assert_eq!(read(serde_json::json!("")), Ok(None));
        assert!(read(serde_json::json!("soon")).is_err());
        assert!(read(serde_json::json!({"a": 1})).is_err());
    }
}
