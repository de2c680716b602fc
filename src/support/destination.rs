//! Where a secret may travel: over HTTPS, or over plain HTTP to this machine only. Decided on the
//! parse the HTTP client itself connects with (`http::Uri`, ureq's), so no other reading of the
//! same text (user info, brackets, a port that is not one) can send a token somewhere else.

/// Why a URL may not carry a token, in words a config error can show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not a URL with a scheme and a host.
    NotAUrl,
    /// `user@host`: the text before `@` hides which host is asked.
    UserInfo,
    /// Plain HTTP to another machine: the token would travel in clear.
    Cleartext,
    /// Neither `https` nor `http`.
    Scheme,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refused::NotAUrl => "is not a URL with a host",
            Refused::UserInfo => "names a user before its host (user@host), which hides the host",
            Refused::Cleartext => "is not HTTPS: the token would travel in clear",
            Refused::Scheme => "is neither https:// nor http://",
        })
    }
}

/// Ok for an `https://` URL, and for an `http://` one whose host is this machine:
/// 127.0.0.0/8, `[::1]` or exactly `localhost`.
pub fn may_carry_a_token(url: &str) -> Result<(), Refused> {
    let uri: http::Uri = url.parse().map_err(|_| Refused::NotAUrl)?;
    let authority = uri.authority().ok_or(Refused::NotAUrl)?;
    if authority.as_str().contains('@') {
        return Err(Refused::UserInfo);
    }
    // After the host, a port or nothing: `[::1].evil.com` or `:80x` is no address to trust.
    let rest = &authority.as_str()[authority.host().len()..];
    let port_ok = match rest.strip_prefix(':') {
        Some(port) => port.is_empty() || port.parse::<u16>().is_ok(),
        None => rest.is_empty(),
    };
    if !port_ok {
        return Err(Refused::NotAUrl);
    }
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") => {
            let host = authority.host();
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            let local = host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if local {
                Ok(())
            } else {
                Err(Refused::Cleartext)
            }
        }
        _ => Err(Refused::Scheme),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_and_real_loopback_hosts_may_carry_a_token() {
        for ok in [
            "https://api.github.com/user",
            "http://127.0.0.1:8080/me",
            "http://localhost/x",
            "http://LOCALHOST:9/x",
            "http://[::1]:9/",
            "http://127.5.5.5",
        ] {
            assert_eq!(may_carry_a_token(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("http://localhost.evil.com/", Refused::Cleartext),
            ("http://127.0.0.1@evil.com/", Refused::UserInfo),
            ("https://api.github.com@evil.com/", Refused::UserInfo),
            ("http://127.1.2.3.nip.io/", Refused::Cleartext),
            ("http://example.com/", Refused::Cleartext),
            ("ftp://127.0.0.1/", Refused::Scheme),
            ("127.0.0.1/x", Refused::NotAUrl),
            ("", Refused::NotAUrl),
        ] {
            assert_eq!(may_carry_a_token(bad), Err(why), "{bad}");
        }
        // Whatever else these are, none may reach a host in clear.
        for bad in [
            "http://[::1].evil.com/",
            "http://127.0.0.1:80x/",
            "http://127.0.0.1\\@evil.com/",
            "http://127.0.0.1%2f@evil.com/",
            "http://127.0.0.1 @evil.com/",
            "http:/127.0.0.1/",
            "HTTP://evil.com/",
        ] {
            assert!(may_carry_a_token(bad).is_err(), "{bad}");
        }
    }
}
