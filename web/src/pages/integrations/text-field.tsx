// One field of the IM-app form: its label as the vendor console shows it, where to find the value, and the
// API's problem with it right under it. A saved secret is never shown: the field stays empty.
import { defineStrings, useT } from '../../i18n';

const strings = defineStrings({
  en: {
    required: '(required)',
    saved: 'Saved — leave blank to keep.',
    notSet: 'Not set yet.',
  },
  'zh-CN': {
    required: '（必填）',
    saved: '已保存——留空则保持不变。',
    notSet: '尚未设置。',
  },
});

export function TextField({
  id,
  label,
  value,
  onChange,
  help,
  problem,
  required = false,
  secret = false,
  saved,
  placeholder,
  numeric = false,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  help?: string;
  problem?: string | undefined;
  required?: boolean;
  secret?: boolean;
  /** On the edit page, whether this secret is stored (undefined on the add page). */
  saved?: boolean | undefined;
  placeholder?: string | undefined;
  numeric?: boolean;
}) {
  const t = useT(strings);
  const helpId = `${id}-help`;
  const problemId = `${id}-problem`;
  const state = saved === undefined ? undefined : saved ? t('saved') : t('notSet');
  return (
    <div className="field integrations-field">
      <label htmlFor={id}>
        {label}
        {required && <span className="integrations-required"> {t('required')}</span>}
      </label>
      <input
        id={id}
        name={id}
        type={secret ? 'password' : 'text'}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        // Secrets are pasted from the vendor console; the browser must not offer to keep them.
        autoComplete={secret ? 'new-password' : 'off'}
        spellCheck={false}
        inputMode={numeric ? 'numeric' : undefined}
        placeholder={secret && saved ? t('saved') : placeholder}
        aria-required={required || undefined}
        aria-invalid={problem ? true : undefined}
        aria-describedby={[problem ? problemId : '', helpId].filter(Boolean).join(' ')}
      />
      {problem && (
        <small className="integrations-field-error" id={problemId}>
          {problem}
        </small>
      )}
      <small id={helpId}>
        {state && <strong>{state} </strong>}
        {help}
      </small>
    </div>
  );
}
