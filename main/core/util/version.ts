/** The Keeper's version: the one place it is written in code (keep equal to package.json). */
export const VERSION = '0.1.0';
export const USER_AGENT = `waku-keeper/${VERSION}`;
