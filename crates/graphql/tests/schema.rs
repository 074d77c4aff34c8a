//! The schema as a contract: the committed `schema.graphql` matches the code, and every type, field, argument
//! and enum value carries a description for analysts.

use async_graphql::{EmptyMutation, EmptySubscription, Schema};
use boletin_graphql::Query;
use serde_json::Value;

#[test]
fn the_committed_schema_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = boletin_graphql::sdl();
    if committed != generated {
        let diff = similar::TextDiff::from_lines(&committed, &generated)
            .unified_diff()
            .context_radius(3)
            .header("schema.graphql (committed)", "the schema the code builds")
            .to_string();
        panic!(
            "schema.graphql is out of date: run `cargo run -- schema > schema.graphql`, check the diff below \
             (a removed or renamed field breaks clients: keep the old one with @deprecated) and commit it\n{diff}"
        );
    }
}

#[tokio::test]
async fn every_type_field_argument_and_value_is_described() {
    let schema = Schema::build(Query::default(), EmptyMutation, EmptySubscription).finish();
    let response = schema
        .execute(
            "{ __schema { types { name kind description fields { name description args { name description } }
               inputFields { name description } enumValues { name description } } } }",
        )
        .await;
    let data: Value = serde_json::to_value(&response.data).unwrap_or_default();
    let mut missing = Vec::new();
    let described = |v: &Value| v["description"].as_str().is_some_and(|d| !d.trim().is_empty());
    for ty in data["__schema"]["types"].as_array().into_iter().flatten() {
        let name = ty["name"].as_str().unwrap_or_default();
        if name.starts_with("__") || ["String", "Int", "Float", "Boolean", "ID"].contains(&name) {
            continue;
        }
        if !described(ty) {
            missing.push(name.to_owned());
        }
        for field in ty["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(ty["inputFields"].as_array().into_iter().flatten())
        {
            if !described(field) {
                missing.push(format!("{name}.{}", field["name"]));
            }
            for arg in field["args"].as_array().into_iter().flatten() {
                if !described(arg) {
                    missing.push(format!("{name}.{}({})", field["name"], arg["name"]));
                }
            }
        }
        for value in ty["enumValues"].as_array().into_iter().flatten() {
            if !described(value) {
                missing.push(format!("{name}.{}", value["name"]));
            }
        }
    }
    assert!(missing.is_empty(), "undescribed: {missing:?}");
}
