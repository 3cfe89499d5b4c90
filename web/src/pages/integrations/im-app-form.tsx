// The IM-app form, for adding and for changing an app: exactly the fields its platform issues, the event
// mode, the callback keys when they are needed, and the API hosts. Whatever was typed stays after a
// refusal, next to the platform's reason.
import { type FormEvent, useState } from 'react';
import { ApiError, api } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { defineStrings, useT } from '../../i18n';
import { useSandbox } from '../../sandbox-context';
import { AdvancedHosts } from './advanced-hosts';
import { EventModeField } from './event-mode-field';
import { type FormValues, initialValues, requestBody, splitProblems } from './form-body';
import type { CallbackKey, FieldSpec, PlatformSpec } from './platforms';
import { TextField } from './text-field';
import type { ImApp } from './types';

const strings = defineStrings({
  en: {
    name: 'Name',
    nameHelp: 'Your name for the app; workflows use it (app: feishu-main). Letters a-z, digits, _ and -.',
    credentials: 'Credentials',
    callbackKeys: 'Callback keys',
    callbackKeysHelp: 'What {vendor} signs and encrypts its callbacks with. Used in webhook mode only.',
    add: 'Check with {vendor} and save',
    save: 'Save changes',
    saving: 'Checking with {vendor}…',
    notSaved: 'Not saved.',
    fixFields: 'Correct the fields marked in red.',
    saved: 'Saved.',
    sandboxHint: 'Trying Signoff out? “Advanced” below can point this form at the sandbox’s fake {vendor}.',
    checkNote:
      'Saving asks {vendor} whether the credentials are right; a refusal is shown here with its reason.',
  },
  'zh-CN': {
    name: '名称',
    nameHelp: '你为应用取的名字，工作流用它来指定应用（app: feishu-main）。可用小写字母、数字、_ 和 -。',
    credentials: '凭证',
    callbackKeys: '回调密钥',
    callbackKeysHelp: '{vendor}用来签名和加密回调的值，只在 Webhook 模式下使用。',
    add: '向{vendor}校验并保存',
    save: '保存修改',
    saving: '正在向{vendor}校验…',
    notSaved: '未保存。',
    fixFields: '请修改标红的字段。',
    saved: '已保存。',
    sandboxHint: '想先试试？下方“高级”可以让此表单指向沙箱中的模拟{vendor}。',
    checkNote: '保存时会向{vendor}校验凭证是否正确；若被拒绝，原因会显示在这里。',
  },
});

export function ImAppForm({
  platform,
  existing,
  onSaved,
}: {
  platform: PlatformSpec;
  /** The app being changed; absent when adding one. */
  existing?: ImApp;
  onSaved: (app: ImApp) => void;
}) {
  const t = useT(strings);
  const tp = useT(platform.strings);
  const sandbox = useSandbox();
  const [values, setValues] = useState<FormValues>(() => initialValues(platform, existing));
  const [error, setError] = useState<ApiError>();
  const [saving, setSaving] = useState(false);
  const [justSaved, setJustSaved] = useState(false);
  const [advancedOpen, setAdvancedOpen] = useState(false);
  const vendor = tp('vendor');

  const webhook = values.eventMode === 'webhook';
  const onForm = [
    'name',
    'event_mode',
    ...platform.credentials.map((field) => field.name),
    ...(webhook ? platform.callbackKeys.map((field) => field.name) : []),
    ...platform.hosts.map((host) => host.name),
  ];
  const { byField, rest } = splitProblems(error, onForm);
  // When every problem of a malformed request is shown at its field, the API's sentence listing them all
  // again says nothing new. A refusal by the platform (its code and message) is always shown as it is.
  const summary =
    rest?.message.startsWith('The request is not valid') && rest.problems.length === 0
      ? new ApiError(rest.status, rest.code, t('fixFields'))
      : rest;

  const setField = (name: string, value: string) =>
    setValues((current) => ({ ...current, fields: { ...current.fields, [name]: value } }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setError(undefined);
    setJustSaved(false);
    try {
      const body = requestBody(platform, values, existing);
      const saved = existing
        ? await api<ImApp>(`/api/im-apps/${encodeURIComponent(existing.id)}`, { method: 'PUT', body })
        : await api<ImApp>('/api/im-apps', { method: 'POST', body });
      // The secrets just sent are not kept in the page any longer than needed.
      setValues(initialValues(platform, saved));
      setJustSaved(true);
      onSaved(saved);
    } catch (caught) {
      const failed = caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught));
      setError(failed);
      const first = splitProblems(failed, onForm).byField;
      if (first.api_base || first.oapi_base) setAdvancedOpen(true);
      const field = onForm.find((name) => first[name]);
      if (field) requestAnimationFrame(() => document.getElementById(`im-app-${field}`)?.focus());
    } finally {
      setSaving(false);
    }
  };

  const secretSaved = (field: FieldSpec) =>
    existing && field.secret ? existing.secrets[field.name] !== null : undefined;
  const field = (spec: FieldSpec | CallbackKey, required: boolean) => (
    <TextField
      key={spec.name}
      id={`im-app-${spec.name}`}
      label={spec.label}
      value={values.fields[spec.name] ?? ''}
      onChange={(value) => setField(spec.name, value)}
      help={tp(spec.help)}
      problem={byField[spec.name]}
      // A saved secret is kept when left blank, so it is no longer required.
      required={required && !secretSaved(spec)}
      secret={spec.secret}
      saved={secretSaved(spec)}
      placeholder={spec.placeholder}
      numeric={spec.numeric ?? false}
    />
  );

  return (
    <form className="integrations-form" onSubmit={submit} noValidate>
      {sandbox && !existing && <p className="notice notice-info">{t('sandboxHint', { vendor })}</p>}
      <TextField
        id="im-app-name"
        label={t('name')}
        value={values.name}
        onChange={(name) => setValues((current) => ({ ...current, name }))}
        help={t('nameHelp')}
        problem={byField.name}
        required
        placeholder={`${platform.type}-main`}
      />
      <fieldset className="integrations-group">
        <legend>{t('credentials')}</legend>
        {platform.credentials.map((spec) => field(spec, spec.required))}
      </fieldset>
      <EventModeField
        platform={platform}
        value={values.eventMode}
        onChange={(eventMode) => setValues((current) => ({ ...current, eventMode }))}
        error={byField.event_mode}
      />
      {webhook && (
        <fieldset className="integrations-group" aria-describedby="callback-keys-help">
          <legend>{t('callbackKeys')}</legend>
          <p className="hint" id="callback-keys-help">
            {t('callbackKeysHelp', { vendor })}
          </p>
          {platform.callbackKeys.map((spec) => field(spec, spec.requiredForWebhook))}
        </fieldset>
      )}
      <AdvancedHosts
        platform={platform}
        values={values.fields}
        onChange={setField}
        problems={byField}
        open={advancedOpen}
        onToggle={setAdvancedOpen}
      />
      <ErrorNotice error={summary} title={t('notSaved')} />
      {justSaved && existing && (
        <p className="notice notice-ok" role="status">
          {t('saved')}
        </p>
      )}
      <p className="hint">{t('checkNote', { vendor })}</p>
      <button type="submit" className="button-primary" disabled={saving}>
        {saving ? t('saving', { vendor }) : existing ? t('save') : t('add', { vendor })}
      </button>
    </form>
  );
}
