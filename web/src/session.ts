// The API token lives in this browser tab's session storage only: closing the tab signs out.
const key = 'signoff.token';

export const session = {
  token: (): string | null => sessionStorage.getItem(key),
  signIn: (token: string): void => sessionStorage.setItem(key, token),
  signOut: (): void => sessionStorage.removeItem(key),
};
