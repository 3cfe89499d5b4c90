// The YAML text area: a plain <textarea> (so every browser's editing, undo and accessibility work) with a
// line-number gutter beside it and each problem's message drawn on its line. The text area grows with the
// document and never scrolls by itself, so the gutter, the messages and the text always line up.
import type { KeyboardEvent, RefObject } from 'react';
import { useEffect, useRef, useState } from 'react';
import type { Problem } from '../../api';

/** Must match the CSS (.wf-code): every line is exactly this tall. */
const lineHeight = 21;
const padding = 8;
const indent = '  ';

// East Asian wide characters take two columns in a monospace font; the messages are placed after the text.
const wide = /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u;
const columns = (line: string): number => {
  let width = 0;
  for (const char of line) width += char === '\t' ? 2 : wide.test(char) || char.length > 1 ? 2 : 1;
  return width;
};

// A message needs about this much room after its line's text; with less (a phone), it is shown just below
// the line instead, wrapped to the visible width.
const roomForMessage = 220;

/** How wide the visible code area is, and one character of the code font, in pixels. */
function useCodeMetrics(
  frame: RefObject<HTMLDivElement | null>,
  gutter: RefObject<HTMLDivElement | null>,
  sample: RefObject<HTMLSpanElement | null>,
) {
  const [metrics, setMetrics] = useState({ visible: Number.POSITIVE_INFINITY, ch: 8.4 });
  useEffect(() => {
    const measure = () => {
      if (!frame.current || !gutter.current || !sample.current) return;
      const visible = frame.current.clientWidth - gutter.current.offsetWidth;
      const ch = sample.current.getBoundingClientRect().width / 10 || 8.4;
      setMetrics((old) => (old.visible === visible && old.ch === ch ? old : { visible, ch }));
    };
    measure();
    const observer = new ResizeObserver(measure);
    if (frame.current) observer.observe(frame.current);
    return () => observer.disconnect();
  }, [frame, gutter, sample]);
  return metrics;
}

/** Puts the caret at the start of `line` (1-based; `column` too), focuses the editor and shows the line. */
export function moveCaretTo(textarea: HTMLTextAreaElement, line: number, column = 1): void {
  const lines = textarea.value.split('\n');
  let offset = 0;
  for (let index = 0; index < Math.min(line - 1, lines.length); index++) offset += lines[index]!.length + 1;
  offset += Math.min(column - 1, lines[line - 1]?.length ?? 0);
  textarea.focus({ preventScroll: true });
  textarea.setSelectionRange(offset, offset);
  const box = textarea.getBoundingClientRect();
  const top = box.top + window.scrollY + padding + (line - 1) * lineHeight;
  window.scrollTo({ top: Math.max(0, top - window.innerHeight / 3) });
}

export function YamlEditor({
  id,
  value,
  onChange,
  problems,
  editorRef,
  describedBy,
  onSave,
}: {
  id: string;
  value: string;
  onChange: (value: string) => void;
  problems: Problem[];
  editorRef: RefObject<HTMLTextAreaElement | null>;
  describedBy?: string;
  onSave?: () => void;
}) {
  // Escape then Tab leaves the editor: keyboard users must never be trapped by Tab inserting spaces.
  const escaped = useRef(false);
  const frame = useRef<HTMLDivElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const sample = useRef<HTMLSpanElement>(null);
  const { visible, ch } = useCodeMetrics(frame, gutter, sample);
  const lines = value.split('\n');
  const byLine = new Map<number, Problem[]>();
  for (const problem of problems) {
    if (problem.line === undefined) continue;
    const line = Math.min(Math.max(problem.line, 1), lines.length);
    byLine.set(line, [...(byLine.get(line) ?? []), problem]);
  }
  const widest = Math.max(...lines.map(columns), 20);

  const insert = (textarea: HTMLTextAreaElement, text: string) => {
    // execCommand keeps the browser's undo history; setRangeText is the fallback where it is gone.
    if (!document.execCommand('insertText', false, text)) {
      textarea.setRangeText(text, textarea.selectionStart, textarea.selectionEnd, 'end');
      onChange(textarea.value);
    }
  };
  /** Indents or outdents every line the selection touches, keeping them selected. */
  const shiftLines = (textarea: HTMLTextAreaElement, outdent: boolean) => {
    const { selectionStart, selectionEnd } = textarea;
    const start = textarea.value.lastIndexOf('\n', selectionStart - 1) + 1;
    const endBreak = textarea.value.indexOf(
      '\n',
      selectionEnd > selectionStart ? selectionEnd - 1 : selectionEnd,
    );
    const end = endBreak === -1 ? textarea.value.length : endBreak;
    const block = textarea.value.slice(start, end);
    const changed = block
      .split('\n')
      .map((line) => (outdent ? line.replace(/^ {1,2}/, '') : indent + line))
      .join('\n');
    if (changed === block) return;
    textarea.setSelectionRange(start, end);
    insert(textarea, changed);
    textarea.setSelectionRange(start, start + changed.length);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    const textarea = event.currentTarget;
    if (event.key === 'Escape') {
      escaped.current = true;
      return;
    }
    if (event.key === 'Tab' && !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (escaped.current) {
        escaped.current = false;
        return; // the browser moves the focus on
      }
      event.preventDefault();
      const multiline = textarea.value.slice(textarea.selectionStart, textarea.selectionEnd).includes('\n');
      if (event.shiftKey || multiline) shiftLines(textarea, event.shiftKey);
      else insert(textarea, indent);
      return;
    }
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 's') {
      event.preventDefault();
      onSave?.();
    }
    if (event.key !== 'Shift') escaped.current = false;
  };

  return (
    <div className="wf-code" ref={frame}>
      <span ref={sample} className="wf-code-sample" aria-hidden="true">
        0000000000
      </span>
      <div className="wf-gutter" aria-hidden="true" ref={gutter}>
        {lines.map((_, index) => {
          const line = index + 1;
          return (
            <div
              key={line}
              data-line={line}
              className={byLine.has(line) ? 'wf-gutter-line wf-gutter-problem' : 'wf-gutter-line'}
            >
              {line}
            </div>
          );
        })}
      </div>
      <div className="wf-code-area">
        <textarea
          id={id}
          ref={editorRef}
          className="code wf-textarea"
          value={value}
          onChange={(event) => onChange(event.target.value)}
          onKeyDown={onKeyDown}
          onBlur={() => {
            escaped.current = false;
          }}
          wrap="off"
          spellCheck={false}
          autoCapitalize="off"
          autoCorrect="off"
          aria-invalid={byLine.size > 0 || undefined}
          aria-describedby={describedBy}
          style={{
            height: lines.length * lineHeight + padding * 2,
            width: `max(100%, calc(${widest + 4}ch + ${padding * 3}px))`,
          }}
        />
        <div className="wf-lenses">
          {[...byLine].map(([line, found]) => {
            const text = lines[line - 1] ?? '';
            const after = padding * 1.5 + (columns(text) + 3) * ch;
            const below = after + roomForMessage > visible;
            const indent = Math.min(
              padding * 1.5 + (text.length - text.trimStart().length) * ch,
              visible / 3,
            );
            return (
              <div
                key={line}
                className={below ? 'wf-lens wf-lens-below' : 'wf-lens'}
                data-line={line}
                style={
                  below
                    ? { top: padding + line * lineHeight, left: indent, maxWidth: visible - indent - padding }
                    : { top: padding + (line - 1) * lineHeight, left: after }
                }
              >
                <span className="wf-lens-text">
                  <span aria-hidden="true">⚠ </span>
                  {found.map((problem) => problem.message).join(' · ')}
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
