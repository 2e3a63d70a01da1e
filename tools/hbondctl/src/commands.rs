// SPDX-License-Identifier: GPL-2.0

//! Carries out the commands over rtnetlink.

use std::error::Error;
use std::fmt;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::RouteNetlinkMessage;

use crate::cli::{ArgValue, Command, OptionArg, SlaveArg};
use crate::nla::{OptionNla, SlaveNla, SlaveValue};
use crate::rtnl::{self, Rtnl};
use crate::team::{self, Link};
use crate::{c_header, cli, esp, show};

/// A failure with what was being done.
#[derive(Debug)]
pub struct Failed {
    what: String,
    cause: Box<dyn Error>,
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.cause)
    }
}

impl Error for Failed {}

fn failed(what: impl Into<String>) -> impl FnOnce(rtnl::Error) -> Failed {
    let what = what.into();
    move |e| Failed {
        what,
        cause: Box::new(e),
    }
}

/// Looks a device up by name.
fn lookup(rtnl: &mut Rtnl, name: &str) -> Result<Link, Failed> {
    let reply = rtnl
        .get(RouteNetlinkMessage::GetLink(team::by_name_message(name)))
        .map_err(failed(name))?;
    match reply {
        RouteNetlinkMessage::NewLink(message) => Ok(Link::from_message(&message)),
        other => Err(Failed {
            what: name.into(),
            cause: format!("unexpected reply {other:?}").into(),
        }),
    }
}

/// Looks a team up by name; any other kind of device is refused, so a typo
/// cannot reconfigure or delete an unrelated device.
fn lookup_team(rtnl: &mut Rtnl, name: &str) -> Result<Link, Failed> {
    let link = lookup(rtnl, name)?;
    if !link.is_team() {
        return Err(Failed {
            what: name.into(),
            cause: format!("not an {} team", team::KIND).into(),
        });
    }
    Ok(link)
}

/// Turns command-line options into attributes, resolving interface names.
fn resolve(rtnl: &mut Rtnl, options: &[OptionArg]) -> Result<Vec<OptionNla>, Failed> {
    options
        .iter()
        .map(|o| {
            let value = match &o.value {
                ArgValue::Raw(v) => *v,
                ArgValue::Interface(None) => 0,
                ArgValue::Interface(Some(name)) => lookup(rtnl, name)?.index,
            };
            Ok(OptionNla {
                spec: o.spec,
                value,
            })
        })
        .collect()
}

fn dump_links(rtnl: &mut Rtnl) -> Result<Vec<Link>, Failed> {
    let replies = rtnl
        .dump(RouteNetlinkMessage::GetLink(Default::default()))
        .map_err(failed("listing links"))?;
    Ok(replies
        .iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewLink(link) => Some(Link::from_message(link)),
            _ => None,
        })
        .collect())
}

/// Changes settable attributes of slave `device`; refused for a device
/// that is not a slave of an hbond team.
fn set_slave(device: &str, attrs: &[SlaveArg]) -> Result<(), Failed> {
    let mut rtnl = Rtnl::open().map_err(failed(device))?;
    let link = lookup(&mut rtnl, device)?;
    if link.slave_kind.as_deref() != Some(team::KIND) {
        return Err(Failed {
            what: device.into(),
            cause: format!("not a slave of an {} team", team::KIND).into(),
        });
    }
    let nlas: Vec<_> = attrs
        .iter()
        .map(|a| SlaveNla {
            spec: a.spec,
            value: SlaveValue::Text(a.value.clone()),
        })
        .collect();
    rtnl.request(
        RouteNetlinkMessage::NewLink(team::slave_change_message(link.index, &nlas)),
        0,
    )
    .map_err(failed(format!("setting slave attributes of {device}")))
}

/// Enslaves `devices` to `team`, or releases them from it; stops at the
/// first failure.
fn set_masters(team: &str, devices: &[String], enslave: bool) -> Result<(), Failed> {
    let mut rtnl = Rtnl::open().map_err(failed(team))?;
    let team_link = lookup_team(&mut rtnl, team)?;
    for device in devices {
        let link = lookup(&mut rtnl, device)?;
        let master = if enslave {
            team_link.index
        } else {
            if link.master != Some(team_link.index) {
                return Err(Failed {
                    what: format!("releasing {device}"),
                    cause: format!("not a slave of {team}").into(),
                });
            }
            0
        };
        let what = if enslave {
            format!("enslaving {device} to {team}")
        } else {
            format!("releasing {device} from {team}")
        };
        rtnl.request(
            RouteNetlinkMessage::SetLink(team::set_master_message(link.index, master)),
            0,
        )
        .map_err(failed(what))?;
    }
    Ok(())
}

/// Runs a command, writing its output to stdout.
pub fn run(command: Command) -> Result<(), Box<dyn Error>> {
    match command {
        Command::Help => println!("{}", cli::USAGE),
        Command::Options => print!("{}", cli::options_listing()),
        Command::CHeader => print!("{}", c_header::generate()),
        Command::Create { team, options } => {
            let mut rtnl = Rtnl::open()?;
            let options = resolve(&mut rtnl, &options)?;
            rtnl.request(
                RouteNetlinkMessage::NewLink(team::create_message(&team, &options)),
                NLM_F_CREATE | NLM_F_EXCL,
            )
            .map_err(failed(format!("creating {team}")))?;
        }
        Command::Set { team, options } => {
            let mut rtnl = Rtnl::open()?;
            let link = lookup_team(&mut rtnl, &team)?;
            let options = resolve(&mut rtnl, &options)?;
            rtnl.request(
                RouteNetlinkMessage::NewLink(team::change_message(link.index, &options)),
                0,
            )
            .map_err(failed(format!("setting options of {team}")))?;
        }
        Command::SetSlave { device, attrs } => set_slave(&device, &attrs)?,
        Command::Delete { team } => {
            let mut rtnl = Rtnl::open()?;
            let link = lookup_team(&mut rtnl, &team)?;
            rtnl.request(
                RouteNetlinkMessage::DelLink(team::delete_message(link.index)),
                0,
            )
            .map_err(failed(format!("deleting {team}")))?;
        }
        Command::Enslave { team, devices } => set_masters(&team, &devices, true)?,
        Command::Release { team, devices } => set_masters(&team, &devices, false)?,
        Command::Show { team, json } => {
            let mut rtnl = Rtnl::open()?;
            let links = dump_links(&mut rtnl)?;
            let (mut teams, names) = team::collect_teams(&links, team.as_deref())?;
            for t in &mut teams {
                t.esp = esp::read(std::path::Path::new("/sys/class/net"), &t.name, t.index)
                    .map_err(|e| format!("{}: hbond_esp in sysfs: {}", t.name, e.0))?;
            }
            if let Some(name) = &team {
                if teams.is_empty() {
                    return Err(format!("{name}: no such {} team", team::KIND).into());
                }
            }
            if json {
                println!("{}", show::teams_json(&teams, &names));
            } else {
                print!("{}", show::teams_text(&teams, &names));
            }
        }
    }
    Ok(())
}
