-- Several instances on one database (issue 8): who holds each IM app's long connection, and the vendor
-- access tokens every instance shares.

-- One row per IM app whose events come over a connection we open (Feishu/Lark long_connection, DingTalk
-- stream): the instance holding it, until when. The holder renews it every few seconds; once `expires_at`
-- has passed (by the database's clock, the one every instance shares) any instance may take it over.
create table connection_leases (
  im_app_id    text primary key references im_apps(id) on delete cascade,
  holder       text not null,
  acquired_at  timestamptz not null default now(),
  expires_at   timestamptz not null,
  -- the holder's connection was open at its last renewal (other instances then let polls back off)
  connected    boolean not null default false
);

-- Vendor access tokens (tenant_access_token, access_token), one per app credentials, so that N instances
-- ask the vendor once. `key` names the credentials (type, app id, a digest of base URL and secret), never
-- the secret; the token is sealed with the secret box, bound to its key.
create table vendor_tokens (
  key         text primary key,
  sealed      text not null,
  -- milliseconds since the epoch
  expires_at  bigint not null
);
