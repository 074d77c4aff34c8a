//! Helpers shared by the end-to-end tests: a server on port 0, HTTP calls, raw TCP, and a TCP proxy that plays
//! a PostgreSQL server going away and coming back.

pub mod ws;

use boletin::http::HttpSettings;
use boletin::{AppState, Server, open_store};
use boletin_persistence::ConnectOptions;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A server running in this process.
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The address the server listens on.
    pub addr: SocketAddr,
    /// The server's state, to attach a database later.
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Sends the shutdown signal and waits for the drain to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a server with `settings` and no database yet; attach one with `state.attach`.
pub async fn start_without_database(settings: HttpSettings) -> Running {
    let state = AppState::new(settings);
    let server = Server::bind(SocketAddr::from(([127, 0, 0, 1], 0)), state.clone())
        .await
        .expect("the server binds a free port");
    let addr = server.local_addr().expect("the server's address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(async move {
        let _ = stopped.await;
    }));
    Running {
        base: format!("http://{addr}"),
        addr,
        state,
        stop: Some(stop),
        task,
    }
}

/// Starts a server over `options` (seeding the database as `boletin serve` does) with `settings`.
pub async fn start_with(options: &ConnectOptions, settings: HttpSettings) -> Running {
    let store = open_store(options, true).await.expect("the seeded store opens");
    let running = start_without_database(settings).await;
    running.state.attach(store).await;
    running
}

/// A token secret of the right shape, distinct per `n`.
pub fn secret(n: u8) -> String {
    format!("bol_{}", &format!("{n:02}").repeat(22)[..43])
}

/// Creates the admin token `chief` and the editor token `writer` in `store`, and returns their secrets.
pub async fn admin_and_editor(store: &boletin_persistence::SqlStore) -> (String, String) {
    use boletin_domain::auth::{Role, Tokens};
    let tokens = Tokens::new(Arc::new(store.clone()));
    let (admin, editor) = (secret(1), secret(2));
    for (name, role, secret) in [("chief", Role::Admin, &admin), ("writer", Role::Editor, &editor)] {
        tokens
            .create(name, role, &boletin::http::secret_hash(secret))
            .await
            .expect("the token is created");
    }
    (admin, editor)
}

/// POSTs `{"query": query}` with `token` as a bearer token (none when `None`); returns the status and JSON body.
pub async fn call_as(base: &str, token: Option<&str>, query: &str) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query }));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// Renames program `slug` (its English name) through `base` as `editor`, from the version it has now, and
/// asserts the mutation succeeded.
pub async fn rename_program(base: &str, editor: &str, slug: &str, name: &str) {
    let (_, current) = call_as(
        base,
        Some(editor),
        &format!(r#"{{ program(slug: "{slug}", lang: EN) {{ version }} }}"#),
    )
    .await;
    let version = current["data"]["program"]["version"].as_i64().unwrap_or(0);
    let (status, body) = call_as(
        base,
        Some(editor),
        &format!(
            r#"mutation {{ updateProgram(slug: "{slug}", expectedVersion: {version}, input: {{ translations: [{{ lang: EN, name: "{name}", description: "d" }}] }}) {{ program {{ version }} }} }}"#
        ),
    )
    .await;
    assert!(status == 200 && body.get("errors").is_none(), "{body}");
}

/// POSTs `{"query": query}` and returns the status, headers and JSON body.
pub async fn post(base: &str, query: &str) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
    post_json(base, &json!({ "query": query })).await
}

/// POSTs `body` as JSON.
pub async fn post_json(base: &str, body: &Value) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(body)
        .send()
        .await
        .expect("the server answers");
    let (status, headers) = (response.status(), response.headers().clone());
    let text = response.text().await.expect("a text body");
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, headers, json)
}

/// The first error's code, or `none`.
pub fn code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("none")
        .to_owned()
}

/// Writes `request` on a new connection and reads until the server closes it or `wait` passes.
pub async fn raw(addr: SocketAddr, request: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("the server accepts a connection");
    stream.write_all(request).await.expect("the request is written");
    let mut response = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut response)).await;
    String::from_utf8_lossy(&response).into_owned()
}

/// The `host:port` of a PostgreSQL URL such as `postgres://postgres@127.0.0.1:5432/test`.
pub fn postgres_host(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let after_user = after_scheme.rsplit_once('@').map_or(after_scheme, |(_, rest)| rest);
    let host = after_user.split(['/', '?']).next().unwrap_or(after_user);
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}

/// `url` with its host and port replaced by `addr`.
pub fn with_host(url: &str, addr: SocketAddr) -> String {
    url.replacen(&postgres_host(url), &addr.to_string(), 1)
}

/// A TCP proxy in front of a real server. `down` closes every connection through it and refuses new ones (as a
/// stopped server would); `up` accepts again.
pub struct Proxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    target: String,
    state: Arc<Mutex<ProxyState>>,
}

#[derive(Default)]
struct ProxyState {
    listener: Option<JoinHandle<()>>,
    connections: Vec<JoinHandle<()>>,
}

impl Proxy {
    /// A proxy to `target` on a free port, not yet accepting.
    pub async fn new(target: String) -> Self {
        let probe = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = probe.local_addr().expect("the probe's address");
        drop(probe);
        Self {
            addr,
            target,
            state: Arc::default(),
        }
    }

    /// Starts accepting connections and forwarding them.
    pub async fn up(&self) {
        let listener = TcpListener::bind(self.addr).await.expect("the proxy's port is free");
        let (target, state) = (self.target.clone(), Arc::clone(&self.state));
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = target.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                if let Ok(mut state) = state.lock() {
                    state.connections.push(pipe);
                }
            }
        });
        if let Ok(mut state) = self.state.lock() {
            state.listener = Some(accept);
        }
    }

    /// Closes every connection and stops listening.
    pub fn down(&self) {
        if let Ok(mut state) = self.state.lock() {
            if let Some(listener) = state.listener.take() {
                listener.abort();
            }
            for connection in state.connections.drain(..) {
                connection.abort();
            }
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.down();
    }
}
