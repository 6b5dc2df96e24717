//! Haven's signaling (docs/protocol.md): `join`, unmute what we publish, then answer every
//! server offer: the first (right after `joined`) has the two m-lines we publish on and every
//! live track, the later ones bring tracks as they come and go.
//! With `--tile WxH` it reports every other participant's tile at that size (`receive
//! {tiles}`) after `joined` and again whenever someone joins or leaves (the list replaces
//! the last; the server coalesces them, the latest standing).

use std::collections::BTreeSet;

use anyhow::{bail, Result};
use serde_json::{json, Value};

use crate::conn::Conn;
use crate::measure::Tally;
use crate::participant::{recv_json, send_json, Adapter, Conns, Role, Shared, Ws};

pub struct Haven {
    /// `--tile`: the size every other participant's tile is reported at.
    tile: Option<(u32, u32)>,
    me: String,
    /// The other participants' ids, for the tile report.
    others: BTreeSet<String>,
}

impl Haven {
    /// `receive {tiles}` for everyone else at the `--tile` size, when there is one.
    fn tiles(&self) -> Option<Value> {
        let (width, height) = self.tile?;
        let tiles: Vec<Value> = self
            .others
            .iter()
            .map(|id| json!({"id": id, "width": width, "height": height, "visible": true}))
            .collect();
        Some(json!({"type": "receive", "tiles": tiles}))
    }
}

impl Adapter for Haven {
    const SUBPROTOCOL: Option<&'static str> = None;

    async fn join(ws: &mut Ws, shared: &Shared, role: Role, conns: &mut Conns) -> Result<Haven> {
        let name = format!("lg{}", role.index);
        send_json(ws, &json!({"type": "join", "room": shared.room, "name": name, "request_id": "1"})).await?;
        let joined = loop {
            let msg = recv_json(ws).await?;
            match msg["type"].as_str() {
                Some("joined") => break msg,
                Some("error") | Some("closed") | Some("waiting") => bail!("join refused: {msg}"),
                _ => {}
            }
        };
        send_json(ws, &json!({"type": "media_state", "audio": role.audio, "video": role.video})).await?;
        let mut conn = Conn::new(shared.bind).await?;
        conn.simulcast = shared.simulcast;
        conns.publisher = Some(conn);
        let me = joined["you"]["id"].as_str().unwrap_or_default().to_string();
        let others = joined["participants"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["id"].as_str())
            .filter(|id| *id != me)
            .map(str::to_string)
            .collect();
        let haven = Haven { tile: shared.tile, me, others };
        if let Some(tiles) = haven.tiles().filter(|_| !haven.others.is_empty()) {
            send_json(ws, &tiles).await?;
        }
        Ok(haven)
    }

    fn on_message(&mut self, msg: Value, conns: &mut Conns, tally: &mut Tally) -> Result<Vec<Value>> {
        let conn = conns.publisher.as_mut().expect("created in join");
        match msg["type"].as_str() {
            Some("offer") => {
                let sdp = conn.accept_offer(msg["sdp"].as_str().unwrap_or_default())?;
                return Ok(vec![json!({"type": "answer", "sdp": sdp})]);
            }
            Some("participant_joined") if self.tile.is_some() => {
                let id = msg["participant"]["id"].as_str().unwrap_or_default();
                if id != self.me && self.others.insert(id.to_string()) {
                    return Ok(self.tiles().into_iter().collect());
                }
            }
            Some("participant_left") if self.tile.is_some() => {
                if self.others.remove(msg["id"].as_str().unwrap_or_default()) {
                    return Ok(self.tiles().into_iter().collect());
                }
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
