// ESLint flat config: the rules live in tools/lint/config.js (see there why).
export { default } from './tools/lint/config.js';
