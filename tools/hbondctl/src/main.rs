// SPDX-License-Identifier: GPL-2.0

//! hbondctl: create hbond teams, set their options, enslave and release
//! devices, and show team and slave state, over rtnetlink. Option names,
//! numbers, types and ranges come from `hbond_core::options`.

mod c_header;
mod cli;
mod commands;
mod esp;
mod nla;
#[cfg(test)]
mod plugin_tests;
mod rtnl;
mod show;
mod team;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("hbondctl: {e}\nRun `hbondctl help` for usage.");
            return ExitCode::from(2);
        }
    };
    match commands::run(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hbondctl: {e}");
            ExitCode::FAILURE
        }
    }
}
