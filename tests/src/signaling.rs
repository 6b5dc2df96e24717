//! A signaling client written from `docs/protocol.md`: JSON text frames over one WebSocket.
//! It must not import `haven::protocol`; agreeing with the document is the point.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::WAIT;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
pub type WsSink = SplitSink<Ws, Message>;
pub type WsStream = SplitStream<Ws>;

/// What the socket produced: a JSON message, or the end of the session.
#[derive(Debug, Clone)]
pub enum Incoming {
    Message(Value),
    /// The server closed the socket (or it failed); the text says how.
    Ended(String),
}

pub struct SignalingClient {
    sink: WsSink,
    stream: WsStream,
    /// The `hello` the server sent on connect.
    pub hello: Value,
}

impl SignalingClient {
    /// Connects to `ws://ADDR/ws` and checks that `hello` (protocol version 1) comes first.
    pub async fn connect(http_addr: SocketAddr) -> Result<Self> {
        let url = format!("ws://{http_addr}/ws");
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url.as_str()))
            .await
            .context("WebSocket connect timed out")?
            .with_context(|| format!("WebSocket connect to {url}"))?;
        Self::greeted(ws).await
    }

    /// Like [`SignalingClient::connect`], as a reverse proxy would: with an `X-Forwarded-For`
    /// header naming the browser it forwards for.
    pub async fn connect_forwarded_for(http_addr: SocketAddr, forwarded_for: &str) -> Result<Self> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("ws://{http_addr}/ws");
        let mut request = url.as_str().into_client_request()?;
        request.headers_mut().insert("x-forwarded-for", forwarded_for.parse()?);
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .context("WebSocket connect timed out")?
            .with_context(|| format!("WebSocket connect to {url}"))?;
        Self::greeted(ws).await
    }

    /// Like [`SignalingClient::connect`] from another local address (say 127.0.0.2), so the
    /// server sees a different peer address than the other test clients'.
    pub async fn connect_from(http_addr: SocketAddr, local: IpAddr) -> Result<Self> {
        let url = format!("ws://{http_addr}/ws");
        let socket = TcpSocket::new_v4()?;
        socket
            .bind(SocketAddr::new(local, 0))
            .with_context(|| format!("binding {local}"))?;
        let handshake = async {
            let tcp = socket.connect(http_addr).await?;
            anyhow::Ok(
                tokio_tungstenite::client_async(url.as_str(), MaybeTlsStream::Plain(tcp)).await?,
            )
        };
        let (ws, _) = tokio::time::timeout(WAIT, handshake)
            .await
            .context("WebSocket connect timed out")?
            .with_context(|| format!("WebSocket connect to {url} from {local}"))?;
        Self::greeted(ws).await
    }

    async fn greeted(ws: Ws) -> Result<Self> {
        let (sink, stream) = ws.split();
        let mut client = SignalingClient {
            sink,
            stream,
            hello: Value::Null,
        };
        let hello = client.recv().await.context("waiting for hello")?;
        if hello["type"] != "hello" || hello["version"] != 1 || !hello["server"].is_string() {
            bail!("the first message is not a version 1 hello: {hello}");
        }
        client.hello = hello;
        Ok(client)
    }

    pub async fn send(&mut self, message: &Value) -> Result<()> {
        self.send_raw(&message.to_string()).await
    }

    /// Sends any text, valid JSON or not.
    pub async fn send_raw(&mut self, text: &str) -> Result<()> {
        self.sink
            .send(Message::text(text))
            .await
            .context("WebSocket send")
    }

    pub async fn join(&mut self, room: &str, name: &str, request_id: &str) -> Result<()> {
        self.join_with_fields(room, name, request_id, &json!({}))
            .await
    }

    /// `join` with extra fields, such as `{"key": …}` or `{"token": …}`.
    pub async fn join_with_fields(
        &mut self,
        room: &str,
        name: &str,
        request_id: &str,
        fields: &Value,
    ) -> Result<()> {
        // Accepting the guidelines is what the join screen does; rooms without any ignore it.
        let mut join = json!({
            "type": "join", "room": room, "name": name, "accepted_guidelines": true, "request_id": request_id
        });
        if let Some(fields) = fields.as_object() {
            for (k, v) in fields {
                join[k] = v.clone();
            }
        }
        self.send(&join).await
    }

    /// Sends `join` (with extra `fields`) and returns the first answer to it: `joined`,
    /// `waiting`, `error` or `closed`.
    pub async fn try_join(&mut self, room: &str, name: &str, fields: Value) -> Result<Value> {
        self.join_with_fields(room, name, "j", &fields).await?;
        let (answer, _) = self
            .recv_type_any(&["joined", "waiting", "error", "closed"])
            .await
            .with_context(|| format!("{name} joining"))?;
        Ok(answer)
    }

    /// The next JSON message, waiting at most [`WAIT`]. A closed socket is an error.
    pub async fn recv(&mut self) -> Result<Value> {
        match self.recv_within(WAIT).await? {
            Some(Incoming::Message(v)) => Ok(v),
            Some(Incoming::Ended(why)) => bail!("socket ended: {why}"),
            None => bail!("no message within {WAIT:?}"),
        }
    }

    /// The next message or end of session, or `None` if nothing arrives within `timeout`.
    pub async fn recv_within(&mut self, timeout: Duration) -> Result<Option<Incoming>> {
        match tokio::time::timeout(timeout, next_incoming(&mut self.stream)).await {
            Ok(incoming) => Ok(Some(incoming?)),
            Err(_) => Ok(None),
        }
    }

    /// Reads until a message of type `ty` arrives, returning it and everything skipped.
    pub async fn recv_type(&mut self, ty: &str) -> Result<(Value, Vec<Value>)> {
        self.recv_type_any(&[ty]).await
    }

    /// Reads until a message of one of the `types` arrives, returning it and everything skipped.
    pub async fn recv_type_any(&mut self, types: &[&str]) -> Result<(Value, Vec<Value>)> {
        let mut skipped = Vec::new();
        loop {
            let message = self
                .recv()
                .await
                .with_context(|| format!("waiting for one of {types:?}; before it came {skipped:?}"))?;
            if types.iter().any(|ty| message["type"] == *ty) {
                return Ok((message, skipped));
            }
            skipped.push(message);
        }
    }

    pub fn into_parts(self) -> (WsSink, WsStream) {
        (self.sink, self.stream)
    }
}

/// Reads the next text frame as JSON. Non-JSON text from the server is an error: the protocol
/// says every frame is a JSON object.
pub async fn next_incoming(stream: &mut WsStream) -> Result<Incoming> {
    loop {
        match stream.next().await {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(text.as_str())
                    .with_context(|| format!("server sent non-JSON text: {}", text.as_str()))?;
                if !value["type"].is_string() {
                    bail!("server message without a string `type`: {value}");
                }
                return Ok(Incoming::Message(value));
            }
            Some(Ok(Message::Binary(_))) => bail!("server sent a binary frame"),
            Some(Ok(Message::Close(frame))) => {
                return Ok(Incoming::Ended(format!("close frame {frame:?}")))
            }
            Some(Ok(_)) => continue, // ping, pong, raw frames
            Some(Err(e)) => return Ok(Incoming::Ended(format!("error {e}"))),
            None => return Ok(Incoming::Ended("stream ended".into())),
        }
    }
}
