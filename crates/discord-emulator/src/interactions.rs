//! Application commands and interactions, as strict as Discord documents
//! them: a bulk overwrite validated command by command, interactions that
//! must be answered within 3 s and only once, tokens that edit the reply
//! for 15 minutes, and what the member who typed the command sees.
//!
//! How an interaction reaches the bot (the Gateway, or a signed POST to
//! its endpoint) is the server's business (`serve::gateway`,
//! `serve::endpoint`); this module keeps the state both share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use discord_api::interactions::{
    RESPONSE_DEADLINE, TOKEN_LIFETIME, callback, code, command_limits as lim, flag, kind,
    option_type, valid_name,
};
use discord_api::{DiscordError, Snowflake};

use crate::messages::check_content;

/// One file of a reply: its name and size, as a member sees it listed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ShownFile {
    pub filename: String,
    pub size: usize,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// What the member who invoked a command sees of the bot's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Shown {
    /// The bot acknowledged in time (a message, or "thinking..." first).
    pub responded: bool,
    /// The first answer was "thinking..." (type 5).
    pub deferred: bool,
    /// The reply is final: a message, or the edit of a deferred one.
    pub finished: bool,
    pub ephemeral: bool,
    pub content: String,
    pub files: Vec<ShownFile>,
    /// Followup messages after the reply.
    pub followups: Vec<String>,
    /// What Discord's client shows when the bot failed to answer.
    pub failure: Option<String>,
}

/// An interaction created and not yet forgotten.
#[derive(Debug)]
struct Pending {
    token: String,
    created_us: u64,
    shown: Shown,
}

#[derive(Debug, Default)]
struct State {
    /// The guild's commands, as the last bulk overwrite left them.
    commands: Vec<Value>,
    /// When each command name was first created (µs), for the daily limit.
    creates: Vec<u64>,
    pending: HashMap<Snowflake, Pending>,
}

/// The application's commands and the interactions in flight.
#[derive(Debug, Default)]
pub struct Interactions {
    state: Mutex<State>,
    changed: tokio::sync::Notify,
    minted: AtomicU64,
}

/// Who invokes a command: a member, and the permissions Discord computed
/// for them in the channel.
#[derive(Clone, Debug)]
pub struct Invoker {
    pub user_id: Snowflake,
    pub username: String,
    pub permissions: u64,
}

const DAY_US: u64 = 24 * 3600 * 1_000_000;

impl Interactions {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A snowflake minted now, unique within this process.
    pub fn mint(&self, now_us: u64) -> Snowflake {
        let n = self.minted.fetch_add(1, Ordering::Relaxed) & 0x3f_ffff;
        Snowflake(Snowflake::from_unix_ms(now_us / 1000).0 | n)
    }

