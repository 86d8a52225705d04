export { createSignInThrottle, ipKey, type SignInThrottleOptions } from './sign-in-throttle.ts';
export { BLOCK_MEMORY_SECONDS, DEFAULT_LIMITS, blockSeconds, type Limit, type LimiterName, type ThrottleLimits } from './limits.ts';
