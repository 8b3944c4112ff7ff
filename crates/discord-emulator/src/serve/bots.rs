//! Where an interaction goes: to the application's interactions endpoint
//! (a POST signed with the application's Ed25519 key, answered in the
//! HTTP response), else to a session on the Gateway. Discord checks an
//! endpoint URL before it accepts it: a signed PING must get a PONG, and a
//! PING with a bad signature must get a 401.

use std::sync::{Arc, Mutex};

use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

use discord_api::interactions::{
    RESPONSE_DEADLINE, SIGNATURE_HEADER, TIMESTAMP_HEADER, callback, kind,
};
use discord_api::{DiscordError, Snowflake};

use super::gateway::Gateway;

/// The application's key pair and its delivery routes.
pub struct Bots {
    key: Ed25519KeyPair,
    endpoint: Mutex<Option<String>>,
    pub gateway: Arc<Gateway>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Bots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bots")
            .field("public_key", &self.public_key())
            .field("gateway", &self.gateway.addr)
            .finish_non_exhaustive()
    }
}

/// How delivering an interaction went.
#[derive(Debug)]
pub enum Delivery {
    /// The endpoint answered with this callback (applied by the caller).
    Answered(Value),
    /// The endpoint failed (status or transport), as Discord would log it.
    EndpointFailed(String),
    /// Dispatched on the Gateway.
    Dispatched,
    /// No bot is listening.
    Nobody,
}

impl Bots {
    /// A key pair derived from the guild, so a restarted emulator keeps
    /// the application's public key.
    pub fn new(guild: Snowflake, gateway: Arc<Gateway>) -> Bots {
        let mut seed = [0u8; 32];
        for (i, b) in seed.iter_mut().enumerate() {
            *b = (guild.0.rotate_left(i as u32 * 7) as u8) ^ (i as u8).wrapping_mul(31) ^ 0xdb;
        }
        let key = Ed25519KeyPair::from_seed_unchecked(&seed).expect("32 bytes make a key");
        Bots {
            key,
            endpoint: Mutex::default(),
            gateway,
            client: reqwest::Client::builder()
                // Discord waits no longer for an endpoint's answer.
                .timeout(RESPONSE_DEADLINE)
                .build()
                .expect("a plain HTTP client builds"),
        }
    }

    /// The public key, hex, as the application's `verify_key`.
    pub fn public_key(&self) -> String {
        hex(self.key.public_key().as_ref())
    }

    pub fn endpoint(&self) -> Option<String> {
        self.endpoint
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Set the interactions endpoint URL after Discord's two checks; an
    /// empty URL removes it.
    pub async fn set_endpoint(&self, url: &str, app: Snowflake) -> Result<(), DiscordError> {
        if url.is_empty() {
            *self.endpoint.lock().unwrap_or_else(|p| p.into_inner()) = None;
            return Ok(());
        }
        let ping = json!({"id": "1", "application_id": app, "type": kind::PING, "token": "ping", "version": 1});
        let refuse = |why: String| {
            DiscordError::invalid_body(format!(
                "interactions_endpoint_url: The specified interactions endpoint url could not be verified ({why})"
            ))
        };
        match self.post(url, &ping, true).await {
            Ok((200, v)) if v["type"] == callback::PONG => {}
            Ok((status, v)) => return Err(refuse(format!("a signed PING got {status} {v}"))),
            Err(e) => return Err(refuse(e)),
        }
        match self.post(url, &ping, false).await {
            Ok((401, _)) => {}
            Ok((status, _)) => {
                return Err(refuse(format!(
                    "a PING with a bad signature got {status}, not 401"
                )));
            }
            Err(e) => return Err(refuse(e)),
        }
        *self.endpoint.lock().unwrap_or_else(|p| p.into_inner()) = Some(url.to_string());
        Ok(())
    }

    /// Deliver one interaction.
    pub async fn deliver(&self, interaction: &Value) -> Delivery {
        if let Some(url) = self.endpoint() {
            return match self.post(&url, interaction, true).await {
                Ok((200, v)) => Delivery::Answered(v),
                Ok((status, v)) => Delivery::EndpointFailed(format!("HTTP {status}: {v}")),
                Err(e) => Delivery::EndpointFailed(e),
            };
        }
        if self
            .gateway
            .dispatch("INTERACTION_CREATE", interaction.clone())
        {
            Delivery::Dispatched
        } else {
            Delivery::Nobody
        }
    }

    /// POST `body` to `url`, signed (or deliberately signed wrong).
    async fn post(&self, url: &str, body: &Value, good: bool) -> Result<(u16, Value), String> {
        let raw = body.to_string();
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            .to_string();
        let mut signed = timestamp.clone().into_bytes();
        signed.extend_from_slice(raw.as_bytes());
        let mut signature = self.key.sign(&signed).as_ref().to_vec();
        if !good {
            signature[0] ^= 0x55;
        }
        let resp = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, hex(&signature))
            .header(TIMESTAMP_HEADER, timestamp)
            .body(raw)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
