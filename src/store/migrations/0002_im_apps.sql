-- IM apps (Feishu, Lark, DingTalk, WeCom), the events their callbacks deliver, and per-app caches.

create table im_apps (
  id                    text primary key,
  type                  text not null,
  name                  text not null unique,
  event_mode            text not null,
  -- fields that are not secret: app_id / app_key / corp_id, agent_id, api_base, oapi_base
  settings              jsonb not null,
  -- AES-256-GCM sealed JSON of the secret fields, bound to this row's id
  secrets               text not null,
  sandbox               boolean not null default false,
  last_check_at         timestamptz,
  last_check_ok         boolean,
  last_check_error      text,
  last_event_at         timestamptz,
  callback_verified_at  timestamptz,
  created_at            timestamptz not null default now(),
  updated_at            timestamptz not null default now()
);

-- Every verified vendor event, once: the vendor's dedup key makes redeliveries no-ops.
create table im_events (
  id            integer generated always as identity primary key,
  im_app_id     text not null references im_apps(id) on delete cascade,
  dedup_key     text not null,
  type          text not null,
  payload       jsonb not null,
  received_at   timestamptz not null default now(),
  processed_at  timestamptz,
  unique (im_app_id, dedup_key)
);
create index im_events_unprocessed on im_events (received_at) where processed_at is null;

-- Signed timestamp:nonce pairs seen inside the replay window; a second request with one is a replay.
create table im_callback_replays (
  im_app_id   text not null references im_apps(id) on delete cascade,
  replay_key  text not null,
  seen_at     timestamptz not null default now(),
  primary key (im_app_id, replay_key)
);

-- Per-app cache (address book pages, later definitions and templates), each entry with its own expiry.
create table im_cache (
  im_app_id   text not null references im_apps(id) on delete cascade,
  key         text not null,
  value       jsonb not null,
  expires_at  timestamptz not null,
  primary key (im_app_id, key)
);
