// A person's avatar from the IM platform, or their initial when there is none (or it fails to load).
import { useState } from 'react';

export function Avatar({ name, src, size = 24 }: { name: string; src?: string | null; size?: number }) {
  const [broken, setBroken] = useState(false);
  if (src && !broken) {
    return (
      <img className="avatar" src={src} alt="" width={size} height={size} onError={() => setBroken(true)} />
    );
  }
  return (
    <span
      className="avatar avatar-initial"
      aria-hidden="true"
      style={{ width: size, height: size, fontSize: size * 0.5 }}
    >
      {name.trim().charAt(0).toUpperCase() || '?'}
    </span>
  );
}
