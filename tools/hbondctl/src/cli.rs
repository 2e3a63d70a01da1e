// SPDX-License-Identifier: GPL-2.0

//! Command line of hbondctl: commands and `OPTION VALUE` pairs, checked
//! against the option table before anything is sent to the kernel.

use std::fmt;

use hbond_core::capability::EngineSetting;
use hbond_core::options::{by_name, slave_attr, Kind, OptionSpec, OPTIONS};
use hbond_core::slave_info::{slave_attr_by_name, SlaveAttrSpec, SLAVE_ATTRS};

/// Usage text.
pub const USAGE: &str = "\
usage: hbondctl COMMAND ...

  create NAME [OPTION VALUE]...   create a team
  set NAME OPTION VALUE...        change options of a team
  set-slave DEV ATTR VALUE...     change settable attributes of a slave
                                  (engine DRIVER|none|auto)
  delete NAME                     delete a team (its slaves are released)
  enslave NAME DEV...             add devices to a team
  release NAME DEV...             remove devices from a team
  show [NAME] [--json|-j]         options and slaves of all teams or one,
                                  their engines' and ESP counters
  options                         list the options with their values
  c-header                        print tools/iproute2/hbond_options.h
  help                            this text

Slave options (active_slave, primary) take an interface name, or \"none\".
Run `hbondctl options` for the list of options.";

/// Value given for an option on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgValue {
    /// A checked enum index or number.
    Raw(u32),
    /// An interface name for a slave option; `None` clears it.
    Interface(Option<String>),
}

/// One `OPTION VALUE` pair.
#[derive(Clone, Debug)]
pub struct OptionArg {
    /// The option.
    pub spec: &'static OptionSpec,
    /// Its value.
    pub value: ArgValue,
}

impl PartialEq for OptionArg {
    fn eq(&self, other: &Self) -> bool {
        self.spec.attr == other.spec.attr && self.value == other.value
    }
}

/// One settable slave `ATTR VALUE` pair, checked.
#[derive(Clone, Debug)]
pub struct SlaveArg {
    /// The attribute (a settable one).
    pub spec: &'static SlaveAttrSpec,
    /// Its value as given.
    pub value: String,
}

impl PartialEq for SlaveArg {
    fn eq(&self, other: &Self) -> bool {
        self.spec.attr == other.spec.attr && self.value == other.value
    }
}

/// What the user asked for.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Create a team.
    Create {
        /// Team name.
        team: String,
        /// Initial options.
        options: Vec<OptionArg>,
    },
    /// Change options (changelink).
    Set {
        /// Team name.
        team: String,
        /// Options to change.
        options: Vec<OptionArg>,
    },
    /// Change attributes of a slave (slave changelink).
    SetSlave {
        /// The slave.
        device: String,
        /// Attributes to change.
        attrs: Vec<SlaveArg>,
    },
    /// Delete a team.
    Delete {
        /// Team name.
        team: String,
    },
    /// Enslave devices.
    Enslave {
        /// Team name.
        team: String,
        /// Devices.
        devices: Vec<String>,
    },
    /// Release devices.
    Release {
        /// Team name.
        team: String,
        /// Devices.
        devices: Vec<String>,
    },
    /// Show teams.
    Show {
        /// Only this team.
        team: Option<String>,
        /// JSON instead of text.
        json: bool,
    },
    /// List the option table.
    Options,
    /// Print the generated C header.
    CHeader,
    /// Print usage.
    Help,
}

/// A command line that makes no sense; the message says why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(message: impl Into<String>) -> UsageError {
    UsageError(message.into())
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let Some((command, rest)) = args.split_first() else {
        return Err(usage("missing command"));
    };
    let team = |what: &str| -> Result<String, UsageError> {
        rest.first()
            .cloned()
            .ok_or_else(|| usage(format!("{what}: missing team name")))
    };
    match command.as_str() {
        "create" => Ok(Command::Create {
            team: team("create")?,
            options: parse_options(&rest[1..])?,
        }),
        "set" => {
            let team = team("set")?;
            let options = parse_options(&rest[1..])?;
            if options.is_empty() {
                return Err(usage("set: no OPTION VALUE given"));
            }
            Ok(Command::Set { team, options })
        }
        "set-slave" => {
            let device = rest
                .first()
                .cloned()
                .ok_or_else(|| usage("set-slave: missing slave name"))?;
            let attrs = parse_slave_attrs(&rest[1..])?;
            if attrs.is_empty() {
                return Err(usage("set-slave: no ATTR VALUE given"));
            }
            Ok(Command::SetSlave { device, attrs })
        }
        "delete" => {
            let team = team("delete")?;
            no_more(&rest[1..])?;
            Ok(Command::Delete { team })
        }
        "enslave" | "release" => {
            let team = team(command)?;
            let devices = rest[1..].to_vec();
            if devices.is_empty() {
                return Err(usage(format!("{command}: no device given")));
            }
            Ok(if command == "enslave" {
                Command::Enslave { team, devices }
            } else {
                Command::Release { team, devices }
            })
        }
        "show" => {
            let mut json = false;
            let mut team = None;
            for arg in rest {
                match arg.as_str() {
                    "--json" | "-j" => json = true,
                    name if name.starts_with('-') => {
                        return Err(usage(format!("show: unknown flag {name}")))
                    }
                    name if team.is_none() => team = Some(name.to_string()),
                    name => return Err(usage(format!("show: unexpected argument {name}"))),
                }
            }
            Ok(Command::Show { team, json })
        }
        "options" => no_more(rest).map(|_| Command::Options),
        "c-header" => no_more(rest).map(|_| Command::CHeader),
        "help" | "--help" | "-h" => Ok(Command::Help),
        other => Err(usage(format!("unknown command {other}"))),
    }
}

