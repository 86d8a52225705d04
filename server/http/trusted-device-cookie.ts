// The "remember this device" cookie: random tokens (one per account that
// trusts this browser), each stored server-side only as a keyed hash.
import type Koa from 'koa';
import { cookieList } from './cookie-list.ts';

const devices = (https: boolean) => cookieList('latchkey_device', https, /^[A-Za-z0-9_-]{43}$/);

export const readDeviceTokens = (ctx: Koa.Context, https: boolean): string[] => devices(https).read(ctx);

export const addDeviceToken = (ctx: Koa.Context, https: boolean, token: string, maxAgeSeconds: number): void =>
  devices(https).add(ctx, token, maxAgeSeconds);
