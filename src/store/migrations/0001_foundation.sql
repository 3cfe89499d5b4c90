-- Foundation: users and their API tokens, workflows, runs with their jobs and logs, native approvals.
-- Timestamps are timestamptz; ids of runs and jobs are numbers people can type (`signoff logs 42`).

create table users (
  id          text primary key,
  name        text not null unique,
  email       text,
  mobile      text,
  is_admin    boolean not null default false,
  created_at  timestamptz not null default now()
);
-- People type emails in any case; lookups ignore case, so uniqueness must too.
create unique index users_email on users (lower(email));

create table api_tokens (
  id            text primary key,
  user_id       text not null references users(id) on delete cascade,
  -- sha256 of the token: the token itself is shown once and never stored.
  token_hash    text not null unique,
  label         text,
  created_at    timestamptz not null default now(),
  last_used_at  timestamptz
);

create table workflows (
  id          text primary key,
  name        text not null unique,
  -- the document as the user sent it (YAML or JSON), so editing round-trips comments and order
  source      text not null,
  spec        jsonb not null,
  version     integer not null default 1,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

create table runs (
  id             integer generated always as identity primary key,
  workflow_name  text not null,
  number         integer not null,
  -- the workflow as it was when the run started: later edits never change a running run
  spec           jsonb not null,
  params         jsonb not null,
  status         text not null,
  reason         text,
  triggered_by   text references users(id) on delete set null,
  -- the name as it was when the run started, shown even after the user is gone
  triggered_by_name  text,
  created_at     timestamptz not null default now(),
  started_at     timestamptz,
  finished_at    timestamptz,
  unique (workflow_name, number)
);
create index runs_status on runs (status) where status not in ('passed', 'failed', 'rejected', 'timeout', 'cancelled');
create index runs_workflow on runs (workflow_name, id desc);

create table jobs (
  id           integer generated always as identity primary key,
  run_id       integer not null references runs(id) on delete cascade,
  stage_index  integer not null,
  stage_name   text not null,
  job_index    integer not null,
  name         text not null,
  type         text not null,
  status       text not null,
  reason       text,
  outputs      jsonb not null default '{}',
  attempts     integer not null default 0,
  -- the server process executing it (shell, notification); a crash leaves it here for recovery
  instance_id  text,
  started_at   timestamptz,
  finished_at  timestamptz,
  unique (run_id, name)
);
create index jobs_active on jobs (status, instance_id) where status in ('queued', 'running');

create table job_logs (
  id       integer generated always as identity primary key,
  job_id   integer not null references jobs(id) on delete cascade,
  stream   text not null,
  text     text not null,
  at       timestamptz not null default now()
);
create index job_logs_job on job_logs (job_id, id);

-- A waitpoint: one approval job waiting for people.
create table approvals (
  id               integer generated always as identity primary key,
  job_id           integer not null unique references jobs(id) on delete cascade,
  run_id           integer not null references runs(id) on delete cascade,
  kind             text not null,
  status           text not null,
  needed           integer not null,
  -- [{ user_id, name }] resolved when the job started
  approvers        jsonb not null,
  description      text,
  deadline         timestamptz not null,
  timeout_outcome  text not null,
  created_at       timestamptz not null default now(),
  decided_at       timestamptz
);
create index approvals_pending on approvals (deadline) where status = 'pending';

create table approval_decisions (
  approval_id  integer not null references approvals(id) on delete cascade,
  user_id      text not null,
  user_name    text not null,
  decision     text not null,
  comment      text,
  as_admin     boolean not null default false,
  decided_at   timestamptz not null default now(),
  primary key (approval_id, user_id)
);

-- Live server processes; a job owned by an instance that stopped beating was cut off by a crash.
create table instances (
  id            text primary key,
  started_at    timestamptz not null default now(),
  heartbeat_at  timestamptz not null default now()
);
