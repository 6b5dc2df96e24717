//! Janus VideoRoom's signaling over its WebSocket API (janus-protocol): a session with two
//! handles, a publisher (our offer, `configure`) and a multistream subscriber (Janus offers
//! each feed as it appears, we answer with `start`), as janus.js does for a browser.

use std::collections::HashSet;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::conn::Conn;
use crate::measure::Tally;
use crate::participant::{recv_json, send_json, Adapter, Conns, Role, Shared, Ws};

pub struct Janus {
    session: u64,
    publisher_handle: u64,
    subscriber_handle: u64,
    room: Value,
    own_feed: Value,
    /// Feeds subscribed or asked for; feeds waiting for the in-flight request to finish.
    known_feeds: HashSet<String>,
    queued_feeds: Vec<Value>,
    subscription_in_flight: bool,
    subscriber_joined: bool,
    transactions: u64,
}

impl Janus {
    fn transaction(&mut self) -> String {
        self.transactions += 1;
        format!("t{}", self.transactions)
    }

    fn message(&mut self, handle: u64, body: Value, jsep: Option<Value>) -> Value {
        let mut msg = json!({
            "janus": "message", "session_id": self.session, "handle_id": handle,
            "transaction": self.transaction(), "body": body,
        });
        if let Some(jsep) = jsep {
            msg["jsep"] = jsep;
        }
        msg
    }

    fn end_of_candidates(&mut self, handle: u64) -> Value {
        json!({"janus": "trickle", "session_id": self.session, "handle_id": handle,
               "transaction": self.transaction(), "candidate": {"completed": true}})
    }

    /// Notes the feeds in a `publishers` list and subscribes to new ones.
    fn feeds_announced(&mut self, publishers: &Value, out: &mut Vec<Value>) {
        for feed in publishers.as_array().into_iter().flatten() {
            let id = feed["id"].clone();
            if id != self.own_feed && self.known_feeds.insert(id.to_string()) {
                self.queued_feeds.push(id);
            }
        }
        self.subscribe_queued(out);
    }

    /// One subscription request in flight at a time: Janus answers each with a new offer.
    fn subscribe_queued(&mut self, out: &mut Vec<Value>) {
        if self.subscription_in_flight || self.queued_feeds.is_empty() {
            return;
        }
        let streams: Vec<Value> = self.queued_feeds.drain(..).map(|feed| json!({"feed": feed})).collect();
        let body = match self.subscriber_joined {
            false => json!({"request": "join", "ptype": "subscriber", "room": self.room, "streams": streams}),
            true => json!({"request": "subscribe", "streams": streams}),
        };
        let handle = self.subscriber_handle;
        out.push(self.message(handle, body, None));
        self.subscription_in_flight = true;
    }
}

/// Sends a request and waits for its `success` reply, returning `data.id`.
async fn request_id(ws: &mut Ws, request: Value) -> Result<u64> {
    let transaction = request["transaction"].clone();
    send_json(ws, &request).await?;
    loop {
        let reply = recv_json(ws).await?;
        if reply["transaction"] != transaction {
            continue;
        }
        match reply["janus"].as_str() {
            Some("success") => return reply["data"]["id"].as_u64().context("an id in the reply"),
            Some("ack") => continue,
            _ => bail!("Janus refused {}: {reply}", request["janus"]),
        }
    }
}

impl Adapter for Janus {
    const SUBPROTOCOL: Option<&'static str> = Some("janus-protocol");

