// One workflow's page: the YAML with its problems at their lines (checked as you type), the stages drawn
// beside it, the form editor for approval and notification jobs, Save, and Run.
import { useEffect, useId, useRef, useState } from 'react';
import { ApiError, api, segment } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { Page } from '../../components/page';
import { defineStrings, useLanguage, useT } from '../../i18n';
import { usePoll } from '../../poll';
import { Link, navigate } from '../../router';
import { JobFormDialog, type JobKind } from './job-form';
import { ProblemList } from './problem-list';
import { RunDialog } from './run-dialog';
import { starterWorkflow } from './starter';
import type { Workflow } from './types';
import { placeProblems, useValidation } from './use-validation';
import { WorkflowDiagram } from './workflow-diagram';
import { readOutline } from './yaml-document';
import { moveCaretTo, YamlEditor } from './yaml-editor';

const strings = defineStrings({
  en: {
    newTitle: 'New workflow',
    back: 'All workflows',
    loading: 'Loading the workflow…',
    yaml: 'Workflow YAML',
    keys: 'Tab indents. To move on with the keyboard, press Escape, then Tab. Ctrl+S saves.',
    save: 'Save',
    saving: 'Saving…',
    run: 'Run…',
    addApproval: 'Add approval job',
    addNotification: 'Add notification job',
    checking: 'Checking…',
    valid: 'No problems.',
    problems: '{count} problems',
    problem: '1 problem',
    created: 'Saved as a new workflow.',
    saved: 'Saved (version {version}).',
    unsaved: 'Unsaved changes',
    added: 'Added job “{name}” at line {line}.',
    exists: 'A workflow named “{name}” already exists.',
    open: 'Open it',
    replace: 'Replace it with this one',
    validateFailed: 'The document cannot be checked right now.',
  },
  'zh-CN': {
    newTitle: '新建工作流',
    back: '全部工作流',
    loading: '正在加载工作流…',
    yaml: '工作流 YAML',
    keys: 'Tab 键缩进。使用键盘离开编辑器：先按 Esc，再按 Tab。Ctrl+S 保存。',
    save: '保存',
    saving: '正在保存…',
    run: '运行…',
    addApproval: '添加审批任务',
    addNotification: '添加通知任务',
    checking: '正在检查…',
    valid: '没有问题。',
    problems: '{count} 个问题',
    problem: '1 个问题',
    created: '已保存为新工作流。',
    saved: '已保存（版本 {version}）。',
    unsaved: '有未保存的修改',
    added: '已在第 {line} 行添加任务“{name}”。',
    exists: '名为“{name}”的工作流已存在。',
    open: '打开它',
    replace: '用当前内容替换它',
    validateFailed: '暂时无法检查文档。',
  },
});

/** Set when a new workflow was just created, so its page (mounted after the navigation) can say so. */
let justCreated: string | undefined;

export function WorkflowEditorPage({ name }: { name?: string }) {
  const t = useT(strings);
  const { data, error } = usePoll(
    (signal) =>
      name ? api<Workflow>(`/api/workflows/${segment(name)}`, { signal }) : Promise.resolve(undefined),
    [name],
  );
  if (name && !data) {
    return (
      <Page title={name}>
        <ErrorNotice error={error} />
        {!error && <p className="hint">{t('loading')}</p>}
      </Page>
    );
  }
  return <WorkflowEditor workflow={data} />;
}

