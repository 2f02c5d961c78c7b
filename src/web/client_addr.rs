//! The client's address for rate limits and logs. Behind a load balancer or an Ingress the
//! TCP peer is the proxy, so every client would share one login limit; the address is then
//! taken from `X-Forwarded-For`, but only when the peer is a proxy the operator trusts
//! (`server.trusted_proxies`), reading from the right and skipping trusted hops, so a client
//! cannot choose its own address by sending the header itself.

use std::net::IpAddr;

use ipnet::IpNet;

/// Parses `server.trusted_proxies`: addresses or CIDR ranges separated by commas; an entry
/// that is neither is an error naming it.
pub fn parse_trusted(list: &str) -> anyhow::Result<Vec<IpNet>> {
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.parse::<IpNet>()
                .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| anyhow::anyhow!("server.trusted_proxies: {e:?} is not an IP address or CIDR range"))
        })
        .collect()
}

fn trusted(ip: &IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|n| n.contains(ip))
}

/// The client address: the peer, or, when the peer is a trusted proxy, the right-most address
/// of `X-Forwarded-For` (all its values, in order) that is not itself a trusted proxy.
pub fn client_ip(peer: Option<IpAddr>, forwarded_for: &[&str], proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted(&peer, proxies) {
        return Some(peer);
    }
    let hops: Vec<&str> = forwarded_for.iter().flat_map(|v| v.split(',')).map(str::trim).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // A malformed hop ends the trusted chain: the last good address is the client.
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        client = ip;
        if !trusted(&ip, proxies) {
            break;
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn the_header_counts_only_from_trusted_proxies() {
        let proxies = parse_trusted("10.0.0.0/8, 192.168.1.5").expect("parse");
        // No proxy configured, or the peer is not one: the header is ignored.
        assert_eq!(client_ip(ip("203.0.113.7"), &["1.2.3.4"], &[]), ip("203.0.113.7"));
        assert_eq!(client_ip(ip("203.0.113.7"), &["1.2.3.4"], &proxies), ip("203.0.113.7"));
        // Through the Ingress (10.1.2.3): the address it appended.
        assert_eq!(client_ip(ip("10.1.2.3"), &["198.51.100.9"], &proxies), ip("198.51.100.9"));
        // A client that sends its own header cannot pick its address: only the right-most
        // untrusted hop counts.
        assert_eq!(client_ip(ip("10.1.2.3"), &["6.6.6.6, 198.51.100.9"], &proxies), ip("198.51.100.9"));
        // Two proxies (a load balancer, then the Ingress), headers split over two lines.
        assert_eq!(client_ip(ip("10.1.2.3"), &["198.51.100.9", "192.168.1.5"], &proxies), ip("198.51.100.9"));
        // No header, or garbage: the proxy itself (never a made-up address).
        assert_eq!(client_ip(ip("10.1.2.3"), &[], &proxies), ip("10.1.2.3"));
        assert_eq!(client_ip(ip("10.1.2.3"), &["<script>"], &proxies), ip("10.1.2.3"));
        assert_eq!(client_ip(ip("10.1.2.3"), &["6.6.6.6, junk, 10.9.9.9"], &proxies), ip("10.9.9.9"));
        // IPv6.
        let v6 = parse_trusted("fd00::/8").expect("parse");
        assert_eq!(client_ip(ip("fd00::1"), &["2001:db8::5"], &v6), ip("2001:db8::5"));
        assert!(parse_trusted("10.0.0.0/33").is_err());
        assert_eq!(parse_trusted(" ").map(|v| v.len()).ok(), Some(0));
        assert!(parse_trusted("10.0.0.1, proxy.local").is_err());
    }
}
