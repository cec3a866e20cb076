//! PostgreSQL row-level security (nothing on SQLite, where the queries' tenant filters are all
//! the scoping).
//!
//! - The role `switchboard_app`, which the application connects as (its login and password are
//!   the deployment's business): it may read and write the tables but is neither their owner
//!   nor a superuser, so the policies apply to it.
//! - On every table with a `tenant_id` (and on `tenants` by `id`), the policy
//!   `tenant_isolation`: a row is visible and writable only while `app.current_tenant_id`
//!   (set by `Store::scoped`) names its tenant. Without it, nothing is.
//! - The edges that *find* a tenant from a credential (an API key, a dialled number, a refresh
//!   token, a login email, a slug) are `SECURITY DEFINER` functions owned by the migrating role:
//!   they bypass the policies and return only tenant ids.

use sea_orm_migration::{prelude::*, sea_orm::ConnectionTrait};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const CREATE_ROLE: &str = r#"
DO $$
BEGIN
  CREATE ROLE switchboard_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
EXCEPTION
  -- Roles are cluster-wide: another database of the cluster made it first, or is making it now.
  WHEN duplicate_object OR unique_violation THEN NULL;
END
$$"#;

const GRANTS: &str = r#"
GRANT USAGE ON SCHEMA public TO switchboard_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO switchboard_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO switchboard_app;
REVOKE ALL ON TABLE seaql_migrations FROM switchboard_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO switchboard_app;
"#;

const REVOKES: &str = r#"
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM switchboard_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM switchboard_app;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM switchboard_app;
REVOKE USAGE ON SCHEMA public FROM switchboard_app;
"#;

/// The tenant a session is scoped to; empty or unset is no tenant.
const CURRENT_TENANT: &str = "NULLIF(current_setting('app.current_tenant_id', true), '')::uuid";

/// Every table with a `tenant_id` column: the policy covers tables added by any earlier
/// migration without a list to forget one from.
const TENANT_TABLES: &str = "SELECT table_name::text FROM information_schema.columns \
     WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY table_name";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(CREATE_ROLE).await?;
        db.execute_unprepared(GRANTS).await?;
        for (table, column) in tenant_tables(manager).await? {
            db.execute_unprepared(&isolation_policy(&table, &column))
                .await?;
        }
        for (signature, returns, body) in edge_functions(manager).await? {
            db.execute_unprepared(&format!(
                "CREATE FUNCTION {signature} RETURNS {returns}
                   LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
                   AS $fn$ {body} $fn$;
                 REVOKE ALL ON FUNCTION {signature} FROM PUBLIC;
                 GRANT EXECUTE ON FUNCTION {signature} TO switchboard_app;"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (signature, _, _) in edge_functions(manager).await? {
            db.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {signature}"))
                .await?;
        }
        for (table, _) in tenant_tables(manager).await? {
            db.execute_unprepared(&format!(
                "DROP POLICY IF EXISTS tenant_isolation ON {table};
                 ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;"
            ))
            .await?;
        }
        // The role stays: it is the cluster's, and other databases may use it.
        db.execute_unprepared(REVOKES).await?;
        Ok(())
    }
}

/// The `tenant_isolation` policy on `table` (a quoted name), keyed by `column`.
fn isolation_policy(table: &str, column: &str) -> String {
    format!(
        "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
         CREATE POLICY tenant_isolation ON {table}
           USING ({column} = {CURRENT_TENANT})
           WITH CHECK ({column} = {CURRENT_TENANT});"
    )
}

/// For migrations after this one: puts each new tenant-owned table (by `tenant_id`) behind
/// the same policy (nothing on SQLite). Grants come from the default privileges set here.
pub(crate) async fn isolate_new_tables(
    manager: &SchemaManager<'_>,
    tables: &[&str],
) -> Result<(), DbErr> {
    if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(());
    }
    for table in tables {
        manager
            .get_connection()
            .execute_unprepared(&isolation_policy(&format!("\"{table}\""), "tenant_id"))
            .await?;
    }
    Ok(())
}

/// Undoes [`isolate_new_tables`] (before the tables are dropped).
pub(crate) async fn release_new_tables(
    manager: &SchemaManager<'_>,
    tables: &[&str],
) -> Result<(), DbErr> {
    if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(());
    }
    for table in tables {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "DROP POLICY IF EXISTS tenant_isolation ON \"{table}\";"
            ))
            .await?;
    }
    Ok(())
}

/// `(table, tenant column)` of every tenant-owned table, `tenants` itself first.
async fn tenant_tables(manager: &SchemaManager<'_>) -> Result<Vec<(String, String)>, DbErr> {
    let rows = manager
        .get_connection()
        .query_all_raw(sea_orm::Statement::from_string(
            manager.get_database_backend(),
            TENANT_TABLES,
        ))
        .await?;
    let mut tables = vec![("tenants".to_owned(), "id".to_owned())];
    for row in rows {
        let table: String = row.try_get("", "table_name")?;
        tables.push((format!("\"{table}\""), "tenant_id".to_owned()));
    }
    Ok(tables)
}

/// `(signature, return type, SQL body)` of the edge functions.
async fn edge_functions(
    _manager: &SchemaManager<'_>,
) -> Result<Vec<(&'static str, &'static str, &'static str)>, DbErr> {
    // A released number is nobody's: it routes nowhere and anyone may buy it again.
    let number =
        "SELECT tenant_id FROM phone_numbers WHERE e164 = $1 AND released_at IS NULL LIMIT 1";
    Ok(vec![
        (
            "switchboard_api_key_tenant(key_hash text)",
            "uuid",
            "SELECT tenant_id FROM api_keys WHERE api_keys.key_hash = $1 AND revoked_at IS NULL",
        ),
        ("switchboard_number_tenant(e164 text)", "uuid", number),
        (
            "switchboard_refresh_token_tenant(token_hash text)",
            "uuid",
            "SELECT tenant_id FROM refresh_tokens WHERE refresh_tokens.token_hash = $1",
        ),
        (
            "switchboard_tenants_for_email(email text)",
            "SETOF uuid",
            "SELECT tenant_id FROM users WHERE users.email = lower($1) AND status = 'active'",
        ),
        (
            "switchboard_tenant_by_slug(slug text)",
            "uuid",
            "SELECT id FROM tenants WHERE tenants.slug = $1",
        ),
        (
            "switchboard_tenant_ids()",
            "SETOF uuid",
            "SELECT id FROM tenants ORDER BY created_at, id",
        ),
    ])
}
