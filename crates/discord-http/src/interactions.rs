//! The REST side of a bot: registering its commands, answering an
//! interaction, editing the answer, and checking the signature of an
//! interaction POSTed to its endpoint.
//!
//! An interaction's callback is sent once and never repeated blindly: a
//! retry after a lost answer would meet 40060 (already acknowledged),
//! which then means the first try landed.

use ring::signature::{ED25519, UnparsedPublicKey};
use serde_json::{Value, json};

use discord_api::interactions::code;
use discord_api::{DiscordError, DiscordResult, NewFile, Route as ApiRoute, Snowflake};

use crate::HttpDiscord;
use crate::send::parse;

/// A reply's message: its JSON and its files.
#[derive(Clone, Debug, Default)]
pub struct ReplyBody {
    pub json: Value,
    pub files: Vec<NewFile>,
}

impl HttpDiscord {
    fn api(&self, path: &str) -> String {
        format!("{}/api/v10{path}", self.config.api_base)
    }

    /// The application: its ID, flags and `verify_key` (the public key).
    pub async fn application(&self) -> DiscordResult<Value> {
        let key = self.key(ApiRoute::Application, Snowflake(0));
        let url = self.api("/applications/@me");
        let build = || Ok(self.client.get(&url).header("authorization", self.auth()));
        parse(&self.call(key, build).await?)
    }

    /// Point the application's interactions endpoint at `url` (Discord
    /// checks it with a PING first); an empty URL removes it.
    pub async fn set_interactions_endpoint(&self, url: &str) -> DiscordResult<Value> {
        let key = self.key(ApiRoute::Application, Snowflake(0));
        let api = self.api("/applications/@me");
        let body = json!({"interactions_endpoint_url": url});
        let build = || {
            Ok(self
                .client
                .patch(&api)
                .header("authorization", self.auth())
                .json(&body))
        };
        parse(&self.call(key, build).await?)
    }

    /// Replace the guild's commands with `commands` (idempotent: the same
    /// list keeps the same commands and IDs).
    pub async fn overwrite_guild_commands(
        &self,
        app: Snowflake,
        commands: &Value,
    ) -> DiscordResult<Value> {
        let guild = self.config.guild_id;
        let key = self.key(ApiRoute::Commands, guild);
        let url = self.api(&format!("/applications/{app}/guilds/{guild}/commands"));
        let build = || {
            Ok(self
                .client
                .put(&url)
                .header("authorization", self.auth())
                .json(commands))
        };
        parse(&self.call(key, build).await?)
    }

    /// The first answer to an interaction. Sent once: a lost answer whose
    /// retry meets 40060 had landed.
    pub async fn interaction_callback(
        &self,
        id: Snowflake,
        token: &str,
        body: &ReplyBody,
    ) -> DiscordResult<()> {
        let key = self.key(ApiRoute::InteractionCallback, id);
        let url = self.api(&format!("/interactions/{id}/{token}/callback"));
        let build = || Ok(self.with_files(self.client.post(&url), body));
        match self.send_unretried(key, build).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_retryable() => match self.send_unretried(key, build).await {
                Err(DiscordError::Invalid { code: c, .. }) if c == code::ALREADY_ACKNOWLEDGED => {
                    Ok(())
                }
                other => other.map(|_| ()),
            },
            Err(e) => Err(e),
        }
    }

    /// Edit the reply (`@original`) of the interaction whose token this is.
    pub async fn edit_original(
        &self,
        app: Snowflake,
        token: &str,
        body: &ReplyBody,
    ) -> DiscordResult<Value> {
        let key = self.key(ApiRoute::InteractionWebhook, app);
        let url = self.api(&format!("/webhooks/{app}/{token}/messages/@original"));
        let build = || Ok(self.with_files(self.client.patch(&url), body));
        parse(&self.call(key, build).await?)
    }

    /// JSON, or multipart with `payload_json` when there are files. No
    /// bot token: the interaction's token in the path is the credential.
    fn with_files(
        &self,
        req: reqwest::RequestBuilder,
        body: &ReplyBody,
    ) -> reqwest::RequestBuilder {
        if body.files.is_empty() {
            return req.json(&body.json);
        }
        let mut json = body.json.clone();
        let target = if json.get("data").is_some() {
            &mut json["data"]
        } else {
            &mut json
        };
        target["attachments"] = body
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| json!({"id": i, "filename": f.filename}))
            .collect();
        let mut form = reqwest::multipart::Form::new().text("payload_json", json.to_string());
        for (i, f) in body.files.iter().enumerate() {
            let part =
                reqwest::multipart::Part::bytes(f.bytes.clone()).file_name(f.filename.clone());
            form = form.part(format!("files[{i}]"), part);
        }
        req.multipart(form)
    }
}

/// A plain HTTP client with dbcord's User-Agent, for a person's side of
/// the emulator (`dbcord emulator interact`), which needs no bot token.
pub fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(crate::USER_AGENT)
        .build()
        .expect("a plain HTTP client builds")
}

/// Whether `signature` (hex) is the application's Ed25519 signature of
/// `timestamp` followed by `body`, under `public_key` (hex).
pub fn signature_valid(public_key: &str, signature: &str, timestamp: &str, body: &[u8]) -> bool {
    let (Some(key), Some(sig)) = (unhex(public_key), unhex(signature)) else {
        return false;
    };
    let mut signed = timestamp.as_bytes().to_vec();
    signed.extend_from_slice(body);
    UnparsedPublicKey::new(&ED25519, key)
        .verify(&signed, &sig)
        .is_ok()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{Ed25519KeyPair, KeyPair};

    fn hex(b: &[u8]) -> String {
        b.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn only_the_applications_signature_of_timestamp_and_body_is_valid() {
        let key = Ed25519KeyPair::from_seed_unchecked(&[7; 32]).unwrap();
        let public = hex(key.public_key().as_ref());
        let sig = hex(key.sign(b"1700000000{\"type\":1}").as_ref());
        assert!(signature_valid(
            &public,
            &sig,
            "1700000000",
            b"{\"type\":1}"
        ));
        assert!(!signature_valid(
            &public,
            &sig,
            "1700000001",
            b"{\"type\":1}"
        ));
        assert!(!signature_valid(
            &public,
            &sig,
            "1700000000",
            b"{\"type\":2}"
        ));
        assert!(!signature_valid(
            &public,
            "zz",
            "1700000000",
            b"{\"type\":1}"
        ));
    }
}
