// SPDX-License-Identifier: GPL-2.0

//! What a slave can do for ESP (issue 9, the capability query): inline
//! offload, and the crypto API driver of an AEAD engine that can do
//! `rfc4106(gcm(aes))` for it.
//!
//! The engine comes from the slave option `engine` ([`EngineSetting`]):
//! `auto` (the default) discovers it from the slave's driver information
//! ([`discover`]), `none` disables it, anything else names a crypto
//! driver. The kernel validates a name by allocating the transform and
//! checking it with [`check_transform`]; nothing here touches the crypto API.

use core::fmt;

/// The algorithm an engine must implement: ESP's AES-GCM.
pub const ENGINE_ALGORITHM: &str = "rfc4106(gcm(aes))";

/// Longest crypto API name, without the NUL (`CRYPTO_MAX_ALG_NAME` - 1).
pub const MAX_NAME_LEN: usize = 127;

/// A crypto API driver name, stored with its terminating NUL so that the
/// kernel can pass it to the crypto API without allocating.
///
/// # Invariants
///
/// `buf[..len]` is printable ASCII without spaces (1 to [`MAX_NAME_LEN`]
/// bytes), `buf[len]` is 0.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EngineName {
    buf: [u8; MAX_NAME_LEN + 1],
    len: usize,
}

impl EngineName {
    /// Checks `name` and copies it; `None` if it is empty, too long or has
    /// characters other than printable ASCII without spaces.
    pub fn new(name: &[u8]) -> Option<Self> {
        if name.is_empty() || name.len() > MAX_NAME_LEN || !name.iter().all(u8::is_ascii_graphic) {
            return None;
        }
        let mut buf = [0; MAX_NAME_LEN + 1];
        buf[..name.len()].copy_from_slice(name);
        // INVARIANT: Checked above; the rest of `buf` is 0.
        Some(Self {
            buf,
            len: name.len(),
        })
    }

    /// `prefix` followed by `suffix`, if that is a valid name.
    fn concat(prefix: &[u8], suffix: &[u8]) -> Option<Self> {
        let len = prefix.len().checked_add(suffix.len())?;
        if len > MAX_NAME_LEN {
            return None;
        }
        let mut buf = [0; MAX_NAME_LEN];
        buf[..prefix.len()].copy_from_slice(prefix);
        buf[prefix.len()..len].copy_from_slice(suffix);
        Self::new(&buf[..len])
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        // The invariant makes it ASCII.
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// The name's bytes, without the NUL.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The name's bytes followed by exactly one NUL.
    pub fn as_bytes_with_nul(&self) -> &[u8] {
        &self.buf[..=self.len]
    }
}

impl fmt::Debug for EngineName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for EngineName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value of a slave's `engine` option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineSetting {
    /// Discover the engine from the slave's driver (the default).
    Auto,
    /// No engine.
    Off,
    /// This crypto driver.
    Named(EngineName),
}

impl EngineSetting {
    /// Parses the text of the option (netlink string, sysfs, CLI): empty or
    /// `auto`, `none`, or a driver name. Surrounding white space (a sysfs
    /// write's newline) is ignored.
    pub fn parse(text: &[u8]) -> Result<Self, EngineError> {
        let text = trim(text);
        match text {
            b"" | b"auto" => Ok(Self::Auto),
            b"none" => Ok(Self::Off),
            // An engine is one driver's implementation; a name with a
            // template (`rfc4106(...)`, or the driver name of a template
            // instance) is an algorithm the crypto API would build or pick
            // at lookup time, possibly waiting for cryptomgr: refused
            // before any lookup.
            name if name.iter().any(|&c| c == b'(' || c == b')') => {
                Err(EngineError::NotADriverName)
            }
            name => EngineName::new(name)
                .map(Self::Named)
                .ok_or(EngineError::Malformed),
        }
    }

    /// The engine that applies: the discovered one for `Auto`.
    pub fn resolve(self, discovered: Option<EngineName>) -> Option<EngineName> {
        match self {
            Self::Auto => discovered,
            Self::Off => None,
            Self::Named(name) => Some(name),
        }
    }
}

