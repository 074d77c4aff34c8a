//! boletin's hooks into async-graphql's request pipeline, as one extension.
//!
//! Four concerns hook the pipeline: error codes ([`crate::error::ErrorCodes`]), field order
//! ([`crate::order::FieldOrder`]), the limits on a query ([`crate::limits::Limits`]) and the deadline
//! ([`crate::limits::Deadline`]). They are parts of one extension rather than four because async-graphql runs
//! every registered extension's `resolve` around every field it resolves, each a boxed future, whether or not the
//! extension has anything to do there: a statistic of 2,000 points resolves some 10,000 fields, and four
//! extensions made that 40,000 futures where one makes 10,000. The order in which the parts act is the order of
//! the chain they replaced, written out here:
//! - the whole request: its errors get their codes last, whatever raised them;
//! - before parsing: the request's id and text are noted, then the limits check the text and the document;
//! - parsing: the parsed document is kept for field order;
//! - execution: the operation is noted as executed, runs under the deadline (its batch loads gated, see
//!   [`crate::batch_gate`]), and its answer is put in order;
//! - each field: the deadline counts it, yields now and then, and fails it once the deadline has passed;
//! - a subscription: every event's errors get their codes.

use crate::error::ErrorCodes;
use crate::limits::{CostBudget, Deadline, Limits, ParsedDocuments, QueryLimits};
use crate::order::FieldOrder;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest, NextRequest,
    NextResolve, NextSubscribe, ResolveInfo,
};
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, Response, ServerResult, Value, Variables};
use std::sync::Arc;
use std::time::Duration;

/// The extension: what every request is checked against.
#[derive(Default)]
pub(crate) struct Hooks {
    pub(crate) limits: QueryLimits,
    pub(crate) budget: Option<Arc<dyn CostBudget>>,
    /// How long a query or mutation may run; none means no deadline.
    pub(crate) timeout: Option<Duration>,
    /// The documents parsed lately, by text.
    pub(crate) documents: Arc<ParsedDocuments>,
}

impl ExtensionFactory for Hooks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(HooksForRequest {
            codes: ErrorCodes::new(),
            order: FieldOrder::new(),
            limits: Limits {
                limits: self.limits.clone(),
                budget: self.budget.clone(),
                documents: self.documents.clone(),
            },
            deadline: self.timeout.map(Deadline::new),
        })
    }
}

/// [`Hooks`] for one request.
struct HooksForRequest {
    codes: ErrorCodes,
    order: FieldOrder,
    limits: Limits,
    deadline: Option<Deadline>,
}

#[async_trait::async_trait]
impl Extension for HooksForRequest {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        self.codes.finish(&mut response);
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        self.codes.finish_each(next.run(ctx, stream))
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        self.codes.prepare(ctx, &request);
        self.limits.prepare(ctx, &mut request)?;
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        self.order.parsed(&document);
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        Limits::executing(ctx, operation_name);
        let run = crate::batch_gate::Gated::new(next.run(ctx, operation_name));
        let mut response = match &self.deadline {
            Some(deadline) => deadline.cut_off(run).await,
            None => run.await,
        };
        self.order.finish(&mut response, operation_name);
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if let Some(deadline) = &self.deadline {
            deadline.before_field().await?;
        }
        next.run(ctx, info).await
    }
}
