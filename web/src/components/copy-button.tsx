// Copies a value (a callback URL) and says so; falls back to selecting the text where the clipboard
// API is not allowed (plain http on a LAN address).
import { useState } from 'react';
import { defineStrings, useT } from '../i18n';

const strings = defineStrings({
  en: { copy: 'Copy', copied: 'Copied', select: 'Select and copy' },
  'zh-CN': { copy: '复制', copied: '已复制', select: '请选中后复制' },
});

export function CopyButton({ value, label }: { value: string; label?: string }) {
  const t = useT(strings);
  const [state, setState] = useState<'idle' | 'copied' | 'manual'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setState('copied');
    } catch {
      setState('manual');
    }
    setTimeout(() => setState('idle'), 2000);
  };
  return (
    <button type="button" className="button-small" onClick={copy} aria-label={label ?? t('copy')}>
      {state === 'copied' ? t('copied') : state === 'manual' ? t('select') : t('copy')}
    </button>
  );
}
