// A message's button as the IM client shows it: it opens its URL when that is http(s); a button that
// would call the app back (or has an unsafe URL) is shown, inert.
import { safeHref } from './markdown';

export function LinkButton({
  label,
  url,
  primary = false,
}: {
  label: string;
  url: string;
  primary?: boolean;
}) {
  const href = safeHref(url);
  const className = primary ? 'button button-small button-primary' : 'button button-small';
  if (!href)
    return (
      <span className={`${className} inbox-button-inert`} aria-disabled="true">
        {label}
      </span>
    );
  return (
    <a className={className} href={href} target="_blank" rel="noopener noreferrer">
      {label}
    </a>
  );
}