    /// `PUT /applications/{app}/guilds/{guild}/commands`: replace the
    /// guild's commands with `body`, validated as Discord validates them.
    /// A command keeps its ID across overwrites; a new name counts against
    /// the 200 creates a day.
    pub fn overwrite(
        &self,
        now_us: u64,
        app: Snowflake,
        body: &Value,
    ) -> Result<Value, DiscordError> {
        let Some(list) = body.as_array() else {
            return Err(DiscordError::invalid_body("Expected an array of commands"));
        };
        if list.len() > lim::MAX_COMMANDS {
            return Err(DiscordError::invalid_body(format!(
                "Must be {} or fewer in length.",
                lim::MAX_COMMANDS
            )));
        }
        let mut names = Vec::new();
        for (i, c) in list.iter().enumerate() {
            let name =
                validate_command(c).map_err(|m| DiscordError::invalid_body(format!("{i}.{m}")))?;
            if names.contains(&name) {
                return Err(DiscordError::invalid_body(format!(
                    "{i}.name: Application command names must be unique"
                )));
            }
            names.push(name);
        }
        let mut st = self.lock();
        st.creates.retain(|t| now_us.saturating_sub(*t) < DAY_US);
        let old: HashMap<String, Value> = st
            .commands
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap_or_default().to_string(),
                    c["id"].clone(),
                )
            })
            .collect();
        let new = names.iter().filter(|n| !old.contains_key(*n)).count();
        if st.creates.len() + new > lim::CREATES_PER_DAY {
            return Err(DiscordError::invalid(
                code::MAX_DAILY_COMMAND_CREATES,
                format!(
                    "Max number of daily application command creates has been reached ({})",
                    lim::CREATES_PER_DAY
                ),
            ));
        }
        st.creates.extend(std::iter::repeat_n(now_us, new));
        let mut stored = Vec::new();
        for (c, name) in list.iter().zip(&names) {
            let mut c = c.clone();
            c["id"] = old
                .get(name)
                .cloned()
                .unwrap_or_else(|| json!(self.mint(now_us)));
            c["application_id"] = json!(app);
            c["type"] = json!(c.get("type").and_then(Value::as_u64).unwrap_or(1));
            c["version"] = json!(self.mint(now_us));
            stored.push(c);
        }
        st.commands = stored.clone();
        Ok(Value::Array(stored))
    }

    /// File `n` of interaction `id`'s reply.
    pub fn file(&self, id: Snowflake, n: usize) -> Option<ShownFile> {
        self.lock().pending.get(&id)?.shown.files.get(n).cloned()
    }

    /// The guild's registered commands.
    pub fn commands(&self) -> Vec<Value> {
        self.lock().commands.clone()
    }

    /// A member types `text` (`/name option:value ...`): the interaction
    /// Discord would create, or why Discord's client would not send it
    /// (an unknown command, a missing required option, a value of the
    /// wrong type, a permission the command requires).
    pub fn invoke(
        &self,
        now_us: u64,
        ids: (Snowflake, Snowflake, Snowflake),
        who: &Invoker,
        text: &str,
    ) -> Result<Value, String> {
        let (app, guild, channel) = ids;
        let command = self.parse(text)?;
        let (cmd, options) = command;
        if let Some(need) = cmd["default_member_permissions"]
            .as_str()
            .and_then(|p| p.parse::<u64>().ok())
        {
            let admin = who.permissions & discord_api::interactions::permission::ADMINISTRATOR != 0;
            if who.permissions & need != need && !admin {
                return Err(format!(
                    "you do not have permission to use /{} (it needs permissions {need})",
                    cmd["name"].as_str().unwrap_or_default()
                ));
            }
        }
        let id = self.mint(now_us);
        let token = format!("emulated.{}.{:016x}", id, now_us ^ 0x5eed_0fd1_5c0d);
        let mut st = self.lock();
        // An interaction whose token expired can do nothing more: forget it.
        let lifetime = TOKEN_LIFETIME.as_micros() as u64;
        st.pending
            .retain(|_, p| now_us.saturating_sub(p.created_us) <= lifetime);
        st.pending.insert(
            id,
            Pending {
                token: token.clone(),
                created_us: now_us,
                shown: Shown::default(),
            },
        );
        drop(st);
        Ok(json!({
            "id": id,
            "application_id": app,
            "type": kind::APPLICATION_COMMAND,
            "token": token,
            "version": 1,
            "guild_id": guild,
            "channel_id": channel,
            "channel": {"id": channel, "type": 0},
            "member": {
                "user": {"id": who.user_id, "username": who.username, "discriminator": "0", "global_name": who.username},
                "roles": [],
                "permissions": who.permissions.to_string(),
                "joined_at": "2025-01-01T00:00:00.000000+00:00",
                "deaf": false, "mute": false, "flags": 0, "pending": false, "avatar": null,
            },
            "app_permissions": "0",
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": guild},
            "context": 0,
            "attachment_size_limit": discord_api::limits::MAX_FILE_BYTES,
            "data": {
                "id": cmd["id"],
                "name": cmd["name"],
                "type": 1,
                "guild_id": guild,
                "options": options,
            },
        }))
    }

    /// The registered command `text` names, and its options typed.
    fn parse(&self, text: &str) -> Result<(Value, Vec<Value>), String> {
        let text = text.trim();
        let rest = text
            .strip_prefix('/')
            .ok_or_else(|| format!("a command starts with /, not {text:?}"))?;
        let (name, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let commands = self.commands();
        let cmd = commands
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .ok_or_else(|| {
                let known: Vec<&str> = commands.iter().filter_map(|c| c["name"].as_str()).collect();
                format!(
                    "no command /{name} is registered (there are: {})",
                    known.join(", ")
                )
            })?;
        let declared: Vec<Value> = cmd["options"].as_array().cloned().unwrap_or_default();
        let given = split_options(args, &declared)?;
        let mut options = Vec::new();
        for o in &declared {
            let oname = o["name"].as_str().unwrap_or_default();
            let ty = o["type"].as_u64().unwrap_or(3) as u8;
            match given.iter().find(|(n, _)| n == oname) {
                Some((_, raw)) => options
                    .push(json!({"name": oname, "type": ty, "value": typed(ty, oname, raw)?})),
                None if o["required"] == true => {
                    return Err(format!("/{name} needs the option {oname}"));
                }
                None => {}
            }
        }
        Ok((cmd, options))
    }

    /// `POST /interactions/{id}/{token}/callback`: the first and only
    /// acknowledgement, within 3 s.
    pub fn respond(
        &self,
        now_us: u64,
        id: Snowflake,
        token: &str,
        body: &Value,
        files: Vec<ShownFile>,
    ) -> Result<(), DiscordError> {
        let mut st = self.lock();
        let p = match st.pending.get_mut(&id) {
            Some(p) if p.token == token => p,
            _ => return Err(unknown_interaction()),
        };
        if now_us.saturating_sub(p.created_us) > RESPONSE_DEADLINE.as_micros() as u64 {
            return Err(unknown_interaction());
        }
        if p.shown.responded {
            return Err(DiscordError::invalid(
                code::ALREADY_ACKNOWLEDGED,
                "Interaction has already been acknowledged.",
            ));
        }
        let ty = body["type"].as_u64().unwrap_or(0) as u8;
        let data = body.get("data").cloned().unwrap_or(Value::Null);
        match ty {
            callback::CHANNEL_MESSAGE => {
                apply_message(&mut p.shown, &data, files)?;
                p.shown.finished = true;
            }
            callback::DEFERRED_CHANNEL_MESSAGE => {
                p.shown.deferred = true;
                p.shown.ephemeral = flags_of(&data) & flag::EPHEMERAL != 0;
            }
            callback::AUTOCOMPLETE_RESULT => {
                let n = data["choices"].as_array().map_or(0, Vec::len);
                if n > lim::MAX_CHOICES {
                    return Err(DiscordError::invalid_body(format!(
                        "data.choices: Must be {} or fewer in length.",
                        lim::MAX_CHOICES
                    )));
                }
                p.shown.finished = true;
            }
            other => {
                return Err(DiscordError::invalid_body(format!(
                    "type: Value \"{other}\" is not a valid interaction callback type."
                )));
            }
        }
        p.shown.responded = true;
        drop(st);
        self.changed.notify_waiters();
        Ok(())
    }

    /// `PATCH /webhooks/{app}/{token}/messages/@original`: the reply's
    /// content, for 15 minutes after the interaction.
    pub fn edit_original(
        &self,
        now_us: u64,
        token: &str,
        body: &Value,
        files: Vec<ShownFile>,
    ) -> Result<Value, DiscordError> {
        let mut st = self.lock();
        let (id, p) = by_token(&mut st, now_us, token)?;
        if !p.shown.responded {
            return Err(DiscordError::NotFound {
                code: discord_api::limits::code::UNKNOWN_MESSAGE,
                message: "Unknown Message".into(),
            });
        }
        let ephemeral = p.shown.ephemeral;
        apply_message(&mut p.shown, body, files)?;
        p.shown.ephemeral = ephemeral;
        p.shown.finished = true;
        let reply = json!({"id": id, "content": p.shown.content, "flags": flags_of(body)});
        drop(st);
        self.changed.notify_waiters();
        Ok(reply)
    }

    /// `POST /webhooks/{app}/{token}`: a followup message.
    pub fn followup(&self, now_us: u64, token: &str, body: &Value) -> Result<Value, DiscordError> {
        let mut st = self.lock();
        let (_, p) = by_token(&mut st, now_us, token)?;
        if !p.shown.responded {
            return Err(unknown_interaction());
        }
        let content = body["content"].as_str().unwrap_or_default().to_string();
        check_content(&content)?;
        p.shown.followups.push(content.clone());
        drop(st);
        self.changed.notify_waiters();
        Ok(json!({"id": self.mint(now_us), "content": content}))
    }

    /// What the member sees of interaction `id`: once the reply is final,
    /// or once `now_us()` is past the 3 s deadline with no answer, or when
    /// `give_up` passes.
    pub async fn wait_shown(
        &self,
        id: Snowflake,
        now_us: impl Fn() -> u64,
        give_up: std::time::Duration,
    ) -> Shown {
        let deadline = tokio::time::Instant::now() + give_up;
        loop {
            let notified = self.changed.notified();
            {
                let st = self.lock();
                let Some(p) = st.pending.get(&id) else {
                    return Shown::default();
                };
                if p.shown.finished {
                    return p.shown.clone();
                }
                let late =
                    now_us().saturating_sub(p.created_us) > RESPONSE_DEADLINE.as_micros() as u64;
                if late && !p.shown.responded {
                    let mut s = p.shown.clone();
                    s.failure = Some("The application did not respond".into());
                    return s;
                }
            }
            let tick = tokio::time::sleep(std::time::Duration::from_millis(50));
            tokio::select! {
                _ = notified => {}
                _ = tick => {}
                _ = tokio::time::sleep_until(deadline) => {
                    let st = self.lock();
                    let mut s = st.pending.get(&id).map(|p| p.shown.clone()).unwrap_or_default();
                    s.failure = Some(if s.responded {
                        "The application is still thinking".into()
                    } else {
                        "The application did not respond".into()
                    });
                    return s;
                }
            }
        }
    }
}

