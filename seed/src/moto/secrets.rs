//! Secrets Manager secrets, including the API-key encryption secret
//! (`dev/api_key_encryption_key_secret`). A secret whose value differs from the seed's is given
//! the seed's value as a new version (counted as created).

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;

use super::describe;
use crate::{SeedError, Tally, bounded};

const GROUP: &str = "moto-secrets";

/// A secret to ensure: name, value, description.
pub struct Wanted {
    pub name: String,
    pub value: String,
    pub description: String,
}

pub async fn ensure(client: &Client, secrets: &[Wanted]) -> Result<Tally, SeedError> {
    let created: Vec<bool> = bounded(
        secrets
            .iter()
            .map(|s| async move {
                let err = |m: String| SeedError::new(GROUP, &s.name, m);
                match client.get_secret_value().secret_id(&s.name).send().await {
                    Ok(r) if r.secret_string.as_deref() == Some(s.value.as_str()) => {
                        return Ok(false);
                    }
                    Ok(_) => {
                        client
                            .put_secret_value()
                            .secret_id(&s.name)
                            .secret_string(&s.value)
                            .send()
                            .await
                            .map_err(|e| err(describe(&e)))?;
                        return Ok(true);
                    }
                    Err(e) if e.code() == Some("ResourceNotFoundException") => {}
                    Err(e) => return Err(err(describe(&e))),
                }
                match client
                    .create_secret()
                    .name(&s.name)
                    .secret_string(&s.value)
                    .description(&s.description)
                    .send()
                    .await
                {
                    Ok(_) => Ok(true),
                    Err(e) if e.code() == Some("ResourceExistsException") => Ok(false),
                    Err(e) => Err(err(describe(&e))),
                }
            })
            .collect(),
        8,
    )
    .await?;
    Ok(Tally::from_flags(&created))
}
