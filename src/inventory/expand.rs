//! Lazy CIDR/range expansion in spread order, and the interval set that dedupes expansions.
//!
//! Order: the range is cut into 256-address blocks aligned like IPv4 /24s (IPv6 /120s).
//! Round `r` visits offset `r` of every block, blocks taken in bit-reversed index order.
//! So two consecutive targets never share a /24 once the range covers two full /24s, the
//! first targets of a /8 land in distinct /24s (and every /16), and a range inside one
//! /24 comes out in plain ascending order. State is a few integers whatever the size.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Addresses per block (a /24).
const BLOCK_BITS: u32 = 8;

/// Iterator over `first..=last` (addresses as integers) in spread order.
#[derive(Debug, Clone)]
pub(crate) struct Spread {
    v6: bool,
    first: u128,
    last: u128,
    first_block: u128,
    blocks: u128,
    /// Bits of the block index: `blocks <= 1 << bits`.
    bits: u32,
    /// `(1 << bits) - 1`: the block-index part of a slot number.
    mask: u128,
    slot: u128,
    slots: u128,
}

impl Spread {
    /// Empty when `first > last`; for IPv4 both must be `<= u32::MAX` (others are skipped).
    pub(crate) fn new(v6: bool, first: u128, last: u128) -> Spread {
        let first_block = first >> BLOCK_BITS;
        let (blocks, bits, slots) = if first > last {
            (0, 0, 0)
        } else {
            // At most 2^120 blocks, so bits <= 120 and 256 << bits fits in u128.
            let blocks = (last >> BLOCK_BITS) - first_block + 1;
            let bits = match blocks {
                0 | 1 => 0,
                n => u128::BITS - (n - 1).leading_zeros(),
            };
            let slots = 1u128.checked_shl(bits + BLOCK_BITS).unwrap_or(u128::MAX);
            (blocks, bits, slots)
        };
        Spread {
            v6,
            first,
            last,
            first_block,
            blocks,
            bits,
            mask: 1u128.checked_shl(bits).map_or(u128::MAX, |v| v - 1),
            slot: 0,
            slots,
        }
    }
}

impl Iterator for Spread {
    type Item = IpAddr;

    fn next(&mut self) -> Option<IpAddr> {
        // Skipped slots (block index past the end, partial first/last block) are bounded:
        // of two consecutive block indices one is even, and even indices reverse to the
        // lower half, which always exists.
        while self.slot < self.slots {
            let s = self.slot;
            self.slot += 1;
            let round = s >> self.bits;
            let index = s & self.mask;
            let block = reverse(index, self.bits);
            if block >= self.blocks {
                continue;
            }
            let Some(addr) = self
                .first_block
                .checked_add(block)
                .and_then(|b| b.checked_shl(BLOCK_BITS))
                .map(|b| b | round)
            else {
                continue;
            };
            if addr < self.first || addr > self.last {
                continue;
            }
            if self.v6 {
                return Some(IpAddr::V6(Ipv6Addr::from(addr)));
            }
            if let Ok(v4) = u32::try_from(addr) {
                return Some(IpAddr::V4(Ipv4Addr::from(v4)));
            }
        }
        None
    }
}

/// The low `bits` bits of `x`, reversed.
fn reverse(x: u128, bits: u32) -> u128 {
    if bits == 0 {
        0
    } else {
        x.reverse_bits() >> (u128::BITS - bits)
    }
}

/// Address intervals already yielded, per (family, port): one entry per finished CIDR or
/// range (merged), not one per address.
#[derive(Debug, Default)]
pub(crate) struct Covered {
    map: HashMap<(bool, u16), BTreeMap<u128, u128>>,
}

impl Covered {
    pub(crate) fn contains(&self, v6: bool, port: u16, addr: u128) -> bool {
        self.map
            .get(&(v6, port))
            .and_then(|m| m.range(..=addr).next_back())
            .is_some_and(|(_, &end)| end >= addr)
    }

