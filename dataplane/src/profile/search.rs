//! The seven classes and the policy order they are searched in.

use core::fmt;
use core::net::IpAddr;
use core::str::FromStr;

use super::{Class, ClassTable, FlowKey, Profile, ProfileId, Step};
use crate::tables::TableError;

/// The order the classes are searched in; a class not listed is not searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    order: [Option<Class>; 7],
}

/// Why a policy order is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A class appears twice.
    #[error("profile class `{0}` appears twice in the policy order")]
    Repeated(&'static str),
    /// No class at all.
    #[error("the policy order is empty: list at least one profile class")]
    Empty,
    /// A name that is not a class.
    #[error("{0}")]
    Unknown(String),
}

impl Default for Policy {
    /// AAA-source → node-source → node-default-source → AAA-destination →
    /// node-destination → node-default-destination → node-default.
    fn default() -> Self {
        Policy {
            order: Class::ALL.map(Some),
        }
    }
}

impl Policy {
    /// A policy searching `classes` in that order.
    pub fn new(classes: &[Class]) -> Result<Policy, PolicyError> {
        if classes.is_empty() {
            return Err(PolicyError::Empty);
        }
        let mut order = [None; 7];
        for (i, c) in classes.iter().enumerate() {
            if classes.get(..i).is_some_and(|before| before.contains(c)) {
                return Err(PolicyError::Repeated(c.name()));
            }
            if let Some(slot) = order.get_mut(i) {
                *slot = Some(*c);
            }
        }
        Ok(Policy { order })
    }

    /// The classes, in search order.
    pub fn classes(&self) -> impl Iterator<Item = Class> + '_ {
        self.order.iter().map_while(|c| *c)
    }
}

impl FromStr for Policy {
    type Err = PolicyError;

    /// Class names separated by commas or `>`; e.g.
    /// `"node-destination, node-default"`.
    fn from_str(s: &str) -> Result<Policy, PolicyError> {
        let classes = s
            .split([',', '>'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| c.parse::<Class>().map_err(PolicyError::Unknown))
            .collect::<Result<Vec<_>, _>>()?;
        Policy::new(&classes)
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.classes().enumerate() {
            if i > 0 {
                f.write_str(" > ")?;
            }
            f.write_str(c.name())?;
        }
        Ok(())
    }
}

/// A search result: the class that answered and its profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The class.
    pub class: Class,
    /// The profile (a copy: an exact-address profile is put together from its entry and
    /// the body it shares with others).
    pub profile: Profile,
}

/// Every class of one worker and the policy.
#[derive(Debug)]
pub struct ProfileTables {
    classes: [ClassTable; 7],
    policy: Policy,
    /// The policy's classes that hold profiles, in its order: what a search visits (an
    /// empty class answers nothing, and most roles leave several empty).
    searched: Policy,
}

impl ProfileTables {
    /// Empty classes holding up to `limit` profiles each, searched in the default order.
    pub fn new(limit: usize) -> ProfileTables {
        ProfileTables {
            classes: Class::ALL.map(|c| ClassTable::new(c, limit)),
            policy: Policy::default(),
            searched: Policy { order: [None; 7] },
        }
    }

    /// Recomputes [`Self::searched`] after a change of the profiles or the policy.
    fn update_searched(&mut self) {
        let mut order = [None; 7];
        let mut n = 0;
        for class in self.policy.classes() {
            if !self.class(class).is_empty() {
                if let Some(slot) = order.get_mut(n) {
                    *slot = Some(class);
                    n += 1;
                }
            }
        }
        self.searched = Policy { order };
    }

    /// The first hit in policy order.
    #[inline]
    pub fn search(&self, key: &FlowKey) -> Option<Hit> {
        for class in self.searched.classes() {
            if let Some(profile) = self.class(class).lookup(key) {
                return Some(Hit { class, profile });
            }
        }
        None
    }

    /// The [`Step`] of [`Self::search`]'s hit: the same profile, copying out only what
    /// the rest of a packet's processing reads (the engine's search).
    #[inline]
    pub fn search_step(&self, key: &FlowKey) -> Option<Step> {
        for class in self.searched.classes() {
            if let Some(step) = self.class(class).lookup_step(key) {
                return Some(step);
            }
        }
        None
    }

    /// The class a search visits first: the policy's first class that holds profiles.
    #[inline]
    pub fn first_searched(&self) -> Option<Class> {
        self.searched.classes().next()
    }

    /// Starts loading what a search for a packet from `src` to `dst` would read in the
    /// exact-address indexes ([`ClassTable::prefetch`]).
    #[inline]
    pub fn prefetch(&self, src: IpAddr, dst: IpAddr) {
        for class in self.searched.classes() {
            self.class(class).prefetch(src, dst);
        }
    }

    /// One class.
    #[inline]
    pub fn class(&self, class: Class) -> &ClassTable {
        // The array is indexed by the class's discriminant, 0 to 6.
        &self.classes[class as usize]
    }