fn unknown_interaction() -> DiscordError {
    DiscordError::NotFound {
        code: code::UNKNOWN_INTERACTION,
        message: "Unknown interaction".into(),
    }
}

/// The interaction a token belongs to, while the token is valid.
fn by_token<'a>(
    st: &'a mut State,
    now_us: u64,
    token: &str,
) -> Result<(Snowflake, &'a mut Pending), DiscordError> {
    let invalid = || DiscordError::invalid(code::INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token");
    let (id, p) = st
        .pending
        .iter_mut()
        .find(|(_, p)| p.token == token)
        .ok_or_else(invalid)?;
    if now_us.saturating_sub(p.created_us) > TOKEN_LIFETIME.as_micros() as u64 {
        return Err(invalid());
    }
    Ok((*id, p))
}

fn flags_of(data: &Value) -> u64 {
    data["flags"].as_u64().unwrap_or(0)
}

/// A reply's message data applied to what the member sees. A reply that
/// could ping (mentions not disabled) is refused here as a test of the bot,
/// where Discord would ping.
fn apply_message(
    shown: &mut Shown,
    data: &Value,
    files: Vec<ShownFile>,
) -> Result<(), DiscordError> {
    let content = data["content"].as_str().unwrap_or_default().to_string();
    check_content(&content)?;
    if content.is_empty() && files.is_empty() && shown.files.is_empty() {
        return Err(DiscordError::invalid(
            discord_api::limits::code::EMPTY_MESSAGE,
            "Cannot send an empty message",
        ));
    }
    if content.contains('@') && data["allowed_mentions"]["parse"] != json!([]) {
        return Err(DiscordError::invalid_body(
            "emulator: a reply with '@' in it must set allowed_mentions {\"parse\": []}",
        ));
    }
    shown.content = content;
    shown.ephemeral = flags_of(data) & flag::EPHEMERAL != 0;
    if !files.is_empty() {
        shown.files = files;
    }
    Ok(())
}

/// The name of a valid command object, or what is wrong with it.
fn validate_command(c: &Value) -> Result<String, String> {
    let name = c["name"].as_str().ok_or("name: This field is required")?;
    if !valid_name(name) {
        return Err(format!("name: Command name is invalid ({name:?})"));
    }
    let mut chars = name.chars().count();
    chars += described(c, "")?;
    let options = c["options"].as_array().cloned().unwrap_or_default();
    if options.len() > lim::MAX_OPTIONS {
        return Err(format!(
            "options: Must be {} or fewer in length.",
            lim::MAX_OPTIONS
        ));
    }
    if let Some(p) = c.get("default_member_permissions").filter(|p| !p.is_null())
        && p.as_str().and_then(|s| s.parse::<u64>().ok()).is_none()
    {
        return Err("default_member_permissions: must be a string of a permission integer".into());
    }
    let mut seen_optional = false;
    let mut seen = Vec::new();
    for (i, o) in options.iter().enumerate() {
        let oname = o["name"].as_str().unwrap_or_default();
        if !valid_name(oname) {
            return Err(format!(
                "options.{i}.name: Command name is invalid ({oname:?})"
            ));
        }
        if seen.contains(&oname) {
            return Err(format!("options.{i}.name: option names must be unique"));
        }
        seen.push(oname);
        let ty = o["type"].as_u64().unwrap_or(0) as u8;
        if !option_type::VALUES.contains(&ty) {
            return Err(format!(
                "options.{i}.type: Value \"{ty}\" is not a valid option type"
            ));
        }
        let required = o["required"] == true;
        if required && seen_optional {
            return Err(format!(
                "options.{i}: Required options must be placed before non-required options"
            ));
        }
        seen_optional |= !required;
        chars += oname.chars().count() + described(o, &format!("options.{i}."))?;
        for ch in o["choices"].as_array().into_iter().flatten() {
            chars += ch["name"].as_str().map_or(0, |s| s.chars().count());
            chars += ch["value"].to_string().chars().count();
        }
    }
    if chars > lim::MAX_TOTAL_CHARS {
        return Err(format!(
            "Command exceeds maximum size ({}): {chars} characters",
            lim::MAX_TOTAL_CHARS
        ));
    }
    Ok(name.to_string())
}

/// The length of an object's description (1 to 100 characters, required).
fn described(o: &Value, at: &str) -> Result<usize, String> {
    let d = o["description"].as_str().unwrap_or_default();
    let n = d.chars().count();
    if !(1..=lim::MAX_DESCRIPTION).contains(&n) {
        return Err(format!(
            "{at}description: Must be between 1 and {} in length.",
            lim::MAX_DESCRIPTION
        ));
    }
    Ok(n)
}

/// `name:value` pairs of a typed command line. A value runs to the next
/// ` option:` of an option the command declares, so JSON with spaces and
/// colons needs no quoting.
fn split_options(args: &str, declared: &[Value]) -> Result<Vec<(String, String)>, String> {
    let names: Vec<&str> = declared.iter().filter_map(|o| o["name"].as_str()).collect();
    let mut starts: Vec<(usize, &str)> = Vec::new();
    for n in &names {
        let pat = format!("{n}:");
        let mut from = 0;
        while let Some(at) = args[from..].find(&pat) {
            let at = from + at;
            let boundary = at == 0 || args[..at].ends_with(char::is_whitespace);
            if boundary {
                starts.push((at, n));
            }
            from = at + pat.len();
        }
    }
    starts.sort();
    // An option name inside an earlier value (JSON with "table:" in it)
    // is not a start: only the first occurrence of each name counts.
    let mut out: Vec<(String, String)> = Vec::new();
    let mut kept: Vec<(usize, &str)> = Vec::new();
    for (at, n) in starts {
        if !kept.iter().any(|(_, k)| *k == n) {
            kept.push((at, n));
        }
    }
    if kept.first().is_some_and(|(at, _)| *at > 0) || (kept.is_empty() && !args.trim().is_empty()) {
        return Err(format!(
            "{:?} is not an option (the options: {})",
            args.trim(),
            names.join(", ")
        ));
    }
    for (i, (at, n)) in kept.iter().enumerate() {
        let end = kept.get(i + 1).map_or(args.len(), |(e, _)| *e);
        let value = args[at + n.len() + 1..end].trim().to_string();
        out.push((n.to_string(), value));
    }
    Ok(out)
}

/// A typed option value, as Discord's client would send it.
fn typed(ty: u8, name: &str, raw: &str) -> Result<Value, String> {
    match ty {
        option_type::INTEGER => raw
            .parse::<i64>()
            .map(|v| json!(v))
            .map_err(|_| format!("{name}: {raw:?} is not an integer")),
        option_type::NUMBER => raw
            .parse::<f64>()
            .map(|v| json!(v))
            .map_err(|_| format!("{name}: {raw:?} is not a number")),
        option_type::BOOLEAN => match raw {
            "true" | "True" => Ok(json!(true)),
            "false" | "False" => Ok(json!(false)),
            _ => Err(format!("{name}: {raw:?} is not true or false")),
        },
        _ => Ok(json!(raw)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands() -> Value {
        json!([{
            "name": "dbc_find", "description": "find rows",
            "options": [
                {"name": "database", "description": "db", "type": 3, "required": true},
                {"name": "table", "description": "t", "type": 3, "required": true},
                {"name": "where_json", "description": "w", "type": 3, "required": true},
                {"name": "limit", "description": "n", "type": 4},
            ]
        }])
    }

    #[test]
    fn a_typed_command_becomes_typed_options() {
        let i = Interactions::default();
        i.overwrite(1_700_000_000_000_000, Snowflake(1), &commands())
            .unwrap();
        let (_, opts) = i
            .parse(r#"/dbc_find database:prod table:users where_json:{"a": "table: x"} limit:5"#)
            .unwrap();
        assert_eq!(opts[2]["value"], r#"{"a": "table: x"}"#);
        assert_eq!(opts[3]["value"], 5);
        let e = i.parse("/dbc_find database:prod table:users").unwrap_err();
        assert!(e.contains("needs the option where_json"), "{e}");
        let e = i
            .parse("/dbc_find database:p table:t where_json:{} limit:x")
            .unwrap_err();
        assert!(e.contains("not an integer"), "{e}");
    }

    #[test]
    fn overwrites_are_validated_as_discord_does() {
        let i = Interactions::default();
        let mut bad = commands();
        bad[0]["name"] = json!("Find");
        assert!(i.overwrite(0, Snowflake(1), &bad).is_err());
        let mut bad = commands();
        bad[0]["options"][3]["required"] = json!(true);
        bad[0]["options"][0]["required"] = json!(false);
        let e = i.overwrite(0, Snowflake(1), &bad).unwrap_err().to_string();
        assert!(e.contains("Required options must be placed before"), "{e}");
        let first = i.overwrite(0, Snowflake(1), &commands()).unwrap();
        let again = i.overwrite(1, Snowflake(1), &commands()).unwrap();
        assert_eq!(first[0]["id"], again[0]["id"], "an overwrite keeps IDs");
    }

    #[test]
    fn an_interaction_is_answered_once_within_three_seconds() {
        let i = Interactions::default();
        let t0 = 1_700_000_000_000_000;
        i.overwrite(t0, Snowflake(1), &commands()).unwrap();
        let who = Invoker {
            user_id: Snowflake(9),
            username: "m".into(),
            permissions: 0,
        };
        let ids = (Snowflake(1), Snowflake(2), Snowflake(3));
        let it = i
            .invoke(t0, ids, &who, "/dbc_find database:a table:b where_json:{}")
            .unwrap();
        let (id, token) = (
            it["id"].as_str().unwrap().parse().unwrap(),
            it["token"].as_str().unwrap(),
        );
        let defer = json!({"type": 5});
        let late = i
            .respond(t0 + 3_100_000, id, token, &defer, vec![])
            .unwrap_err();
        assert!(late.to_string().contains("10062"), "{late}");
        let it = i
            .invoke(t0, ids, &who, "/dbc_find database:a table:b where_json:{}")
            .unwrap();
        let (id, token) = (
            it["id"].as_str().unwrap().parse().unwrap(),
            it["token"].as_str().unwrap(),
        );
        i.respond(t0 + 1000, id, token, &defer, vec![]).unwrap();
        let twice = i.respond(t0 + 2000, id, token, &defer, vec![]).unwrap_err();
        assert!(twice.to_string().contains("40060"), "{twice}");
        i.edit_original(t0 + 60_000_000, token, &json!({"content": "ok"}), vec![])
            .unwrap();
        let expired = i
            .edit_original(
                t0 + 16 * 60_000_000,
                token,
                &json!({"content": "x"}),
                vec![],
            )
            .unwrap_err();
        assert!(expired.to_string().contains("50027"), "{expired}");
    }
}
