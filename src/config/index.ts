/**
 * Config: YAML file → validated, defaulted, deep-frozen GatewayConfig, or every problem at once.
 */
export { loadConfigFile, loadConfigText } from './load.js';
export { formatProblems } from './problems.js';
export { DEFAULTS } from './defaults.js';
export { parseHostPort } from './fields.js';
export type * from './types.js';