/// Why an engine name was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// Empty, too long, or not printable ASCII without spaces.
    Malformed,
    /// No AEAD crypto driver of that name.
    Unknown,
    /// The driver implements another algorithm.
    WrongAlgorithm,
    /// The name is an algorithm name, not one driver's name.
    NotADriverName,
}

impl EngineError {
    /// A message for users (extack, kernel log, CLI).
    pub fn message(self) -> &'static str {
        match self {
            Self::Malformed => "malformed engine name",
            Self::Unknown => "no AEAD crypto driver of that name",
            Self::WrongAlgorithm => "crypto driver does not implement rfc4106(gcm(aes))",
            Self::NotADriverName => "engine must be a crypto driver name, not an algorithm name",
        }
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// Checks the transform allocated for engine `requested`: its algorithm
/// (`cra_name`) must be [`ENGINE_ALGORITHM`] and its driver name
/// (`cra_driver_name`) the requested name, so that an engine is always one
/// implementation, never whatever the crypto API resolves an algorithm
/// name to at the time.
pub fn check_transform(
    requested: &EngineName,
    alg_name: &[u8],
    driver_name: &[u8],
) -> Result<(), EngineError> {
    if alg_name != ENGINE_ALGORITHM.as_bytes() {
        return Err(EngineError::WrongAlgorithm);
    }
    if driver_name != requested.as_bytes() {
        return Err(EngineError::NotADriverName);
    }
    Ok(())
}

/// How the engine of a device of one driver is named after its
/// `ethtool -i` bus-info: `bus_prefix` followed by a decimal number is the
/// engine's name, and the name followed by `suffix` its
/// `rfc4106(gcm(aes))` driver.
#[derive(Clone, Copy, Debug)]
pub struct DiscoveryRule {
    /// `ethtool -i` driver name.
    pub driver: &'static str,
    /// What the bus-info starts with.
    pub bus_prefix: &'static str,
    /// Appended to the bus-info to give the crypto driver name.
    pub suffix: &'static str,
}

/// The drivers whose engines are discovered. A driver is added here when
/// it documents such a convention; any other engine is set by name.
pub const DISCOVERY_RULES: &[DiscoveryRule] = &[DiscoveryRule {
    driver: "ipsecsim",
    bus_prefix: "ipsecsim-engine-",
    suffix: "-rfc4106-gcm-aes",
}];

/// The crypto driver name of the engine of a device whose `ethtool -i`
/// reports `driver` and `bus_info` (C strings: up to the first NUL), if a
/// [`DISCOVERY_RULES`] entry applies.
pub fn discover(driver: &[u8], bus_info: &[u8]) -> Option<EngineName> {
    let driver = until_nul(driver);
    let bus_info = until_nul(bus_info);
    let rule = DISCOVERY_RULES
        .iter()
        .find(|r| r.driver.as_bytes() == driver)?;
    let number = bus_info.strip_prefix(rule.bus_prefix.as_bytes())?;
    if number.is_empty() || !number.iter().all(u8::is_ascii_digit) {
        return None;
    }
    EngineName::concat(bus_info, rule.suffix.as_bytes())
}

/// `s` without leading and trailing ASCII white space.
fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|c| !c.is_ascii_whitespace());
    let end = s.iter().rposition(|c| !c.is_ascii_whitespace());
    match (start, end) {
        (Some(start), Some(end)) => &s[start..=end],
        _ => &[],
    }
}

