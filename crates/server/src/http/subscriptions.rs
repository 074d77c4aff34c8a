//! `/graphql` over a WebSocket: subscriptions (and queries) with the `graphql-transport-ws` protocol, or the
//! legacy `graphql-ws` one, on the same path that serves queries over HTTP.
//!
//! The upgrade request is authenticated like any other (a bad bearer token gets 401 before the upgrade), but the
//! socket serves only what the public sees, whoever opened it; the client's key for the rate limit and a request
//! id are set once for the connection. Open sockets
//! are capped (`--max-websockets`, 503 beyond it); a socket that does not send `connection_init` in time is
//! closed with 4408, as the protocol says; on shutdown every socket is closed with 1001 ("going away"), so the
//! drain never waits on subscribers.

use super::refusal::Refusal;
use crate::AppState;
use async_graphql::Data;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocket as Protocol, WebSocketProtocols, WsMessage};
use axum::extract::FromRequestParts;
use axum::extract::Request;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use boletin_domain::auth::Caller;
use boletin_graphql::{ClientKey, RequestId, Transport};
use futures::{SinkExt as _, StreamExt as _};
use std::time::Duration;

/// The close code for a server going away.
const GOING_AWAY: u16 = 1001;
/// The close code `graphql-transport-ws` gives a client that did not initialise in time.
const INIT_TIMEOUT: u16 = 4408;
/// The close code `graphql-transport-ws` gives a client that reuses the id of an operation still running.
const DUPLICATE_ID: u16 = 4409;

/// Whether `headers` ask to upgrade the connection to a WebSocket.
pub(super) fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The first GraphQL protocol the client offers in `Sec-WebSocket-Protocol`.
fn protocol(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|p| p.trim().parse().ok())
}

/// Answers an upgrade request on `/graphql`: 101 and a GraphQL WebSocket, or a refusal.
pub(super) async fn upgrade(state: AppState, request: Request, request_id: String, client: String) -> Response {
    let Some(schema) = state.schema().cloned() else {
        return Refusal::starting().into_response();
    };
    // A bad token is refused as on any request; a good one grants nothing here. A socket outlives the checks
    // of a single request (a token revoked meanwhile would go on working), so it serves only what the public
    // sees: mutations are refused on it, and its reads are anonymous.
    if let Err(refusal) = super::auth::caller(&state, request.headers()).await {
        return refusal.into_response();
    }
    let (mut parts, _body) = request.into_parts();
    let Some(protocol) = protocol(&parts.headers) else {
        return Refusal::bad_request(
            "name a GraphQL WebSocket protocol in Sec-WebSocket-Protocol: graphql-transport-ws or graphql-ws",
        )
        .into_response();
    };
    let socket = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(socket) => socket,
        Err(rejection) => {
            return Refusal::bad_request(format!("not a WebSocket upgrade: {}", rejection.body_text())).into_response();
        }
    };
    let Some(permit) = state.websocket_slot() else {
        tracing::warn!(request_id, "refused a WebSocket: too many are open");
        return Refusal::too_many_websockets(state.settings().max_websockets).into_response();
    };
    let settings = state.settings();
    let (init_timeout, max_message) = (settings.websocket_init_timeout, settings.max_body_bytes);
    let limits = SocketLimits {
        init_timeout,
        max_operations: settings.max_subscriptions_per_socket,
        max_response_bytes: settings.max_response_bytes,
    };
    let mut data = Data::default();
    data.insert(Caller::Anonymous);
    data.insert(ClientKey(client));
    data.insert(RequestId(request_id.clone()));
    data.insert(Transport::WebSocket);
    let closing = state.closing();
    socket
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(max_message)
        .on_upgrade(move |socket| async move {
            tracing::info!(
                request_id,
                protocol = protocol.sec_websocket_protocol(),
                "a WebSocket opened"
            );
            serve(socket, schema, protocol, data, limits, closing).await;
            tracing::info!(request_id, "a WebSocket closed");
            drop(permit);
        })
}

/// What one socket may do.
struct SocketLimits {
    /// How long the client may take to send `connection_init`.
    init_timeout: Duration,
    /// The most operations running at once.
    max_operations: usize,
    /// The largest payload of one result message.
    max_response_bytes: usize,
}

/// Something the socket's loop must do besides relaying async-graphql's messages.
enum Control {
    /// Send this text message.
    Send(String),
    /// Close the socket with this code and reason.
    Close(u16, String),
}

/// The operation ids running on one socket, kept from the messages that pass both ways, so that a reused id
/// closes the socket (4409, as `graphql-transport-ws` says; async-graphql would silently replace the first
/// operation) and operations beyond the cap are refused one by one.
struct Operations {
    protocol: WebSocketProtocols,
    running: std::collections::HashSet<String>,
    max: usize,
    control: tokio::sync::mpsc::UnboundedSender<Control>,
}

/// The `type` and `id` of a protocol message, the only parts read here.
#[derive(serde::Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
}

