//! API tokens for admins: list them and revoke them. (They are created with `boletin token create`, which
//! prints the secret once.)

use crate::error::GqlResult;
use crate::scalar::DateTime;
use async_graphql::{Context, Enum, Object, SimpleObject};
use boletin_domain::auth::{ApiToken, Caller, Tokens};

/// What a token may do.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "boletin_domain::auth::Role")]
pub enum Role {
    /// Creates, edits and publishes content and figures.
    Editor,
    /// An editor who also manages tokens and reads the audit log.
    Admin,
}

/// An API token, without its secret.
#[derive(SimpleObject)]
#[graphql(name = "ApiToken")]
pub struct ApiTokenNode {
    /// The token's unique name.
    name: String,
    /// What it may do.
    role: Role,
    /// When it was created.
    created_at: DateTime,
    /// When it was revoked; null while it is valid.
    revoked_at: Option<DateTime>,
}

impl From<ApiToken> for ApiTokenNode {
    fn from(token: ApiToken) -> Self {
        Self {
            name: token.name,
            role: token.role.into(),
            created_at: DateTime(token.created_at),
            revoked_at: token.revoked_at.map(DateTime),
        }
    }
}

/// The caller of the request: anonymous unless the server authenticated a token.
pub(crate) fn caller<'c>(ctx: &'c Context<'_>) -> &'c Caller {
    static ANONYMOUS: Caller = Caller::Anonymous;
    ctx.data_opt::<Caller>().unwrap_or(&ANONYMOUS)
}

fn tokens<'c>(ctx: &'c Context<'_>) -> async_graphql::Result<&'c Tokens> {
    ctx.data::<Tokens>()
}

/// Token queries.
#[derive(Default)]
pub struct TokenQuery;

/// Token queries.
#[Object]
impl TokenQuery {
    /// Every API token, by name, with its role and whether it was revoked. Admins only.
    #[graphql(cache_control(private))]
    async fn api_tokens(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ApiTokenNode>> {
        let list = tokens(ctx)?.list(caller(ctx)).await.gql(ctx)?;
        Ok(list.into_iter().map(Into::into).collect())
    }
}

/// The result of `revokeApiToken`.
#[derive(SimpleObject)]
pub struct RevokeApiTokenPayload {
    /// The token, now revoked: it is refused from its next request on.
    token: ApiTokenNode,
}

/// Token mutations.
#[derive(Default)]
pub struct TokenMutation;

/// Token mutations.
#[Object]
impl TokenMutation {
    /// Revokes an API token by name; requests carrying it are refused from now on. Admins only.
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token's name, as shown by `apiTokens`.")] name: String,
    ) -> async_graphql::Result<RevokeApiTokenPayload> {
        let token = tokens(ctx)?.revoke(caller(ctx), &name).await.gql(ctx)?;
        Ok(RevokeApiTokenPayload { token: token.into() })
    }
}
