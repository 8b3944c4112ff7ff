//! The Discord trait over HTTP: one method per REST operation.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use serenity::http::{LightMethod, Route};

use discord_api::{
    Attachment, ByteRange, Channel, Discord, DiscordError, DiscordResult, HistoryQuery, Member,
    Message, NewChannel, NewMessage, Role, Route as ApiRoute, SearchQuery, SearchResults,
    Snowflake, ThreadPage,
};

use crate::send::{error_of, parse};
use crate::{HttpDiscord, cid, history_params, message_payload, mid};

#[async_trait]
impl Discord for HttpDiscord {
    fn guild_id(&self) -> Snowflake {
        self.config.guild_id
    }

    fn bot_user_id(&self) -> Snowflake {
        self.bot.id
    }

    fn rate_limit_waited(&self) -> Duration {
        self.waiter.stats().waited
    }

    fn server_time_ms(&self) -> Option<u64> {
        let ms = self
            .server_time_ms
            .load(std::sync::atomic::Ordering::Relaxed);
        (ms > 0).then_some(ms)
    }

    async fn list_channels(&self) -> DiscordResult<Vec<Channel>> {
        let key = self.key(ApiRoute::ListChannels, self.config.guild_id);
        let route = || Route::GuildChannels {
            guild_id: self.gid(),
        };
        parse(
            &self
                .call(key, || self.build(route(), LightMethod::Get, None, vec![]))
                .await?,
        )
    }

    /// A retried create could make a second channel; before repeating one
    /// whose answer was lost, look for the channel it may have made.
    async fn create_channel(&self, channel: &NewChannel) -> DiscordResult<Channel> {
        let key = self.key(ApiRoute::CreateChannel, self.config.guild_id);
        let body = serde_json::to_value(channel).expect("channels serialise");
        let build = || {
            self.build(
                Route::GuildChannels {
                    guild_id: self.gid(),
                },
                LightMethod::Post,
                Some(&body),
                vec![],
            )
        };
        match self.send_unretried(key, build).await {
            Ok(bytes) => parse(&bytes),
            Err(e) if e.is_retryable() => match self.find_channel(channel).await? {
                Some(found) => Ok(found),
                None => parse(&self.call(key, build).await?),
            },
            Err(e) => Err(e),
        }
    }

    async fn get_channel(&self, channel: Snowflake) -> DiscordResult<Channel> {
        let key = self.key(ApiRoute::GetChannel, channel);
        let route = || Route::Channel {
            channel_id: cid(channel),
        };
        parse(
            &self
                .call(key, || self.build(route(), LightMethod::Get, None, vec![]))
                .await?,
        )
    }

    async fn edit_channel_topic(&self, channel: Snowflake, topic: &str) -> DiscordResult<Channel> {
        let key = self.key(ApiRoute::EditChannel, channel);
        let body = json!({ "topic": topic });
        let route = || Route::Channel {
            channel_id: cid(channel),
        };
        parse(
            &self
                .call(key, || {
                    self.build(route(), LightMethod::Patch, Some(&body), vec![])
                })
                .await?,
        )
    }

    async fn delete_channel(&self, channel: Snowflake) -> DiscordResult<Channel> {
        let key = self.key(ApiRoute::DeleteChannel, channel);
        let route = || Route::Channel {
            channel_id: cid(channel),
        };
        parse(
            &self
                .call(key, || {
                    self.build(route(), LightMethod::Delete, None, vec![])
                })
                .await?,
        )
    }

    async fn create_message(&self, channel: Snowflake, msg: &NewMessage) -> DiscordResult<Message> {
        let key = self.key(ApiRoute::CreateMessage, channel);
        let payload = message_payload(msg);
        if msg.files.is_empty() {
            let route = || Route::ChannelMessages {
                channel_id: cid(channel),
            };
            return parse(
                &self
                    .call_nonced(key, || {
                        self.build(route(), LightMethod::Post, Some(&payload), vec![])
                    })
                    .await?,
            );
        }
        let url = format!(
            "{}/api/v10/channels/{channel}/messages",
            self.config.api_base
        );
        let build = || {
            let mut form =
                reqwest::multipart::Form::new().text("payload_json", payload.to_string());
            for (i, f) in msg.files.iter().enumerate() {
                let part =
                    reqwest::multipart::Part::bytes(f.bytes.clone()).file_name(f.filename.clone());
                form = form.part(format!("files[{i}]"), part);
            }
            Ok(self
                .client
                .post(&url)
                .header("authorization", self.auth())
                .multipart(form))
        };
        parse(&self.call_nonced(key, build).await?)
    }