impl Operations {
    /// Whether the client's message may go on to async-graphql.
    fn admit(&mut self, data: &[u8]) -> bool {
        let Ok(Envelope { kind, id: Some(id) }) = serde_json::from_slice::<Envelope>(data) else {
            return true;
        };
        match kind.as_str() {
            "subscribe" | "start" => {
                if self.running.contains(&id) {
                    let _ = self.control.send(Control::Close(
                        DUPLICATE_ID,
                        format!("Subscriber for {id} already exists"),
                    ));
                    return false;
                }
                if self.running.len() >= self.max {
                    let message = format!(
                        "at most {} operations may run at once on one WebSocket; complete one first",
                        self.max
                    );
                    let _ = self
                        .control
                        .send(Control::Send(self.error(&id, "TOO_MANY_SUBSCRIPTIONS", &message)));
                    return false;
                }
                self.running.insert(id);
            }
            "complete" | "stop" => {
                self.running.remove(&id);
            }
            _ => {}
        }
        true
    }

    /// Notes the server's message: an operation that completed or failed no longer runs.
    fn sent(&mut self, text: &str) {
        if let Ok(Envelope { kind, id: Some(id) }) = serde_json::from_str::<Envelope>(text)
            && matches!(kind.as_str(), "complete" | "error")
        {
            self.running.remove(&id);
        }
    }

    /// An `error` message for the operation `id`, in the socket's protocol.
    fn error(&self, id: &str, code: &str, message: &str) -> String {
        let error = serde_json::json!({ "message": message, "extensions": { "code": code } });
        let payload = match self.protocol {
            WebSocketProtocols::GraphQLWS => serde_json::json!([error]),
            _ => error,
        };
        serde_json::json!({ "id": id, "type": "error", "payload": payload }).to_string()
    }
}

/// `text` with its result replaced by a RESPONSE_TOO_LARGE error when it is larger than `max` bytes.
fn bounded(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let Ok(mut message) = serde_json::from_str::<serde_json::Value>(&text) else {
        return text;
    };
    tracing::warn!(
        bytes = text.len(),
        limit = max,
        "a WebSocket result was too large to send"
    );
    message["payload"] = serde_json::json!({
        "data": null,
        "errors": [{
            "message": format!("the answer would be {} bytes; the limit is {max} (ask for fewer records or fields)", text.len()),
            "extensions": { "code": "RESPONSE_TOO_LARGE" },
        }],
    });
    message.to_string()
}

/// Runs one socket until the client leaves, the protocol closes it, or the server shuts down.
async fn serve(
    socket: WebSocket,
    schema: boletin_graphql::BoletinSchema,
    protocol: WebSocketProtocols,
    data: Data,
    limits: SocketLimits,
    mut closing: tokio::sync::watch::Receiver<bool>,
) {
    let (mut sink, incoming) = socket.split();
    let (initialised, mut init_heard) = tokio::sync::oneshot::channel::<()>();
    let (control, mut controls) = tokio::sync::mpsc::unbounded_channel();
    let operations = std::sync::Arc::new(std::sync::Mutex::new(Operations {
        protocol,
        running: std::collections::HashSet::new(),
        max: limits.max_operations,
        control,
    }));
    let admitting = operations.clone();
    let input = incoming
        .take_while(|message| futures::future::ready(message.is_ok()))
        .filter_map(move |message| {
            let data = match message {
                Ok(message @ (Message::Text(_) | Message::Binary(_))) => Some(message.into_data()),
                _ => None,
            };
            let admitted = data.filter(|data| admitting.lock().is_ok_and(|mut ops| ops.admit(data)));
            futures::future::ready(admitted)
        });
    let mut output = Protocol::new(schema, input, protocol)
        .connection_data(data)
        .on_connection_init(move |_payload| async move {
            let _ = initialised.send(());
            Ok(Data::default())
        });
    let deadline = tokio::time::sleep(limits.init_timeout);
    let shutdown = async move {
        // Ends when a shutdown starts (or the state is gone); the guard `wait_for` returns is dropped here.
        let _ = closing.wait_for(|closing| *closing).await.is_ok();
    };
    tokio::pin!(deadline, shutdown);
    let mut waiting_for_init = true;
    let close = loop {
        tokio::select! {
            message = output.next() => match message {
                Some(WsMessage::Text(text)) => {
                    if let Ok(mut ops) = operations.lock() {
                        ops.sent(&text);
                    }
                    let text = bounded(text, limits.max_response_bytes);
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Some(WsMessage::Close(code, reason)) => break Some((code, reason)),
                None => break None,
            },
            Some(control) = controls.recv() => match control {
                Control::Send(text) => {
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Control::Close(code, reason) => break Some((code, reason)),
            },
            _ = &mut init_heard, if waiting_for_init => waiting_for_init = false,
            () = &mut deadline, if waiting_for_init => {
                break Some((INIT_TIMEOUT, "Connection initialisation timeout".to_owned()));
            }
            () = &mut shutdown => {
                break Some((GOING_AWAY, "the server is shutting down".to_owned()));
            }
        }
    };
    if let Some((code, reason)) = close {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }
    let _ = sink.close().await;
}