fn no_more(rest: &[String]) -> Result<(), UsageError> {
    match rest.first() {
        Some(extra) => Err(usage(format!("unexpected argument {extra}"))),
        None => Ok(()),
    }
}

/// Parses `OPTION VALUE` pairs; each option at most once.
pub fn parse_options(args: &[String]) -> Result<Vec<OptionArg>, UsageError> {
    let mut options: Vec<OptionArg> = Vec::new();
    let mut pairs = args.chunks(2);
    for pair in &mut pairs {
        let name = &pair[0];
        let spec = by_name(name).ok_or_else(|| {
            let known: Vec<_> = OPTIONS.iter().map(|o| o.name).collect();
            usage(format!(
                "unknown option {name} (options: {})",
                known.join(", ")
            ))
        })?;
        let Some(text) = pair.get(1) else {
            return Err(usage(format!("option {name} needs a value")));
        };
        if options.iter().any(|o| o.spec.attr == spec.attr) {
            return Err(usage(format!("option {name} given twice")));
        }
        options.push(OptionArg {
            spec,
            value: parse_value(spec, text)?,
        });
    }
    Ok(options)
}

/// Parses settable slave `ATTR VALUE` pairs; each at most once.
pub fn parse_slave_attrs(args: &[String]) -> Result<Vec<SlaveArg>, UsageError> {
    let mut attrs: Vec<SlaveArg> = Vec::new();
    for pair in args.chunks(2) {
        let name = &pair[0];
        let settable: Vec<_> = SLAVE_ATTRS
            .iter()
            .filter(|a| a.settable)
            .map(|a| a.name)
            .collect();
        let spec = slave_attr_by_name(name).ok_or_else(|| {
            usage(format!(
                "unknown slave attribute {name} (settable: {})",
                settable.join(", ")
            ))
        })?;
        if !spec.settable {
            return Err(usage(format!(
                "slave attribute {name} is read-only (settable: {})",
                settable.join(", ")
            )));
        }
        let Some(value) = pair.get(1) else {
            return Err(usage(format!("slave attribute {name} needs a value")));
        };
        if attrs.iter().any(|a| a.spec.attr == spec.attr) {
            return Err(usage(format!("slave attribute {name} given twice")));
        }
        if spec.attr == slave_attr::ENGINE {
            EngineSetting::parse(value.as_bytes()).map_err(|e| {
                usage(format!(
                    "invalid value '{value}' for engine: {e} (a crypto driver name, none or auto)"
                ))
            })?;
        }
        attrs.push(SlaveArg {
            spec,
            value: value.clone(),
        });
    }
    Ok(attrs)
}

/// Parses one option value with the table's rules.
pub fn parse_value(spec: &'static OptionSpec, text: &str) -> Result<ArgValue, UsageError> {
    if spec.kind == Kind::Slave {
        return Ok(match text {
            "" | "none" => ArgValue::Interface(None),
            name => ArgValue::Interface(Some(name.to_string())),
        });
    }
    spec.parse(text).map(ArgValue::Raw).map_err(|e| {
        usage(format!(
            "invalid value '{text}' for {}: {e} ({})",
            spec.name,
            accepted_values(spec)
        ))
    })
}

/// What an option accepts, for messages and the option list.
pub fn accepted_values(spec: &OptionSpec) -> String {
    match spec.kind {
        Kind::Enum(names) => format!("one of {}", names.join(", ")),
        Kind::Number { min, max, .. } => format!("{min}..{max}"),
        Kind::Slave => "a slave's name or none".to_string(),
    }
}

