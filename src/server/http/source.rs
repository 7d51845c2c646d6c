//! Who is calling, as far as the network can tell: the peer address, or — when the peer is one
//! of our own reverse proxies (`TRUSTED_PROXIES`) — the nearest address in `X-Forwarded-For` that
//! is not one of them. Per-source limits key on [`Source`]; an IPv6 caller is keyed by its /64,
//! the block one subscriber usually holds, so rotating addresses inside it buys nothing.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::server::state::AppState;

/// The proxies whose `X-Forwarded-For` we believe.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Arc<Vec<IpNet>>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR blocks (`10.0.0.0/8, ::1`).
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let nets = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("TRUSTED_PROXIES: {s:?} is not an IP address or CIDR block")
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies(Arc::new(nets)))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the peer, unless the peer is a trusted proxy, in which case the
    /// right-most `X-Forwarded-For` entry that is not a trusted proxy (entries to its left were
    /// written by the client and prove nothing).
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().parse::<IpAddr>())
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|ip| !self.trusts(*ip))
                .unwrap_or(peer),
        )
    }
}

/// The calling source, as a stable key for limits and logs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Source(pub String);

impl Source {
    /// The key of an address: IPv4 as is, IPv6 by its /64 (an IPv4-mapped address as IPv4).
    pub fn of(ip: Option<IpAddr>) -> Source {
        match ip.map(|ip| ip.to_canonical()) {
            Some(IpAddr::V4(v4)) => Source(v4.to_string()),
            Some(IpAddr::V6(v6)) => {
                let net = ipnet::Ipv6Net::new(v6, 64)
                    .map(|n| n.trunc().to_string())
                    .unwrap_or_else(|_| v6.to_string());
                Source(net)
            }
            None => Source("unknown".into()),
        }
    }
}

impl FromRequestParts<AppState> for Source {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(Source::of(
            state.config.trusted_proxies.client(peer, &parts.headers),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn forwarded(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(v).expect("header"));
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("ip"))
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let none = TrustedProxies::default();
        // A direct caller cannot pick its own source.
        assert_eq!(
            none.client(ip("203.0.113.9"), &forwarded("1.2.3.4")),
            ip("203.0.113.9")
        );
        let proxies = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").expect("parses");
        // Behind the proxy: the right-most entry the proxy did not write.
        assert_eq!(
            proxies.client(
                ip("10.1.1.1"),
                &forwarded("6.6.6.6, 198.51.100.7, 10.2.2.2")
            ),
            ip("198.51.100.7")
        );
        // No header, or garbage in it: the proxy itself.
        assert_eq!(
            proxies.client(ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
        assert_eq!(
            proxies.client(ip("127.0.0.1"), &forwarded("not-an-ip")),
            ip("127.0.0.1")
        );
        assert!(TrustedProxies::parse("10.0.0.0/8, nonsense").is_err());
    }

    #[test]
    fn ipv6_sources_are_keyed_by_their_64() {
        assert_eq!(
            Source::of(ip("2001:db8:1:2:aaaa::1")),
            Source::of(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            Source::of(ip("2001:db8:1:2::1")),
            Source::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(Source::of(ip("::ffff:192.0.2.1")).0, "192.0.2.1");
        assert_eq!(Source::of(None).0, "unknown");
    }
}
