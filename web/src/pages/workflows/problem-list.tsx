// Every problem of the document in one list; choosing one puts the caret on its line.
import type { Problem } from '../../api';
import { defineStrings, useT } from '../../i18n';

const strings = defineStrings({
  en: {
    title: 'Problems',
    at: 'Line {line}, column {column}',
    atLine: 'Line {line}',
    whole: 'The document',
  },
  'zh-CN': {
    title: '问题',
    at: '第 {line} 行，第 {column} 列',
    atLine: '第 {line} 行',
    whole: '整个文档',
  },
});

export function ProblemList({
  id,
  problems,
  onChoose,
}: {
  id: string;
  problems: Problem[];
  onChoose: (problem: Problem & { line: number }) => void;
}) {
  const t = useT(strings);
  if (problems.length === 0) return null;
  const where = (problem: Problem) =>
    problem.line === undefined
      ? t('whole')
      : problem.column === undefined
        ? t('atLine', { line: problem.line })
        : t('at', { line: problem.line, column: problem.column });
  return (
    <section className="wf-problems" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>
        {t('title')} <span className="badge badge-bad">{problems.length}</span>
      </h2>
      <ul id={id} className="plain-list">
        {problems.map((problem) => {
          const { line } = problem;
          const text = (
            <>
              <span className="wf-problem-where">{where(problem)}</span>
              {problem.path && <code>{problem.path}</code>}
              <span>{problem.message}</span>
            </>
          );
          return (
            <li key={`${problem.line}:${problem.column}:${problem.path}:${problem.message}`}>
              {line === undefined ? (
                <p className="wf-problem">{text}</p>
              ) : (
                <button type="button" className="wf-problem" onClick={() => onChoose({ ...problem, line })}>
                  {text}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