    /// Adds or replaces a profile in its class.
    pub fn insert(&mut self, profile: Profile) -> Result<(), TableError> {
        self.classes[profile.class as usize].insert(profile)?;
        self.update_searched();
        Ok(())
    }

    /// Removes a profile from a class; false when it was not there.
    pub fn remove(&mut self, class: Class, id: ProfileId) -> bool {
        let removed = self.classes[class as usize].remove(id);
        self.update_searched();
        removed
    }

    /// Sets the search order.
    pub fn set_policy(&mut self, policy: Policy) {
        self.policy = policy;
        self.update_searched();
    }

    /// The search order.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Profiles held over all classes.
    pub fn len(&self) -> usize {
        self.classes.iter().map(ClassTable::len).sum()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use core::net::IpAddr;

    use super::*;
    use crate::profile::{AddrMatch, Edit, Match, PortRange, TableRef};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn profile(class: Class, number: u32, src: &str, dst: &str, table: TableRef) -> Profile {
        Profile {
            id: ProfileId { session: 0, number },
            class,
            matches: Match {
                src: src.parse().unwrap(),
                dst: dst.parse().unwrap(),
                ..Match::ANY
            },
            edit: Edit::NONE,
            table,
        }
    }

    fn key(src: &str, dst: &str) -> FlowKey {
        FlowKey::new(ip(src), ip(dst), 17, Some(1000), Some(2000))
    }

    #[test]
    fn the_default_policy_puts_source_classes_first_and_node_default_last() {
        let mut t = ProfileTables::new(100);
        t.insert(profile(Class::NodeDefault, 1, "*", "*", TableRef::Routes))
            .unwrap();
        t.insert(profile(
            Class::NodeDestination,
            2,
            "*",
            "192.0.2.10",
            TableRef::Bindings,
        ))
        .unwrap();
        t.insert(profile(
            Class::AaaSource,
            3,
            "198.51.100.7",
            "*",
            TableRef::Anycast,
        ))
        .unwrap();
        let hit = t.search(&key("198.51.100.7", "192.0.2.10")).unwrap();
        assert_eq!((hit.class, hit.profile.id.number), (Class::AaaSource, 3));
        let hit = t.search(&key("198.51.100.8", "192.0.2.10")).unwrap();
        assert_eq!(hit.class, Class::NodeDestination);
        let hit = t.search(&key("198.51.100.8", "192.0.2.11")).unwrap();
        assert_eq!(hit.class, Class::NodeDefault);
        t.set_policy("node-destination > aaa-source".parse().unwrap());
        let hit = t.search(&key("198.51.100.7", "192.0.2.10")).unwrap();
        assert_eq!(hit.class, Class::NodeDestination);
        assert!(t.search(&key("198.51.100.8", "192.0.2.11")).is_none());
    }

    #[test]
    fn exact_beats_longer_prefix_beats_shorter_prefix_beats_any() {
        let mut t = ProfileTables::new(100);
        let c = Class::AaaDestination;
        t.insert(profile(c, 1, "*", "*", TableRef::Routes)).unwrap();
        t.insert(profile(c, 2, "*", "10.*.*.*", TableRef::Routes))
            .unwrap();
        t.insert(profile(c, 3, "*", "10.1.0.0/16", TableRef::Routes))
            .unwrap();
        t.insert(profile(c, 4, "*", "10.1.2.3", TableRef::Routes))
            .unwrap();
        let n = |t: &ProfileTables, dst: &str| {
            t.search(&key("192.0.2.1", dst)).unwrap().profile.id.number
        };
        assert_eq!(n(&t, "10.1.2.3"), 4);
        assert_eq!(n(&t, "10.1.2.4"), 3);
        assert_eq!(n(&t, "10.2.0.1"), 2);
        assert_eq!(n(&t, "11.0.0.1"), 1);
        assert_eq!(n(&t, "2001:db8::1"), 1);
        assert!(t.remove(
            c,
            ProfileId {
                session: 0,
                number: 3
            }
        ));
        assert_eq!(n(&t, "10.1.2.4"), 2);
    }

    #[test]
    fn a_prefix_whose_profiles_do_not_match_the_ports_falls_back_to_a_shorter_one() {
        let mut t = ProfileTables::new(100);
        let c = Class::NodeDestination;
        let mut voice = profile(c, 1, "*", "10.1.0.0/16", TableRef::Routes);
        voice.matches.dport = PortRange { lo: 5060, hi: 5061 };
        voice.edit.dscp = Some(46);
        t.insert(voice).unwrap();
        t.insert(profile(c, 2, "*", "10.0.0.0/8", TableRef::Routes))
            .unwrap();
        let mut k = key("192.0.2.1", "10.1.0.1");
        k = k.with_ports(k.sport(), Some(5060));
        assert_eq!(t.search(&k).unwrap().profile.edit.dscp, Some(46));
        k = k.with_ports(k.sport(), Some(80));
        assert_eq!(t.search(&k).unwrap().profile.id.number, 2);
    }

    #[test]
    fn within_one_address_the_lower_number_is_tried_first_and_ids_replace() {
        let mut t = ProfileTables::new(100);
        let c = Class::NodeSource;
        let mut udp = profile(c, 5, "198.51.100.7", "*", TableRef::Routes);
        udp.matches.proto = Some(17);
        t.insert(udp).unwrap();
        t.insert(profile(c, 9, "198.51.100.7", "*", TableRef::Bindings))
            .unwrap();
        let mut k = key("198.51.100.7", "192.0.2.1");
        assert_eq!(t.search(&k).unwrap().profile.id.number, 5);
        k = k.with_proto(6);
        assert_eq!(t.search(&k).unwrap().profile.id.number, 9);
        // Replacing profile 5 with a TCP-only one moves it, it does not duplicate it.
        udp.matches.proto = Some(6);
        t.insert(udp).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.search(&k).unwrap().profile.id.number, 5);
        k = k.with_proto(17);
        assert_eq!(t.search(&k).unwrap().profile.id.number, 9);
    }

