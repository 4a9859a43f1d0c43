//! The data files the seed ships: word lists (`fixtures/seed/*.json`) and DynamoDB table
//! definitions (`fixtures/tables/*.json`), embedded at compile time and parsed once.
//!
//! Table files use the shape of DynamoDB's `CreateTable` request (so `boto3`'s
//! `create_table(**json)` accepts them too), with `{prefix}` in `TableName`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct People {
    pub first_names: Vec<String>,
    pub last_names: Vec<String>,
    pub company_first: Vec<String>,
    pub company_second: Vec<String>,
    pub plans: Vec<String>,
    pub password_words: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Catalogue {
    pub brands: Vec<String>,
    pub adjectives: Vec<String>,
    pub colors: Vec<String>,
    pub materials: Vec<String>,
    pub features: Vec<String>,
    pub uses: Vec<String>,
    pub categories: Vec<Category>,
    pub merchandising_queries: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Category {
    pub name: String,
    pub products: Vec<String>,
    /// Inclusive price range in cents.
    pub price_cents: [u64; 2],
}

#[derive(Debug, Deserialize)]
pub struct MotoResources {
    pub buckets: Vec<String>,
    pub queues: Vec<QueueDef>,
    pub topics: Vec<String>,
    pub secrets: Vec<SecretDef>,
    pub state_machines: Vec<StateMachineDef>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct QueueDef {
    pub name: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SecretDef {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StateMachineDef {
    pub name: String,
    pub role_arn: String,
    pub definition: serde_json::Value,
}

/// A DynamoDB table definition: the subset of `CreateTable` the seed uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TableDef {
    pub table_name: String,
    pub attribute_definitions: Vec<AttributeDef>,
    pub key_schema: Vec<KeyElement>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<GsiDef>,
    pub billing_mode: String,
    #[serde(default)]
    pub stream_specification: Option<StreamSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AttributeDef {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct KeyElement {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct GsiDef {
    pub index_name: String,
    pub key_schema: Vec<KeyElement>,
    pub projection: Projection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Projection {
    pub projection_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct StreamSpec {
    pub stream_enabled: bool,
    pub stream_view_type: String,
}

impl TableDef {
    /// The table's name without the prefix placeholder, e.g. `AccountsTable`.
    pub fn base_name(&self) -> &str {
        self.table_name
            .strip_prefix("{prefix}")
            .unwrap_or(&self.table_name)
    }

    pub fn name_with(&self, prefix: &str) -> String {
        self.table_name.replace("{prefix}", prefix)
    }

    pub fn stream_view_type(&self) -> Option<&str> {
        self.stream_specification
            .as_ref()
            .filter(|s| s.stream_enabled)
            .map(|s| s.stream_view_type.as_str())
    }

    /// Names of the key attributes (table and indexes) every item must carry.
    pub fn key_attributes(&self) -> Vec<&str> {
        self.key_schema
            .iter()
            .map(|k| k.attribute_name.as_str())
            .collect()
    }
}

/// Everything embedded, parsed.
#[derive(Debug)]
pub struct Fixtures {
    pub people: People,
    pub catalogue: Catalogue,
    pub moto: MotoResources,
    /// In a fixed order (the order of [`TABLE_FILES`]).
    pub tables: Vec<TableDef>,
}

/// Table files in creation order; names are stable, so are manifests.
pub const TABLE_FILES: [(&str, &str); 6] = [
    (
        "AccountsTable.json",
        include_str!("../../fixtures/tables/AccountsTable.json"),
    ),
    (
        "MembershipsTable.json",
        include_str!("../../fixtures/tables/MembershipsTable.json"),
    ),
    (
        "ApiKeysTable.json",
        include_str!("../../fixtures/tables/ApiKeysTable.json"),
    ),
    (
        "IndexSettingsTable.json",
        include_str!("../../fixtures/tables/IndexSettingsTable.json"),
    ),
    (
        "EcomIndexSettingsTable.json",
        include_str!("../../fixtures/tables/EcomIndexSettingsTable.json"),
    ),
    (
        "MerchandisingTable.json",
        include_str!("../../fixtures/tables/MerchandisingTable.json"),
    ),
];

const PEOPLE: &str = include_str!("../../fixtures/seed/people.json");
const CATALOGUE: &str = include_str!("../../fixtures/seed/catalogue.json");
const MOTO: &str = include_str!("../../fixtures/seed/moto.json");

static FIXTURES: LazyLock<Result<Fixtures, String>> = LazyLock::new(parse);

fn parse() -> Result<Fixtures, String> {
    let people: People =
        serde_json::from_str(PEOPLE).map_err(|e| format!("fixtures/seed/people.json: {e}"))?;
    let catalogue: Catalogue = serde_json::from_str(CATALOGUE)
        .map_err(|e| format!("fixtures/seed/catalogue.json: {e}"))?;
    let moto: MotoResources =
        serde_json::from_str(MOTO).map_err(|e| format!("fixtures/seed/moto.json: {e}"))?;
    let tables = TABLE_FILES
        .iter()
        .map(|(file, text)| {
            serde_json::from_str::<TableDef>(text)
                .map_err(|e| format!("fixtures/tables/{file}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let lists: [(&str, usize); 11] = [
        ("first_names", people.first_names.len()),
        ("last_names", people.last_names.len()),
        ("company_first", people.company_first.len()),
        ("company_second", people.company_second.len()),
        ("plans", people.plans.len()),
        ("password_words", people.password_words.len()),
        ("brands", catalogue.brands.len()),
        ("adjectives", catalogue.adjectives.len()),
        ("colors", catalogue.colors.len()),
        ("categories", catalogue.categories.len()),
        (
            "merchandising_queries",
            catalogue.merchandising_queries.len(),
        ),
    ];
    for (name, len) in lists {
        if len == 0 {
            return Err(format!("fixture list `{name}` is empty"));
        }
    }
    if catalogue
        .categories
        .iter()
        .any(|c| c.products.is_empty() || c.price_cents[0] > c.price_cents[1])
    {
        return Err("a catalogue category has no products or an inverted price range".into());
    }
    Ok(Fixtures {
        people,
        catalogue,
        moto,
        tables,
    })
}

/// The parsed fixtures (an error only if a shipped file is broken, which the unit tests catch).
pub fn get() -> anyhow::Result<&'static Fixtures> {
    FIXTURES
        .as_ref()
        .map_err(|e| anyhow::anyhow!("broken seed fixture: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_parses() {
        let f = get().unwrap();
        assert_eq!(f.tables.len(), TABLE_FILES.len());
        let names: Vec<_> = f.tables.iter().map(|t| t.base_name()).collect();
        assert!(names.contains(&"EcomIndexSettingsTable"));
        assert!(names.contains(&"MerchandisingTable"));
    }

    #[test]
    fn the_event_pipe_tables_stream_new_and_old_images() {
        let f = get().unwrap();
        for name in ["EcomIndexSettingsTable", "MerchandisingTable"] {
            let t = f.tables.iter().find(|t| t.base_name() == name).unwrap();
            assert_eq!(t.stream_view_type(), Some("NEW_AND_OLD_IMAGES"), "{name}");
            assert_eq!(t.name_with("dev-x-"), format!("dev-x-{name}"));
        }
    }

    #[test]
    fn key_attributes_are_declared() {
        for t in &get().unwrap().tables {
            let declared: Vec<_> = t
                .attribute_definitions
                .iter()
                .map(|a| a.attribute_name.as_str())
                .collect();
            let mut used: Vec<&str> = t.key_attributes();
            for g in &t.global_secondary_indexes {
                used.extend(g.key_schema.iter().map(|k| k.attribute_name.as_str()));
            }
            for u in used {
                assert!(declared.contains(&u), "{}: {u} not declared", t.table_name);
            }
        }
    }
}
