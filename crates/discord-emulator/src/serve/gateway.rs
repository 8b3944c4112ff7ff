//! The Gateway: a WebSocket on its own port, as `gateway.discord.gg` is
//! its own host. HELLO, IDENTIFY (token and intents checked), heartbeats
//! and their ACKs, READY with the application, sequence numbers, RESUME
//! with the events missed replayed, RECONNECT on demand, and INVALID
//! SESSION for a session it does not know. Interactions are dispatched as
//! `INTERACTION_CREATE` to a connected session.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use discord_api::interactions::gateway::{self as gw, close, op};
use discord_api::{Snowflake, User};

/// Events a session keeps for a RESUME.
const REPLAY: usize = 1000;

/// What the Gateway needs to know of the application.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// The only token accepted (`None`: any).
    pub token: Option<String>,
    pub bot: User,
    pub guild_id: Snowflake,
    /// Privileged intents the application may ask for.
    pub allowed_privileged: u64,
    pub app_flags: u64,
}

#[derive(Debug)]
struct Session {
    /// The connection's outbox, while one is attached.
    outbox: Option<mpsc::UnboundedSender<Frame>>,
    seq: u64,
    sent: Vec<(u64, String)>,
}

/// The Gateway's sessions and where it listens.
#[derive(Debug)]
pub struct Gateway {
    pub addr: SocketAddr,
    config: GatewayConfig,
    sessions: Mutex<HashMap<String, Session>>,
    next: Mutex<u64>,
}

