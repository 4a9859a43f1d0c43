//! DynamoDB tables from `fixtures/tables/`, created concurrently; existing tables are kept, and a
//! table that should stream but does not gets its stream enabled.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus,
};

use super::describe;
use crate::fixtures::{KeyElement, TableDef};
use crate::{SeedError, Tally, bounded};

const GROUP: &str = "moto-tables";

pub async fn ensure(client: &Client, defs: &[TableDef], prefix: &str) -> Result<Tally, SeedError> {
    let existing = list(client)
        .await
        .map_err(|e| SeedError::new(GROUP, "ListTables", e))?;
    let outcomes: Vec<bool> = bounded(
        defs.iter()
            .map(|def| {
                let name = def.name_with(prefix);
                let exists = existing.contains(&name);
                async move {
                    let created = if exists {
                        false
                    } else {
                        create(client, def, &name).await?
                    };
                    settle(client, def, &name).await?;
                    Ok::<_, SeedError>(created)
                }
            })
            .collect(),
        defs.len().max(1),
    )
    .await?;
    let created = outcomes.iter().filter(|c| **c).count();
    Ok(Tally {
        created,
        existing: outcomes.len() - created,
    })
}

async fn list(client: &Client) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut start = None;
    loop {
        let resp = client
            .list_tables()
            .set_exclusive_start_table_name(start.take())
            .send()
            .await
            .map_err(|e| describe(&e))?;
        names.extend(resp.table_names.unwrap_or_default());
        match resp.last_evaluated_table_name {
            Some(n) => start = Some(n),
            None => return Ok(names),
        }
    }
}

fn key_schema(keys: &[KeyElement]) -> Result<Vec<KeySchemaElement>, String> {
    keys.iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// Create the table; `Ok(false)` when someone else created it first.
async fn create(client: &Client, def: &TableDef, name: &str) -> Result<bool, SeedError> {
    let err = |m: String| SeedError::new(GROUP, name, m);
    let attrs = def
        .attribute_definitions
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(&a.attribute_name)
                .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                .build()
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let gsis = def
        .global_secondary_indexes
        .iter()
        .map(|g| {
            GlobalSecondaryIndex::builder()
                .index_name(&g.index_name)
                .set_key_schema(Some(key_schema(&g.key_schema)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(
                            g.projection.projection_type.as_str(),
                        ))
                        .build(),
                )
                .build()
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let mut req = client
        .create_table()
        .table_name(name)
        .set_attribute_definitions(Some(attrs))
        .set_key_schema(Some(key_schema(&def.key_schema).map_err(err)?))
        .billing_mode(BillingMode::from(def.billing_mode.as_str()));
    if !gsis.is_empty() {
        req = req.set_global_secondary_indexes(Some(gsis));
    }
    if let Some(view) = def.stream_view_type() {
        req = req.stream_specification(stream_spec(view).map_err(err)?);
    }
    match req.send().await {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some("ResourceInUseException") => Ok(false),
        Err(e) => Err(err(describe(&e))),
    }
}

fn stream_spec(view: &str) -> Result<StreamSpecification, String> {
    StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::from(view))
        .build()
        .map_err(|e| e.to_string())
}

/// Wait until ACTIVE and make sure the stream the definition asks for is on.
async fn settle(client: &Client, def: &TableDef, name: &str) -> Result<(), SeedError> {
    let err = |m: String| SeedError::new(GROUP, name, m);
    for _ in 0..200 {
        let resp = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| err(describe(&e)))?;
        let Some(table) = resp.table else {
            return Err(err("DescribeTable returned no table".into()));
        };
        if table.table_status != Some(TableStatus::Active) {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        }
        if let Some(view) = def.stream_view_type() {
            let on = table.stream_specification.as_ref().is_some_and(|s| {
                s.stream_enabled && s.stream_view_type.as_ref().map(|v| v.as_str()) == Some(view)
            });
            if !on {
                client
                    .update_table()
                    .table_name(name)
                    .stream_specification(stream_spec(view).map_err(err)?)
                    .send()
                    .await
                    .map_err(|e| err(format!("enabling its stream: {}", describe(&e))))?;
                continue;
            }
        }
        return Ok(());
    }
    Err(err("did not become ACTIVE with the expected stream".into()))
}
