//! The HTTP client of every DrChrono call, and the check of the origin it
//! calls.
//!
//! Redirects are never followed: a followed redirect would carry the bearer
//! token (or, on the token endpoint, the client secret and refresh token)
//! to wherever the `Location` points. A 3xx is an error that names it
//! ([`DrChronoError::Redirected`]).

use std::{net::IpAddr, time::Duration};
use url::Url;

use super::DrChronoError;

/// The client the service's jobs and `connect` share. Each DrChrono request
/// sets its own timeout (`ClientSettings::timeout`); this one bounds the rest.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the HTTP client builds with static settings")
}

/// The error for a 3xx answer on `path`.
pub(super) fn redirected(status: u16, path: &str) -> DrChronoError {
    DrChronoError::Redirected { status, path: path.to_string() }
}

/// `Err` with one line naming `DRCHRONO_API_BASE` and the fix unless the
/// origin is `https`, or `http` on loopback (the sandbox, a local proxy):
/// over plain HTTP elsewhere the bearer token and patient data would cross
/// the network in the clear.
pub fn check_api_base(api_base: &str) -> Result<(), String> {
    let url = Url::parse(api_base)
        .map_err(|_| "DRCHRONO_API_BASE is not a URL; set it to an origin like https://drchrono.com".to_string())?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        scheme => Err(format!(
            "DRCHRONO_API_BASE uses {scheme}://; set it to an https:// origin such as https://drchrono.com \
             (plain http is allowed only on loopback: 127.0.0.1, ::1, localhost)"
        )),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::check_api_base;

    #[test]
    fn https_anywhere_and_http_only_on_loopback() {
        for ok in [
            "https://drchrono.com",
            "http://127.0.0.1:8080",
            "http://127.3.4.5",
            "http://[::1]:9",
            "http://localhost:1",
        ] {
            assert_eq!(check_api_base(ok), Ok(()), "{ok}");
        }
        for refused in ["http://drchrono.com", "http://10.0.0.1", "http://localhost.evil.com", "ftp://127.0.0.1"] {
            let err = check_api_base(refused).unwrap_err();
            assert!(err.starts_with("DRCHRONO_API_BASE") && err.contains("https://"), "{err}");
            assert_eq!(err.lines().count(), 1);
        }
        assert!(check_api_base("not a url").unwrap_err().starts_with("DRCHRONO_API_BASE"));
    }
}
