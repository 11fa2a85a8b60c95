//! `activator doctor`: prints one line per check, with the remedy for anything wrong.

use crate::args::EnvironmentArgs;
use anyhow::Result;
use dataverse::doctor::{Verdict, diagnose};
use dataverse::{Dataverse, DataverseOptions};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Without --config, the environment comes from ACTIVATOR_DATAVERSE_URL, ACTIVATOR_TENANT_ID \
    (or ACTIVATOR_AUTHORITY), ACTIVATOR_CLIENT_ID and ACTIVATOR_CLIENT_SECRET (or ACTIVATOR_CLIENT_SECRET_FILE).\n\
    Exit status: 0 when everything needed is in place, 1 otherwise."
)]
pub struct Args {
    #[command(flatten)]
    env: EnvironmentArgs,
}

pub async fn run(args: Args) -> Result<i32> {
    let env = args.env.load()?;
    println!("checking environment {} at {}", env.name, env.url);
    let options = DataverseOptions { batching: None, ..DataverseOptions::default() };
    let dv = Dataverse::new(&env.url, env.credentials, options)?;
    let findings = diagnose(&dv).await;
    let mut failed = false;
    for f in &findings {
        let tag = match f.verdict {
            Verdict::Ok => "ok  ",
            Verdict::Warn => "warn",
            Verdict::Fail => {
                failed = true;
                "FAIL"
            }
        };
        match &f.remedy {
            Some(remedy) => println!("{tag} {}: {} -> {remedy}", f.check, f.detail),
            None => println!("{tag} {}: {}", f.check, f.detail),
        }
    }
    println!("{}", if failed { "not ready: fix the FAIL lines above" } else { "ready" });
    Ok(i32::from(failed))
}
