// Choosing people from an IM app's address book: browse its departments or search by name, email or
// mobile; the chosen people show as chips. Native approvals choose Signoff users instead. Every list says
// that it shows only the part of the address book the vendor console granted the app.
import { type KeyboardEvent, useId, useState } from 'react';
import { ApiError, api, segment } from '../../../api';
import { Avatar } from '../../../components/avatar';
import { ErrorNotice } from '../../../components/error-notice';
import { defineStrings, useT } from '../../../i18n';
import { usePoll } from '../../../poll';
import type { DepartmentListing, ImApp, ImUser, PickedPerson, SignoffUser } from '../types';
import { scopeStrings } from './address-book-scope';

const strings = defineStrings({
  en: {
    chosen: 'Chosen',
    nobody: 'Nobody chosen yet.',
    count: '{count} chosen',
    remove: 'Remove {name}',
    browse: 'Browse departments',
    search: 'Search',
    searchLabel: 'Search people',
    searchHelp: 'A name, an email address or a mobile number.',
    searching: 'Searching…',
    loading: 'Loading…',
    noMatch: 'Nobody matches “{query}”.',
    departments: 'Departments',
    people: 'People',
    open: 'Open department {name}',
    members: '{count} members',
    path: 'Department path',
    top: 'Top',
    signoffUsers: 'Signoff users',
    filter: 'Filter users',
    noUsers: 'No Signoff user matches. Users are added with `signoff users add` or POST /api/users.',
  },
  'zh-CN': {
    chosen: '已选',
    nobody: '尚未选择任何人。',
    count: '已选 {count} 人',
    remove: '移除 {name}',
    browse: '按部门浏览',
    search: '搜索',
    searchLabel: '搜索成员',
    searchHelp: '姓名、邮箱或手机号。',
    searching: '正在搜索…',
    loading: '正在加载…',
    noMatch: '没有与“{query}”匹配的成员。',
    departments: '部门',
    people: '成员',
    open: '打开部门 {name}',
    members: '{count} 人',
    path: '部门路径',
    top: '顶层',
    signoffUsers: 'Signoff 用户',
    filter: '筛选用户',
    noUsers: '没有匹配的 Signoff 用户。可用 `signoff users add` 或 POST /api/users 添加用户。',
  },
});

interface Props {
  /** The IM app whose address book is browsed; none for native approvals (Signoff users). */
  app: ImApp | undefined;
  legend: string;
  value: PickedPerson[];
  onChange: (people: PickedPerson[]) => void;
}

export function ApproverPicker({ app, legend, value, onChange }: Props) {
  const toggle = (person: PickedPerson) =>
    onChange(
      value.some((chosen) => chosen.id === person.id)
        ? value.filter((chosen) => chosen.id !== person.id)
        : [...value, person],
    );
  const isChosen = (id: string) => value.some((chosen) => chosen.id === id);

  return (
    <fieldset className="wf-picker">
      <legend>{legend}</legend>
      <Chips value={value} onRemove={toggle} />
      {app ? (
        <VendorPeople key={app.id} app={app} isChosen={isChosen} toggle={toggle} />
      ) : (
        <SignoffUsers isChosen={isChosen} toggle={toggle} />
      )}
    </fieldset>
  );
}

