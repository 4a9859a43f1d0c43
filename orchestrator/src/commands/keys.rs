//! `keys decode <key>`: the system_account_id, cell and token inside an encrypted API key.

use std::process::ExitCode;

use crate::cli::KeysCommand;

pub fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::Decode { key, secret } => match seed::keys::decode(&key, &secret) {
            Ok(d) => {
                println!("system_account_id: {}", d.system_account_id);
                println!("cell: {}", d.cell);
                println!("token: {}", d.token);
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!(
                    "cannot decode the key: {e} (wrong HIPPODROME_ENCRYPTION_SECRET, or not an encrypted Hippodrome key)"
                );
                Ok(ExitCode::FAILURE)
            }
        },
    }
}
