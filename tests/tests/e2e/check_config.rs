//! `haven check-config`, run as an operator would before `systemctl restart`: the real binary
//! prints the effective settings (file, then `HAVEN_*` variables) without any secret, exits 0,
//! and refuses a bad configuration with exit status 2 and the key at fault named.

use std::path::Path;
use std::process::{Command, Output};

use anyhow::{ensure, Result};

use crate::disk::haven_binary;

const FILE_SECRET: &str = "coturn-secret-from-the-file";
const ENV_SECRET: &str = "coturn-secret-from-the-environment";

/// `haven ARGS` with nothing of this process's environment but `vars`.
fn haven(args: &[&str], config: &Path, vars: &[(&str, &str)]) -> Result<Output> {
    let mut command = Command::new(haven_binary()?);
    command.env_clear().args(args).arg("--config").arg(config);
    for (name, value) in vars {
        command.env(name, value);
    }
    Ok(command.output()?)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_config_prints_the_settings_without_secrets_and_refuses_bad_ones_with_status_2() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("haven-check-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let hash = "5e".repeat(32);
    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        format!(
            "[turn]\nurls = [\"turn:turn.example.org:3478\"]\nsecret = \"{FILE_SECRET}\"\n\n\
             [[room]]\nid = \"tuesday-group\"\nfacilitator_key_sha256 = \"{hash}\"\n"
        ),
    )?;

    let out = haven(&["check-config"], &good, &[("HAVEN_MAX_PARTICIPANTS", "12")])?;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    ensure!(out.status.code() == Some(0), "status {:?}: {stderr}", out.status);
    ensure!(!stdout.contains(FILE_SECRET) && !stdout.contains(&hash), "a secret was printed:\n{stdout}");
    ensure!(
        stdout.contains("turn:turn.example.org:3478") && stdout.contains("tuesday-group"),
        "the file's settings are shown:\n{stdout}"
    );
    ensure!(stdout.contains("max_participants = 12"), "the environment's override is shown:\n{stdout}");

    // A secret given in the environment is hidden too; `--config` may also come first.
    let mut command = Command::new(haven_binary()?);
    command.env_clear().arg("--config").arg(&good).arg("check-config").env("HAVEN_TURN_SECRET", ENV_SECRET);
    let out = command.output()?;
    ensure!(out.status.code() == Some(0), "{}", text(&out.stderr));
    ensure!(!text(&out.stdout).contains(ENV_SECRET), "{}", text(&out.stdout));

    for (file, key) in [
        ("[rooms]\nmax_participants = 1\n", "rooms.max_participants"),
        ("[server]\nhttp_adr = \"127.0.0.1:80\"\n", "http_adr"),
        ("[turn]\nurls = [\"turn:t.example.org\"]\n", "turn.secret"),
        ("[tls]\ncert = \"/nonexistent/haven-cert.pem\"\nkey = \"/nonexistent/haven-key.pem\"\n", "/nonexistent/haven-cert.pem"),
        // A declared room meets the rules a facilitator's live change meets.
        (&*format!("[[room]]\nid = \"tue\"\ntitle = \"{}\"\n", "x".repeat(300)), "title"),
        // A value that may be a secret is never repeated, but the key is named.
        ("[turn]\nsecret = 98765432109876\n", "turn.secret"),
    ] {
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, file)?;
        let out = haven(&["check-config"], &bad, &[])?;
        let stderr = text(&out.stderr);
        ensure!(out.status.code() == Some(2), "{file:?}: status {:?}, {stderr}", out.status);
        ensure!(stderr.contains(key), "{file:?}: the message names {key}: {stderr}");
        ensure!(!stderr.contains("98765432109876"), "a value that may be secret is repeated: {stderr}");
        ensure!(out.stdout.is_empty(), "{file:?}: nothing on stdout for an invalid configuration");
    }
    let out = haven(&["check-config"], &good, &[("HAVEN_MAX_PARTICIPANT", "12")])?;
    ensure!(out.status.code() == Some(2) && text(&out.stderr).contains("HAVEN_MAX_PARTICIPANT"), "{}", text(&out.stderr));

    let help = Command::new(haven_binary()?).args(["check-config", "--help"]).env_clear().output()?;
    ensure!(text(&help.stdout).contains("Exit status: 0") && text(&help.stdout).contains("2 when"), "{}", text(&help.stdout));
    let defaults = Command::new(haven_binary()?).arg("--print-default-config").env_clear().output()?;
    ensure!(defaults.status.success() && text(&defaults.stdout).contains("[media]"), "--print-default-config still works");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
