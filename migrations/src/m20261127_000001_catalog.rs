//! The catalogue: partners, programs, bulletins, indicators and observations, with their translations and
//! links. Every list a query filters or batches by has an index that starts with the filtered column.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, date, date_null, double, integer, string, string_len, text, text_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn timestamps(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table
        .col(ColumnDef::new("created_at").timestamp_with_time_zone().not_null())
        .col(ColumnDef::new("updated_at").timestamp_with_time_zone().not_null())
}

fn foreign_key(table: &str, column: &str, target: &str, cascade: bool) -> ForeignKeyCreateStatement {
    let mut key = ForeignKey::create();
    key.name(format!("fk_{table}_{column}"))
        .from(table.to_owned(), column.to_owned())
        .to(target.to_owned(), "id");
    if cascade {
        key.on_delete(ForeignKeyAction::Cascade);
    } else {
        key.on_delete(ForeignKeyAction::Restrict);
    }
    key
}

/// A link table keyed by `owner` plus `columns`, with the owner's rows removed along with it.
fn link_table(name: &str, owner: (&str, &str), columns: &[ColumnDef], key: &[&str]) -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table(name.to_owned())
        .if_not_exists()
        .col(big_integer(owner.0.to_owned()));
    for column in columns {
        table.col(column.clone());
    }
    let mut primary = Index::create();
    primary.col(owner.0.to_owned());
    for column in key {
        primary.col((*column).to_owned());
    }
    table
        .primary_key(&mut primary)
        .foreign_key(&mut foreign_key(name, owner.0, owner.1, true));
    table.to_owned()
}

