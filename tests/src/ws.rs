//! A GraphQL WebSocket client for the tests: either protocol, one subscription per call, events read with a
//! deadline.

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The two GraphQL WebSocket protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws`, the current one (`subscribe`, `next`).
    TransportWs,
    /// `graphql-ws`, the legacy one of subscriptions-transport-ws (`start`, `data`).
    LegacyWs,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Self::TransportWs => "graphql-transport-ws",
            Self::LegacyWs => "graphql-ws",
        }
    }
}

/// An open GraphQL WebSocket.
pub struct Socket {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    protocol: Protocol,
}

/// What the server said.
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    /// A GraphQL response for a subscription or query: `{ data, errors }`.
    Payload(Value),
    /// An `error` message (an operation refused before it ran), with its payload.
    Error(Value),
    /// The socket was closed, with this code.
    Closed(Option<u16>),
    /// Nothing within the wait.
    Nothing,
}

/// Why a socket could not be opened: the HTTP status of the refused upgrade.
pub type Refused = u16;

/// Opens a socket to `base` (`http://…`) with `protocol` and `token` as a bearer token, without initialising it.
pub async fn open(base: &str, protocol: Protocol, token: Option<&str>) -> Result<Socket, Refused> {
    let url = format!("{}/graphql", base.replacen("http://", "ws://", 1));
    let mut request = url.as_str().into_client_request().expect("a valid WebSocket request");
    request
        .headers_mut()
        .insert("sec-websocket-protocol", HeaderValue::from_static(protocol.name()));
    if let Some(token) = token {
        let value = HeaderValue::from_str(&format!("Bearer {token}")).expect("a valid authorization header");
        request.headers_mut().insert("authorization", value);
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((stream, _)) => Ok(Socket { stream, protocol }),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(e) => panic!("cannot open a WebSocket to {url}: {e}"),
    }
}

/// Opens and initialises a socket, then starts `query` as operation `1`.
pub async fn subscribe(base: &str, protocol: Protocol, query: &str) -> Socket {
    let mut socket = open(base, protocol, None)
        .await
        .unwrap_or_else(|status| panic!("the upgrade was refused with {status}"));
    socket.init().await;
    socket.start("1", query).await;
    socket
}

impl Socket {
    async fn send(&mut self, message: Value) {
        self.send_text(message.to_string()).await;
    }

    /// Sends `text` as one text message.
    pub async fn send_text(&mut self, text: String) {
        self.stream
            .send(Message::Text(text.into()))
            .await
            .expect("the message is sent");
    }

    /// Sends `connection_init` and waits for the acknowledgement.
    pub async fn init(&mut self) {
        self.send(json!({ "type": "connection_init" })).await;
        loop {
            match self.message(Duration::from_secs(5)).await {
                Some(message) if message["type"] == "connection_ack" => return,
                // The legacy protocol may send keep-alives.
                Some(message) if message["type"] == "ka" => {}
                other => panic!("expected connection_ack, got {other:?}"),
            }
        }
    }

    /// Starts `query` as operation `id`.
    pub async fn start(&mut self, id: &str, query: &str) {
        let kind = match self.protocol {
            Protocol::TransportWs => "subscribe",
            Protocol::LegacyWs => "start",
        };
        self.send(json!({ "id": id, "type": kind, "payload": { "query": query } }))
            .await;
    }

    /// Stops operation `id` (`complete`, or `stop` in the legacy protocol).
    pub async fn complete(&mut self, id: &str) {
        let kind = match self.protocol {
            Protocol::TransportWs => "complete",
            Protocol::LegacyWs => "stop",
        };
        self.send(json!({ "id": id, "type": kind })).await;
    }

    /// The next JSON message, or `None` when the socket closed or nothing came within `wait`.
    async fn message(&mut self, wait: Duration) -> Option<Value> {
        match tokio::time::timeout(wait, self.stream.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => serde_json::from_str(&text).ok(),
            _ => None,
        }
    }

    /// What the server says next within `wait`, skipping keep-alives and pings.
    pub async fn hear(&mut self, wait: Duration) -> Heard {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let message = match tokio::time::timeout(left, self.stream.next()).await {
                Err(_) => return Heard::Nothing,
                Ok(None) => return Heard::Closed(None),
                Ok(Some(Err(_))) => return Heard::Closed(None),
                Ok(Some(Ok(message))) => message,
            };
            let text = match message {
                Message::Text(text) => text,
                Message::Close(frame) => return Heard::Closed(frame.map(|f| u16::from(f.code))),
                _ => continue,
            };
            let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
            match value["type"].as_str() {
                Some("next" | "data") => return Heard::Payload(value["payload"].clone()),
                Some("error") => return Heard::Error(value["payload"].clone()),
                Some("ka" | "ping" | "pong" | "complete") => {}
                other => panic!("unexpected message {other:?}: {value}"),
            }
        }
    }
}