function Chips({ value, onRemove }: { value: PickedPerson[]; onRemove: (person: PickedPerson) => void }) {
  const t = useT(strings);
  return (
    <div className="wf-chosen">
      <p className="visually-hidden" aria-live="polite">
        {t('count', { count: value.length })}
      </p>
      {value.length === 0 ? (
        <p className="hint">{t('nobody')}</p>
      ) : (
        <ul className="wf-chips" aria-label={t('chosen')}>
          {value.map((person) => (
            <li key={person.id} className="wf-chip">
              <Avatar name={person.name} src={person.avatar} size={20} />
              <span>{person.name}</span>
              <button
                type="button"
                className="wf-chip-remove"
                aria-label={t('remove', { name: person.name })}
                onClick={() => onRemove(person)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

interface ListProps {
  isChosen: (id: string) => boolean;
  toggle: (person: PickedPerson) => void;
}

/** One person to tick; the checkbox's name is the person's name (and id, which tells namesakes apart). */
function PersonOption({
  person,
  isChosen,
  toggle,
}: ListProps & { person: PickedPerson & { detail?: string } }) {
  return (
    <li>
      <label className="wf-person">
        <input type="checkbox" checked={isChosen(person.id)} onChange={() => toggle(person)} />
        <Avatar name={person.name} src={person.avatar} size={28} />
        <span className="wf-person-name">{person.name}</span>
        <span className="wf-person-id">{person.detail ?? person.id}</span>
      </label>
    </li>
  );
}

const picked = (user: ImUser): PickedPerson => ({ id: user.id, name: user.name, avatar: user.avatar });

function VendorPeople({ app, ...list }: ListProps & { app: ImApp }) {
  const t = useT(strings);
  const scope = useT(scopeStrings);
  const [mode, setMode] = useState<'browse' | 'search'>('browse');
  return (
    <>
      <p className="hint wf-scope">{scope(app.type)}</p>
      <div className="wf-modes">
        <button type="button" aria-pressed={mode === 'browse'} onClick={() => setMode('browse')}>
          {t('browse')}
        </button>
        <button type="button" aria-pressed={mode === 'search'} onClick={() => setMode('search')}>
          {t('search')}
        </button>
      </div>
      {mode === 'browse' ? <Departments app={app} {...list} /> : <PeopleSearch app={app} {...list} />}
    </>
  );
}

function Departments({ app, ...list }: ListProps & { app: ImApp }) {
  const t = useT(strings);
  const scope = useT(scopeStrings);
  // From the top (the route's "root") down to the department shown; names are learnt on the way.
  const [trail, setTrail] = useState<{ id: string; name?: string }[]>([{ id: 'root' }]);
  const current = trail.at(-1)!;
  const { data, error, loading } = usePoll(
    (signal) =>
      api<DepartmentListing>(`/api/im-apps/${segment(app.id)}/departments/${segment(current.id)}`, {
        signal,
      }),
    [app.id, current.id],
  );
  const empty = data && data.departments.length === 0 && data.users.length === 0;

  return (
    <div className="wf-browse">
      <nav aria-label={t('path')} className="wf-trail">
        <ol>
          {trail.map((step, index) => {
            const name = index === trail.length - 1 ? (data?.department.name ?? step.name) : step.name;
            return (
              <li key={step.id}>
                {index < trail.length - 1 ? (
                  <button
                    type="button"
                    className="button-link"
                    onClick={() => setTrail(trail.slice(0, index + 1))}
                  >
                    {name ?? t('top')}
                  </button>
                ) : (
                  <span aria-current="location">{name ?? t('top')}</span>
                )}
              </li>
            );
          })}
        </ol>
      </nav>
      <ErrorNotice error={error} />
      {loading && <p className="hint">{t('loading')}</p>}
      {empty && (
        <p className="notice notice-info">
          {scope('empty')} {scope('widen')}
        </p>
      )}
      {data && data.departments.length > 0 && (
        <>
          <h3 className="wf-picker-heading">{t('departments')}</h3>
          <ul className="plain-list wf-departments">
            {data.departments.map((department) => (
              <li key={department.id}>
                <button
                  type="button"
                  className="wf-department"
                  aria-label={t('open', { name: department.name })}
                  onClick={() => setTrail([...trail, { id: department.id, name: department.name }])}
                >
                  <span aria-hidden="true">▸</span>
                  <span>{department.name}</span>
                  {typeof department.member_count === 'number' && (
                    <span className="hint">{t('members', { count: department.member_count })}</span>
                  )}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      {data && data.users.length > 0 && (
        <>
          <h3 className="wf-picker-heading">{t('people')}</h3>
          <ul className="plain-list wf-people">
            {data.users.map((user) => (
              <PersonOption key={user.id} person={picked(user)} {...list} />
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** What the search box holds decides the lookup: an email, a mobile number, or a name. */
function searchQuery(text: string): string {
  const value = text.trim();
  if (value.includes('@')) return `email=${encodeURIComponent(value)}`;
  if (/^\+?[0-9][0-9 -]{4,24}$/.test(value)) return `mobile=${encodeURIComponent(value)}`;
  return `query=${encodeURIComponent(value)}`;
}

function PeopleSearch({ app, ...list }: ListProps & { app: ImApp }) {
  const t = useT(strings);
  const scope = useT(scopeStrings);
  const inputId = useId();
  const [text, setText] = useState('');
  const [result, setResult] = useState<{ query: string; users: ImUser[] }>();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);

  const search = async () => {
    if (!text.trim()) return;
    setBusy(true);
    setError(undefined);
    try {
      const found = await api<{ users: ImUser[] }>(
        `/api/im-apps/${segment(app.id)}/users?${searchQuery(text)}`,
      );
      setResult({ query: text.trim(), users: found.users });
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught)));
    } finally {
      setBusy(false);
    }
  };
  // The picker sits inside the job form: Enter searches instead of submitting that form.
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      void search();
    }
  };

  return (
    <search className="wf-search">
      <label className="wf-search-label" htmlFor={inputId}>
        {t('searchLabel')}
      </label>
      <div className="wf-search-row">
        <input
          id={inputId}
          type="search"
          value={text}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={onKeyDown}
          aria-describedby={`${inputId}-help`}
        />
        <button type="button" onClick={() => void search()} disabled={busy || !text.trim()}>
          {t('search')}
        </button>
      </div>
      <small id={`${inputId}-help`} className="help">
        {t('searchHelp')}
      </small>
      <ErrorNotice error={error} />
      {busy && <p className="hint">{t('searching')}</p>}
      {result && result.users.length === 0 && (
        <p className="notice notice-info">
          {t('noMatch', { query: result.query })} {scope('widen')}
        </p>
      )}
      {result && result.users.length > 0 && (
        <ul className="plain-list wf-people">
          {result.users.map((user) => (
            <PersonOption key={user.id} person={picked(user)} {...list} />
          ))}
        </ul>
      )}
    </search>
  );
}

/** Native approvals: the approvers are Signoff users, written by name. */
function SignoffUsers(list: ListProps) {
  const t = useT(strings);
  const [filter, setFilter] = useState('');
  const { data, error, loading } = usePoll(
    (signal) => api<{ users: SignoffUser[] }>('/api/users', { signal }),
    [],
  );
  const needle = filter.trim().toLowerCase();
  const users = (data?.users ?? []).filter(
    (user) =>
      !needle || user.name.toLowerCase().includes(needle) || user.email?.toLowerCase().includes(needle),
  );
  return (
    <div className="wf-search">
      <label className="field">
        <span>{t('filter')}</span>
        <input type="search" value={filter} onChange={(event) => setFilter(event.target.value)} />
      </label>
      <ErrorNotice error={error} />
      {loading && <p className="hint">{t('loading')}</p>}
      {data && users.length === 0 && <p className="hint">{t('noUsers')}</p>}
      <h3 className="wf-picker-heading">{t('signoffUsers')}</h3>
      <ul className="plain-list wf-people">
        {users.map((user) => (
          <PersonOption
            key={user.id}
            person={{ id: user.name, name: user.name, avatar: null, detail: user.email ?? '' }}
            {...list}
          />
        ))}
      </ul>
    </div>
  );
}