/// The option table as text, for `hbondctl options`.
pub fn options_listing() -> String {
    let mut out = String::new();
    for spec in OPTIONS {
        let mut default = String::new();
        match spec.kind {
            Kind::Slave => default.push_str("none"),
            _ => spec
                .format(spec.default, &mut default)
                .expect("writing to a String"),
        }
        out.push_str(&format!(
            "{:<18} {} (default {default}{})\n{:<18}   {}\n",
            spec.name,
            accepted_values(spec),
            if spec.needs_no_slaves {
                "; only while the team has no slaves"
            } else {
                ""
            },
            "",
            spec.help
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    fn err(line: &str) -> String {
        parse(&args(line)).unwrap_err().0
    }

    #[test]
    fn create_with_options() {
        let Command::Create { team, options } =
            parse(&args("create hb0 mode alb miimon 100 primary veth0")).unwrap()
        else {
            panic!("not create");
        };
        assert_eq!(team, "hb0");
        let values: Vec<_> = options
            .iter()
            .map(|o| (o.spec.name, o.value.clone()))
            .collect();
        assert_eq!(
            values,
            [
                ("mode", ArgValue::Raw(1)),
                ("miimon", ArgValue::Raw(100)),
                ("primary", ArgValue::Interface(Some("veth0".into()))),
            ]
        );
    }

    #[test]
    fn slave_option_none_clears() {
        let options = parse_options(&args("active_slave none")).unwrap();
        assert_eq!(options[0].value, ArgValue::Interface(None));
    }

    #[test]
    fn bad_values_are_refused_with_what_is_accepted() {
        assert_eq!(
            err("set hb0 mode rr"),
            "invalid value 'rr' for mode: malformed value (one of aft, alb)"
        );
        assert_eq!(
            err("set hb0 lb_interval 99"),
            "invalid value '99' for lb_interval: value out of range (100..60000)"
        );
        assert!(err("set hb0 speed 10").starts_with("unknown option speed (options: mode,"));
        assert_eq!(err("set hb0 miimon"), "option miimon needs a value");
        assert_eq!(
            err("set hb0 miimon 1 miimon 2"),
            "option miimon given twice"
        );
        assert_eq!(err("set hb0"), "set: no OPTION VALUE given");
    }

    #[test]
    fn other_commands() {
        assert_eq!(
            parse(&args("show hb0 --json")).unwrap(),
            Command::Show {
                team: Some("hb0".into()),
                json: true
            }
        );
        assert_eq!(
            parse(&args("show")).unwrap(),
            Command::Show {
                team: None,
                json: false
            }
        );
        assert_eq!(
            parse(&args("enslave hb0 a b")).unwrap(),
            Command::Enslave {
                team: "hb0".into(),
                devices: vec!["a".into(), "b".into()]
            }
        );
        assert_eq!(err("release hb0"), "release: no device given");
        assert_eq!(err("delete"), "delete: missing team name");
        assert_eq!(err("delete hb0 hb1"), "unexpected argument hb1");
        assert_eq!(err("frobnicate"), "unknown command frobnicate");
        assert_eq!(err(""), "missing command");
        assert_eq!(err("show a b"), "show: unexpected argument b");
    }

    #[test]
    fn set_slave_takes_settable_attributes_only() {
        let Command::SetSlave { device, attrs } = parse(&args(
            "set-slave veth0 engine ipsecsim-engine-0-rfc4106-gcm-aes",
        ))
        .unwrap() else {
            panic!("not set-slave");
        };
        assert_eq!(device, "veth0");
        assert_eq!(attrs.len(), 1);
        assert_eq!(attrs[0].spec.name, "engine");
        assert_eq!(attrs[0].value, "ipsecsim-engine-0-rfc4106-gcm-aes");
        assert!(parse(&args("set-slave veth0 engine none")).is_ok());
        assert!(err("set-slave veth0 active 1").starts_with("slave attribute active is read-only"));
        assert!(err("set-slave veth0 speed 1").starts_with("unknown slave attribute speed"));
        assert_eq!(
            err("set-slave veth0 engine"),
            "slave attribute engine needs a value"
        );
        assert_eq!(
            err("set-slave veth0 engine a engine b"),
            "slave attribute engine given twice"
        );
        assert_eq!(err("set-slave veth0"), "set-slave: no ATTR VALUE given");
        assert_eq!(err("set-slave"), "set-slave: missing slave name");
        let long = "x".repeat(128);
        assert!(
            err(&format!("set-slave veth0 engine {long}")).starts_with(&format!(
                "invalid value '{long}' for engine: malformed engine name"
            ))
        );
    }

    #[test]
    fn listing_names_every_option() {
        let listing = options_listing();
        for spec in OPTIONS {
            assert!(listing.contains(spec.name), "{}", spec.name);
            assert!(listing.contains(spec.help), "{}", spec.name);
        }
        assert!(listing.contains("lb_interval        100..60000 (default 1000)"));
    }
}