function WorkflowEditor({ workflow }: { workflow: Workflow | undefined }) {
  const t = useT(strings);
  const { language } = useLanguage();
  const editorId = useId();
  const editorRef = useRef<HTMLTextAreaElement>(null);
  const [saved, setSaved] = useState(workflow);
  const [source, setSource] = useState(() => workflow?.source ?? starterWorkflow(language));
  const [savedSource, setSavedSource] = useState(workflow?.source);
  const { checked, error: checkError, show } = useValidation(source);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<ApiError>();
  const [notice, setNotice] = useState<string | undefined>(() =>
    workflow && justCreated === workflow.name ? t('created') : undefined,
  );
  const [conflict, setConflict] = useState<string>();
  const [dialog, setDialog] = useState<JobKind | 'run'>();
  const [caretLine, setCaretLine] = useState<number>();

  useEffect(() => {
    justCreated = undefined;
  }, []);
  // Leaving the page (or the tab) with unsaved text asks first.
  const dirty = source !== savedSource;
  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);
  // After the form editor wrote a job: the caret goes to it (once the dialog has given the focus back).
  useEffect(() => {
    if (caretLine === undefined || !editorRef.current) return;
    moveCaretTo(editorRef.current, caretLine);
    setCaretLine(undefined);
  }, [caretLine]);

  const problems = checked?.problems ?? [];
  const current = checked?.source === source;

  const save = async (replace = false) => {
    setSaving(true);
    setSaveError(undefined);
    setNotice(undefined);
    setConflict(undefined);
    try {
      if (!saved) {
        // POST replaces a workflow of the same name: never do that without asking.
        const newName = readOutline(source)?.name;
        if (newName && !replace) {
          const { workflows } = await api<{ workflows: { name: string }[] }>('/api/workflows');
          const taken = workflows.some((existing) => existing.name === newName);
          if (taken) {
            setConflict(newName);
            return;
          }
        }
        const created = await api<Workflow>('/api/workflows', { body: source });
        justCreated = created.name;
        setSavedSource(source); // not dirty any more: no "leave page?" question
        navigate(`/workflows/${segment(created.name)}`, { replace: true });
        return;
      }
      const updated = await api<Workflow>(`/api/workflows/${segment(saved.name)}`, {
        method: 'PUT',
        body: source,
      });
      setSaved(updated);
      setSavedSource(source);
      setNotice(t('saved', { version: updated.version }));
    } catch (caught) {
      const apiError = caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught));
      setSaveError(apiError);
      if (apiError.problems.length > 0) show({ source, problems: placeProblems(source, apiError.problems) });
    } finally {
      setSaving(false);
    }
  };

  const status = !checked
    ? t('checking')
    : problems.length === 0
      ? t('valid')
      : problems.length === 1
        ? t('problem')
        : t('problems', { count: problems.length });

  return (
    <Page
      title={saved?.name ?? t('newTitle')}
      actions={
        <>
          <button type="button" className="button-primary" onClick={() => void save()} disabled={saving}>
            {saving ? t('saving') : t('save')}
          </button>
          {saved && (
            <button type="button" onClick={() => setDialog('run')}>
              {t('run')}
            </button>
          )}
        </>
      }
    >
      <p className="wf-back">
        <Link href="/workflows">← {t('back')}</Link>
        {dirty && saved && <span className="badge badge-wait">{t('unsaved')}</span>}
      </p>
      {notice && (
        <p className="notice notice-ok" role="status">
          {notice}
        </p>
      )}
      {conflict && (
        <div className="notice notice-error" role="alert">
          <p>{t('exists', { name: conflict })}</p>
          <div className="wf-dialog-actions">
            <Link href={`/workflows/${segment(conflict)}`}>{t('open')}</Link>
            <button type="button" className="button-danger" onClick={() => void save(true)}>
              {t('replace')}
            </button>
          </div>
        </div>
      )}
      <ErrorNotice error={saveError} />

      <div className="wf-editor-layout">
        <div className="wf-editor-main">
          <div className="wf-toolbar">
            <label htmlFor={editorId} className="wf-editor-label">
              {t('yaml')}
            </label>
            <div className="wf-toolbar-actions">
              <button type="button" className="button-small" onClick={() => setDialog('approval')}>
                {t('addApproval')}
              </button>
              <button type="button" className="button-small" onClick={() => setDialog('notification')}>
                {t('addNotification')}
              </button>
            </div>
          </div>
          <YamlEditor
            id={editorId}
            value={source}
            onChange={setSource}
            problems={problems}
            editorRef={editorRef}
            describedBy={`${editorId}-keys ${editorId}-status`}
            onSave={() => void save()}
          />
          <div className="wf-editor-status">
            <small id={`${editorId}-keys`} className="hint">
              {t('keys')}
            </small>
            <span
              id={`${editorId}-status`}
              role="status"
              className={problems.length > 0 ? 'wf-status wf-status-bad' : 'wf-status'}
              aria-busy={!current || undefined}
            >
              {status}
            </span>
          </div>
          {checkError && <ErrorNotice error={checkError} title={t('validateFailed')} />}
          <ProblemList
            id={`${editorId}-problems`}
            problems={problems}
            onChoose={(problem) =>
              editorRef.current && moveCaretTo(editorRef.current, problem.line, problem.column)
            }
          />
        </div>
        <WorkflowDiagram source={source} />
      </div>

      {(dialog === 'approval' || dialog === 'notification') && (
        <JobFormDialog
          kind={dialog}
          source={source}
          onClose={() => setDialog(undefined)}
          onAdded={(next, line, jobName) => {
            setSource(next);
            setDialog(undefined);
            setNotice(t('added', { name: jobName, line }));
            setCaretLine(line);
          }}
        />
      )}
      {dialog === 'run' && saved && (
        <RunDialog
          workflow={saved.name}
          params={saved.params}
          unsaved={dirty}
          onClose={() => setDialog(undefined)}
        />
      )}
    </Page>
  );
}
