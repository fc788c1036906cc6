/**
 * Config: YAML → validated, frozen `GatewayConfig`, with every problem reported at once.
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export { CdpKeyError, parseCdpSecret, type CdpKeyMaterial } from './cdp-key.js';
export { CDP_FACILITATOR_URL, DEFAULTS } from './defaults.js';
export { loadConfigFile, loadConfigText, type LoadOptions } from './load.js';
export { formatProblems } from './problems.js';
export { facilitatorDeadlines, type FacilitatorDeadlines } from './deadlines.js';
export { facilitatorLabel } from './facilitator.js';
export { instanceName, type InstanceFacts as InstanceNameFacts } from './instance.js';
export { planReload, RELOADABLE_KEYS, RESTART_ONLY_KEYS, type ReloadPlan } from './reload.js';
export type {
  CdpKeyConfig,
  ConfigProblem,
  FacilitatorConfig,
  HttpFacilitatorConfig,
  ConfigResult,
  GatewayConfig,
  HostPort,
  LedgerConfig,
  LogConfig,
  RateLimitsConfig,
  ServerConfig,
  SignatureCheckConfig,
  UpstreamConfig,
  UpstreamHealthConfig,
} from './types.js';
export { DEFAULT_UPSTREAM_NAME } from './upstreams.js';