fn index(name: &str, table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name.to_owned()).table(table.to_owned()).if_not_exists();
    for column in columns {
        index.col((*column).to_owned());
    }
    if unique {
        index.unique();
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut partners = Table::create();
        partners
            .table("partners")
            .if_not_exists()
            .col(big_pk_auto("id"))
            .col(string_len("slug", 100).unique_key())
            .col(text("name"))
            .col(text_null("acronym"))
            .col(string_len("kind", 40))
            .col(ColumnDef::new("country").string_len(2).null())
            .col(text_null("website"));
        manager.create_table(timestamps(&mut partners).to_owned()).await?;

        let mut programs = Table::create();
        programs
            .table("programs")
            .if_not_exists()
            .col(big_pk_auto("id"))
            .col(string_len("slug", 100).unique_key())
            .col(big_integer_null("parent_id"))
            .col(date("start_on"))
            .col(date_null("end_on"))
            .foreign_key(&mut foreign_key("programs", "parent_id", "programs", false));
        manager.create_table(timestamps(&mut programs).to_owned()).await?;
        manager
            .create_index(index("ix_programs_parent", "programs", &["parent_id"], false))
            .await?;

        manager
            .create_table(link_table(
                "program_translations",
                ("program_id", "programs"),
                &[string_len("lang", 2), text("name"), text("description")],
                &["lang"],
            ))
            .await?;
        manager
            .create_table(link_table(
                "program_countries",
                ("program_id", "programs"),
                &[string_len("country", 2)],
                &["country"],
            ))
            .await?;
        let mut program_partners = link_table(
            "program_partners",
            ("program_id", "programs"),
            &[big_integer("partner_id"), string_len("role", 20)],
            &["partner_id", "role"],
        );
        program_partners.foreign_key(&mut foreign_key("program_partners", "partner_id", "partners", false));
        manager.create_table(program_partners).await?;
        manager
            .create_index(index(
                "ix_program_partners_partner",
                "program_partners",
                &["partner_id"],
                false,
            ))
            .await?;

        let mut bulletins = Table::create();
        bulletins
            .table("bulletins")
            .if_not_exists()
            .col(big_pk_auto("id"))
            .col(string_len("slug", 100).unique_key())
            .col(date("published_on"))
            .col(text_null("dateline"))
            .col(string_len("status", 20))
            .col(integer("version"));
        manager.create_table(timestamps(&mut bulletins).to_owned()).await?;
        manager
            .create_index(index(
                "ix_bulletins_status_published",
                "bulletins",
                &["status", "published_on", "id"],
                false,
            ))
            .await?;

        manager
            .create_table(link_table(
                "bulletin_translations",
                ("bulletin_id", "bulletins"),
                &[string_len("lang", 2), text("title"), text("summary"), text("body")],
                &["lang"],
            ))
            .await?;
        manager
            .create_table(link_table(
                "bulletin_countries",
                ("bulletin_id", "bulletins"),
                &[string_len("country", 2)],
                &["country"],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_bulletin_countries_country",
                "bulletin_countries",
                &["country", "bulletin_id"],
                false,
            ))
            .await?;
        manager
            .create_table(link_table(
                "bulletin_themes",
                ("bulletin_id", "bulletins"),
                &[string_len("theme", 40)],
                &["theme"],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_bulletin_themes_theme",
                "bulletin_themes",
                &["theme", "bulletin_id"],
                false,
            ))
            .await?;
        let mut bulletin_programs = link_table(
            "bulletin_programs",
            ("bulletin_id", "bulletins"),
            &[big_integer("program_id")],
            &["program_id"],
        );
        bulletin_programs.foreign_key(&mut foreign_key("bulletin_programs", "program_id", "programs", false));
        manager.create_table(bulletin_programs).await?;
        manager
            .create_index(index(
                "ix_bulletin_programs_program",
                "bulletin_programs",
                &["program_id", "bulletin_id"],
                false,
            ))
            .await?;
        let mut bulletin_partners = link_table(
            "bulletin_partners",
            ("bulletin_id", "bulletins"),
            &[big_integer("partner_id"), string_len("role", 20)],
            &["partner_id", "role"],
        );
        bulletin_partners.foreign_key(&mut foreign_key("bulletin_partners", "partner_id", "partners", false));
        manager.create_table(bulletin_partners).await?;
        manager
            .create_index(index(
                "ix_bulletin_partners_partner",
                "bulletin_partners",
                &["partner_id", "bulletin_id"],
                false,
            ))
            .await?;

        let mut indicators = Table::create();
        indicators
            .table("indicators")
            .if_not_exists()
            .col(big_pk_auto("id"))
            .col(string_len("code", 64).unique_key())
            .col(string_len("unit", 40))
            .col(string_len("aggregation", 20));
        manager.create_table(timestamps(&mut indicators).to_owned()).await?;
        manager
            .create_table(link_table(
                "indicator_translations",
                ("indicator_id", "indicators"),
                &[string_len("lang", 2), text("name"), text("definition")],
                &["lang"],
            ))
            .await?;
        manager
            .create_table(link_table(
                "indicator_dimensions",
                ("indicator_id", "indicators"),
                &[string_len("dimension", 64), integer("position")],
                &["dimension"],
            ))
            .await?;

        let mut observations = Table::create();
        observations
            .table("observations")
            .if_not_exists()
            .col(big_pk_auto("id"))
            .col(big_integer("indicator_id"))
            .col(double("value"))
            .col(date("period_start"))
            .col(date("period_end"))
            .col(text_null("place"))
            .col(big_integer("program_id"))
            .col(big_integer_null("partner_id"))
            .col(big_integer("source_bulletin_id"))
            .col(text_null("note"))
            .foreign_key(&mut foreign_key("observations", "indicator_id", "indicators", false))
            .foreign_key(&mut foreign_key("observations", "program_id", "programs", false))
            .foreign_key(&mut foreign_key("observations", "partner_id", "partners", false))
            .foreign_key(&mut foreign_key(
                "observations",
                "source_bulletin_id",
                "bulletins",
                false,
            ));
        manager.create_table(timestamps(&mut observations).to_owned()).await?;
        manager
            .create_index(index(
                "ix_observations_indicator_period",
                "observations",
                &["indicator_id", "period_start", "id"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_observations_source",
                "observations",
                &["source_bulletin_id"],
                false,
            ))
            .await?;
        manager
            .create_index(index("ix_observations_program", "observations", &["program_id"], false))
            .await?;
        manager
            .create_index(index("ix_observations_partner", "observations", &["partner_id"], false))
            .await?;
        manager
            .create_table(link_table(
                "observation_countries",
                ("observation_id", "observations"),
                &[string_len("country", 2)],
                &["country"],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_observation_countries_country",
                "observation_countries",
                &["country", "observation_id"],
                false,
            ))
            .await?;
        manager
            .create_table(link_table(
                "observation_disaggregations",
                ("observation_id", "observations"),
                &[string("dimension"), string("category"), double("value")],
                &["dimension", "category"],
            ))
            .await?;
        Ok(())
    }
}
