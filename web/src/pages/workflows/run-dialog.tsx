// Starting a run: a form with the workflow's params (as saved), then straight to the run's page.
import { type FormEvent, useState } from 'react';
import { ApiError, api, segment } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { defineStrings, useT } from '../../i18n';
import { navigate } from '../../router';
import { Modal } from './modal';
import type { WorkflowParam } from './types';

const strings = defineStrings({
  en: {
    title: 'Run {name}',
    noParams: 'This workflow has no params.',
    required: 'required',
    defaultIs: 'Default: {value}',
    unsaved: 'The run uses the saved version; your unsaved changes are not part of it.',
    start: 'Start run',
    starting: 'Starting…',
    cancel: 'Cancel',
  },
  'zh-CN': {
    title: '运行 {name}',
    noParams: '此工作流没有参数。',
    required: '必填',
    defaultIs: '默认值：{value}',
    unsaved: '运行使用已保存的版本，未保存的修改不会生效。',
    start: '开始运行',
    starting: '正在启动…',
    cancel: '取消',
  },
});

export function RunDialog({
  workflow,
  params,
  unsaved,
  onClose,
}: {
  workflow: string;
  params: WorkflowParam[];
  unsaved: boolean;
  onClose: () => void;
}) {
  const t = useT(strings);
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(params.map((param) => [param.name, param.default ?? ''])),
  );
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);

  const start = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    // A param left empty is not sent, so its default (if any) applies.
    const given = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== ''));
    try {
      const run = await api<{ id: number }>(`/api/workflows/${segment(workflow)}/runs`, {
        body: { params: given },
      });
      navigate(`/runs/${run.id}`);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught)));
      setBusy(false);
    }
  };

  return (
    <Modal title={t('title', { name: workflow })} onClose={onClose}>
      <form onSubmit={start} className="wf-run-form">
        {unsaved && <p className="notice notice-info">{t('unsaved')}</p>}
        {params.length === 0 && <p className="hint">{t('noParams')}</p>}
        {params.map((param) => (
          <label key={param.name} className="field">
            <span>
              {param.name}
              {param.required && <span className="wf-required"> ({t('required')})</span>}
            </span>
            <input
              value={values[param.name] ?? ''}
              required={param.required}
              onChange={(event) => setValues({ ...values, [param.name]: event.target.value })}
            />
            {(param.description || param.default !== null) && (
              <small>
                {param.description}
                {param.description && param.default !== null && ' · '}
                {param.default !== null && t('defaultIs', { value: param.default })}
              </small>
            )}
          </label>
        ))}
        <ErrorNotice error={error} />
        <div className="wf-dialog-actions">
          <button type="submit" className="button-primary" disabled={busy}>
            {busy ? t('starting') : t('start')}
          </button>
          <button type="button" onClick={onClose}>
            {t('cancel')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