impl Gateway {
    /// Listen on `ip`:0 and accept connections in the background.
    pub async fn start(
        ip: std::net::IpAddr,
        config: GatewayConfig,
    ) -> std::io::Result<Arc<Gateway>> {
        let listener = TcpListener::bind((ip, 0)).await?;
        let gateway = Arc::new(Gateway {
            addr: listener.local_addr()?,
            config,
            sessions: Mutex::default(),
            next: Mutex::new(0),
        });
        let g = Arc::clone(&gateway);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(Arc::clone(&g).connection(stream));
            }
        });
        Ok(gateway)
    }

    /// The URL `GET /gateway` answers.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sessions with a connection attached.
    pub fn connected(&self) -> usize {
        self.lock().values().filter(|s| s.outbox.is_some()).count()
    }

    /// Send a dispatch to one connected session; false if none is.
    pub fn dispatch(&self, event: &str, d: Value) -> bool {
        let mut sessions = self.lock();
        let Some(s) = sessions.values_mut().find(|s| s.outbox.is_some()) else {
            return false;
        };
        send_dispatch(s, event, d)
    }

    /// Ask every connected session to reconnect (op 7), as Discord does
    /// when it moves a session: the client RESUMEs.
    pub fn reconnect_all(&self) -> usize {
        let mut n = 0;
        for s in self.lock().values_mut() {
            if let Some(out) = s.outbox.take() {
                let _ = out.send(text(&json!({"op": op::RECONNECT, "d": null})));
                let _ = out.send(Frame::Close(Some(closing(4000, "reconnect"))));
                n += 1;
            }
        }
        n
    }

    async fn connection(self: Arc<Self>, stream: TcpStream) {
        let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
            return;
        };
        let (mut sink, mut source) = ws.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Frame>();
        tokio::spawn(async move {
            while let Some(frame) = rx.recv().await {
                let last = matches!(frame, Frame::Close(_));
                if sink.send(frame).await.is_err() || last {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let hello =
            json!({"op": op::HELLO, "d": {"heartbeat_interval": gw::HEARTBEAT_INTERVAL_MS}});
        let _ = tx.send(text(&hello));
        let mut session: Option<String> = None;
        // A client that stops heartbeating is a zombie: Discord closes it.
        let patience = std::time::Duration::from_millis(gw::HEARTBEAT_INTERVAL_MS * 3 / 2);
        loop {
            let frame = match tokio::time::timeout(patience, source.next()).await {
                Ok(Some(Ok(frame))) => frame,
                Ok(_) => break,
                Err(_) => {
                    let _ = tx.send(Frame::Close(Some(closing(
                        close::SESSION_TIMED_OUT,
                        "Session timed out",
                    ))));
                    break;
                }
            };
            let payload = match frame {
                Frame::Text(t) => t,
                Frame::Close(_) => break,
                _ => continue,
            };
            let Ok(msg) = serde_json::from_str::<Value>(&payload) else {
                let _ = tx.send(Frame::Close(Some(closing(
                    close::DECODE_ERROR,
                    "Decode error",
                ))));
                break;
            };
            match self.handle(&msg, &tx, &mut session) {
                Ok(()) => {}
                Err((code, why)) => {
                    let _ = tx.send(Frame::Close(Some(closing(code, why))));
                    break;
                }
            }
        }
        if let Some(id) = session
            && let Some(s) = self.lock().get_mut(&id)
            && s.outbox.as_ref().is_some_and(|o| o.same_channel(&tx))
        {
            s.outbox = None;
        }
    }

    /// One payload from the client.
    fn handle(
        &self,
        msg: &Value,
        tx: &mpsc::UnboundedSender<Frame>,
        session: &mut Option<String>,
    ) -> Result<(), (u16, &'static str)> {
        let code = msg["op"].as_u64().unwrap_or(u64::MAX);
        match code {
            c if c == op::HEARTBEAT as u64 => {
                let _ = tx.send(text(&json!({"op": op::HEARTBEAT_ACK, "d": null})));
                Ok(())
            }
            c if c == op::IDENTIFY as u64 => {
                if session.is_some() {
                    return Err((close::ALREADY_AUTHENTICATED, "Already authenticated"));
                }
                self.check_identify(&msg["d"])?;
                let id = self.new_session(tx.clone());
                *session = Some(id.clone());
                let ready = self.ready(&id);
                let mut sessions = self.lock();
                let s = sessions.get_mut(&id).expect("the session was just made");
                send_dispatch(s, "READY", ready);
                Ok(())
            }
            c if c == op::RESUME as u64 => {
                self.check_token(msg["d"]["token"].as_str())?;
                let id = msg["d"]["session_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let after = msg["d"]["seq"].as_u64().unwrap_or(0);
                let mut sessions = self.lock();
                let Some(s) = sessions.get_mut(&id) else {
                    let _ = tx.send(text(&json!({"op": op::INVALID_SESSION, "d": false})));
                    return Ok(());
                };
                s.outbox = Some(tx.clone());
                for (_, frame) in s.sent.iter().filter(|(n, _)| *n > after) {
                    let _ = tx.send(Frame::Text(frame.clone()));
                }
                send_dispatch(s, "RESUMED", json!({}));
                *session = Some(id);
                Ok(())
            }
            // Accepted and not acted on: dbcord's guild has no presences or voice.
            c if [
                op::PRESENCE_UPDATE,
                op::VOICE_STATE_UPDATE,
                op::REQUEST_GUILD_MEMBERS,
            ]
            .contains(&(c as u8)) =>
            {
                Ok(())
            }
            _ => Err((close::UNKNOWN_OPCODE, "Unknown opcode")),
        }
    }

    fn check_token(&self, token: Option<&str>) -> Result<(), (u16, &'static str)> {
        let token = token.map(|t| t.trim_start_matches("Bot ").trim());
        match (&self.config.token, token) {
            (_, None) | (_, Some("")) => {
                Err((close::AUTHENTICATION_FAILED, "Authentication failed"))
            }
            (Some(want), Some(got)) if want != got => {
                Err((close::AUTHENTICATION_FAILED, "Authentication failed"))
            }
            _ => Ok(()),
        }
    }

    fn check_identify(&self, d: &Value) -> Result<(), (u16, &'static str)> {
        self.check_token(d["token"].as_str())?;
        let Some(intents) = d["intents"].as_u64() else {
            return Err((close::DECODE_ERROR, "intents are required"));
        };
        if intents & !gw::ALL_INTENTS != 0 {
            return Err((close::INVALID_INTENTS, "Invalid intent(s)"));
        }
        let privileged = intents & gw::PRIVILEGED_INTENTS;
        if privileged & !self.config.allowed_privileged != 0 {
            return Err((close::DISALLOWED_INTENTS, "Disallowed intent(s)"));
        }
        Ok(())
    }

    fn new_session(&self, outbox: mpsc::UnboundedSender<Frame>) -> String {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        *next += 1;
        let id = format!("emulated-session-{}", *next);
        self.lock().insert(
            id.clone(),
            Session {
                outbox: Some(outbox),
                seq: 0,
                sent: Vec::new(),
            },
        );
        id
    }

    fn ready(&self, session: &str) -> Value {
        let bot = &self.config.bot;
        json!({
            "v": gw::VERSION,
            "user": {
                "id": bot.id, "username": bot.username, "discriminator": bot.discriminator,
                "global_name": null, "avatar": null, "bot": true, "verified": true,
                "mfa_enabled": false, "flags": 0,
            },
            "guilds": [{"id": self.config.guild_id, "unavailable": true}],
            "session_id": session,
            "resume_gateway_url": self.url(),
            "shard": [0, 1],
            "application": {"id": bot.id, "flags": self.config.app_flags},
        })
    }
}

fn send_dispatch(s: &mut Session, event: &str, d: Value) -> bool {
    s.seq += 1;
    let frame = json!({"op": op::DISPATCH, "t": event, "s": s.seq, "d": d}).to_string();
    s.sent.push((s.seq, frame.clone()));
    if s.sent.len() > REPLAY {
        s.sent.remove(0);
    }
    s.outbox
        .as_ref()
        .is_some_and(|o| o.send(Frame::Text(frame)).is_ok())
}

fn text(v: &Value) -> Frame {
    Frame::Text(v.to_string())
}

fn closing(code: u16, reason: &'static str) -> CloseFrame<'static> {
    CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    }
}
