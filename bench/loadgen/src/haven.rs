//! Haven's signaling (docs/protocol.md): `join`, unmute what we publish, then answer every
//! server offer: the first (right after `joined`) has the two m-lines we publish on and every
//! live track, the later ones bring tracks as they come and go.

use anyhow::{bail, Result};
use serde_json::{json, Value};

use crate::conn::Conn;
use crate::measure::Tally;
use crate::participant::{recv_json, send_json, Adapter, Conns, Role, Shared, Ws};

pub struct Haven;

impl Adapter for Haven {
    const SUBPROTOCOL: Option<&'static str> = None;

    async fn join(ws: &mut Ws, shared: &Shared, role: Role, conns: &mut Conns) -> Result<Haven> {
        let name = format!("lg{}", role.index);
        send_json(ws, &json!({"type": "join", "room": shared.room, "name": name, "request_id": "1"})).await?;
        loop {
            let msg = recv_json(ws).await?;
            match msg["type"].as_str() {
                Some("joined") => break,
                Some("error") | Some("closed") | Some("waiting") => bail!("join refused: {msg}"),
                _ => {}
            }
        }
        send_json(ws, &json!({"type": "media_state", "audio": role.audio, "video": role.video})).await?;
        conns.publisher = Some(Conn::new(shared.bind).await?);
        Ok(Haven)
    }

    fn on_message(&mut self, msg: Value, conns: &mut Conns, tally: &mut Tally) -> Result<Vec<Value>> {
        let conn = conns.publisher.as_mut().expect("created in join");
        match msg["type"].as_str() {
            Some("offer") => {
                let sdp = conn.accept_offer(msg["sdp"].as_str().unwrap_or_default())?;
                return Ok(vec![json!({"type": "answer", "sdp": sdp})]);
            }
            Some("closed") => bail!("closed by the server: {msg}"),
            Some("error") => tally.errors.push(msg["code"].as_str().unwrap_or("?").to_string()),
            _ => {}
        }
        Ok(Vec::new())
    }

    fn keepalive(&mut self) -> Option<Value> {
        None
    }

    fn leave(&mut self) -> Option<Value> {
        Some(json!({"type": "leave"}))
    }
}