    async fn join(ws: &mut Ws, shared: &Shared, role: Role, conns: &mut Conns) -> Result<Janus> {
        let session = request_id(ws, json!({"janus": "create", "transaction": "c"})).await?;
        let attach = |t: &str| {
            json!({"janus": "attach", "session_id": session, "plugin": "janus.plugin.videoroom", "transaction": t})
        };
        let publisher_handle = request_id(ws, attach("a1")).await?;
        let subscriber_handle = request_id(ws, attach("a2")).await?;
        let room: Value = shared.room.parse::<u64>().map_or_else(|_| json!(shared.room), |n| json!(n));
        let mut janus = Janus {
            session,
            publisher_handle,
            subscriber_handle,
            room: room.clone(),
            own_feed: Value::Null,
            known_feeds: HashSet::new(),
            queued_feeds: Vec::new(),
            subscription_in_flight: false,
            subscriber_joined: false,
            transactions: 0,
        };
        let display = format!("lg{}", role.index);
        let join = janus.message(publisher_handle, json!({"request": "join", "ptype": "publisher", "room": room, "display": display}), None);
        send_json(ws, &join).await?;
        let publishers = loop {
            let msg = recv_json(ws).await?;
            let data = &msg["plugindata"]["data"];
            if data["videoroom"] == "joined" {
                janus.own_feed = data["id"].clone();
                break data["publishers"].clone();
            }
            if msg["janus"] == "error" || data["error_code"].is_number() {
                bail!("Janus join refused: {msg}");
            }
        };

        let mut out = Vec::new();
        if role.audio || role.video {
            let mut conn = Conn::new(shared.bind).await?;
            let sdp = conn.offer(role.audio, role.video)?;
            conns.publisher = Some(conn);
            let body = json!({"request": "configure", "audio": role.audio, "video": role.video});
            out.push(janus.message(publisher_handle, body, Some(json!({"type": "offer", "sdp": sdp}))));
            out.push(janus.end_of_candidates(publisher_handle));
        }
        conns.subscriber = Some(Conn::new(shared.bind).await?);
        janus.feeds_announced(&publishers, &mut out);
        for msg in out {
            send_json(ws, &msg).await?;
        }
        Ok(janus)
    }

    fn on_message(&mut self, msg: Value, conns: &mut Conns, tally: &mut Tally) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let sender = msg["sender"].as_u64();
        match msg["janus"].as_str() {
            Some("event") => {
                let data = &msg["plugindata"]["data"];
                if let Some(code) = data["error_code"].as_u64() {
                    tally.errors.push(format!("janus {code}: {}", data["error"]));
                    if sender == Some(self.subscriber_handle) {
                        self.subscription_in_flight = false;
                    }
                }
                if sender == Some(self.publisher_handle) {
                    if msg["jsep"]["type"] == "answer" {
                        let conn = conns.publisher.as_mut().context("an answer without an offer")?;
                        conn.accept_answer(msg["jsep"]["sdp"].as_str().unwrap_or_default())?;
                    }
                    if data["publishers"].is_array() {
                        self.feeds_announced(&data["publishers"], &mut out);
                    }
                } else if sender == Some(self.subscriber_handle) && msg["jsep"]["type"] == "offer" {
                    let conn = conns.subscriber.as_mut().expect("created in join");
                    let sdp = conn.accept_offer(msg["jsep"]["sdp"].as_str().unwrap_or_default())?;
                    let handle = self.subscriber_handle;
                    let jsep = json!({"type": "answer", "sdp": sdp});
                    out.push(self.message(handle, json!({"request": "start"}), Some(jsep)));
                    out.push(self.end_of_candidates(handle));
                    self.subscriber_joined = true;
                    self.subscription_in_flight = false;
                    self.subscribe_queued(&mut out);
                } else if sender == Some(self.subscriber_handle) && data["videoroom"] == "updated" {
                    // Nothing to renegotiate: the request is over all the same.
                    self.subscription_in_flight = false;
                    self.subscribe_queued(&mut out);
                }
            }
            Some("trickle") => {
                let line = msg["candidate"]["candidate"].as_str().unwrap_or_default();
                let conn = match sender {
                    Some(h) if h == self.publisher_handle => conns.publisher.as_mut(),
                    _ => conns.subscriber.as_mut(),
                };
                if let Some(conn) = conn {
                    conn.add_remote_candidate(line.trim_start_matches("a="));
                }
            }
            Some("error") => tally.errors.push(format!("janus: {}", msg["error"])),
            _ => {}
        }
        Ok(out)
    }

    fn keepalive(&mut self) -> Option<Value> {
        Some(json!({"janus": "keepalive", "session_id": self.session, "transaction": self.transaction()}))
    }

    fn leave(&mut self) -> Option<Value> {
        Some(json!({"janus": "destroy", "session_id": self.session, "transaction": self.transaction()}))
    }
}