    /// Adds `start..=end`, merging with overlapping or adjacent intervals so that a
    /// lookup needs only the nearest interval below.
    pub(crate) fn insert(&mut self, v6: bool, port: u16, start: u128, end: u128) {
        if start > end {
            return;
        }
        let m = self.map.entry((v6, port)).or_default();
        let (mut s, mut e) = (start, end);
        if let Some((&ps, &pe)) = m.range(..=s).next_back()
            && pe.saturating_add(1) >= s
        {
            s = ps;
            e = e.max(pe);
        }
        while let Some((&ns, &ne)) = m.range(s..).next() {
            if ns > e.saturating_add(1) {
                break;
            }
            m.remove(&ns);
            e = e.max(ne);
        }
        m.insert(s, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn v4(s: &str) -> u128 {
        u128::from(u32::from(s.parse::<Ipv4Addr>().unwrap()))
    }
    fn slash24(ip: IpAddr) -> u32 {
        match ip {
            IpAddr::V4(a) => u32::from(a) >> 8,
            IpAddr::V6(_) => panic!("v4 expected"),
        }
    }

    #[test]
    fn single_block_is_ascending() {
        let got: Vec<IpAddr> = Spread::new(false, v4("10.1.2.10"), v4("10.1.2.13")).collect();
        let want: Vec<IpAddr> = ["10.1.2.10", "10.1.2.11", "10.1.2.12", "10.1.2.13"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn empty_and_single() {
        assert_eq!(Spread::new(false, 5, 4).count(), 0);
        assert_eq!(
            Spread::new(false, v4("10.0.0.1"), v4("10.0.0.1")).collect::<Vec<_>>(),
            vec!["10.0.0.1".parse::<IpAddr>().unwrap()]
        );
        // The very top of each address space.
        assert_eq!(
            Spread::new(false, u128::from(u32::MAX), u128::from(u32::MAX)).count(),
            1
        );
        assert_eq!(
            Spread::new(true, u128::MAX - 1, u128::MAX).collect::<Vec<_>>(),
            vec![
                IpAddr::V6(Ipv6Addr::from(u128::MAX - 1)),
                IpAddr::V6(Ipv6Addr::from(u128::MAX))
            ]
        );
    }

    /// Every address exactly once, for aligned and unaligned ranges of many sizes.
    #[test]
    fn bijective() {
        let cases = [
            ("10.0.0.0", "10.0.3.255"),
            ("10.0.0.1", "10.0.4.254"),
            ("10.0.0.250", "10.0.1.5"),
            ("10.0.0.7", "10.2.17.3"),
            ("10.0.0.0", "10.0.0.0"),
            ("10.0.0.255", "10.0.1.0"),
        ];
        for (a, b) in cases {
            let (first, last) = (v4(a), v4(b));
            let got: Vec<u128> = Spread::new(false, first, last)
                .map(|ip| match ip {
                    IpAddr::V4(x) => u128::from(u32::from(x)),
                    IpAddr::V6(_) => unreachable!(),
                })
                .collect();
            let set: HashSet<u128> = got.iter().copied().collect();
            assert_eq!(got.len() as u128, last - first + 1, "{a}-{b}");
            assert_eq!(set.len(), got.len(), "{a}-{b} repeats");
            assert!(set.iter().all(|&x| x >= first && x <= last), "{a}-{b}");
        }
    }

    /// With two or more full /24s in the range, consecutive addresses never share a /24.
    #[test]
    fn spread_property() {
        for (a, b) in [
            ("10.0.0.0", "10.0.1.255"),
            ("10.0.0.1", "10.0.255.254"),
            ("10.0.0.10", "10.0.6.20"),
            ("10.3.0.0", "10.3.4.255"),
        ] {
            let got: Vec<IpAddr> = Spread::new(false, v4(a), v4(b)).collect();
            for w in got.windows(2) {
                assert_ne!(
                    slash24(w[0]),
                    slash24(w[1]),
                    "{a}-{b}: {} then {}",
                    w[0],
                    w[1]
                );
            }
        }
    }

    #[test]
    fn big_range_is_lazy_and_spread() {
        // 10.0.0.0/8 without network and broadcast: 2^24 - 2 addresses, no allocation.
        let mut it = Spread::new(false, v4("10.0.0.1"), v4("10.255.255.254"));
        let first: Vec<IpAddr> = it.by_ref().take(1000).collect();
        let blocks: HashSet<u32> = first.iter().map(|&ip| slash24(ip)).collect();
        assert_eq!(blocks.len(), 1000);
        let b16: HashSet<u32> = first.iter().map(|&ip| slash24(ip) >> 8).collect();
        assert_eq!(b16.len(), 256);
        // 10.0.0.0 (network) is outside the range; then halves, then quarters of the /8.
        assert_eq!(first[0], "10.128.0.0".parse::<IpAddr>().unwrap());
        assert_eq!(first[1], "10.64.0.0".parse::<IpAddr>().unwrap());
        assert_eq!(first[2], "10.192.0.0".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn ipv6_expansion() {
        let base = u128::from("2001:db8::".parse::<Ipv6Addr>().unwrap());
        let got: Vec<IpAddr> = Spread::new(true, base, base + 511).collect();
        assert_eq!(got.len(), 512);
        assert_eq!(got[0], IpAddr::V6(Ipv6Addr::from(base)));
        assert_eq!(got[1], IpAddr::V6(Ipv6Addr::from(base + 256)));
        assert_eq!(got.iter().collect::<HashSet<_>>().len(), 512);
    }

    #[test]
    fn covered_merges() {
        let mut c = Covered::default();
        c.insert(false, 3389, 10, 20);
        c.insert(false, 3389, 30, 40);
        assert!(c.contains(false, 3389, 10));
        assert!(c.contains(false, 3389, 20));
        assert!(!c.contains(false, 3389, 21));
        assert!(!c.contains(false, 3389, 9));
        assert!(!c.contains(false, 3390, 15), "other port");
        assert!(!c.contains(true, 3389, 15), "other family");
        // Bridges both intervals and the gap.
        c.insert(false, 3389, 21, 29);
        assert_eq!(c.map[&(false, 3389)].len(), 1);
        assert!(c.contains(false, 3389, 25));
        assert!(c.contains(false, 3389, 40));
        // Overlapping from below, swallowing.
        c.insert(false, 3389, 0, 100);
        assert_eq!(c.map[&(false, 3389)].iter().next(), Some((&0, &100)));
        c.insert(false, 3389, 200, 300);
        c.insert(false, 3389, 150, 250);
        assert_eq!(
            c.map[&(false, 3389)]
                .iter()
                .map(|(a, b)| (*a, *b))
                .collect::<Vec<_>>(),
            vec![(0, 100), (150, 300)]
        );
        c.insert(true, 1, u128::MAX - 1, u128::MAX);
        c.insert(true, 1, 0, u128::MAX);
        assert!(c.contains(true, 1, 12345));
    }
}