fn until_nul(s: &[u8]) -> &[u8] {
    s.split(|&c| c == 0).next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> EngineName {
        EngineName::new(s.as_bytes()).unwrap()
    }

    #[test]
    fn settings_parse() {
        assert_eq!(EngineSetting::parse(b""), Ok(EngineSetting::Auto));
        assert_eq!(EngineSetting::parse(b"auto\n"), Ok(EngineSetting::Auto));
        assert_eq!(EngineSetting::parse(b" none "), Ok(EngineSetting::Off));
        assert_eq!(
            EngineSetting::parse(b"ipsecsim-engine-3-rfc4106-gcm-aes\n"),
            Ok(EngineSetting::Named(name(
                "ipsecsim-engine-3-rfc4106-gcm-aes"
            )))
        );
        assert_eq!(
            EngineSetting::parse(b"two words"),
            Err(EngineError::Malformed)
        );
        // Templates and template instances are not engines, and are refused
        // before any crypto lookup (which could wait for cryptomgr).
        for name in [
            &b"rfc4106(gcm(aes))"[..],
            b"gcm_base(ctr(aes-aesni),ghash-generic)",
            b"rfc4106(ipsecsim-engine-0-gcm-aes)",
            b"odd)name",
        ] {
            assert_eq!(EngineSetting::parse(name), Err(EngineError::NotADriverName));
        }
        assert_eq!(
            EngineSetting::parse(b"caf\xc3\xa9"),
            Err(EngineError::Malformed)
        );
        assert_eq!(
            EngineSetting::parse(&[b'a'; 128]),
            Err(EngineError::Malformed)
        );
        assert!(EngineSetting::parse(&[b'a'; 127]).is_ok());
    }

    #[test]
    fn names_keep_one_nul() {
        let n = name("abc");
        assert_eq!(n.as_bytes_with_nul(), b"abc\0");
        assert_eq!(n.as_str(), "abc");
        let long = EngineName::new(&[b'x'; MAX_NAME_LEN]).unwrap();
        assert_eq!(long.as_bytes_with_nul().len(), MAX_NAME_LEN + 1);
        assert_eq!(long.as_bytes_with_nul()[MAX_NAME_LEN], 0);
        assert_eq!(EngineName::new(b""), None);
        assert_eq!(EngineName::new(b"a\0b"), None);
    }

    #[test]
    fn resolve_follows_the_setting() {
        let found = Some(name("found"));
        assert_eq!(EngineSetting::Auto.resolve(found), found);
        assert_eq!(EngineSetting::Auto.resolve(None), None);
        assert_eq!(EngineSetting::Off.resolve(found), None);
        assert_eq!(
            EngineSetting::Named(name("given")).resolve(found),
            Some(name("given"))
        );
    }

    #[test]
    fn ipsecsim_engines_are_discovered() {
        assert_eq!(
            discover(b"ipsecsim\0\0\0", b"ipsecsim-engine-12\0junk"),
            Some(name("ipsecsim-engine-12-rfc4106-gcm-aes"))
        );
        // Other drivers, other bus-infos: nothing.
        assert_eq!(discover(b"veth", b""), None);
        assert_eq!(discover(b"virtio_net", b"0000:00:03.0"), None);
        assert_eq!(discover(b"veth", b"ipsecsim-engine-1"), None);
        assert_eq!(discover(b"ipsecsim", b""), None);
        assert_eq!(discover(b"ipsecsim", b"ipsecsim-engine-"), None);
        assert_eq!(discover(b"ipsecsim", b"ipsecsim-engine-1x"), None);
        assert_eq!(discover(b"ipsecsim2", b"ipsecsim-engine-1"), None);
    }

    #[test]
    fn transforms_are_checked() {
        let drv = name("ipsecsim-engine-0-rfc4106-gcm-aes");
        assert_eq!(
            check_transform(&drv, b"rfc4106(gcm(aes))", drv.as_bytes()),
            Ok(())
        );
        assert_eq!(
            check_transform(
                &name("ipsecsim-engine-0-gcm-aes"),
                b"gcm(aes)",
                b"ipsecsim-engine-0-gcm-aes"
            ),
            Err(EngineError::WrongAlgorithm)
        );
        assert_eq!(
            check_transform(
                &name("rfc4106(gcm(aes))"),
                b"rfc4106(gcm(aes))",
                b"rfc4106(gcm_base(ctr(aes-generic),ghash-generic))"
            ),
            Err(EngineError::NotADriverName)
        );
    }
}