    async fn get_message(&self, channel: Snowflake, message: Snowflake) -> DiscordResult<Message> {
        let key = self.key(ApiRoute::GetMessage, channel);
        let route = || Route::ChannelMessage {
            channel_id: cid(channel),
            message_id: mid(message),
        };
        parse(
            &self
                .call(key, || self.build(route(), LightMethod::Get, None, vec![]))
                .await?,
        )
    }

    async fn list_messages(
        &self,
        channel: Snowflake,
        query: &HistoryQuery,
    ) -> DiscordResult<Vec<Message>> {
        let key = self.key(ApiRoute::ListMessages, channel);
        let route = || Route::ChannelMessages {
            channel_id: cid(channel),
        };
        parse(
            &self
                .call(key, || {
                    self.build(route(), LightMethod::Get, None, history_params(query))
                })
                .await?,
        )
    }

    async fn edit_message(
        &self,
        channel: Snowflake,
        message: Snowflake,
        content: &str,
    ) -> DiscordResult<Message> {
        let key = self.key(ApiRoute::EditMessage, channel);
        let body = json!({ "content": content, "allowed_mentions": {"parse": []} });
        let route = || Route::ChannelMessage {
            channel_id: cid(channel),
            message_id: mid(message),
        };
        parse(
            &self
                .call(key, || {
                    self.build(route(), LightMethod::Patch, Some(&body), vec![])
                })
                .await?,
        )
    }

