//! An interaction as Discord sends it (over the Gateway or to the
//! endpoint), read into what the bot needs: who, which command, which
//! options, and how to answer it.

use serde_json::{Map, Value};

use discord_api::Snowflake;
use discord_api::interactions::kind;

/// What kind of interaction arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Ping,
    Command,
    /// Autocomplete of the option `focused`.
    Autocomplete {
        focused: String,
    },
    Other(u64),
}

/// One interaction, read.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub id: Snowflake,
    pub application_id: Snowflake,
    pub token: String,
    pub kind: Kind,
    /// The command's name (`dbc_find`).
    pub name: String,
    pub options: Map<String, Value>,
    pub user_id: Snowflake,
    /// The member's permissions in the channel, as Discord computed them.
    pub permissions: u64,
    pub roles: Vec<Snowflake>,
}

impl Invocation {
    /// Read an interaction's JSON; `None` if it is not one.
    pub fn read(v: &Value) -> Option<Invocation> {
        let id = snowflake(&v["id"])?;
        let t = v["type"].as_u64()?;
        let data = &v["data"];
        let mut options = Map::new();
        let mut focused = None;
        for o in data["options"].as_array().into_iter().flatten() {
            let name = o["name"].as_str().unwrap_or_default().to_string();
            if o["focused"] == true {
                focused = Some(name.clone());
            }
            options.insert(name, o["value"].clone());
        }
        let kind = match t {
            x if x == kind::PING as u64 => Kind::Ping,
            x if x == kind::APPLICATION_COMMAND as u64 => Kind::Command,
            x if x == kind::AUTOCOMPLETE as u64 => Kind::Autocomplete {
                focused: focused.unwrap_or_default(),
            },
            other => Kind::Other(other),
        };
        let member = &v["member"];
        let user = if member.is_object() {
            &member["user"]
        } else {
            &v["user"]
        };
        Some(Invocation {
            id,
            application_id: snowflake(&v["application_id"]).unwrap_or_default(),
            token: v["token"].as_str().unwrap_or_default().to_string(),
            kind,
            name: data["name"].as_str().unwrap_or_default().to_string(),
            options,
            user_id: snowflake(&user["id"]).unwrap_or_default(),
            permissions: member["permissions"]
                .as_str()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0),
            roles: member["roles"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(snowflake)
                .collect(),
        })
    }

    /// A text option's value.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.options.get(name).and_then(Value::as_str)
    }

    /// A required text option, or the error that names it.
    pub fn need(&self, name: &str) -> Result<&str, String> {
        self.text(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("/{} needs the option {name}", self.name))
    }
}

fn snowflake(v: &Value) -> Option<Snowflake> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64().map(Snowflake),
        _ => None,
    }
}
