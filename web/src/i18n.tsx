// Two languages, English and 简体中文. Each page keeps its own strings next to it (defineStrings), so the
// Chinese text sits beside the English it translates; the choice is kept in this browser.
import { createContext, type ReactNode, useContext, useEffect, useMemo, useState } from 'react';

export const languages = ['en', 'zh-CN'] as const;
export type Language = (typeof languages)[number];

type Strings = Record<string, string>;
export type Dictionary<S extends Strings> = { en: S; 'zh-CN': { [K in keyof S]: string } };

/** A page's strings; `{name}` placeholders are filled by t(key, { name }). */
export const defineStrings = <S extends Strings>(dictionary: Dictionary<S>): Dictionary<S> => dictionary;

const storageKey = 'signoff.language';
const initialLanguage = (): Language => {
  const saved = localStorage.getItem(storageKey);
  if (saved === 'en' || saved === 'zh-CN') return saved;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
};

const LanguageContext = createContext<{ language: Language; setLanguage: (language: Language) => void }>({
  language: 'en',
  setLanguage: () => {},
});

export function LanguageProvider({ children }: { children: ReactNode }) {
  const [language, setLanguageState] = useState<Language>(initialLanguage);
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);
  const value = useMemo(
    () => ({
      language,
      setLanguage: (next: Language) => {
        localStorage.setItem(storageKey, next);
        setLanguageState(next);
      },
    }),
    [language],
  );
  return <LanguageContext.Provider value={value}>{children}</LanguageContext.Provider>;
}

export const useLanguage = () => useContext(LanguageContext);

export type Translate<S extends Strings> = (
  key: keyof S & string,
  vars?: Record<string, string | number>,
) => string;

export function useT<S extends Strings>(dictionary: Dictionary<S>): Translate<S> {
  const { language } = useLanguage();
  return (key, vars) => {
    const text = (dictionary[language] as Strings)[key] ?? dictionary.en[key] ?? key;
    return vars ? text.replace(/\{(\w+)\}/g, (whole, name: string) => String(vars[name] ?? whole)) : text;
  };
}

/** Dates, relative times and durations in the chosen language. */
export function useFormat() {
  const { language } = useLanguage();
  return useMemo(() => {
    const dateTime = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'medium' });
    const relative = new Intl.RelativeTimeFormat(language, { numeric: 'auto' });
    return {
      time: (iso: string | null | undefined): string => (iso ? dateTime.format(new Date(iso)) : '—'),
      ago: (iso: string | null | undefined): string => {
        if (!iso) return '—';
        const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
        const abs = Math.abs(seconds);
        if (abs < 60) return relative.format(seconds, 'second');
        if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
        if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
        return relative.format(Math.round(seconds / 86_400), 'day');
      },
      duration: (ms: number | null | undefined): string => {
        if (ms === null || ms === undefined) return '—';
        if (ms < 1000) return `${ms} ms`;
        const seconds = Math.floor(ms / 1000);
        if (seconds < 60) return `${(ms / 1000).toFixed(1)} s`;
        const minutes = Math.floor(seconds / 60);
        if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
        return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
      },
    };
  }, [language]);
}