    /// A delete repeated after a lost answer finds nothing to delete: done.
    async fn delete_message(&self, channel: Snowflake, message: Snowflake) -> DiscordResult<()> {
        let key = self.key(ApiRoute::DeleteMessage, channel);
        let route = || Route::ChannelMessage {
            channel_id: cid(channel),
            message_id: mid(message),
        };
        let build = || self.build(route(), LightMethod::Delete, None, vec![]);
        match self.send_unretried(key, build).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_retryable() => match self.call(key, build).await {
                Err(DiscordError::NotFound { .. }) => Ok(()),
                other => other.map(|_| ()),
            },
            Err(e) => Err(e),
        }
    }

    async fn bulk_delete(&self, channel: Snowflake, messages: &[Snowflake]) -> DiscordResult<()> {
        let key = self.key(ApiRoute::BulkDelete, channel);
        let body = json!({ "messages": messages });
        let route = || Route::ChannelMessagesBulkDelete {
            channel_id: cid(channel),
        };
        self.call(key, || {
            self.build(route(), LightMethod::Post, Some(&body), vec![])
        })
        .await
        .map(|_| ())
    }

    /// Not in serenity: our own request, its values percent-encoded.
    async fn search(&self, query: &SearchQuery) -> DiscordResult<SearchResults> {
        let key = self.key(ApiRoute::Search, self.config.guild_id);
        let path = format!("guilds/{}/messages/search", self.config.guild_id);
        let pairs = query.to_pairs();
        parse(
            &self
                .call(key, || Ok(self.api_get(&path).query(&pairs)))
                .await?,
        )
    }

    async fn list_members(&self, after: Snowflake, limit: u32) -> DiscordResult<Vec<Member>> {
        let key = self.key(ApiRoute::ListMembers, self.config.guild_id);
        let path = format!("guilds/{}/members", self.config.guild_id);
        let pairs = [("limit", limit.to_string()), ("after", after.to_string())];
        parse(
            &self
                .call(key, || Ok(self.api_get(&path).query(&pairs)))
                .await?,
        )
    }

    async fn list_roles(&self) -> DiscordResult<Vec<Role>> {
        let key = self.key(ApiRoute::GuildRoles, self.config.guild_id);
        let path = format!("guilds/{}/roles", self.config.guild_id);
        parse(&self.call(key, || Ok(self.api_get(&path))).await?)
    }

    async fn list_active_threads(&self) -> DiscordResult<Vec<Channel>> {
        let key = self.key(ApiRoute::ActiveThreads, self.config.guild_id);
        let path = format!("guilds/{}/threads/active", self.config.guild_id);
        let page: ThreadPage = parse(&self.call(key, || Ok(self.api_get(&path))).await?)?;
        Ok(page.threads)
    }

    async fn list_archived_threads(
        &self,
        channel: Snowflake,
        before: Option<&str>,
    ) -> DiscordResult<ThreadPage> {
        let key = self.key(ApiRoute::ArchivedThreads, channel);
        let path = format!("channels/{channel}/threads/archived/public");
        let pairs: Vec<(&str, &str)> = before.map(|b| ("before", b)).into_iter().collect();
        parse(
            &self
                .call(key, || Ok(self.api_get(&path).query(&pairs)))
                .await?,
        )
    }

    /// A thread repeated after a lost answer already exists: its ID is the message's.
    async fn start_thread(
        &self,
        channel: Snowflake,
        message: Snowflake,
        name: &str,
    ) -> DiscordResult<Channel> {
        let key = self.key(ApiRoute::StartThread, channel);
        let body = json!({ "name": name, "auto_archive_duration": 10080 });
        let route = || Route::ChannelMessageThreads {
            channel_id: cid(channel),
            message_id: mid(message),
        };
        let build = || self.build(route(), LightMethod::Post, Some(&body), vec![]);
        match self.send_unretried(key, build).await {
            Ok(bytes) => parse(&bytes),
            Err(e) if e.is_retryable() => match self.call(key, build).await {
                Err(DiscordError::Invalid { code: 160004, .. }) => {
                    Ok(Channel::thread_of(channel, message, name))
                }
                other => parse(&other?),
            },
            Err(e) => Err(e),
        }
    }

    /// The CDN: no token; a range asks for `206 Partial Content`, and a CDN
    /// that answers the whole file anyway is sliced here. An expired URL is
    /// refused; `discord_api::attachments::download` refreshes it.
    async fn download_attachment(
        &self,
        _channel: Snowflake,
        _message: Snowflake,
        attachment: &Attachment,
        range: Option<ByteRange>,
    ) -> DiscordResult<Vec<u8>> {
        let mut req = self.client.get(&attachment.url);
        if let Some(r) = range {
            req = req.header(reqwest::header::RANGE, r.header());
        }
        let resp = req
            .send()
            .await
            .map_err(|e| DiscordError::Transport(self.config.token.scrub(&e.to_string())))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| DiscordError::Transport(e.to_string()))?;
        match (status.as_u16(), range) {
            (206, _) | (200, None) => Ok(body.to_vec()),
            (200, Some(r)) => Ok(r.slice(&body).to_vec()),
            _ => Err(error_of(status, &reqwest::header::HeaderMap::new(), &body)),
        }
    }
}

impl HttpDiscord {
    /// A GET of `path` under the API base that serenity has no route for.
    fn api_get(&self, path: &str) -> reqwest::RequestBuilder {
        let url = format!("{}/api/v10/{path}", self.config.api_base);
        self.client.get(url).header("authorization", self.auth())
    }

    pub(crate) fn auth(&self) -> String {
        format!("Bot {}", self.config.token.expose())
    }

    /// One try, for writes whose retry needs a check first (it still waits for 429s).
    pub(crate) async fn send_unretried(
        &self,
        key: crate::buckets::RouteKey,
        build: impl Fn() -> DiscordResult<reqwest::RequestBuilder>,
    ) -> DiscordResult<Vec<u8>> {
        self.call_with(key, build, 0).await
    }

    async fn find_channel(&self, want: &NewChannel) -> DiscordResult<Option<Channel>> {
        Ok(self
            .list_channels()
            .await?
            .into_iter()
            .find(|c| want.is_made_as(c)))
    }
}