    #[test]
    fn classes_refuse_foreign_invalid_and_excess_profiles() {
        let mut t = ClassTable::new(Class::NodeSource, 1);
        let p = profile(Class::NodeSource, 1, "10.0.0.1", "*", TableRef::Routes);
        assert_eq!(
            t.insert(Profile {
                class: Class::NodeDefault,
                ..p
            }),
            Err(TableError::Invalid)
        );
        t.insert(p).unwrap();
        let q = profile(Class::NodeSource, 2, "10.0.0.2", "*", TableRef::Routes);
        assert_eq!(t.insert(q), Err(TableError::Full));
        let mut r = p;
        r.edit = Edit {
            decapsulate: false,
            ..Edit::NONE
        };
        r.table = TableRef::Profiles;
        assert_eq!(t.insert(r), Err(TableError::Invalid));
    }

    #[test]
    fn thousands_of_exact_and_wildcard_profiles_are_found() {
        let mut t = ProfileTables::new(20_000);
        for i in 0..10_000u32 {
            let a = core::net::Ipv4Addr::from_bits(0x0a00_0000 + i);
            let mut p = profile(Class::AaaDestination, i, "*", "*", TableRef::Routes);
            p.matches.dst = AddrMatch::Exact(IpAddr::V4(a));
            t.insert(p).unwrap();
            let w = format!("172.{}.{}.*", 16 + i / 256 % 16, i % 256);
            let mut p = profile(Class::NodeDestination, i, "*", &w, TableRef::Routes);
            p.edit.dscp = Some((i % 64) as u8);
            t.insert(p).unwrap();
        }
        assert_eq!(t.len(), 20_000);
        let hit = t.search(&key("192.0.2.1", "10.0.31.255")).unwrap();
        assert_eq!(hit.profile.id.number, 0x1fff);
        let hit = t.search(&key("192.0.2.1", "172.18.3.77")).unwrap();
        assert_eq!(hit.class, Class::NodeDestination);
        assert_eq!(hit.profile.id.number, 2 * 256 + 3);
    }

    #[test]
    fn a_class_emptied_and_filled_again_is_searched_again_in_policy_order() {
        let mut t = ProfileTables::new(10);
        let id = |number| ProfileId { session: 0, number };
        t.insert(profile(Class::NodeDefault, 1, "*", "*", TableRef::Routes))
            .unwrap();
        let src = profile(Class::NodeSource, 2, "198.51.100.7", "*", TableRef::Punt);
        t.insert(src).unwrap();
        let k = key("198.51.100.7", "192.0.2.1");
        assert_eq!(t.search_step(&k).map(|s| s.class), Some(Class::NodeSource));
        assert!(t.remove(Class::NodeSource, id(2)));
        assert_eq!(t.search_step(&k).map(|s| s.class), Some(Class::NodeDefault));
        t.insert(src).unwrap();
        assert_eq!(t.search_step(&k).map(|s| s.class), Some(Class::NodeSource));
        t.set_policy("node-default > node-source".parse().unwrap());
        assert_eq!(t.search_step(&k).map(|s| s.class), Some(Class::NodeDefault));
        assert!(t.remove(Class::NodeDefault, id(1)));
        assert_eq!(t.search(&k).map(|h| h.class), Some(Class::NodeSource));
    }

    #[test]
    fn policies_parse_and_refuse_repeats() {
        assert_eq!(
            Policy::default().to_string(),
            "aaa-source > node-source > node-default-source > aaa-destination > \
             node-destination > node-default-destination > node-default"
        );
        assert!(matches!(
            "node-default, node-default".parse::<Policy>(),
            Err(PolicyError::Repeated("node-default"))
        ));
        assert!(matches!("".parse::<Policy>(), Err(PolicyError::Empty)));
        assert!(matches!(
            "node-everything".parse::<Policy>(),
            Err(PolicyError::Unknown(_))
        ));
    }
}
