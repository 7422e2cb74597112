//! Listening sockets: every shard binds its own socket on each address with SO_REUSEPORT, so
//! the kernel spreads new connections over the shards without a shared accept queue.
#![allow(unsafe_code)]

use std::net::{IpAddr, SocketAddr};
use std::os::fd::{FromRawFd, OwnedFd};

/// Addresses from Redis's `bind` setting: `*` is every IPv4 address, `::*` every IPv6 one,
/// and a leading `-` makes an address optional (skipped when it cannot be bound).
pub fn parse_bind(bind: &[String], port: u16) -> Result<Vec<(SocketAddr, bool)>, String> {
    let mut out = Vec::new();
    for b in bind {
        let (optional, addr) = match b.strip_prefix('-') {
            Some(a) => (true, a),
            None => (false, b.as_str()),
        };
        let ip: IpAddr = match addr {
            "*" => IpAddr::from([0, 0, 0, 0]),
            "::*" => IpAddr::from([0u16; 8]),
            a => a.parse().map_err(|_| format!("Invalid bind address '{a}'"))?,
        };
        out.push((SocketAddr::new(ip, port), optional));
    }
    Ok(out)
}

fn check(ret: libc::c_int) -> std::io::Result<libc::c_int> {
    if ret < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A listening socket bound to `addr` with SO_REUSEPORT and SO_REUSEADDR.
pub fn bind_reuseport(addr: SocketAddr, backlog: i32) -> std::io::Result<OwnedFd> {
    let domain = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    // SAFETY: plain socket syscalls on a descriptor we own; sockaddr structs are fully
    // initialised and passed with their exact sizes.
    unsafe {
        let fd = check(libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0))?;
        let owned = OwnedFd::from_raw_fd(fd);
        let one: libc::c_int = 1;
        let sz = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        check(libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, &one as *const _ as *const libc::c_void, sz))?;
        check(libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, &one as *const _ as *const libc::c_void, sz))?;
        match addr {
            SocketAddr::V4(a) => {
                let mut sa: libc::sockaddr_in = std::mem::zeroed();
                sa.sin_family = libc::AF_INET as libc::sa_family_t;
                sa.sin_port = a.port().to_be();
                sa.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
                check(libc::bind(
                    fd,
                    &sa as *const _ as *const libc::sockaddr,
                    std::mem::size_of_val(&sa) as libc::socklen_t,
                ))?;
            }
            SocketAddr::V6(a) => {
                check(libc::setsockopt(
                    fd,
                    libc::IPPROTO_IPV6,
                    libc::IPV6_V6ONLY,
                    &one as *const _ as *const libc::c_void,
                    sz,
                ))?;
                let mut sa: libc::sockaddr_in6 = std::mem::zeroed();
                sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sa.sin6_port = a.port().to_be();
                sa.sin6_addr.s6_addr = a.ip().octets();
                check(libc::bind(
                    fd,
                    &sa as *const _ as *const libc::sockaddr,
                    std::mem::size_of_val(&sa) as libc::socklen_t,
                ))?;
            }
        }
        check(libc::listen(fd, backlog))?;
        Ok(owned)
    }
}

/// Local or peer address of a connected socket as "ip:port".
pub fn sock_addr(fd: i32, peer: bool) -> String {
    // SAFETY: storage is large enough for any address family; len is its size.
    unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let p = &mut ss as *mut _ as *mut libc::sockaddr;
        let r = if peer { libc::getpeername(fd, p, &mut len) } else { libc::getsockname(fd, p, &mut len) };
        if r < 0 {
            return "?:0".into();
        }
        match ss.ss_family as i32 {
            libc::AF_INET => {
                let a = &*(p as *const libc::sockaddr_in);
                let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                format!("{}:{}", ip, u16::from_be(a.sin_port))
            }
            libc::AF_INET6 => {
                let a = &*(p as *const libc::sockaddr_in6);
                let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
                format!("[{}]:{}", ip, u16::from_be(a.sin6_port))
            }
            _ => "?:0".into(),
        }
    }
}

pub fn set_nodelay(fd: i32) {
    let one: libc::c_int = 1;
    // SAFETY: setsockopt on a socket we own with a correctly sized int.
    unsafe {
        libc::setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, &one as *const _ as *const libc::c_void, 4);
    }
}
